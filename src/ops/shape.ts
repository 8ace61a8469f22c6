/**
 * Shape ops: reshape (and flatten/squeeze/unsqueeze), transpose/permute,
 * slice, concat, broadcastTo — with their backward rules.
 *
 *   reshape:   a view (no copy); gradient reshaped back
 *   permute:   copy through copy_strided; gradient permuted by the inverse
 *   slice:     a view when the slice is one contiguous block (leading axes of
 *              size 1, e.g. rows of a matrix), else a strided copy; gradient
 *              is gy placed into zeros
 *   concat:    strided copies into one output; gradient sliced back
 *   broadcastTo: strided copy with zero strides; gradient summed back
 */

import { defineOp, record } from '../autograd.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { empty, view, type Tensor } from '../tensor.js';
import { checkBackends, product, sameShape } from './checks.js';
import { broadcastToRaw, normalizeAxes, sumTo } from './reduce.js';
import { broadcastShapes, collapse, contiguousStrides, forEach4 } from './strided.js';

function copyStrided(
  out: Tensor, outOffset: number, outStrides: number[], x: Tensor, xOffset: number, xStrides: number[], dims: readonly number[],
): void {
  const k = x.backend.k;
  const [po, px] = [out.ptr + 4 * outOffset, x.ptr + 4 * xOffset];
  forEach4(collapse(dims, [outStrides, xStrides]), ([oo, ox], d, [so, sx]) => {
    k.copy_strided(po + 4 * oo, px + 4 * ox, d[0], d[1], d[2], d[3], so[0], so[1], so[2], so[3], sx[0], sx[1], sx[2], sx[3]);
  });
}

// ─── reshape family ────────────────────────────────────────────────────────

const reshapeOp = defineOp({
  name: 'reshape',
  backward: (gy, { inputs: [x] }) => [view(gy, x.shape)],
});

/**
 * The same elements in a new shape (a view: no copy). One dimension may be -1
 * and is inferred.
 * @example reshape(x, [-1, 784])
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  checkBackends('reshape', x);
  const neg = shape.filter((d) => d === -1).length;
  const known = product(shape.filter((d) => d !== -1));
  const bad = shape.some((d) => !Number.isInteger(d) || d < -1);
  if (bad || neg > 1 || (neg === 1 ? known === 0 || x.size % known !== 0 : known !== x.size)) {
    throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shape)}`);
  }
  const final = shape.map((d) => (d === -1 ? x.size / known : d));
  return record(reshapeOp, view(x, final), [x], undefined);
}

/** Flattens dimensions startDim..endDim into one (default: all but the first). */
export function flatten(x: Tensor, startDim = 1, endDim = -1): Tensor {
  if (x.rank === 0) return reshape(x, [1]);
  const [s] = normalizeAxes('flatten', x.rank, startDim);
  const [e] = normalizeAxes('flatten', x.rank, endDim);
  if (s > e) throw new ShapeError(`flatten: startDim ${startDim} comes after endDim ${endDim} for ${fmtShape(x.shape)}`);
  return reshape(x, [...x.shape.slice(0, s), product(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)]);
}

/** Inserts a dimension of size 1 at `axis`. */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const r = x.rank + 1;
  if (!Number.isInteger(axis) || axis < -r || axis >= r) {
    throw new ShapeError(`unsqueeze: axis ${axis} is out of range for a result of rank ${r}`);
  }
  const a = axis < 0 ? axis + r : axis;
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}

/** Removes dimensions of size 1 (all of them, or the given axis, which must have size 1). */
export function squeeze(x: Tensor, axis?: number): Tensor {
  if (axis === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const [a] = normalizeAxes('squeeze', x.rank, axis);
  if (x.shape[a] !== 1) throw new ShapeError(`squeeze: axis ${axis} of ${fmtShape(x.shape)} has size ${x.shape[a]}, not 1`);
  return reshape(x, x.shape.filter((_, i) => i !== a));
}

// ─── permute / transpose ───────────────────────────────────────────────────

function permuteRaw(x: Tensor, dims: readonly number[]): Tensor {
  const outShape = dims.map((d) => x.shape[d]);
  const out = empty(outShape, { backend: x.backend, dtype: x.dtype });
  const xs = contiguousStrides(x.shape);
  copyStrided(out, 0, contiguousStrides(outShape), x, 0, dims.map((d) => xs[d]), outShape);
  return out;
}

const permuteOp = defineOp<number[]>({
  name: 'permute',
  backward: (gy, { saved: dims }) => {
    const inverse = new Array<number>(dims.length);
    dims.forEach((d, i) => (inverse[d] = i));
    return [permuteRaw(gy, inverse)];
  },
});

/** Reorders dimensions: output dimension i is input dimension dims[i]. Copies. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  checkBackends('permute', x);
  const ok = dims.length === x.rank && normalizeAxes('permute', x.rank, dims).length === x.rank;
  if (!ok) throw new ShapeError(`permute: ${fmtShape(dims)} is not a permutation of the ${x.rank} dimensions of ${fmtShape(x.shape)}`);
  const d = dims.map((a) => (a < 0 ? a + x.rank : a));
  return record(permuteOp, permuteRaw(x, d), [x], d);
}

/** Swaps two dimensions (default: the last two — a matrix transpose). Copies. */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  if (x.rank < 2 && dim0 === -2 && dim1 === -1) {
    throw new ShapeError(`transpose: needs at least 2 dimensions; got ${fmtShape(x.shape)}`);
  }
  const [a] = normalizeAxes('transpose', x.rank, dim0);
  const [b] = normalizeAxes('transpose', x.rank, dim1);
  const dims = x.shape.map((_, i) => i);
  dims[a] = b;
  dims[b] = a;
  return permute(x, dims);
}

// ─── slice ─────────────────────────────────────────────────────────────────

interface SliceSaved {
  axis: number;
  start: number;
}

const sliceOp = defineOp<SliceSaved>({
  name: 'slice',
  backward: (gy, { inputs: [x], saved: { axis, start } }) => {
    const dx = empty(x.shape, { backend: x.backend });
    x.backend.k.fill_f32(dx.ptr, dx.size, 0);
    const xs = contiguousStrides(x.shape);
    copyStrided(dx, start * xs[axis], xs, gy, 0, contiguousStrides(gy.shape), gy.shape);
    return [dx];
  },
});

/**
 * Elements start..end-1 along `axis` (negative indices count from the end).
 * A view when the result is one contiguous block (e.g. rows of a matrix).
 * @example slice(x, 0, 0, 64)   // the first 64 rows
 */
export function slice(x: Tensor, axis: number, start: number, end?: number): Tensor {
  checkBackends('slice', x);
  const [a] = normalizeAxes('slice', x.rank, axis);
  const n = x.shape[a];
  const s = start < 0 ? start + n : start;
  const e = end === undefined ? n : end < 0 ? end + n : end;
  if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e > n || s > e) {
    throw new ShapeError(`slice: range ${start}..${end ?? n} is out of bounds for axis ${axis} of ${fmtShape(x.shape)}`);
  }
  const outShape = x.shape.map((d, i) => (i === a ? e - s : d));
  const xs = contiguousStrides(x.shape);
  let out: Tensor;
  if (x.shape.slice(0, a).every((d) => d === 1)) {
    out = view(x, outShape, 4 * s * xs[a]);
  } else {
    out = empty(outShape, { backend: x.backend, dtype: x.dtype });
    copyStrided(out, 0, contiguousStrides(outShape), x, s * xs[a], xs, outShape);
  }
  return record(sliceOp, out, [x], { axis: a, start: s });
}

// ─── concat ────────────────────────────────────────────────────────────────

const concatOp = defineOp<number>({
  name: 'concat',
  backward: (gy, { inputs, saved: axis }, needs) => {
    let offset = 0;
    const gs = contiguousStrides(gy.shape);
    return inputs.map((x, i) => {
      const start = offset;
      offset += x.shape[axis];
      if (!needs[i]) return null;
      const g = empty(x.shape, { backend: x.backend });
      copyStrided(g, 0, contiguousStrides(x.shape), gy, start * gs[axis], gs, x.shape);
      return g;
    });
  },
});

/** Joins tensors along `axis`; all other dimensions must match. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new ValueError('concat: needs at least one tensor');
  checkBackends('concat', ...xs);
  const first = xs[0];
  const [a] = normalizeAxes('concat', first.rank, axis);
  for (const [i, x] of xs.entries()) {
    if (x.dtype !== first.dtype || x.rank !== first.rank || x.shape.some((d, j) => j !== a && d !== first.shape[j])) {
      throw new ShapeError(
        `concat: tensor ${i} has shape ${fmtShape(x.shape)} (${x.dtype}); every tensor must match ` +
          `${fmtShape(first.shape)} (${first.dtype}) except along axis ${axis}`,
      );
    }
  }
  const outShape = first.shape.map((d, j) => (j === a ? xs.reduce((s, x) => s + x.shape[a], 0) : d));
  const out = empty(outShape, { backend: first.backend, dtype: first.dtype });
  const os = contiguousStrides(outShape);
  let offset = 0;
  for (const x of xs) {
    copyStrided(out, offset * os[a], os, x, 0, contiguousStrides(x.shape), x.shape);
    offset += x.shape[a];
  }
  return record(concatOp, out, xs, a);
}

// ─── broadcastTo ───────────────────────────────────────────────────────────

const broadcastToOp = defineOp({
  name: 'broadcastTo',
  backward: (gy, { inputs: [x] }) => [sumTo(gy, x.shape)],
});

/** x expanded to `shape` by broadcasting (copies). */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  checkBackends('broadcastTo', x);
  const b = broadcastShapes('broadcastTo', x.shape, shape);
  if (!sameShape(b, shape)) {
    throw new ShapeError(`broadcastTo: ${fmtShape(x.shape)} cannot be broadcast to ${fmtShape(shape)}`);
  }
  return record(broadcastToOp, broadcastToRaw(x, shape), [x], undefined);
}
