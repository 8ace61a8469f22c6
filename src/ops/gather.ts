/**
 * take: rows of a tensor selected by int32 indices along the first axis
 * (PyTorch's index_select(x, 0, idx)); the gradient scatter-adds gy rows back,
 * so repeated indices accumulate (what Embedding needs).
 *
 * Kernels: gather_rows, scatter_add_rows (assembly/gather.ts).
 */

import { defineOp, record } from '../autograd.js';
import { DTypeError, ShapeError, ValueError, fmtShape } from '../errors.js';
import { empty, type Tensor } from '../tensor.js';
import { checkBackends, product } from './checks.js';

/** @internal Throws unless every index is an integer in [0, n). */
export function checkIndices(op: string, idx: Tensor, n: number, what = 'rows'): void {
  if (idx.dtype !== 'int32') throw new DTypeError(`${op}: indices must be int32; got ${idx.describe()}`);
  const I = idx.backend.heap.i32;
  const p = idx.ptr >>> 2;
  for (let i = 0; i < idx.size; i++) {
    const v = I[p + i];
    if (v < 0 || v >= n) throw new ValueError(`${op}: index ${v} at position ${i} is out of range for ${n} ${what}`);
  }
}

const takeOp = defineOp({
  name: 'take',
  backward: (gy, { inputs: [x, idx] }, needs) => {
    if (!needs[0]) return [null, null];
    const dx = empty(x.shape, { backend: x.backend });
    const k = x.backend.k;
    k.fill_f32(dx.ptr, dx.size, 0);
    k.scatter_add_rows(dx.ptr, idx.ptr, gy.ptr, idx.size, product(x.shape.slice(1)));
    return [dx, null];
  },
});

/**
 * Rows of `x` (along axis 0) at `indices` (int32, any shape): the result has
 * shape [...indices.shape, ...x.shape.slice(1)].
 * @example take(images, tensor([5, 0, 5], [3], { dtype: 'int32' }))  // rows 5, 0, 5
 */
export function take(x: Tensor, indices: Tensor): Tensor {
  checkBackends('take', x, indices);
  if (x.rank === 0) throw new ShapeError(`take: x must have at least 1 dimension; got ${fmtShape(x.shape)}`);
  checkIndices('take', indices, x.shape[0]);
  const rowLen = product(x.shape.slice(1));
  const out = empty([...indices.shape, ...x.shape.slice(1)], { backend: x.backend, dtype: x.dtype });
  x.backend.k.gather_rows(out.ptr, x.ptr, indices.ptr, indices.size, rowLen);
  return record(takeOp, out, [x, indices], undefined);
}
