/**
 * gradCheck: compares autograd's gradients with central finite differences.
 *
 * The function's output is projected to a scalar L = Σ w·f(x) with fixed
 * pseudo-random weights w (so non-scalar outputs are checked in every
 * direction at once), computed in float64 from the float32 outputs. For each
 * checked element of each input that requires grad:
 *
 *   numeric  = (L(x + eps) − L(x − eps)) / (2·eps)   (eps as rounded to float32)
 *   analytic = the element of x.grad after backward(f(x), w)
 *   error    = |analytic − numeric| / max(|analytic|, |numeric|, floor)
 *
 * float32 round-off limits finite differences: with eps = 1e-3 a tolerance of
 * about 1e-2 separates correct gradients from wrong ones (a wrong rule is off
 * by O(1)).
 */

import { backward, noGrad } from './autograd.js';
import { ConfigError, ValueError } from './errors.js';
import { Tensor, tidy, tensor } from './tensor.js';

export interface GradCheckOptions {
  /** Finite-difference step. Default 1e-3. */
  eps?: number;
  /** Relative-error tolerance for `ok`. Default 1e-2. */
  tolerance?: number;
  /** Denominator floor, so near-zero gradients are compared absolutely. Default 1e-2. */
  floor?: number;
  /** Check at most this many elements per input (evenly spread). Default: all. */
  maxElementsPerInput?: number;
  /** Seed of the projection weights. Default 1. */
  seed?: number;
}

const GRADCHECK_DEFAULTS = Object.freeze({ eps: 1e-3, tolerance: 1e-2, floor: 1e-2, maxElementsPerInput: Infinity, seed: 1 });

export interface GradCheckResult {
  /** Worst relative error over every checked element. */
  maxRelError: number;
  /** True when maxRelError ≤ tolerance. */
  ok: boolean;
  /** Where the worst error is: input index, flat element index and both values. */
  worst: { input: number; index: number; analytic: number; numeric: number };
  /** How many elements were checked. */
  checked: number;
}

function projectionWeights(n: number, seed: number): Float64Array {
  const w = new Float64Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    w[i] = ((s >>> 0) / 4294967296) * 1.5 + 0.25; // in [0.25, 1.75): no cancellation to zero
  }
  return w;
}

/**
 * Checks the gradient of `fn` at `inputs` (tensors with requiresGrad are
 * checked; others are constants). `fn` must be deterministic (no dropout).
 *
 * @example
 * const r = gradCheck((x, w) => relu(matmul(x, w)), [x, w]);
 * if (!r.ok) console.log(r.worst);
 */
export function gradCheck(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], options: GradCheckOptions = {}): GradCheckResult {
  for (const key of Object.keys(options)) {
    if (!(key in GRADCHECK_DEFAULTS)) {
      throw new ConfigError(`gradCheck: unknown option '${key}'; valid: ${Object.keys(GRADCHECK_DEFAULTS).join(', ')}`);
    }
  }
  const o = { ...GRADCHECK_DEFAULTS, ...options };
  if (!(o.eps > 0) || !Number.isFinite(o.eps)) throw new ValueError(`gradCheck: eps must be a positive number; got ${o.eps}`);
  const targets = inputs.map((x, i) => ({ x, i })).filter(({ x }) => x.requiresGrad && x.dtype === 'float32');
  if (targets.length === 0) throw new ValueError('gradCheck: no input has requiresGrad = true');

  // Analytic: backward(f(x), w).
  let w: Float64Array = new Float64Array(0);
  const saved = targets.map(({ x }) => x.grad);
  for (const { x } of targets) x.grad = null;
  const analytic = tidy(() => {
    const y = fn(...inputs);
    w = projectionWeights(y.size, o.seed);
    backward(y, tensor(Float32Array.from(w), y.shape, { backend: y.backend }));
    return targets.map(({ x }) => (x.grad ? Float64Array.from(x.grad.data()) : new Float64Array(x.size)));
  });
  targets.forEach(({ x }, j) => {
    x.grad?.dispose();
    x.grad = saved[j];
  });

  const L = (): number =>
    noGrad(() =>
      tidy(() => {
        const y = fn(...inputs).data();
        let s = 0;
        for (let i = 0; i < y.length; i++) s += w[i] * y[i];
        return s;
      }),
    );

  const result: GradCheckResult = { maxRelError: 0, ok: true, worst: { input: -1, index: -1, analytic: 0, numeric: 0 }, checked: 0 };
  targets.forEach(({ x, i: inputIndex }, j) => {
    const step = Math.max(1, Math.floor(x.size / Math.min(x.size, o.maxElementsPerInput)));
    for (let idx = 0; idx < x.size; idx += step) {
      const heap = x.backend.heap;
      const p = (x.ptr >>> 2) + idx;
      const orig = heap.f32[p];
      // The steps are rounded to float32; divide by the step actually taken.
      const xUp = Math.fround(orig + o.eps);
      const xDown = Math.fround(orig - o.eps);
      heap.f32[p] = xUp;
      const up = L();
      heap.f32[p] = xDown; // (re-read heap.f32: fn may have grown the heap)
      const down = L();
      heap.f32[p] = orig;
      const numeric = (up - down) / (xUp - xDown);
      const a = analytic[j][idx];
      const err = Math.abs(a - numeric) / Math.max(Math.abs(a), Math.abs(numeric), o.floor);
      result.checked++;
      if (!(err <= result.maxRelError)) {
        result.maxRelError = err;
        result.worst = { input: inputIndex, index: idx, analytic: a, numeric };
      }
    }
  });
  result.ok = result.maxRelError <= o.tolerance;
  return result;
}
