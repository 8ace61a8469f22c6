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
      const LR = f(lr), B1 = f(b1), B2 = f(b2), EPS = f(eps), WD = f(weightDecay);
      const stepSize = LR / f(bc1);
      const bc2Sqrt = Math.sqrt(f(bc2));
      const c1 = 1 - B1, c2 = 1 - B2;
      // Branch-free loop: decoupled decay multiplies p (else by 1), coupled adds wd·p to g (else 0·p).
      const decay = decoupled !== 0 ? 1 - LR * WD : 1;
      const l2 = decoupled !== 0 ? 0 : WD;
      const ams = amsgrad !== 0;
      for (let i = 0; i < n; i++) {
        const p0 = F[pi + i] * decay;
        const g0 = F[gi + i] + l2 * p0;
        const m0 = F[mi + i];
        const m1 = m0 + c1 * (g0 - m0);
        let s = B2 * F[vi + i] + c2 * g0 * g0;
        F[mi + i] = m1;
        F[vi + i] = s;
        if (ams) {
          s = Math.max(F[xi + i], f(s));
          F[xi + i] = s;
        }
        F[pi + i] = p0 - stepSize * (m1 / (Math.sqrt(s) / bc2Sqrt + EPS));
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
