/**
 * Plain-JS optimizer kernels and reductions: the js backend's mirror of
 * assembly/optim.ts (formulas and their order of operations are documented
 * there). Pointers are byte offsets; `>>> 2` gives the index into the heap's
 * Float32Array. Arithmetic runs in float64 and is stored as float32, so results
 * match the wasm build to about 1e-7 relative.
 */

import type { Heap } from '../heap.js';

export function optimKernels(h: Heap) {
  return {
    sgd_step(
      p: number, buf: number, g: number, n: number,
      lr: number, momentum: number, dampening: number, weightDecay: number, nesterov: number, firstStep: number,
    ): void {
      const F = h.f32, pi = p >>> 2, bi = buf >>> 2, gi = g >>> 2;
      lr = Math.fround(lr);
      momentum = Math.fround(momentum);
      weightDecay = Math.fround(weightDecay);
      const damp = Math.fround(1 - Math.fround(dampening));
      for (let i = 0; i < n; i++) {
        const pv = F[pi + i];
        let gv = F[gi + i] + weightDecay * pv;
        if (momentum !== 0) {
          const b = firstStep !== 0 ? gv : momentum * F[bi + i] + damp * gv;
          F[bi + i] = b;
          gv = nesterov !== 0 ? gv + momentum * b : b;
        }
        F[pi + i] = pv - lr * gv;
      }
    },

    adam_step(
      p: number, m: number, v: number, vmax: number, g: number, n: number,
      lr: number, b1: number, b2: number, eps: number, weightDecay: number, decoupled: number, amsgrad: number,
      bc1: number, bc2: number,
    ): void {
      const F = h.f32, pi = p >>> 2, mi = m >>> 2, vi = v >>> 2, xi = vmax >>> 2, gi = g >>> 2;
      const f = Math.fround;
      lr = f(lr), b1 = f(b1), b2 = f(b2), eps = f(eps), weightDecay = f(weightDecay), bc1 = f(bc1), bc2 = f(bc2);
      const stepSize = lr / bc1;
      const bc2Sqrt = Math.sqrt(bc2);
      const decay = 1 - lr * weightDecay;
      for (let i = 0; i < n; i++) {
        let pv = F[pi + i];
        let gv = F[gi + i];
        if (decoupled !== 0) pv *= decay;
        else gv += weightDecay * pv;
        const mv = F[mi + i] + (1 - b1) * (gv - F[mi + i]);
        let sv = b2 * F[vi + i] + (1 - b2) * gv * gv;
        F[mi + i] = mv;
        F[vi + i] = sv;
        if (amsgrad !== 0) {
          sv = Math.max(F[xi + i], Math.fround(sv));
          F[xi + i] = sv;
        }
        F[pi + i] = pv - stepSize * (mv / (Math.sqrt(sv) / bc2Sqrt + eps));
      }
    },

    rmsprop_step(
      p: number, sq: number, buf: number, gavg: number, g: number, n: number,
      lr: number, alpha: number, eps: number, weightDecay: number, momentum: number, centered: number,
    ): void {
      const F = h.f32, pi = p >>> 2, si = sq >>> 2, bi = buf >>> 2, ai = gavg >>> 2, gi = g >>> 2;
      const f = Math.fround;
      lr = f(lr), alpha = f(alpha), eps = f(eps), weightDecay = f(weightDecay), momentum = f(momentum);
      for (let i = 0; i < n; i++) {
        const pv = F[pi + i];
        const gv = F[gi + i] + weightDecay * pv;
        const sv = alpha * F[si + i] + (1 - alpha) * gv * gv;
        F[si + i] = sv;
        let avg: number;
        if (centered !== 0) {
          const ga = F[ai + i] + (1 - alpha) * (gv - F[ai + i]);
          F[ai + i] = ga;
          avg = Math.sqrt(sv - ga * ga);
        } else {
          avg = Math.sqrt(sv);
        }
        avg += eps;
        if (momentum !== 0) {
          const b = momentum * F[bi + i] + gv / avg;
          F[bi + i] = b;
          F[pi + i] = pv - lr * b;
        } else {
          F[pi + i] = pv - lr * (gv / avg);
        }
      }
    },

    adagrad_step(p: number, sum: number, g: number, n: number, clr: number, eps: number, weightDecay: number): void {
      const F = h.f32, pi = p >>> 2, si = sum >>> 2, gi = g >>> 2;
      clr = Math.fround(clr);
      eps = Math.fround(eps);
      weightDecay = Math.fround(weightDecay);
      for (let i = 0; i < n; i++) {
        const pv = F[pi + i];
        const gv = F[gi + i] + weightDecay * pv;
        const s = F[si + i] + gv * gv;
        F[si + i] = s;
        F[pi + i] = pv - clr * (gv / (Math.sqrt(s) + eps));
      }
    },

    sumsq_f32(out: number, x: number, n: number): void {
      const F = h.f32, xi = x >>> 2;
      let s = 0;
      for (let i = 0; i < n; i++) s += F[xi + i] * F[xi + i];
      F[out >>> 2] = s;
    },

    sumabs_f32(out: number, x: number, n: number): void {
      const F = h.f32, xi = x >>> 2;
      let s = 0;
      for (let i = 0; i < n; i++) s += Math.abs(F[xi + i]);
      F[out >>> 2] = s;
    },

    absmax_f32(out: number, x: number, n: number): void {
      const F = h.f32, xi = x >>> 2;
      let s = 0;
      for (let i = 0; i < n; i++) s = Math.max(s, Math.abs(F[xi + i]));
      F[out >>> 2] = s;
    },

    clamp_f32(out: number, x: number, n: number, lo: number, hi: number): void {
      const F = h.f32, o = out >>> 2, xi = x >>> 2;
      lo = Math.fround(lo);
      hi = Math.fround(hi);
      for (let i = 0; i < n; i++) F[o + i] = Math.min(Math.max(F[xi + i], lo), hi);
    },

    sign_scale_f32(out: number, x: number, n: number, s: number): void {
      const F = h.f32, o = out >>> 2, xi = x >>> 2;
      s = Math.fround(s);
      for (let i = 0; i < n; i++) {
        const v = F[xi + i];
        F[o + i] = v > 0 ? s : v < 0 ? -s : 0;
      }
    },
  };
}
