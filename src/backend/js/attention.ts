/**
 * Plain-JS fused scaled dot-product attention: the js backend's mirror of
 * assembly/attention.ts (same strided [B, T, H, D] layouts, the same saved
 * lse, bottom-right causal alignment, fully-masked rows giving zeros, and the
 * same dropout hash of (seed, flat index in [B, H, Tq, Tk])). See that file
 * for the formulas. probsPrivate is ignored: probs here are always row-major
 * (the flag only allows the wasm kernels a layout of their own). Work is per (b, h) and query row, in float64; the
 * workspace pointer is unused (scratch lives in typed arrays here).
 */

import type { Heap } from '../heap.js';
import { dropoutKey, keyedHash } from './hash.js';

export function attentionKernels(h: Heap) {
  let row = new Float64Array(0); // scores → probabilities of one query row
  let drow = new Float64Array(0); // dP of one query row
  let acc = new Float64Array(0); // dK, dV accumulators of one (b, h)

  function ensure(Tk: number, D: number): void {
    if (row.length < Tk) {
      row = new Float64Array(Tk);
      drow = new Float64Array(Tk);
    }
    if (acc.length < 2 * Tk * D) acc = new Float64Array(2 * Tk * D);
  }

  return {
    attention_fwd(
      out: number, lse: number, probs: number, q: number, k: number, v: number, mask: number, _ws: number,
      B: number, H: number, Tq: number, Tk: number, D: number, ldq: number, sqB: number, ldkv: number, skvB: number,
      mB: number, mH: number, mQ: number, causal: number, scale: number, dropP: number, seed: number,
      _probsPrivate: number,
    ): void {
      const F = h.f32;
      ensure(Tk, D);
      const S = row;
      scale = Math.fround(scale);
      const p = Math.fround(dropP);
      const thr = Math.floor(p * 4294967296);
      const dscale = Math.fround(1 / (1 - p));
      const key = dropoutKey(seed);
      const HD = H * D, off = Tk - Tq;
      const qi = q >>> 2, ki = k >>> 2, vi = v >>> 2, oi = out >>> 2, mi = mask >>> 2, pi = probs >>> 2;
      const o = new Float64Array(D);
      for (let b = 0; b < B; b++) {
        for (let hh = 0; hh < H; hh++) {
          const bh = b * H + hh;
          const kb = ki + b * skvB + hh * D, vb = vi + b * skvB + hh * D;
          for (let i = 0; i < Tq; i++) {
            const qr = qi + b * sqB + i * ldq + hh * D;
            const kEnd = causal !== 0 ? Math.min(Math.max(i + off + 1, 0), Tk) : Tk;
            const mr = mi + b * mB + hh * mH + i * mQ;
            let m = -Infinity;
            for (let j = 0; j < kEnd; j++) {
              const kr = kb + j * ldkv;
              let s = 0;
              for (let d = 0; d < D; d++) s += F[qr + d] * F[kr + d];
              s = s * scale + (mask !== 0 ? F[mr + j] : 0);
              S[j] = s;
              if (s > m) m = s;
            }
            const prow = pi + (bh * Tq + i) * Tk;
            const orow = oi + (b * Tq + i) * HD + hh * D;
            if (m === -Infinity) {
              F[(lse >>> 2) + bh * Tq + i] = Infinity;
              for (let d = 0; d < D; d++) F[orow + d] = 0;
              if (probs !== 0) F.fill(0, prow, prow + Tk);
              continue;
            }
            let l = 0;
            for (let j = 0; j < kEnd; j++) {
              const e = Math.exp(S[j] - m);
              S[j] = e;
              l += e;
            }
            F[(lse >>> 2) + bh * Tq + i] = m + Math.log(l);
            if (probs !== 0) {
              for (let j = 0; j < kEnd; j++) F[prow + j] = S[j] / l;
              F.fill(0, prow + kEnd, prow + Tk);
            }
            o.fill(0);
            const idx0 = (bh * Tq + i) * Tk;
            for (let j = 0; j < kEnd; j++) {
              let w = S[j];
              if (p > 0) w *= keyedHash(key, idx0 + j) >= thr ? dscale : 0;
              if (w === 0) continue;
              const vr = vb + j * ldkv;
              for (let d = 0; d < D; d++) o[d] += w * F[vr + d];
            }
            for (let d = 0; d < D; d++) F[orow + d] = o[d] / l;
          }
        }
      }
    },

    attention_bwd(
      dq: number, dk: number, dv: number, dmask: number, q: number, k: number, v: number, out: number, dout: number,
      lse: number, probs: number, mask: number, _ws: number,
      B: number, H: number, Tq: number, Tk: number, D: number, ldq: number, sqB: number, ldkv: number, skvB: number,
      mB: number, mH: number, mQ: number, causal: number, scale: number, dropP: number, seed: number,
      _probsPrivate: number,
    ): void {
      const F = h.f32;
      ensure(Tk, D);
      const P = row, dP = drow, A = acc;
      scale = Math.fround(scale);
      const p = Math.fround(dropP);
      const thr = Math.floor(p * 4294967296);
      const dscale = Math.fround(1 / (1 - p));
      const key = dropoutKey(seed);
      const HD = H * D, off = Tk - Tq, dvOff = Tk * D;
      const qi = q >>> 2, ki = k >>> 2, vi = v >>> 2, oi = out >>> 2, gi = dout >>> 2, mi = mask >>> 2;
      const dqi = dq >>> 2, dki = dk >>> 2, dvi = dv >>> 2, dmi = dmask >>> 2;
      const g = new Float64Array(D);
      for (let b = 0; b < B; b++) {
        for (let hh = 0; hh < H; hh++) {
          const bh = b * H + hh;
          const kb = ki + b * skvB + hh * D, vb = vi + b * skvB + hh * D;
          A.fill(0, 0, 2 * Tk * D);
          for (let i = 0; i < Tq; i++) {
            const qr = qi + b * sqB + i * ldq + hh * D;
            const gr = gi + (b * Tq + i) * HD + hh * D;
            const orow = oi + (b * Tq + i) * HD + hh * D;
            const kEnd = causal !== 0 ? Math.min(Math.max(i + off + 1, 0), Tk) : Tk;
            const mr = mi + b * mB + hh * mH + i * mQ;
            const L = F[(lse >>> 2) + bh * Tq + i];
            let Di = 0;
            for (let d = 0; d < D; d++) Di += F[gr + d] * F[orow + d];
            const idx0 = (bh * Tq + i) * Tk;
            g.fill(0);
            for (let j = 0; j < kEnd; j++) {
              const kr = kb + j * ldkv, vr = vb + j * ldkv;
              let s = 0, dp = 0;
              for (let d = 0; d < D; d++) {
                s += F[qr + d] * F[kr + d];
                dp += F[gr + d] * F[vr + d];
              }
              s = s * scale + (mask !== 0 ? F[mr + j] : 0);
              const pj = probs !== 0 ? F[(probs >>> 2) + idx0 + j] : Math.exp(s - L);
              let pd = pj;
              if (p > 0) {
                const ks = keyedHash(key, idx0 + j) >= thr ? dscale : 0;
                pd *= ks;
                dp *= ks;
              }
              const ds = pj * (dp - Di);
              P[j] = pd;
              dP[j] = ds;
              // dq += dS·k; dK += dS·q; dV += P'·dO
              const ak = j * D, av = dvOff + j * D;
              for (let d = 0; d < D; d++) {
                g[d] += ds * F[kr + d];
                A[ak + d] += ds * F[qr + d];
                A[av + d] += pd * F[gr + d];
              }
            }
            const dqr = dqi + b * sqB + i * ldq + hh * D;
            for (let d = 0; d < D; d++) F[dqr + d] = scale * g[d];
            if (dmask !== 0) {
              const dmr = dmi + (bh * Tq + i) * Tk;
              for (let j = 0; j < kEnd; j++) F[dmr + j] = dP[j];
              F.fill(0, dmr + Math.max(kEnd, 0), dmr + Tk);
            }
          }
          for (let j = 0; j < Tk; j++) {
            const dkr = dki + b * skvB + j * ldkv + hh * D, dvr = dvi + b * skvB + j * ldkv + hh * D;
            for (let d = 0; d < D; d++) {
              F[dkr + d] = scale * A[j * D + d];
              F[dvr + d] = A[dvOff + j * D + d];
            }
          }
        }
      }
    },
  };
}
