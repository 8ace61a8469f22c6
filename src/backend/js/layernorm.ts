/**
 * Plain-JS LayerNorm and RMSNorm: the js backend's mirror of
 * assembly/layernorm.ts (same [rows, n] view, same saved statistics, same
 * "pointer 0 = absent" convention for γ, β, dγ, dβ; see that file for the
 * formulas). Row sums in float64.
 */

import type { Heap } from '../heap.js';

export function layernormKernels(h: Heap) {
  function backward(
    dx: number, dgamma: number, dbeta: number, dy: number, x: number, mean: number, rstd: number, gamma: number,
    rows: number, n: number, centered: boolean, accDx: number,
  ): void {
    const F = h.f32;
    const dxi = dx >>> 2, dgi = dgamma >>> 2, dbi = dbeta >>> 2, dyi = dy >>> 2, xi = x >>> 2, gi = gamma >>> 2;
    if (dgamma !== 0) F.fill(0, dgi, dgi + n);
    if (dbeta !== 0) F.fill(0, dbi, dbi + n);
    for (let r = 0; r < rows; r++) {
      const o = r * n;
      const mu = centered ? F[(mean >>> 2) + r] : 0;
      const rs = F[(rstd >>> 2) + r];
      let a = 0, b = 0;
      for (let j = 0; j < n; j++) {
        const xh = (F[xi + o + j] - mu) * rs;
        const d = F[dyi + o + j];
        const g = gamma === 0 ? d : d * F[gi + j];
        a += g;
        b += g * xh;
        if (dgamma !== 0) F[dgi + j] += d * xh;
        if (dbeta !== 0) F[dbi + j] += d;
      }
      a = centered ? a / n : 0;
      b /= n;
      for (let j = 0; j < n; j++) {
        const xh = (F[xi + o + j] - mu) * rs;
        const g = gamma === 0 ? F[dyi + o + j] : F[dyi + o + j] * F[gi + j];
        const d = rs * (g - a - xh * b);
        F[dxi + o + j] = accDx !== 0 ? F[dxi + o + j] + d : d;
      }
    }
  }

  function normalize(y: number, x: number, gamma: number, beta: number, r: number, n: number, mu: number, rs: number): void {
    const F = h.f32, yi = (y >>> 2) + r * n, xi = (x >>> 2) + r * n, gi = gamma >>> 2, bi = beta >>> 2;
    for (let j = 0; j < n; j++) {
      const xh = (F[xi + j] - mu) * rs;
      F[yi + j] = (gamma === 0 ? xh : xh * F[gi + j]) + (beta === 0 ? 0 : F[bi + j]);
    }
  }

  return {
    layernorm_fwd(
      y: number, mean: number, rstd: number, x: number, gamma: number, beta: number, rows: number, n: number, eps: number,
    ): void {
      const F = h.f32, xi = x >>> 2;
      eps = Math.fround(eps);
      for (let r = 0; r < rows; r++) {
        const o = xi + r * n;
        let s = 0;
        for (let j = 0; j < n; j++) s += F[o + j];
        const mu = Math.fround(s / n);
        let v = 0;
        for (let j = 0; j < n; j++) {
          const d = F[o + j] - mu;
          v += d * d;
        }
        const rs = 1 / Math.sqrt(v / n + eps);
        F[(mean >>> 2) + r] = mu;
        F[(rstd >>> 2) + r] = rs;
        normalize(y, x, gamma, beta, r, n, mu, Math.fround(rs));
      }
    },
    layernorm_bwd(
      dx: number, dgamma: number, dbeta: number, dy: number, x: number, mean: number, rstd: number, gamma: number,
      rows: number, n: number, accDx: number,
    ): void {
      backward(dx, dgamma, dbeta, dy, x, mean, rstd, gamma, rows, n, true, accDx);
    },
    rmsnorm_fwd(y: number, rstd: number, x: number, gamma: number, rows: number, n: number, eps: number): void {
      const F = h.f32, xi = x >>> 2;
      eps = Math.fround(eps);
      for (let r = 0; r < rows; r++) {
        const o = xi + r * n;
        let s = 0;
        for (let j = 0; j < n; j++) s += F[o + j] * F[o + j];
        const rs = 1 / Math.sqrt(s / n + eps);
        F[(rstd >>> 2) + r] = rs;
        normalize(y, x, gamma, 0, r, n, 0, Math.fround(rs));
      }
    },
    rmsnorm_bwd(
      dx: number, dgamma: number, dy: number, x: number, rstd: number, gamma: number, rows: number, n: number, accDx: number,
    ): void {
      backward(dx, dgamma, 0, dy, x, 0, rstd, gamma, rows, n, false, accDx);
    },
  };
}
