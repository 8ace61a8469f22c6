/**
 * Shared test helpers: the loaded backends, a seeded PRNG, float64 reference
 * implementations and tolerant comparison.
 */
import { expect } from 'vitest';
import { availableBackends, loadBackendSync, setBackend, type Backend } from '../src/index.js';
import type { Tensor } from '../src/index.js';

/** Every backend this runtime can run (js always; wasm builds when supported). */
export const BACKENDS: Backend[] = availableBackends().map((n) => loadBackendSync(n));

/** Names for describe.each: [[name, backend], …]. */
export const EACH_BACKEND: [string, Backend][] = BACKENDS.map((b) => [b.name, b]);

/** Runs `fn` with `b` as the default backend for new tensors. */
export function withBackend<T>(b: Backend, fn: () => T): T {
  setBackend(b);
  return fn();
}

/** mulberry32: a small seeded PRNG for test data (independent of the library's). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n uniform values in [-1, 1) rounded to float32. */
export function randomArray(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r() * 2 - 1;
  return a;
}

/** float64 reference: C = alpha·op(A)·op(B) + beta·C0 (row-major, dense). */
export function naiveGemm(
  a: ArrayLike<number>, b: ArrayLike<number>, m: number, n: number, k: number,
  tA = false, tB = false, alpha = 1, beta = 0, c0?: ArrayLike<number>,
): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[tA ? p * m + i : i * k + p] * b[tB ? j * k + p : p * n + j];
      c[i * n + j] = alpha * s + (beta !== 0 && c0 ? beta * c0[i * n + j] : 0);
    }
  }
  return c;
}

/** Largest |a−b| / (atol/rtol + |b|)-style error: max over i of |a−b| / (1 + |b|). */
export function maxRelError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const e = Math.abs(actual[i] - expected[i]) / (1 + Math.abs(expected[i]));
    if (!(e <= worst)) worst = e; // NaN propagates as worst = NaN
  }
  return worst;
}

/** Asserts every element is within `tol` of the reference (relative to 1 + |ref|). */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  const e = maxRelError(actual, expected);
  expect(e, `max relative error ${e}`).toBeLessThanOrEqual(tol);
}

/** Flat float64 copy of a tensor's data. */
export function values(t: Tensor): Float64Array {
  return Float64Array.from(t.data());
}
