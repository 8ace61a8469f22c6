/**
 * Layout planning shared by broadcasting, reductions and the shape ops.
 *
 * Kernels see at most 4 dimensions with explicit element strides. Any layout
 * is first collapsed — dimensions of size 1 dropped, neighbours merged when
 * every operand is contiguous across them — which almost always leaves ≤ 4;
 * if more remain, the leading ones are looped over here.
 *
 *   [64, 256] + [256]  →  dims [64, 256], a strides [256, 1], b strides [0, 1]
 *   [B,T,H,D] → [B,H,T,D] (permute 0,2,1,3) → 4 dims, copied row by row
 */

import { ShapeError, fmtShape } from '../errors.js';

/** Row-major element strides of a contiguous shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** numpy/PyTorch broadcasting of two shapes; a ShapeError names the op and the clashing dimension. */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out = new Array<number>(r);
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} do not broadcast ` +
          `(dimension ${i - r}: ${da} vs ${db}; each pair must be equal or one of them 1)`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides that read `inShape` (right-aligned) as if broadcast to `outShape`: 0 along broadcast dimensions. */
export function broadcastStrides(inShape: readonly number[], outShape: readonly number[]): number[] {
  const inStrides = contiguousStrides(inShape);
  const off = outShape.length - inShape.length;
  return outShape.map((d, i) => {
    const j = i - off;
    if (j < 0) return 0;
    return inShape[j] === 1 && d !== 1 ? 0 : inStrides[j];
  });
}

export interface Plan {
  dims: number[];
  /** strides[k][i]: stride of operand k along dims[i]. */
  strides: number[][];
}

/** Drops size-1 dimensions and merges neighbours that every operand traverses contiguously. */
export function collapse(dims: readonly number[], strides: readonly (readonly number[])[]): Plan {
  const outDims: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let i = 0; i < dims.length; i++) {
    if (dims[i] === 1) continue;
    const last = outDims.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k][last] === s[i] * dims[i])) {
      outDims[last] *= dims[i];
      strides.forEach((s, k) => (outStrides[k][last] = s[i]));
    } else {
      outDims.push(dims[i]);
      strides.forEach((s, k) => outStrides[k].push(s[i]));
    }
  }
  return { dims: outDims, strides: outStrides };
}

/**
 * Calls `kernel(offsets, dims4, strides4)` for the plan: dims padded to
 * exactly 4 (leading 1s), leading dimensions beyond 4 looped here with the
 * per-operand element offsets passed in `offsets`.
 */
export function forEach4(plan: Plan, kernel: (offsets: number[], dims: number[], strides: number[][]) => void): void {
  const { dims, strides } = plan;
  const extra = Math.max(0, dims.length - 4);
  const tailDims = dims.slice(extra);
  while (tailDims.length < 4) tailDims.unshift(1);
  const tailStrides = strides.map((s) => {
    const t = s.slice(extra);
    while (t.length < 4) t.unshift(0);
    return t;
  });
  if (extra === 0) {
    kernel(strides.map(() => 0), tailDims, tailStrides);
    return;
  }
  const lead = dims.slice(0, extra);
  const idx = new Array<number>(extra).fill(0);
  const total = lead.reduce((p, d) => p * d, 1);
  for (let n = 0; n < total; n++) {
    kernel(strides.map((s) => idx.reduce((acc, v, i) => acc + v * s[i], 0)), tailDims, tailStrides);
    for (let i = extra - 1; i >= 0; i--) {
      if (++idx[i] < lead[i]) break;
      idx[i] = 0;
    }
  }
}
