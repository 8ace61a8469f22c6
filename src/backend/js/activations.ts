/**
 * Plain-JS activation kernels: the js backend's mirror of
 * assembly/activations.ts (same names, arguments and formulas; see that file
 * for the table). Arithmetic is float64 with Math.exp/Math.tanh/…, rounded to
 * float32 on store. erf has no Math counterpart: `erfc` below uses the same
 * Chebyshev fit as the wasm kernels (Numerical Recipes §6.2.2, fractional
 * error < 1.2e-7), evaluated in float64.
 *
 * Each op is its own loop (not one loop over a callback), so every inner loop
 * stays monomorphic and V8 can inline the math.
 */

import type { Heap } from '../heap.js';

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 0.3989422804014327;
// gelu_tanh: 2u = x·(A + B·x²), A = 2√(2/π), B = A·0.044715; |x| clamped as in the wasm kernel.
const GT_A = 1.5957691216057308;
const GT_B = 0.07135481627260086;
const GT_CLAMP = 1e4;

/** erfc(z), |relative error| < 1.2e-7 for every z (Numerical Recipes' erfcc). */
export function erfc(z: number): number {
  const az = Math.abs(z);
  const t = 2 / (2 + az);
  const r =
    t *
    Math.exp(
      -az * az - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 +
        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return z < 0 ? 2 - r : r;
}

/** Φ(x), the standard normal CDF. */
export function normCdf(x: number): number {
  return 0.5 * erfc(-x * INV_SQRT2);
}

/** σ(x) without overflow in either tail. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

export function activationKernels(h: Heap) {
  return {
    relu_fwd(out: number, x: number, n: number): void {
      const F = h.f32, o = out >>> 2, xi = x >>> 2;
      for (let i = 0; i < n; i++) F[o + i] = Math.max(F[xi + i], 0);
    },
    relu_bwd(dx: number, x: number, dy: number, n: number): void {
      const F = h.f32, o = dx >>> 2, xi = x >>> 2, gi = dy >>> 2;
      for (let i = 0; i < n; i++) F[o + i] = F[xi + i] > 0 ? F[gi + i] : 0;
    },
    leaky_relu_fwd(out: number, x: number, n: number, slope: number): void {
      const F = h.f32, o = out >>> 2, xi = x >>> 2;
      slope = Math.fround(slope);
      for (let i = 0; i < n; i++) {
        const v = F[xi + i];
        F[o + i] = v > 0 ? v : v * slope;
      }
    },
    leaky_relu_bwd(dx: number, x: number, dy: number, n: number, slope: number): void {
      const F = h.f32, o = dx >>> 2, xi = x >>> 2, gi = dy >>> 2;
      slope = Math.fround(slope);
      for (let i = 0; i < n; i++) F[o + i] = F[xi + i] > 0 ? F[gi + i] : F[gi + i] * slope;
    },
    sigmoid_fwd(out: number, x: number, n: number): void {
      const F = h.f32, o = out >>> 2, xi = x >>> 2;
      for (let i = 0; i < n; i++) F[o + i] = sigmoid(F[xi + i]);
    },
    sigmoid_bwd(dx: number, y: number, dy: number, n: number): void {
      const F = h.f32, o = dx >>> 2, yi = y >>> 2, gi = dy >>> 2;
      for (let i = 0; i < n; i++) {
        const s = F[yi + i];
        F[o + i] = F[gi + i] * s * (1 - s);
      }
    },
    tanh_fwd(out: number, x: number, n: number): void {
      const F = h.f32, o = out >>> 2, xi = x >>> 2;
      for (let i = 0; i < n; i++) F[o + i] = Math.tanh(F[xi + i]);
    },
    tanh_bwd(dx: number, y: number, dy: number, n: number): void {
      const F = h.f32, o = dx >>> 2, yi = y >>> 2, gi = dy >>> 2;
      for (let i = 0; i < n; i++) {
        const t = F[yi + i];
        F[o + i] = F[gi + i] * (1 - t) * (1 + t);
      }
    },
    gelu_fwd(out: number, x: number, n: number): void {
      const F = h.f32, o = out >>> 2, xi = x >>> 2;
      for (let i = 0; i < n; i++) {
        const v = F[xi + i];
        F[o + i] = v * normCdf(v);
      }
    },
    gelu_bwd(dx: number, x: number, dy: number, n: number): void {
      const F = h.f32, o = dx >>> 2, xi = x >>> 2, gi = dy >>> 2;
      for (let i = 0; i < n; i++) {
        const v = F[xi + i];
        F[o + i] = F[gi + i] * (normCdf(v) + v * Math.exp(-0.5 * v * v) * INV_SQRT_2PI);
      }
    },
    gelu_tanh_fwd(out: number, x: number, n: number): void {
      const F = h.f32, o = out >>> 2, xi = x >>> 2;
      for (let i = 0; i < n; i++) {
        const v = F[xi + i];
        const c = Math.min(Math.max(v, -GT_CLAMP), GT_CLAMP);
        F[o + i] = v * sigmoid(c * (GT_A + GT_B * c * c));
      }
    },
    gelu_tanh_bwd(dx: number, x: number, dy: number, n: number): void {
      const F = h.f32, o = dx >>> 2, xi = x >>> 2, gi = dy >>> 2;
      for (let i = 0; i < n; i++) {
        const v = F[xi + i];
        const c = Math.min(Math.max(v, -GT_CLAMP), GT_CLAMP);
        const a = c * (GT_A + GT_B * c * c);
        const e = Math.exp(-Math.abs(a));
        const q = 1 / (1 + e);
        const s = a < 0 ? e * q : q;
        F[o + i] = F[gi + i] * (s + v * e * q * q * (GT_A + 3 * GT_B * c * c));
      }
    },
    silu_fwd(out: number, x: number, n: number): void {
      const F = h.f32, o = out >>> 2, xi = x >>> 2;
      for (let i = 0; i < n; i++) {
        const v = F[xi + i];
        F[o + i] = v * sigmoid(v);
      }
    },
    silu_bwd(dx: number, x: number, dy: number, n: number): void {
      const F = h.f32, o = dx >>> 2, xi = x >>> 2, gi = dy >>> 2;
      for (let i = 0; i < n; i++) {
        const v = F[xi + i];
        const e = Math.exp(-Math.abs(v));
        const q = 1 / (1 + e);
        const s = v < 0 ? e * q : q;
        F[o + i] = F[gi + i] * (s + v * e * q * q);
      }
    },
    exp_fwd(out: number, x: number, n: number): void {
      const F = h.f32, o = out >>> 2, xi = x >>> 2;
      for (let i = 0; i < n; i++) F[o + i] = Math.exp(F[xi + i]);
    },
    log_fwd(out: number, x: number, n: number): void {
      const F = h.f32, o = out >>> 2, xi = x >>> 2;
      for (let i = 0; i < n; i++) F[o + i] = Math.log(F[xi + i]);
    },
    sqrt_fwd(out: number, x: number, n: number): void {
      const F = h.f32, o = out >>> 2, xi = x >>> 2;
      for (let i = 0; i < n; i++) F[o + i] = Math.sqrt(F[xi + i]);
    },
    sqrt_bwd(dx: number, y: number, dy: number, n: number): void {
      const F = h.f32, o = dx >>> 2, yi = y >>> 2, gi = dy >>> 2;
      for (let i = 0; i < n; i++) F[o + i] = (F[gi + i] * 0.5) / F[yi + i];
    },
    neg_fwd(out: number, x: number, n: number): void {
      const F = h.f32, o = out >>> 2, xi = x >>> 2;
      for (let i = 0; i < n; i++) F[o + i] = -F[xi + i];
    },
    abs_fwd(out: number, x: number, n: number): void {
      const F = h.f32, o = out >>> 2, xi = x >>> 2;
      for (let i = 0; i < n; i++) F[o + i] = Math.abs(F[xi + i]);
    },
    abs_bwd(dx: number, x: number, dy: number, n: number): void {
      const F = h.f32, o = dx >>> 2, xi = x >>> 2, gi = dy >>> 2;
      for (let i = 0; i < n; i++) {
        const v = F[xi + i];
        F[o + i] = v > 0 ? F[gi + i] : v < 0 ? -F[gi + i] : 0;
      }
    },
  };
}
