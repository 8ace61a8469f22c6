/**
 * Plain-JS recurrent cell kernels: the js backend's mirror of assembly/rnn.ts
 * (same names, arguments, gate layouts and mask rules; see that file's header).
 * Arithmetic is float64 with Math.tanh and an overflow-free sigmoid, rounded
 * to float32 on store.
 *
 *   LSTM  gates/act [n, 4H] = i | f | g | o     c' = f·c + i·g, h' = o·tanh(c'), tc = tanh(c')
 *   GRU   gx, gh [n, 3H] = r | z | n, act [n, 4H] = r | z | n | hn
 *   RNN   h' = tanh(pre) or relu(pre)
 */

import type { Heap } from '../heap.js';
import { sigmoid } from './activations.js';

/** Columns per packed weight panel (rnn_pack_weights), as in assembly/rnn.ts. */
const NR = 8;

export function rnnKernels(hp: Heap) {
  const valid = (mask: number, r: number) => mask === 0 || hp.i32[(mask >>> 2) + r] !== 0;

  return {
    lstm_cell_fwd(
      h: number, c: number, tc: number, y: number, act: number, gates: number, bias: number, hPrev: number,
      cPrev: number, mask: number, n: number, H: number, ldy: number,
    ): void {
      const F = hp.f32;
      const bi = bias >>> 2;
      for (let r = 0; r < n; r++) {
        const ro = r * H;
        const hi = (h >>> 2) + ro, ci = (c >>> 2) + ro, ti = (tc >>> 2) + ro, hpi = (hPrev >>> 2) + ro, cpi = (cPrev >>> 2) + ro;
        const yi = y === 0 ? -1 : (y >>> 2) + r * ldy;
        if (!valid(mask, r)) {
          for (let j = 0; j < H; j++) {
            F[hi + j] = F[hpi + j];
            F[ci + j] = F[cpi + j];
            if (yi >= 0) F[yi + j] = 0;
          }
          continue;
        }
        const gi = (gates >>> 2) + 4 * ro, ai = (act >>> 2) + 4 * ro;
        for (let j = 0; j < H; j++) {
          let pi = F[gi + j], pf = F[gi + H + j], pg = F[gi + 2 * H + j], po = F[gi + 3 * H + j];
          if (bias !== 0) {
            pi = Math.fround(pi + F[bi + j]);
            pf = Math.fround(pf + F[bi + H + j]);
            pg = Math.fround(pg + F[bi + 2 * H + j]);
            po = Math.fround(po + F[bi + 3 * H + j]);
          }
          const i = sigmoid(pi), f = sigmoid(pf), g = Math.tanh(pg), o = sigmoid(po);
          F[ai + j] = i;
          F[ai + H + j] = f;
          F[ai + 2 * H + j] = g;
          F[ai + 3 * H + j] = o;
          const cn = Math.fround(f * F[cpi + j] + i * g);
          const t = Math.tanh(cn);
          F[ci + j] = cn;
          F[ti + j] = t;
          F[hi + j] = o * t;
          if (yi >= 0) F[yi + j] = o * t;
        }
      }
    },

    lstm_cell_bwd(
      dgates: number, dh: number, dc: number, dy: number, act: number, tc: number, cPrev: number, mask: number,
      n: number, H: number, ldy: number,
    ): void {
      const F = hp.f32;
      for (let r = 0; r < n; r++) {
        const ro = r * H;
        const dgi = (dgates >>> 2) + 4 * ro;
        if (!valid(mask, r)) {
          F.fill(0, dgi, dgi + 4 * H);
          continue;
        }
        const dhi = (dh >>> 2) + ro, dci = (dc >>> 2) + ro, cpi = (cPrev >>> 2) + ro, ti = (tc >>> 2) + ro;
        const ai = (act >>> 2) + 4 * ro;
        const yi = dy === 0 ? -1 : (dy >>> 2) + r * ldy;
        for (let j = 0; j < H; j++) {
          const dhe = yi >= 0 ? F[dhi + j] + F[yi + j] : F[dhi + j];
          const i = F[ai + j], f = F[ai + H + j], g = F[ai + 2 * H + j], o = F[ai + 3 * H + j];
          const t = F[ti + j];
          const dct = F[dci + j] + dhe * o * (1 - t * t);
          F[dgi + j] = dct * g * i * (1 - i);
          F[dgi + H + j] = dct * F[cpi + j] * f * (1 - f);
          F[dgi + 2 * H + j] = dct * i * (1 - g * g);
          F[dgi + 3 * H + j] = dhe * t * o * (1 - o);
          F[dci + j] = dct * f;
          F[dhi + j] = 0;
        }
      }
    },

    gru_cell_fwd(
      h: number, y: number, act: number, gx: number, gh: number, bih: number, bhh: number, hPrev: number,
      mask: number, n: number, H: number, ldy: number,
    ): void {
      const F = hp.f32;
      const bi = bih >>> 2, bh = bhh >>> 2;
      for (let r = 0; r < n; r++) {
        const ro = r * H;
        const hi = (h >>> 2) + ro, hpi = (hPrev >>> 2) + ro;
        const yi = y === 0 ? -1 : (y >>> 2) + r * ldy;
        if (!valid(mask, r)) {
          for (let j = 0; j < H; j++) {
            F[hi + j] = F[hpi + j];
            if (yi >= 0) F[yi + j] = 0;
          }
          continue;
        }
        const xi = (gx >>> 2) + 3 * ro, ghi = (gh >>> 2) + 3 * ro, ai = (act >>> 2) + 4 * ro;
        for (let j = 0; j < H; j++) {
          let pr = F[xi + j] + F[ghi + j];
          let pz = F[xi + H + j] + F[ghi + H + j];
          let xn = F[xi + 2 * H + j];
          let hn = F[ghi + 2 * H + j];
          if (bih !== 0) {
            pr += F[bi + j];
            pz += F[bi + H + j];
            xn += F[bi + 2 * H + j];
          }
          if (bhh !== 0) {
            pr += F[bh + j];
            pz += F[bh + H + j];
            hn = Math.fround(hn + F[bh + 2 * H + j]);
          }
          const rr = sigmoid(pr);
          const z = sigmoid(pz);
          const nn = Math.tanh(xn + rr * hn);
          const hnew = nn + z * (F[hpi + j] - nn);
          F[ai + j] = rr;
          F[ai + H + j] = z;
          F[ai + 2 * H + j] = nn;
          F[ai + 3 * H + j] = hn;
          F[hi + j] = hnew;
          if (yi >= 0) F[yi + j] = hnew;
        }
      }
    },

    gru_cell_bwd(
      dgx: number, dgh: number, dh: number, dy: number, act: number, hPrev: number, mask: number,
      n: number, H: number, ldy: number,
    ): void {
      const F = hp.f32;
      for (let r = 0; r < n; r++) {
        const ro = r * H;
        const dxi = (dgx >>> 2) + 3 * ro, dhhi = (dgh >>> 2) + 3 * ro;
        if (!valid(mask, r)) {
          F.fill(0, dxi, dxi + 3 * H);
          F.fill(0, dhhi, dhhi + 3 * H);
          continue;
        }
        const dhi = (dh >>> 2) + ro, hpi = (hPrev >>> 2) + ro, ai = (act >>> 2) + 4 * ro;
        const yi = dy === 0 ? -1 : (dy >>> 2) + r * ldy;
        for (let j = 0; j < H; j++) {
          const dhe = yi >= 0 ? F[dhi + j] + F[yi + j] : F[dhi + j];
          const rr = F[ai + j], z = F[ai + H + j], nn = F[ai + 2 * H + j], hn = F[ai + 3 * H + j];
          const dnpre = dhe * (1 - z) * (1 - nn * nn);
          const dzpre = dhe * (F[hpi + j] - nn) * z * (1 - z);
          const drpre = dnpre * hn * rr * (1 - rr);
          F[dxi + j] = drpre;
          F[dxi + H + j] = dzpre;
          F[dxi + 2 * H + j] = dnpre;
          F[dhhi + j] = drpre;
          F[dhhi + H + j] = dzpre;
          F[dhhi + 2 * H + j] = dnpre * rr;
          F[dhi + j] = dhe * z;
        }
      }
    },

    rnn_cell_fwd(
      h: number, y: number, pre: number, bias: number, hPrev: number, mask: number, n: number, H: number, ldy: number,
      relu: number,
    ): void {
      const F = hp.f32;
      const bi = bias >>> 2;
      for (let r = 0; r < n; r++) {
        const ro = r * H;
        const hi = (h >>> 2) + ro, pi = (pre >>> 2) + ro, hpi = (hPrev >>> 2) + ro;
        const yi = y === 0 ? -1 : (y >>> 2) + r * ldy;
        const ok = valid(mask, r);
        for (let j = 0; j < H; j++) {
          const p = bias !== 0 ? Math.fround(F[pi + j] + F[bi + j]) : F[pi + j];
          const v = !ok ? F[hpi + j] : relu !== 0 ? Math.max(p, 0) : Math.tanh(p);
          F[hi + j] = v;
          if (yi >= 0) F[yi + j] = ok ? v : 0;
        }
      }
    },

    rnn_cell_bwd(
      dpre: number, dh: number, dy: number, h: number, mask: number, n: number, H: number, ldy: number, relu: number,
    ): void {
      const F = hp.f32;
      for (let r = 0; r < n; r++) {
        const ro = r * H;
        const di = (dpre >>> 2) + ro;
        if (!valid(mask, r)) {
          F.fill(0, di, di + H);
          continue;
        }
        const dhi = (dh >>> 2) + ro, hi = (h >>> 2) + ro;
        const yi = dy === 0 ? -1 : (dy >>> 2) + r * ldy;
        for (let j = 0; j < H; j++) {
          const dhe = yi >= 0 ? F[dhi + j] + F[yi + j] : F[dhi + j];
          const v = F[hi + j];
          F[di + j] = relu !== 0 ? (v > 0 ? dhe : 0) : dhe * (1 - v * v);
          F[dhi + j] = 0;
        }
      }
    },

    rnn_pack_weights(dst: number, b: number, k: number, n: number, ldb: number, transB: number): void {
      const F = hp.f32, di = dst >>> 2, bi = b >>> 2;
      for (let j0 = 0; j0 < n; j0 += NR) {
        const panel = di + j0 * k;
        for (let p = 0; p < k; p++) {
          for (let c = 0; c < NR; c++) {
            const j = j0 + c;
            F[panel + p * NR + c] = j < n ? F[transB ? bi + j * ldb + p : bi + p * ldb + j] : 0;
          }
        }
      }
    },

    // A is read in place (transposed A is first copied row-major into ws, so
    // the inner loop always walks a contiguous row).
    rnn_matmul_packed(
      c: number, a: number, bp: number, ws: number, m: number, n: number, k: number, lda: number, ldc: number,
      transA: number, beta: number,
    ): void {
      const F = hp.f32, ci = c >>> 2, bi = bp >>> 2;
      let ai = a >>> 2, sai = lda;
      if (transA) {
        const wi = ws >>> 2;
        for (let p = 0; p < k; p++) for (let i = 0; i < m; i++) F[wi + i * k + p] = F[ai + p * lda + i];
        ai = wi;
        sai = k;
      }
      const sap = 1;
      beta = Math.fround(beta);
      // One row of A against one 8-column panel: eight float64 accumulators.
      for (let j0 = 0; j0 < n; j0 += NR) {
        const panel = bi + j0 * k;
        const cols = Math.min(NR, n - j0);
        for (let i = 0; i < m; i++) {
          const arow = ai + i * sai;
          let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
          for (let p = 0, q = panel; p < k; p++, q += NR) {
            const av = F[arow + p * sap];
            s0 += av * F[q];
            s1 += av * F[q + 1];
            s2 += av * F[q + 2];
            s3 += av * F[q + 3];
            s4 += av * F[q + 4];
            s5 += av * F[q + 5];
            s6 += av * F[q + 6];
            s7 += av * F[q + 7];
          }
          const row = ci + i * ldc + j0;
          if (cols === NR) {
            if (beta !== 0) {
              s0 += beta * F[row]; s1 += beta * F[row + 1]; s2 += beta * F[row + 2]; s3 += beta * F[row + 3];
              s4 += beta * F[row + 4]; s5 += beta * F[row + 5]; s6 += beta * F[row + 6]; s7 += beta * F[row + 7];
            }
            F[row] = s0; F[row + 1] = s1; F[row + 2] = s2; F[row + 3] = s3;
            F[row + 4] = s4; F[row + 5] = s5; F[row + 6] = s6; F[row + 7] = s7;
          } else {
            const acc = [s0, s1, s2, s3, s4, s5, s6];
            for (let j = 0; j < cols; j++) F[row + j] = beta === 0 ? acc[j] : acc[j] + beta * F[row + j];
          }
        }
      }
    },
  };
}
