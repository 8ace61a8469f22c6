/**
 * Plain-JS im2col / col2im over NHWC images: the js backend's mirror of
 * assembly/conv.ts (same arguments and layout; see that file's header).
 *
 *   cols[r, (kh·kW + kw)·C + c] = x[n, oh·sH − pT + kh·dH, ow·sW − pL + kw·dW, c]
 *   col2im: dx[same tap] += cols[r, …]
 *
 * and the direct kernels (conv2d_direct, conv2d_filter_grad over a padded
 * input, conv_filter_flip, pad_nhwc). The direct loops hold a 2-pixel ×
 * 4-channel tile in eight locals, like the js GEMM's 2×4 register tile, and
 * accumulate in float64.
 */

import type { Heap } from '../heap.js';

/** Element offset in xp of output pixel p's patch origin. */
function patchOffset(p: number, Hp: number, Wp: number, C: number, OH: number, OW: number, sH: number, sW: number): number {
  const plane = OH * OW;
  const n = Math.floor(p / plane);
  const rem = p - n * plane;
  const oh = Math.floor(rem / OW);
  const ow = rem - oh * OW;
  return ((n * Hp + oh * sH) * Wp + ow * sW) * C;
}

export function convKernels(h: Heap) {
  let taps = new Int32Array(0);
  let bases = new Int32Array(0);
  /** Element offsets within a patch of every patch-matrix row k = (kh·kW + kw)·C + c. */
  const tapTable = (C: number, kH: number, kW: number, Wp: number, dH: number, dW: number): Int32Array => {
    const K = kH * kW * C;
    if (taps.length < K) taps = new Int32Array(K);
    let k = 0;
    for (let kh = 0; kh < kH; kh++) for (let kw = 0; kw < kW; kw++) for (let c = 0; c < C; c++) taps[k++] = (kh * dH * Wp + kw * dW) * C + c;
    return taps;
  };
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
    conv2d_direct(
      y: number, xp: number, w: number, bias: number, N: number, Hp: number, Wp: number, C: number, kH: number, kW: number,
      OH: number, OW: number, sH: number, sW: number, dH: number, dW: number, O: number,
    ): void {
      const F = h.f32;
      const P = N * OH * OW;
      const K = kH * kW * C;
      const T = tapTable(C, kH, kW, Wp, dH, dW);
      const x0 = xp >>> 2, w0 = w >>> 2, y0 = y >>> 2, bi = bias >>> 2;
      const biasOf = (j: number) => (bias !== 0 ? F[bi + j] : 0);
      for (let p = 0; p < P; p += 2) {
        const two = p + 1 < P;
        const a = x0 + patchOffset(p, Hp, Wp, C, OH, OW, sH, sW);
        const b = two ? x0 + patchOffset(p + 1, Hp, Wp, C, OH, OW, sH, sW) : a;
        const ya = y0 + p * O, yb = ya + O;
        let j = 0;
        for (; j + 4 <= O; j += 4) {
          let a0 = biasOf(j), a1 = biasOf(j + 1), a2 = biasOf(j + 2), a3 = biasOf(j + 3);
          let b0 = a0, b1 = a1, b2 = a2, b3 = a3;
          for (let k = 0, wk = w0 + j; k < K; k++, wk += O) {
            const xa = F[a + T[k]], xb = F[b + T[k]];
            const v0 = F[wk], v1 = F[wk + 1], v2 = F[wk + 2], v3 = F[wk + 3];
            a0 += xa * v0; a1 += xa * v1; a2 += xa * v2; a3 += xa * v3;
            b0 += xb * v0; b1 += xb * v1; b2 += xb * v2; b3 += xb * v3;
          }
          F[ya + j] = a0; F[ya + j + 1] = a1; F[ya + j + 2] = a2; F[ya + j + 3] = a3;
          if (two) { F[yb + j] = b0; F[yb + j + 1] = b1; F[yb + j + 2] = b2; F[yb + j + 3] = b3; }
        }
        for (; j < O; j++) {
          let sa = biasOf(j), sb = sa;
          for (let k = 0, wk = w0 + j; k < K; k++, wk += O) {
            sa += F[a + T[k]] * F[wk];
            sb += F[b + T[k]] * F[wk];
          }
          F[ya + j] = sa;
          if (two) F[yb + j] = sb;
        }
      }
    },
    conv2d_filter_grad(
      dw: number, db: number, xp: number, dy: number, N: number, Hp: number, Wp: number, C: number, kH: number, kW: number,
      OH: number, OW: number, sH: number, sW: number, dH: number, dW: number, O: number, beta: number,
    ): void {
      const F = h.f32;
      const P = N * OH * OW;
      const K = kH * kW * C;
      const T = tapTable(C, kH, kW, Wp, dH, dW);
      const x0 = xp >>> 2, g0 = dy >>> 2, d0 = dw >>> 2;
      if (db !== 0) {
        const b0 = db >>> 2;
        for (let j = 0; j < O; j++) {
          let s = 0;
          for (let p = 0, g = g0 + j; p < P; p++, g += O) s += F[g];
          F[b0 + j] = beta ? F[b0 + j] + s : s;
        }
      }
      if (bases.length < P) bases = new Int32Array(P);
      for (let p = 0; p < P; p++) bases[p] = x0 + patchOffset(p, Hp, Wp, C, OH, OW, sH, sW);
      // A 2 (rows of dw) × 4 (output channels) tile in eight locals, summed over every pixel.
      for (let k = 0; k < K; k += 2) {
        const two = k + 1 < K;
        const ta = T[k], tb = two ? T[k + 1] : ta;
        const ra = d0 + k * O, rb = ra + O;
        let j = 0;
        for (; j + 4 <= O; j += 4) {
          let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
          for (let p = 0, g = g0 + j; p < P; p++, g += O) {
            const base = bases[p];
            const xa = F[base + ta], xb = F[base + tb];
            const v0 = F[g], v1 = F[g + 1], v2 = F[g + 2], v3 = F[g + 3];
            a0 += xa * v0; a1 += xa * v1; a2 += xa * v2; a3 += xa * v3;
            b0 += xb * v0; b1 += xb * v1; b2 += xb * v2; b3 += xb * v3;
          }
          if (beta) {
            F[ra + j] += a0; F[ra + j + 1] += a1; F[ra + j + 2] += a2; F[ra + j + 3] += a3;
            if (two) { F[rb + j] += b0; F[rb + j + 1] += b1; F[rb + j + 2] += b2; F[rb + j + 3] += b3; }
          } else {
            F[ra + j] = a0; F[ra + j + 1] = a1; F[ra + j + 2] = a2; F[ra + j + 3] = a3;
            if (two) { F[rb + j] = b0; F[rb + j + 1] = b1; F[rb + j + 2] = b2; F[rb + j + 3] = b3; }
          }
        }
        for (; j < O; j++) {
          let sa = 0, sb = 0;
          for (let p = 0, g = g0 + j; p < P; p++, g += O) {
            sa += F[bases[p] + ta] * F[g];
            sb += F[bases[p] + tb] * F[g];
          }
          F[ra + j] = beta ? F[ra + j] + sa : sa;
          if (two) F[rb + j] = beta ? F[rb + j] + sb : sb;
        }
      }
    },
    conv_filter_flip(out: number, w: number, T: number, C: number, O: number): void {
      const F = h.f32, o0 = out >>> 2, w0 = w >>> 2;
      for (let t = 0; t < T; t++) {
        const src = w0 + (T - 1 - t) * C * O, dst = o0 + t * O * C;
        for (let o = 0; o < O; o++) for (let c = 0; c < C; c++) F[dst + o * C + c] = F[src + c * O + o];
      }
    },
    pad_nhwc(out: number, x: number, N: number, H: number, W: number, C: number, Hp: number, Wp: number, top: number, left: number): void {
      const F = h.f32;
      const j0 = Math.max(0, left), j1 = Math.min(Wp, W + left);
      let d = out >>> 2;
      for (let n = 0; n < N; n++) {
        const img = (x >>> 2) + n * H * W * C;
        for (let i = 0; i < Hp; i++, d += Wp * C) {
          const si = i - top;
          if (si < 0 || si >= H || j1 <= j0) {
            F.fill(0, d, d + Wp * C);
            continue;
          }
          F.fill(0, d, d + j0 * C);
          F.copyWithin(d + j0 * C, img + (si * W + j0 - left) * C, img + (si * W + j1 - left) * C);
          F.fill(0, d + j1 * C, d + Wp * C);
        }
      }
    },
  };
}
