/**
 * Plain-JS im2col / col2im over NHWC images: the js backend's mirror of
 * assembly/conv.ts (same arguments and layout; see that file's header).
 *
 *   cols[r, (kh·kW + kw)·C + c] = x[n, oh·sH − pT + kh·dH, ow·sW − pL + kw·dW, c]
 *   col2im: dx[same tap] += cols[r, …]
 */

import type { Heap } from '../heap.js';

export function convKernels(h: Heap) {
  return {
    im2col(
      cols: number, x: number, H: number, W: number, C: number, kH: number, kW: number, OH: number, OW: number,
      sH: number, sW: number, pT: number, pL: number, dH: number, dW: number, row0: number, rows: number,
    ): void {
      const F = h.f32;
      const plane = OH * OW;
      let n = Math.floor(row0 / plane);
      const rem = row0 - n * plane;
      let oh = Math.floor(rem / OW);
      let ow = rem - oh * OW;
      let d = cols >>> 2;
      const x0 = x >>> 2;
      for (let r = 0; r < rows; r++) {
        const img = x0 + n * H * W * C;
        const ih0 = oh * sH - pT;
        const iw0 = ow * sW - pL;
        for (let kh = 0; kh < kH; kh++) {
          const ih = ih0 + kh * dH;
          if (ih < 0 || ih >= H) {
            F.fill(0, d, d + kW * C);
            d += kW * C;
            continue;
          }
          const row = img + ih * W * C;
          for (let kw = 0; kw < kW; kw++) {
            const iw = iw0 + kw * dW;
            if (iw < 0 || iw >= W) {
              for (let c = 0; c < C; c++) F[d + c] = 0;
            } else {
              const s = row + iw * C;
              for (let c = 0; c < C; c++) F[d + c] = F[s + c];
            }
            d += C;
          }
        }
        if (++ow === OW) {
          ow = 0;
          if (++oh === OH) {
            oh = 0;
            n++;
          }
        }
      }
    },
    col2im(
      dx: number, cols: number, H: number, W: number, C: number, kH: number, kW: number, OH: number, OW: number,
      sH: number, sW: number, pT: number, pL: number, dH: number, dW: number, row0: number, rows: number,
    ): void {
      const F = h.f32;
      const plane = OH * OW;
      let n = Math.floor(row0 / plane);
      const rem = row0 - n * plane;
      let oh = Math.floor(rem / OW);
      let ow = rem - oh * OW;
      let s = cols >>> 2;
      const x0 = dx >>> 2;
      for (let r = 0; r < rows; r++) {
        const img = x0 + n * H * W * C;
        const ih0 = oh * sH - pT;
        const iw0 = ow * sW - pL;
        for (let kh = 0; kh < kH; kh++) {
          const ih = ih0 + kh * dH;
          if (ih < 0 || ih >= H) {
            s += kW * C;
            continue;
          }
          const row = img + ih * W * C;
          for (let kw = 0; kw < kW; kw++) {
            const iw = iw0 + kw * dW;
            if (iw >= 0 && iw < W) {
              const t = row + iw * C;
              for (let c = 0; c < C; c++) F[t + c] += F[s + c];
            }
            s += C;
          }
        }
        if (++ow === OW) {
          ow = 0;
          if (++oh === OH) {
            oh = 0;
            n++;
          }
        }
      }
    },
  };
}
