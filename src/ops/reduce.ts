/**
 * Reductions: sum, mean, max over one or more axes (or everything), argmax,
 * and `sumTo`, which reduces a broadcast gradient back to an operand's shape.
 *
 *   d sum  = gy broadcast back over the reduced axes
 *   d mean = that, divided by the number of reduced elements
 *   d max  = gy routed to the position of the maximum (first one on ties)
 *
 * Kernels: sum_axis, max_axis, max_axis_bwd (assembly/reduce.ts) on the
 * [outer, n, inner] view of a single axis; several axes reduce one after
 * another, adjacent reduced axes merged into one pass. Broadcasting back uses
 * copy_strided with zero strides (assembly/layout.ts).
 */

import { defineOp, record } from '../autograd.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { empty, view, type Tensor } from '../tensor.js';
import { checkBackends, checkFloat, product } from './checks.js';
import { broadcastStrides, collapse, contiguousStrides, forEach4 } from './strided.js';

/** Normalises `axis` (number, array or undefined = all) to sorted unique non-negative axes. */
export function normalizeAxes(op: string, rank: number, axis: number | readonly number[] | undefined): number[] {
  if (axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axis === 'number' ? [axis] : [...axis];
  const out = new Set<number>();
  for (const a of list) {
    if (!Number.isInteger(a) || a < -rank || a >= rank) {
      throw new ShapeError(`${op}: axis ${a} is out of range for a tensor of rank ${rank}`);
    }
    out.add(a < 0 ? a + rank : a);
  }
  return [...out].sort((x, y) => x - y);
}

/**
 * @internal Σ over `axes` of x (not recorded): the result has x's shape with
 * those axes removed (or kept as 1 with keepDims). Adjacent axes reduce in one pass.
 */
export function sumAxesRaw(x: Tensor, axes: readonly number[], keepDims: boolean): Tensor {
  const be = x.backend;
  const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const outShape = keepDims ? keptShape : x.shape.filter((_, i) => !axes.includes(i));
  // Group the shape into alternating runs of kept and reduced axes.
  const runs: { size: number; reduce: boolean }[] = [];
  x.shape.forEach((d, i) => {
    const r = axes.includes(i);
    const last = runs[runs.length - 1];
    if (last && last.reduce === r) last.size *= d;
    else runs.push({ size: d, reduce: r });
  });
  let cur: Tensor = x;
  let shape = runs.map((r) => r.size);
  // Reduce the right-most reduced run first so `outer`/`inner` stay products of the current shape.
  for (let i = runs.length - 1; i >= 0; i--) {
    if (!runs[i].reduce) continue;
    const outer = product(shape.slice(0, i));
    const n = shape[i];
    const inner = product(shape.slice(i + 1));
    const next = empty(outer * inner === 0 ? [0] : [outer * inner], { backend: be });
    be.k.sum_axis(next.ptr, cur.ptr, outer, n, inner);
    if (cur !== x) cur.dispose();
    cur = next;
    shape = [...shape.slice(0, i), 1, ...shape.slice(i + 1)];
  }
  if (cur === x) {
    // Nothing reduced (empty axes list): a copy.
    const c = empty(outShape, { backend: be });
    be.k.copy_f32(c.ptr, x.ptr, x.size);
    return c;
  }
  const result = view(cur, outShape);
  cur.dispose();
  return result;
}

/** @internal Reduces a gradient `g` (broadcast result shape) to `shape` by summing broadcast axes. */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  const r = g.rank;
  const off = r - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < r; i++) if (i < off || (shape[i - off] === 1 && g.shape[i] !== 1)) axes.push(i);
  const s = sumAxesRaw(g, axes, true);
  const out = view(s, shape);
  s.dispose();
  return out;
}

/** @internal x (shape with reduced axes kept as 1, or broadcastable) expanded to `shape`, scaled by `scale`. */
export function broadcastToRaw(x: Tensor, shape: readonly number[], scale = 1): Tensor {
  const out = empty(shape, { backend: x.backend });
  const plan = collapse(shape, [contiguousStrides(shape), broadcastStrides(x.shape, shape)]);
  const k = x.backend.k;
  // Scaled on the smaller side (every output element is the same product x·scale
  // either way): a mean's gradient scales its [B, D] input, not the [B, T, D] output.
  const pre = scale !== 1 && x.size < out.size ? empty(x.shape, { backend: x.backend }) : null;
  if (pre) k.muls_f32(pre.ptr, x.ptr, x.size, scale);
  const [po, px] = [out.ptr, (pre ?? x).ptr];
  forEach4(plan, ([oo, ox], d, [so, sx]) => {
    k.copy_strided(po + 4 * oo, px + 4 * ox, d[0], d[1], d[2], d[3], so[0], so[1], so[2], so[3], sx[0], sx[1], sx[2], sx[3]);
  });
  if (pre) pre.dispose();
  else if (scale !== 1) k.muls_f32(out.ptr, out.ptr, out.size, scale);
  return out;
}

interface ReduceSaved {
  keptShape: number[];
  scale: number;
}

const sumOp = defineOp<ReduceSaved>({
  name: 'sum',
  backward: (gy, { inputs: [x], saved }) => {
    const g = view(gy, saved.keptShape);
    const r = broadcastToRaw(g, x.shape, saved.scale);
    g.dispose();
    return [r];
  },
});
const meanOp = defineOp<ReduceSaved>({ name: 'mean', backward: sumOp.backward });

function reduceSumLike(op: 'sum' | 'mean', x: Tensor, axis: number | readonly number[] | undefined, keepDims: boolean): Tensor {
  checkBackends(op, x);
  checkFloat(op, x);
  const axes = normalizeAxes(op, x.rank, axis);
  const count = product(axes.map((a) => x.shape[a]));
  if (op === 'mean' && count === 0) {
    throw new ValueError(`mean: cannot average over zero elements (shape ${fmtShape(x.shape)}, axes ${fmtShape(axes)})`);
  }
  const out = sumAxesRaw(x, axes, keepDims);
  const scale = op === 'mean' ? 1 / count : 1;
  if (scale !== 1) x.backend.k.muls_f32(out.ptr, out.ptr, out.size, scale);
  const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return record(op === 'sum' ? sumOp : meanOp, out, [x], { keptShape, scale });
}

/**
 * Sum over `axis` (a number, an array of axes, or all when omitted).
 * @example sum(x)            // scalar
 * @example sum(x, 0)         // column sums of a matrix
 * @example sum(x, -1, true)  // row sums as [rows, 1]
 */
export function sum(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  return reduceSumLike('sum', x, axis, keepDims);
}

/** Mean over `axis` (a number, an array of axes, or all when omitted). */
export function mean(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  return reduceSumLike('mean', x, axis, keepDims);
}

interface MaxSaved {
  outer: number;
  n: number;
  inner: number;
}

const maxOp = defineOp<MaxSaved>({
  name: 'max',
  backward: (gy, { inputs: [x], saved: { outer, n, inner }, owned: [idx] }) => {
    const dx = empty(x.shape, { backend: x.backend });
    x.backend.k.fill_f32(dx.ptr, dx.size, 0);
    x.backend.k.max_axis_bwd(dx.ptr, idx.ptr, gy.ptr, outer, n, inner);
    return [dx];
  },
});

function maxRaw(op: string, x: Tensor, axis: number | undefined): { values: Tensor; idx: Tensor; outer: number; n: number; inner: number; ax: number | undefined } {
  checkBackends(op, x);
  checkFloat(op, x);
  let outer = 1, n = x.size, inner = 1;
  let ax: number | undefined;
  if (axis !== undefined) {
    [ax] = normalizeAxes(op, x.rank, axis);
    outer = product(x.shape.slice(0, ax));
    n = x.shape[ax];
    inner = product(x.shape.slice(ax + 1));
  }
  if (n === 0) throw new ValueError(`${op}: cannot reduce over an empty axis (shape ${fmtShape(x.shape)})`);
  const values = empty([outer * inner], { backend: x.backend });
  const idx = empty([outer * inner], { backend: x.backend, dtype: 'int32' });
  x.backend.k.max_axis(values.ptr, idx.ptr, x.ptr, outer, n, inner);
  return { values, idx, outer, n, inner, ax };
}

function reducedShape(x: Tensor, ax: number | undefined, keepDims: boolean): number[] {
  if (ax === undefined) return keepDims ? x.shape.map(() => 1) : [];
  return keepDims ? x.shape.map((d, i) => (i === ax ? 1 : d)) : x.shape.filter((_, i) => i !== ax);
}

/** Maximum over one axis (or all elements when omitted). The gradient goes to the first maximal element. */
export function max(x: Tensor, axis?: number, keepDims = false): Tensor {
  const { values, idx, outer, n, inner, ax } = maxRaw('max', x, axis);
  const out = view(values, reducedShape(x, ax, keepDims));
  values.dispose();
  return record(maxOp, out, [x], { outer, n, inner }, [idx]);
}

/** Index of the maximum along `axis` (or of the flattened tensor), as int32. Not differentiable. */
export function argmax(x: Tensor, axis?: number, keepDims = false): Tensor {
  const { values, idx, ax } = maxRaw('argmax', x, axis);
  values.dispose();
  const out = view(idx, reducedShape(x, ax, keepDims));
  idx.dispose();
  return out;
}
