/**
 * Plain-JS 2-D pooling over NHWC images: the js backend's mirror of
 * assembly/pool.ts (same arguments; see that file's header). Sums are float64,
 * rounded to float32 on store.
 */

import type { Heap } from '../heap.js';

export function poolKernels(h: Heap) {
  return {
    maxpool2d_fwd(
      out: number, idx: number, x: number, N: number, H: number, W: number, C: number, kH: number, kW: number,
      OH: number, OW: number, sH: number, sW: number, pT: number, pL: number,
    ): void {
      const F = h.f32, I = h.i32, x0 = x >>> 2;
      let o = out >>> 2, oi = idx >>> 2;
      for (let n = 0; n < N; n++) {
        for (let oh = 0; oh < OH; oh++) {
          const hs = oh * sH - pT;
          const kh0 = Math.max(0, -hs), kh1 = Math.min(kH, H - hs);
          for (let ow = 0; ow < OW; ow++) {
            const ws = ow * sW - pL;
            const kw0 = Math.max(0, -ws), kw1 = Math.min(kW, W - ws);
            for (let c = 0; c < C; c++) {
              let bi = ((n * H + hs + kh0) * W + ws + kw0) * C + c;
              let best = F[x0 + bi];
              for (let kh = kh0; kh < kh1; kh++) {
                let e = ((n * H + hs + kh) * W + ws + kw0) * C + c;
                for (let kw = kw0; kw < kw1; kw++, e += C) {
                  const v = F[x0 + e];
                  if (v > best || (v !== v && best === best)) {
                    best = v;
                    bi = e;
                  }
                }
              }
              F[o++] = best;
              I[oi++] = bi;
            }
          }
        }
      }
    },
    avgpool2d_fwd(
      out: number, x: number, N: number, H: number, W: number, C: number, kH: number, kW: number,
      OH: number, OW: number, sH: number, sW: number, pT: number, pL: number, countIncludePad: number,
    ): void {
      const F = h.f32, x0 = x >>> 2;
      let o = out >>> 2;
      for (let n = 0; n < N; n++) {
        for (let oh = 0; oh < OH; oh++) {
          const hs = oh * sH - pT;
          const kh0 = Math.max(0, -hs), kh1 = Math.min(kH, H - hs);
          for (let ow = 0; ow < OW; ow++) {
            const ws = ow * sW - pL;
            const kw0 = Math.max(0, -ws), kw1 = Math.min(kW, W - ws);
            const inv = Math.fround(1 / (countIncludePad ? kH * kW : (kh1 - kh0) * (kw1 - kw0)));
            for (let c = 0; c < C; c++) {
              let s = 0;
              for (let kh = kh0; kh < kh1; kh++) {
                let e = x0 + ((n * H + hs + kh) * W + ws + kw0) * C + c;
                for (let kw = kw0; kw < kw1; kw++, e += C) s += F[e];
              }
              F[o++] = s * inv;
            }
          }
        }
      }
    },
    avgpool2d_bwd(
      dx: number, dy: number, N: number, H: number, W: number, C: number, kH: number, kW: number,
      OH: number, OW: number, sH: number, sW: number, pT: number, pL: number, countIncludePad: number,
    ): void {
      const F = h.f32, x0 = dx >>> 2;
      let o = dy >>> 2;
      for (let n = 0; n < N; n++) {
        for (let oh = 0; oh < OH; oh++) {
          const hs = oh * sH - pT;
          const kh0 = Math.max(0, -hs), kh1 = Math.min(kH, H - hs);
          for (let ow = 0; ow < OW; ow++) {
            const ws = ow * sW - pL;
            const kw0 = Math.max(0, -ws), kw1 = Math.min(kW, W - ws);
            const inv = Math.fround(1 / (countIncludePad ? kH * kW : (kh1 - kh0) * (kw1 - kw0)));
            for (let c = 0; c < C; c++) {
              const g = F[o++] * inv;
              for (let kh = kh0; kh < kh1; kh++) {
                let e = x0 + ((n * H + hs + kh) * W + ws + kw0) * C + c;
                for (let kw = kw0; kw < kw1; kw++, e += C) F[e] += g;
              }
            }
          }
        }
      }
    },
    relu_pool_mask(out: number, idx: number, n: number): void {
      const F = h.f32, I = h.i32, o = out >>> 2, q = idx >>> 2;
      for (let i = 0; i < n; i++) {
        const v = F[o + i];
        F[o + i] = Math.max(v, 0);
        if (!(v > 0)) I[q + i] = -1;
      }
    },
    maxpool2d_bwd(
      dx: number, idx: number, dy: number, N: number, H: number, W: number, C: number, kH: number, kW: number,
      OH: number, OW: number, sH: number, sW: number, pT: number, pL: number,
    ): void {
      const F = h.f32, I = h.i32, d0 = dx >>> 2, i0 = idx >>> 2, g0 = dy >>> 2;
      const total = N * OH * OW * C;
      if (sH < kH || sW < kW) {
        for (let o = 0; o < total; o++) if (I[i0 + o] >= 0) F[d0 + I[i0 + o]] += F[g0 + o];
        return;
      }
      let o = 0;
      for (let n = 0; n < N; n++) {
        for (let oh = 0; oh < OH; oh++) {
          const hs = oh * sH - pT;
          const kh0 = Math.max(0, -hs), kh1 = Math.min(kH, H - hs);
          for (let ow = 0; ow < OW; ow++) {
            const ws = ow * sW - pL;
            const kw0 = Math.max(0, -ws), kw1 = Math.min(kW, W - ws);
            for (let c = 0; c < C; c++, o++) {
              const g = F[g0 + o], bi = I[i0 + o];
              for (let kh = kh0; kh < kh1; kh++) {
                let e = ((n * H + hs + kh) * W + ws + kw0) * C + c;
                for (let kw = kw0; kw < kw1; kw++, e += C) F[d0 + e] = e === bi ? g : 0;
              }
            }
          }
        }
      }
    },
  };
}
