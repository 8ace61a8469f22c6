/**
 * Plain-JS softmax, log-softmax and fused softmax cross-entropy: the js
 * backend's mirror of assembly/softmax.ts (same [outer, n, inner] view, same
 * formulas; see that file). Sums and exponentials in float64.
 */

import type { Heap } from '../heap.js';

export function softmaxKernels(h: Heap) {
  /** Softmax (or log-softmax) of every [n] slice with stride `inner`. */
  function forward(out: number, x: number, outer: number, n: number, inner: number, log: boolean): void {
    const F = h.f32, o0 = out >>> 2, x0 = x >>> 2;
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * n * inner + j;
        let m = -Infinity;
        for (let k = 0, p = base; k < n; k++, p += inner) {
          const v = F[x0 + p];
          m = v > m || v !== v ? v : m; // NaN propagates, as f32x4.max does
        }
        let s = 0;
        for (let k = 0, p = base; k < n; k++, p += inner) {
          const e = Math.exp(F[x0 + p] - m);
          if (!log) F[o0 + p] = e;
          s += e;
        }
        if (log) {
          const ls = Math.log(s);
          for (let k = 0, p = base; k < n; k++, p += inner) F[o0 + p] = F[x0 + p] - m - ls;
        } else {
          const inv = 1 / s;
          for (let k = 0, p = base; k < n; k++, p += inner) F[o0 + p] *= inv;
        }
      }
    }
  }

  function backward(dx: number, y: number, dy: number, outer: number, n: number, inner: number, log: boolean): void {
    const F = h.f32, d0 = dx >>> 2, y0 = y >>> 2, g0 = dy >>> 2;
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * n * inner + j;
        let s = 0;
        for (let k = 0, p = base; k < n; k++, p += inner) s += log ? F[g0 + p] : F[g0 + p] * F[y0 + p];
        for (let k = 0, p = base; k < n; k++, p += inner) {
          F[d0 + p] = log ? F[g0 + p] - Math.exp(F[y0 + p]) * s : F[y0 + p] * (F[g0 + p] - s);
        }
      }
    }
  }

  return {
    softmax_fwd(out: number, x: number, outer: number, n: number, inner: number): void {
      forward(out, x, outer, n, inner, false);
    },
    softmax_bwd(dx: number, y: number, dy: number, outer: number, n: number, inner: number): void {
      backward(dx, y, dy, outer, n, inner, false);
    },
    log_softmax_fwd(out: number, x: number, outer: number, n: number, inner: number): void {
      forward(out, x, outer, n, inner, true);
    },
    log_softmax_bwd(dx: number, y: number, dy: number, outer: number, n: number, inner: number): void {
      backward(dx, y, dy, outer, n, inner, true);
    },
    cross_entropy_fwd(
      loss: number, probs: number, logits: number, labels: number, n: number, c: number,
      reduce: number, scale: number, smoothing: number,
    ): void {
      const F = h.f32, I = h.i32, l0 = loss >>> 2, p0 = probs >>> 2, x0 = logits >>> 2, y0 = labels >>> 2;
      const eps = Math.fround(smoothing);
      let total = 0;
      for (let i = 0; i < n; i++) {
        const r = i * c;
        let m = -Infinity;
        let sumX = 0;
        for (let j = 0; j < c; j++) {
          const v = F[x0 + r + j];
          m = v > m || v !== v ? v : m;
          sumX += v;
        }
        let s = 0;
        for (let j = 0; j < c; j++) {
          const e = Math.exp(F[x0 + r + j] - m);
          F[p0 + r + j] = e;
          s += e;
        }
        const inv = 1 / s;
        for (let j = 0; j < c; j++) F[p0 + r + j] *= inv;
        const logS = Math.log(s);
        let li = m - F[x0 + r + I[y0 + i]] + logS;
        if (eps !== 0) li = (1 - eps) * li + eps * (m - sumX / c + logS);
        if (reduce !== 0) total += li;
        else F[l0 + i] = li;
      }
      if (reduce !== 0) F[l0] = total * Math.fround(scale);
    },
    cross_entropy_bwd(
      dlogits: number, probs: number, labels: number, dy: number, n: number, c: number,
      reduce: number, scale: number, smoothing: number,
    ): void {
      const F = h.f32, I = h.i32, d0 = dlogits >>> 2, p0 = probs >>> 2, y0 = labels >>> 2, g0 = dy >>> 2;
      const eps = Math.fround(smoothing);
      const off = eps / c;
      const gAll = reduce !== 0 && n > 0 ? F[g0] * Math.fround(scale) : 0;
      for (let i = 0; i < n; i++) {
        const g = reduce !== 0 ? gAll : F[g0 + i];
        const r = i * c;
        const label = I[y0 + i];
        for (let j = 0; j < c; j++) F[d0 + r + j] = (F[p0 + r + j] - off - (j === label ? 1 - eps : 0)) * g;
      }
    },
  };
}
