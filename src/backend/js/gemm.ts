/**
 * Plain-JS GEMM: the js backend's mirror of assembly/gemm.ts and the baseline
 * users compare the wasm build against, so it is written to be fast, not naive:
 *
 * - C is scaled by beta once, then accumulated, so inner loops never branch.
 * - Loop orders keep the innermost loop unit-stride:
 *     A·B, Aᵀ·B   i-p-j: C[i,:] += A(i,p) · B[p,:]   (axpy over rows)
 *     A·Bᵀ        i-j-p: C[i,j] += A[i,:] · B[j,:]   (dot of rows, 4 accumulators)
 *     Aᵀ·Bᵀ       B is transposed once into a scratch array, then i-p-j.
 * - The i-p-j loops are cache-blocked (KB × NB block of B stays in L2 while
 *   every row of A streams past it) and process two rows of C per pass so
 *   each loaded B value feeds two multiply-adds.
 */

import type { Heap } from '../heap.js';

const KB = 128;
const NB = 512;

export function gemmKernels(h: Heap) {
  let scratch = new Float32Array(0);

  // C[i, j0:j1] += Σ_p A(i,p)·B[p, j0:j1] for p in [p0,p1), two rows of C at a time.
  // A(i,p) = F[ai + i*sai + p*sap]; B row p starts at F[bi + p*ldb].
  function axpyBlock(
    F: Float32Array, Bsrc: Float32Array, ci: number, ldc: number, ai: number, sai: number, sap: number,
    bi: number, ldb: number, m: number, p0: number, p1: number, j0: number, j1: number, alpha: number,
  ): void {
    let i = 0;
    for (; i + 1 < m; i += 2) {
      const c0 = ci + i * ldc, c1 = c0 + ldc;
      const a0 = ai + i * sai, a1 = a0 + sai;
      for (let p = p0; p < p1; p++) {
        const x0 = alpha * F[a0 + p * sap], x1 = alpha * F[a1 + p * sap];
        const b = bi + p * ldb;
        for (let j = j0; j < j1; j++) {
          const bv = Bsrc[b + j];
          F[c0 + j] += x0 * bv;
          F[c1 + j] += x1 * bv;
        }
      }
    }
    if (i < m) {
      const c0 = ci + i * ldc, a0 = ai + i * sai;
      for (let p = p0; p < p1; p++) {
        const x0 = alpha * F[a0 + p * sap];
        const b = bi + p * ldb;
        for (let j = j0; j < j1; j++) F[c0 + j] += x0 * Bsrc[b + j];
      }
    }
  }

  function gemmOne(
    c: number, a: number, b: number, m: number, n: number, k: number, lda: number, ldb: number, ldc: number,
    transA: number, transB: number, alpha: number, beta: number,
  ): void {
    if (m === 0 || n === 0) return;
    const F = h.f32;
    const ci = c >> 2, ai = a >> 2;
    let bi = b >> 2;
    alpha = Math.fround(alpha);
    beta = Math.fround(beta);
    for (let i = 0; i < m; i++) {
      const row = ci + i * ldc;
      if (beta === 0) F.fill(0, row, row + n);
      else if (beta !== 1) for (let j = 0; j < n; j++) F[row + j] *= beta;
    }
    if (k === 0 || alpha === 0) return;

    if (transB && !transA) {
      // Dot products of contiguous rows: C[i,j] += alpha · A[i,:]·B[j,:].
      for (let i = 0; i < m; i++) {
        const ar = ai + i * lda, cr = ci + i * ldc;
        for (let j = 0; j < n; j++) {
          const br = bi + j * ldb;
          let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
          let p = 0;
          for (; p + 3 < k; p += 4) {
            s0 += F[ar + p] * F[br + p];
            s1 += F[ar + p + 1] * F[br + p + 1];
            s2 += F[ar + p + 2] * F[br + p + 2];
            s3 += F[ar + p + 3] * F[br + p + 3];
          }
          for (; p < k; p++) s0 += F[ar + p] * F[br + p];
          F[cr + j] += alpha * (s0 + s1 + s2 + s3);
        }
      }
      return;
    }

    let Bsrc: Float32Array = F;
    let ldbEff = ldb;
    if (transB) {
      // Aᵀ·Bᵀ: transpose B ([n,k] → [k,n]) into scratch once.
      if (scratch.length < k * n) scratch = new Float32Array(k * n);
      for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) scratch[p * n + j] = F[bi + j * ldb + p];
      Bsrc = scratch;
      bi = 0;
      ldbEff = n;
    }
    // op(A)(i,p) = A[i*lda + p] or, transposed, A[p*lda + i].
    const sai = transA ? 1 : lda, sap = transA ? lda : 1;
    for (let j0 = 0; j0 < n; j0 += NB) {
      const j1 = Math.min(n, j0 + NB);
      for (let p0 = 0; p0 < k; p0 += KB) {
        axpyBlock(F, Bsrc, ci, ldc, ai, sai, sap, bi, ldbEff, m, p0, Math.min(k, p0 + KB), j0, j1, alpha);
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
