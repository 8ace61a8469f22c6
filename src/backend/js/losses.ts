/**
 * Plain-JS elementwise losses: the js backend's mirror of assembly/losses.ts
 * (binary cross-entropy from logits, squared error; reduce = 0 → per element,
 * else out[0] = scale·Σ). float64 arithmetic, float32 stores.
 */

import type { Heap } from '../heap.js';

export function lossKernels(h: Heap) {
  return {
    bce_logits_fwd(out: number, x: number, t: number, n: number, reduce: number, scale: number): void {
      const F = h.f32, o = out >>> 2, xi = x >>> 2, ti = t >>> 2;
      let s = 0;
      for (let i = 0; i < n; i++) {
        const v = F[xi + i];
        const l = Math.max(v, 0) - v * F[ti + i] + Math.log1p(Math.exp(-Math.abs(v)));
        if (reduce !== 0) s += l;
        else F[o + i] = l;
      }
      if (reduce !== 0) F[o] = s * Math.fround(scale);
    },
    bce_logits_bwd(dx: number, x: number, t: number, dy: number, n: number, reduce: number, scale: number): void {
      const F = h.f32, o = dx >>> 2, xi = x >>> 2, ti = t >>> 2, gi = dy >>> 2;
      const g = reduce !== 0 && n > 0 ? F[gi] * Math.fround(scale) : 0;
      for (let i = 0; i < n; i++) {
        const v = F[xi + i];
        const e = Math.exp(-Math.abs(v));
        const s = v < 0 ? e / (1 + e) : 1 / (1 + e);
        F[o + i] = (s - F[ti + i]) * (reduce !== 0 ? g : F[gi + i]);
      }
    },
    mse_fwd(out: number, p: number, t: number, n: number, reduce: number, scale: number): void {
      const F = h.f32, o = out >>> 2, pi = p >>> 2, ti = t >>> 2;
      let s = 0;
      for (let i = 0; i < n; i++) {
        const d = F[pi + i] - F[ti + i];
        if (reduce !== 0) s += d * d;
        else F[o + i] = d * d;
      }
      if (reduce !== 0) F[o] = s * Math.fround(scale);
    },
    mse_bwd(dp: number, p: number, t: number, dy: number, n: number, reduce: number, scale: number): void {
      const F = h.f32, o = dp >>> 2, pi = p >>> 2, ti = t >>> 2, gi = dy >>> 2;
      const g = reduce !== 0 && n > 0 ? F[gi] * Math.fround(scale) : 0;
      for (let i = 0; i < n; i++) F[o + i] = 2 * (F[pi + i] - F[ti + i]) * (reduce !== 0 ? g : F[gi + i]);
    },
  };
}
