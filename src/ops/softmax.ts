/**
 * softmax and logSoftmax over any axis, with their backward rules.
 *
 *   y = softmax(x):     y_k = e^{x_k − m} / Σ_j e^{x_j − m}     (m = max_j x_j)
 *   y = logSoftmax(x):  y_k = x_k − m − log Σ_j e^{x_j − m}
 *   softmax:     dx = y·(dy − Σ_k dy_k·y_k)
 *   logSoftmax:  dx = dy − e^{y}·Σ_k dy_k
 *
 * The kernels see x as [outer, n, inner]: n is the axis length, inner the
 * product of the dimensions after it (1 for the last axis, the fast path).
 * Both backward rules use the saved output y, not x.
 * Kernels: assembly/softmax.ts (wasm) and src/backend/js/softmax.ts.
 */

import { defineOp, record } from '../autograd.js';
import { ValueError } from '../errors.js';
import { empty, type Tensor } from '../tensor.js';
import { checkBackends, checkFloat, product } from './checks.js';

interface SoftmaxSaved {
  y: Tensor;
  outer: number;
  n: number;
  inner: number;
}

/** The axis as a non-negative index; throws naming the op, the axis and the rank. */
function normalizeAxis(op: string, axis: number, rank: number): number {
  const r = Math.max(rank, 1); // a scalar behaves as a [1] tensor
  if (!Number.isInteger(axis) || axis < -r || axis >= r) {
    throw new ValueError(`${op}: axis ${axis} is out of range for a tensor of rank ${rank} (valid: ${-r} to ${r - 1})`);
  }
  return axis < 0 ? axis + r : axis;
}

/** [outer, n, inner] of `shape` around `axis`. */
function view3(shape: readonly number[], axis: number): [number, number, number] {
  if (shape.length === 0) return [1, 1, 1];
  return [product(shape.slice(0, axis)), shape[axis], product(shape.slice(axis + 1))];
}

const softmaxOp = defineOp<SoftmaxSaved>({
  name: 'softmax',
  backward: (gy, { saved: { y, outer, n, inner } }) => {
    const dx = empty(gy.shape, { backend: gy.backend });
    gy.backend.k.softmax_bwd(dx.ptr, y.ptr, gy.ptr, outer, n, inner);
    return [dx];
  },
});

const logSoftmaxOp = defineOp<SoftmaxSaved>({
  name: 'log_softmax',
  backward: (gy, { saved: { y, outer, n, inner } }) => {
    const dx = empty(gy.shape, { backend: gy.backend });
    gy.backend.k.log_softmax_bwd(dx.ptr, y.ptr, gy.ptr, outer, n, inner);
    return [dx];
  },
});

function run(name: string, x: Tensor, axis: number, log: boolean): Tensor {
  checkBackends(name, x);
  checkFloat(name, x);
  const ax = normalizeAxis(name, axis, x.rank);
  const [outer, n, inner] = view3(x.shape, ax);
  const out = empty(x.shape, { backend: x.backend });
  x.backend.k[log ? 'log_softmax_fwd' : 'softmax_fwd'](out.ptr, x.ptr, outer, n, inner);
  return record(log ? logSoftmaxOp : softmaxOp, out, [x], { y: out, outer, n, inner });
}

/**
 * Softmax along `axis`: non-negative, summing to 1 along it.
 * @param axis  Default −1 (the last axis); negative counts from the end.
 * @example
 * softmax(logits);          // [B,C]: each row sums to 1
 * softmax(scores, 1);       // [B,T,T] over the middle axis
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  return run('softmax', x, axis, false);
}

/**
 * log(softmax(x)) along `axis`, computed directly (stable for any logits).
 * @param axis  Default −1.
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return run('logSoftmax', x, axis, true);
}
