/**
 * Plain-JS batch normalisation over x viewed as [R, C]: the js backend's
 * mirror of assembly/batchnorm.ts (same arguments, modes and formulas; see
 * that file's header). Per-channel sums accumulate in float64 directly.
 * Pointer 0 means an absent γ/β or an output that is not needed.
 */

import type { Heap } from '../heap.js';

export function batchnormKernels(h: Heap) {
  let sumA = new Float64Array(0);
  let sumB = new Float64Array(0);
  const sums = (C: number) => {
    if (sumA.length < C) {
      sumA = new Float64Array(C);
      sumB = new Float64Array(C);
    }
    sumA.fill(0, 0, C);
    sumB.fill(0, 0, C);
  };
  return {
    batchnorm_stats(
      mean: number, invstd: number, runMean: number, runVar: number, _ws: number, x: number,
      R: number, C: number, momentum: number, eps: number, mode: number,
    ): void {
      const F = h.f32;
      const m0 = mean >>> 2, i0 = invstd >>> 2, rm = runMean >>> 2, rv = runVar >>> 2, x0 = x >>> 2;
      eps = Math.fround(eps);
      if (mode === 2) {
        for (let c = 0; c < C; c++) {
          F[m0 + c] = F[rm + c];
          F[i0 + c] = 1 / Math.sqrt(F[rv + c] + eps);
        }
        return;
      }
      sums(C);
      for (let r = 0, p = x0; r < R; r++) for (let c = 0; c < C; c++, p++) sumA[c] += F[p];
      for (let c = 0; c < C; c++) F[m0 + c] = sumA[c] / R;
      for (let r = 0, p = x0; r < R; r++) {
        for (let c = 0; c < C; c++, p++) {
          const d = F[p] - F[m0 + c];
          sumB[c] += d * d;
        }
      }
      const m = Math.fround(momentum);
      for (let c = 0; c < C; c++) {
        const v = sumB[c] / R;
        F[i0 + c] = 1 / Math.sqrt(v + eps);
        if (mode === 1) {
          const unbiased = R > 1 ? (v * R) / (R - 1) : v;
          F[rm + c] = (1 - m) * F[rm + c] + m * F[m0 + c];
          F[rv + c] = (1 - m) * F[rv + c] + m * unbiased;
        }
      }
    },
    batchnorm_fwd(y: number, x: number, mean: number, invstd: number, gamma: number, beta: number, R: number, C: number): void {
      const F = h.f32;
      const m0 = mean >>> 2, i0 = invstd >>> 2, g0 = gamma >>> 2, b0 = beta >>> 2;
      for (let r = 0, p = x >>> 2, q = y >>> 2; r < R; r++) {
        for (let c = 0; c < C; c++, p++, q++) {
          const g = gamma !== 0 ? F[g0 + c] : 1;
          const b = beta !== 0 ? F[b0 + c] : 0;
          F[q] = (F[p] - F[m0 + c]) * F[i0 + c] * g + b;
        }
      }
    },
    batchnorm_bwd(
      dx: number, dgamma: number, dbeta: number, _ws: number, x: number, mean: number, invstd: number, gamma: number,
      dy: number, R: number, C: number, training: number,
    ): void {
      const F = h.f32;
      const m0 = mean >>> 2, i0 = invstd >>> 2, g0 = gamma >>> 2, x0 = x >>> 2, y0 = dy >>> 2;
      const gammaOf = (c: number) => (gamma !== 0 ? F[g0 + c] : 1);
      const needSums = dgamma !== 0 || dbeta !== 0 || (dx !== 0 && training !== 0);
      if (needSums) {
        sums(C);
        for (let r = 0, p = 0; r < R; r++) {
          for (let c = 0; c < C; c++, p++) {
            const g = F[y0 + p];
            sumA[c] += g;
            sumB[c] += g * (F[x0 + p] - F[m0 + c]);
          }
        }
        for (let c = 0; c < C; c++) {
          if (dbeta !== 0) F[(dbeta >>> 2) + c] = sumA[c];
          if (dgamma !== 0) F[(dgamma >>> 2) + c] = sumB[c] * F[i0 + c];
        }
      }
      if (dx === 0) return;
      const d0 = dx >>> 2;
      if (training === 0) {
        for (let r = 0, p = 0; r < R; r++) for (let c = 0; c < C; c++, p++) F[d0 + p] = F[y0 + p] * gammaOf(c) * F[i0 + c];
        return;
      }
      // dx = a·(dy − b − (x − mean)·k), a = γ·invstd, b = Σdy/R, k = invstd²·Σdy(x − mean)/R
      for (let c = 0; c < C; c++) {
        const is = F[i0 + c];
        sumB[c] = (is * is * sumB[c]) / R;
        sumA[c] = sumA[c] / R;
      }
      for (let r = 0, p = 0; r < R; r++) {
        for (let c = 0; c < C; c++, p++) {
          F[d0 + p] = gammaOf(c) * F[i0 + c] * (F[y0 + p] - sumA[c] - (F[x0 + p] - F[m0 + c]) * sumB[c]);
        }
      }
    },
  };
}
