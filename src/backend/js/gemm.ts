/**
 * Plain-JS GEMM: the js backend's mirror of assembly/gemm.ts, and the baseline
 * users compare the wasm build against — so it is written to be fast, not
 * naive. It follows the same Goto scheme as the wasm kernel, minus SIMD:
 *
 *   for pc in K step KC:      pack op(B)[pc:pc+KC, :] → Bp (panels of NR = 4 columns)
 *     for ir in M step MR:    pack op(A)[ir:ir+2, pc:pc+KC] → Ap
 *       for each Bp panel:    a 2×4 tile of C held in 8 local variables
 *
 * Packing reads op(A) and op(B) through their transpose flags, so all four
 * variants run the same inner loop. The 2×4 register tile measured fastest in
 * V8 (a 4×4 tile spills); it runs 2–3× faster than an axpy-style i-p-j loop.
 * Accumulation is in float64 (JS numbers), rounded to float32 on store.
 */

import type { Heap } from '../heap.js';

const MR = 2;
const NR = 4;
const KC = 256;

export function gemmKernels(h: Heap) {
  let Bp = new Float32Array(0);
  const Ap = new Float32Array(MR * KC);

  function gemmOne(
    c: number, a: number, b: number, m: number, n: number, k: number, lda: number, ldb: number, ldc: number,
    transA: number, transB: number, alpha: number, beta: number,
  ): void {
    if (m === 0 || n === 0) return;
    const F = h.f32;
    const ci = c >>> 2, ai = a >>> 2, bi = b >>> 2;
    alpha = Math.fround(alpha);
    beta = Math.fround(beta);
    if (k === 0 || alpha === 0) {
      for (let i = 0; i < m; i++) {
        const row = ci + i * ldc;
        for (let j = 0; j < n; j++) F[row + j] = beta === 0 ? 0 : beta * F[row + j];
      }
      return;
    }
    // op(A)(i,p) = F[ai + i*sai + p*sap];  op(B)(p,j) = F[bi + p*sbp + j*sbj]
    const sai = transA ? 1 : lda, sap = transA ? lda : 1;
    const sbp = transB ? 1 : ldb, sbj = transB ? ldb : 1;
    const panels = Math.ceil(n / NR);
    if (Bp.length < panels * NR * KC) Bp = new Float32Array(panels * NR * KC);

    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      const betaBlock = pc === 0 ? beta : 1;
      // Pack op(B)[pc:pc+kc, :] into NR-column panels: Bp[(jp·kc + p)·NR + c].
      for (let jp = 0; jp < panels; jp++) {
        for (let col = 0; col < NR; col++) {
          const j = jp * NR + col;
          let dst = jp * kc * NR + col;
          if (j < n) {
            let src = bi + pc * sbp + j * sbj;
            for (let p = 0; p < kc; p++, dst += NR, src += sbp) Bp[dst] = F[src];
          } else {
            for (let p = 0; p < kc; p++, dst += NR) Bp[dst] = 0;
          }
        }
      }
      for (let i = 0; i < m; i += MR) {
        const rows = Math.min(MR, m - i);
        // Pack op(A)[i:i+2, pc:pc+kc]: Ap[p·2 + r].
        for (let r = 0; r < MR; r++) {
          let src = ai + (i + r) * sai + pc * sap;
          for (let p = 0, dst = r; p < kc; p++, dst += MR, src += sap) Ap[dst] = r < rows ? F[src] : 0;
        }
        for (let jp = 0; jp < panels; jp++) {
          let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
          let bo = jp * kc * NR;
          for (let p = 0, ao = 0; p < kc; p++, ao += MR, bo += NR) {
            const a0 = Ap[ao], a1 = Ap[ao + 1];
            const b0 = Bp[bo], b1 = Bp[bo + 1], b2 = Bp[bo + 2], b3 = Bp[bo + 3];
            c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
            c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
          }
          const j = jp * NR;
          const cols = Math.min(NR, n - j);
          const o0 = ci + i * ldc + j;
          if (cols === NR && rows === MR && betaBlock === 0) {
            const o1 = o0 + ldc;
            F[o0] = alpha * c00; F[o0 + 1] = alpha * c01; F[o0 + 2] = alpha * c02; F[o0 + 3] = alpha * c03;
            F[o1] = alpha * c10; F[o1 + 1] = alpha * c11; F[o1 + 2] = alpha * c12; F[o1 + 3] = alpha * c13;
          } else if (cols === NR && rows === MR) {
            const o1 = o0 + ldc, bb = betaBlock;
            F[o0] = alpha * c00 + bb * F[o0]; F[o0 + 1] = alpha * c01 + bb * F[o0 + 1];
            F[o0 + 2] = alpha * c02 + bb * F[o0 + 2]; F[o0 + 3] = alpha * c03 + bb * F[o0 + 3];
            F[o1] = alpha * c10 + bb * F[o1]; F[o1 + 1] = alpha * c11 + bb * F[o1 + 1];
            F[o1 + 2] = alpha * c12 + bb * F[o1 + 2]; F[o1 + 3] = alpha * c13 + bb * F[o1 + 3];
          } else {
            // Edge tile (last rows/columns): element by element.
            const t0 = [c00, c01, c02, c03], t1 = [c10, c11, c12, c13];
            for (let r = 0; r < rows; r++) {
              const t = r === 0 ? t0 : t1;
              const o = o0 + r * ldc;
              for (let q = 0; q < cols; q++) F[o + q] = alpha * t[q] + (betaBlock === 0 ? 0 : betaBlock * F[o + q]);
            }
          }
        }
      }
    }
  }

  return {
    gemm_workspace_bytes(): number {
      return 0;
    },
    gemm(
      c: number, a: number, b: number, _ws: number, m: number, n: number, k: number, lda: number, ldb: number,
      ldc: number, transA: number, transB: number, alpha: number, beta: number,
    ): void {
      gemmOne(c, a, b, m, n, k, lda, ldb, ldc, transA, transB, alpha, beta);
    },
    gemm_bias_act(
      c: number, a: number, b: number, _ws: number, bias: number, m: number, n: number, k: number, lda: number,
      ldb: number, ldc: number, transA: number, transB: number, act: number, res: number,
    ): void {
      // C preset to the bias, a beta = 1 product, then the activation.
      const F = h.f32, ci = c >>> 2;
      if (bias !== 0) {
        const bv = F.subarray(bias >>> 2, (bias >>> 2) + n);
        for (let i = 0; i < m; i++) F.set(bv, ci + i * ldc);
      }
      gemmOne(c, a, b, m, n, k, lda, ldb, ldc, transA, transB, 1, bias !== 0 ? 1 : 0);
      if (act === 1) {
        for (let i = 0; i < m; i++) {
          const row = ci + i * ldc;
          for (let j = 0; j < n; j++) F[row + j] = Math.max(F[row + j], 0);
        }
      }
      if (res !== 0) {
        // The residual after the activation, as a separate add would give it.
        const ri = res >>> 2;
        for (let i = 0; i < m; i++) {
          const row = i * ldc;
          for (let j = 0; j < n; j++) F[ci + row + j] += F[ri + row + j];
        }
      }
    },
    gemm_wgrad(dw: number, db: number, x: number, g: number, _ws: number, inF: number, outF: number, rows: number): void {
      gemmOne(dw, x, g, inF, outF, rows, inF, outF, outF, 1, 0, 1, 0);
      if (db !== 0) {
        // Column sums in float64, as sum_axis does.
        const F = h.f32, gi = g >>> 2, di = db >>> 2;
        const acc = new Float64Array(outF);
        for (let r = 0; r < rows; r++) for (let j = 0; j < outF; j++) acc[j] += F[gi + r * outF + j];
        for (let j = 0; j < outF; j++) F[di + j] = acc[j];
      }
    },
    gemm_batched(
      c: number, a: number, b: number, _ws: number, batch: number, m: number, n: number, k: number, lda: number,
      ldb: number, ldc: number, strideA: number, strideB: number, strideC: number, transA: number, transB: number,
      alpha: number, beta: number,
    ): void {
      for (let i = 0; i < batch; i++) {
        gemmOne(c + i * strideC * 4, a + i * strideA * 4, b + i * strideB * 4, m, n, k, lda, ldb, ldc, transA, transB, alpha, beta);
      }
    },
  };
}
