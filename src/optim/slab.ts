/**
 * Helpers shared by the optimizers, clipping and the L1/L2 penalties:
 *
 * - `collectParams`: a parameter list from tensors, a single tensor or
 *   anything with `parameters()` (a Module), without duplicates.
 * - The slab registry: tensors that live in an optimizer's slab (parameters
 *   and their `.grad` views) record the padded length of their slice, and the
 *   optimizer that owns them.
 * - `coalesce`: merges tensors that sit back to back in memory into as few
 *   [ptr, n) ranges as possible, so a reduction or an in-place scale over all
 *   gradients of a slab is one kernel call. Padding between slab slices is
 *   always zero (nothing writes it and every kernel maps 0 to 0), so a range
 *   may run over it: sums, maxima, scaling and clamping are unchanged.
 */

import type { Backend } from '../backend/index.js';
import { ConfigError, ValueError } from '../errors.js';
import { Tensor } from '../tensor.js';

/** Anything that owns parameters: a Module, or any object with `parameters()`. */
export interface HasParameters {
  parameters(): Iterable<Tensor>;
}

/** Tensors, a single tensor, or a Module. */
export type ParamSource = readonly Tensor[] | Tensor | HasParameters;

export function hasParameters(x: unknown): x is HasParameters {
  return x !== null && typeof x === 'object' && typeof (x as HasParameters).parameters === 'function';
}

/** The tensors of `src`, in order, each once. */
export function collectParams(src: ParamSource, where: string): Tensor[] {
  let list: unknown[];
  if (src instanceof Tensor) list = [src];
  else if (hasParameters(src)) list = Array.from(src.parameters());
  else if (Array.isArray(src)) list = src;
  else {
    throw new ConfigError(
      `${where}: expected tensors, a tensor or an object with parameters() (a Module); got ${describeValue(src)}`,
    );
  }
  const seen = new Set<Tensor>();
  const out: Tensor[] = [];
  list.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new ConfigError(`${where}: element ${i} is not a Tensor; got ${describeValue(t)}`);
    if (!seen.has(t)) {
      seen.add(t);
      out.push(t);
    }
  });
  return out;
}

export function describeValue(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return `an array of ${x.length}`;
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'an object';
  return `${typeof x} ${String(x)}`;
}

// ─── the slab registry ─────────────────────────────────────────────────────

/** Padded byte length of the slab slice of each slab member (parameters and grad views). */
const PADDED_BYTES = new WeakMap<Tensor, number>();
/**
 * The optimizer whose slab holds each parameter. A WeakRef, so an optimizer
 * that was dropped without `dispose()` can still be garbage-collected, and
 * then no longer blocks its parameters from joining a new optimizer.
 */
const OWNER = new WeakMap<Tensor, WeakRef<object>>();

/** @internal */
export function registerSlabMember(t: Tensor, paddedBytes: number): void {
  PADDED_BYTES.set(t, paddedBytes);
}

/** @internal */
export function unregisterSlabMember(t: Tensor): void {
  PADDED_BYTES.delete(t);
}

/** @internal The optimizer that owns `param`'s slab slice, if any. */
export function slabOwner(param: Tensor): object | undefined {
  return OWNER.get(param)?.deref();
}

/** @internal */
export function setSlabOwner(param: Tensor, owner: object | undefined): void {
  if (owner === undefined) OWNER.delete(param);
  else OWNER.set(param, new WeakRef(owner));
}

// ─── ranges ────────────────────────────────────────────────────────────────

/** A contiguous run of float32 elements in one backend's heap. */
export interface Range {
  readonly backend: Backend;
  /** Byte pointer of the first element. */
  readonly ptr: number;
  /** Number of float32 elements. */
  readonly n: number;
}

/**
 * The memory of `tensors` as few contiguous ranges (per backend, by address).
 * A slab member counts with its zero padding; other tensors with exactly
 * their elements, so only truly adjacent tensors merge. Overlaps (views of
 * one another) merge into their union.
 */
export function coalesce(tensors: readonly Tensor[]): Range[] {
  const byBackend = new Map<Backend, { start: number; end: number }[]>();
  for (const t of new Set(tensors)) {
    const start = t.ptr;
    const end = start + (PADDED_BYTES.get(t) ?? t.size * 4);
    let list = byBackend.get(t.backend);
    if (list === undefined) byBackend.set(t.backend, (list = []));
    if (end > start) list.push({ start, end });
  }
  const out: Range[] = [];
  for (const [backend, list] of byBackend) {
    list.sort((a, b) => a.start - b.start);
    let cur: { start: number; end: number } | undefined;
    for (const r of list) {
      if (cur !== undefined && r.start <= cur.end) cur.end = Math.max(cur.end, r.end);
      else {
        if (cur !== undefined) out.push({ backend, ptr: cur.start, n: (cur.end - cur.start) / 4 });
        cur = { ...r };
      }
    }
    if (cur !== undefined) out.push({ backend, ptr: cur.start, n: (cur.end - cur.start) / 4 });
  }
  return out;
}

/** Runs `fn` with a 16-byte scratch block on `backend` (freed afterwards). */
export function withScratch<T>(backend: Backend, fn: (ptr: number) => T): T {
  const ptr = backend.heap.alloc(16, 'a reduction result');
  try {
    return fn(ptr);
  } finally {
    backend.heap.free(ptr);
  }
}

/** Σ over `ranges` of one reduction kernel's result (sumsq_f32, sumabs_f32), in float64. */
export function reduceSum(ranges: readonly Range[], kernel: 'sumsq_f32' | 'sumabs_f32'): number {
  let total = 0;
  for (const r of ranges) {
    total += withScratch(r.backend, (out) => {
      r.backend.k[kernel](out, r.ptr, r.n);
      return r.backend.heap.f32[out >>> 2];
    });
  }
  return total;
}

/** Throws unless `v` is a finite number (optionally ≥ 0). */
export function checkScalar(where: string, name: string, v: unknown, nonNegative = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (nonNegative && v < 0)) {
    throw new ValueError(`${where}: ${name} must be a finite number${nonNegative ? ' ≥ 0' : ''}; got ${String(v)}`);
  }
  return v;
}
