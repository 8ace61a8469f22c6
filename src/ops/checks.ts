/**
 * Validation shared by the ops: every check throws before any allocation or
 * kernel call, so bad input leaves the heap and all tensors unchanged.
 */

import { DTypeError, ShapeError, ValueError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Throws unless every tensor lives on the first one's backend. */
export function checkBackends(op: string, ...ts: Tensor[]): void {
  const b = ts[0].backend;
  for (const t of ts) {
    t.ptr; // throws DisposedError for a disposed input
    if (t.backend !== b) {
      throw new ValueError(
        `${op}: tensors live on different backends (${ts.map((x) => x.backend.name).join(', ')}); ` +
          `hint: create them after the same init()/setBackend()`,
      );
    }
  }
}

export function checkFloat(op: string, ...ts: Tensor[]): void {
  for (const t of ts) {
    if (t.dtype !== 'float32') throw new DTypeError(`${op}: expected float32 tensors; got ${t.describe()}`);
  }
}

export function checkFiniteScalar(op: string, name: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ValueError(`${op}: ${name} must be a finite number; got ${v}`);
  }
}

export function checkSameShape(op: string, a: Tensor, b: Tensor): void {
  if (!sameShape(a.shape, b.shape)) {
    throw new ShapeError(`${op}: shapes differ: a is ${fmtShape(a.shape)}, b is ${fmtShape(b.shape)}`);
  }
}

export function product(dims: readonly number[]): number {
  let p = 1;
  for (const d of dims) p *= d;
  return p;
}
