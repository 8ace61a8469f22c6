/** Plain-JS mirror of assembly/reduce.ts: reductions over the middle axis of [outer, n, inner]. */

import type { Heap } from '../heap.js';

export function reduceKernels(h: Heap) {
  return {
    sum_axis(out: number, x: number, outer: number, n: number, inner: number): void {
      const F = h.f32, o0 = out >>> 2, x0 = x >>> 2;
      if (inner === 1) {
        for (let o = 0; o < outer; o++) {
          const row = x0 + o * n;
          let s0 = 0, s1 = 0;
          let k = 0;
          for (; k + 1 < n; k += 2) {
            s0 += F[row + k];
            s1 += F[row + k + 1];
          }
          if (k < n) s0 += F[row + k];
          F[o0 + o] = s0 + s1;
        }
        return;
      }
      for (let o = 0; o < outer; o++) {
        const dst = o0 + o * inner, src = x0 + o * n * inner;
        if (n === 0) {
          F.fill(0, dst, dst + inner);
          continue;
        }
        F.copyWithin(dst, src, src + inner);
        for (let k = 1; k < n; k++) {
          const r = src + k * inner;
          for (let i = 0; i < inner; i++) F[dst + i] += F[r + i];
        }
      }
    },
    max_axis(out: number, idx: number, x: number, outer: number, n: number, inner: number): void {
      const F = h.f32, I = h.i32, x0 = x >>> 2;
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          let p = x0 + o * n * inner + i;
          let best = F[p], arg = 0;
          for (let k = 1; k < n; k++) {
            p += inner;
            const v = F[p];
            if (v > best || (v !== v && best === best)) {
              best = v;
              arg = k;
            }
          }
          const j = o * inner + i;
          F[(out >>> 2) + j] = best;
          I[(idx >>> 2) + j] = arg;
        }
      }
    },
    max_axis_bwd(dx: number, idx: number, dy: number, outer: number, n: number, inner: number): void {
      const F = h.f32, I = h.i32;
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          const j = o * inner + i;
          const k = I[(idx >>> 2) + j];
          F[(dx >>> 2) + (o * n + k) * inner + i] += F[(dy >>> 2) + j];
        }
      }
    },
  };
}
