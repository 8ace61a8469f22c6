/**
 * float64 references for the attention tests: scaled dot-product attention
 * (with causal, additive and key-padding masks) and its gradients, and the
 * projections of multi-head attention, written as plain loops; and a
 * five-point finite-difference gradient check for deep compositions.
 */

import { backward, noGrad, tensor, tidy, type Tensor } from '../src/index.js';

export interface RefOptions {
  causal?: boolean;
  mask?: Float32Array | null;
  maskShape?: number[];
  kpm?: number[] | null; // [B*Tk], nonzero = pad
  scale?: number;
}

/** float64 attention: returns out [B,Tq,H,D], weights [B,H,Tq,Tk] and the gradients for dOut. */
export function refAttention(
  Q: ArrayLike<number>, K: ArrayLike<number>, V: ArrayLike<number>, B: number, H: number, Tq: number, Tk: number, D: number,
  o: RefOptions = {}, dOut?: ArrayLike<number>,
) {
  const scale = o.scale ?? 1 / Math.sqrt(D);
  const out = new Float64Array(B * Tq * H * D);
  const W = new Float64Array(B * H * Tq * Tk);
  const dQ = new Float64Array(Q.length), dK = new Float64Array(K.length), dV = new Float64Array(V.length);
  const dM = new Float64Array(B * H * Tq * Tk);
  const ms = o.maskShape ?? [];
  const mIdx = (b: number, h: number, i: number, j: number) => {
    const full = [b, h, i, j];
    const r = ms.length;
    let idx = 0;
    for (let a = 0; a < r; a++) {
      const dim = ms[a];
      const ii = dim === 1 ? 0 : full[4 - r + a];
      idx = idx * dim + ii;
    }
    return idx;
  };
  const qi = (b: number, t: number, h: number, d: number) => ((b * Tq + t) * H + h) * D + d;
  const ki = (b: number, t: number, h: number, d: number) => ((b * Tk + t) * H + h) * D + d;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < Tq; i++) {
        const s = new Float64Array(Tk).fill(-Infinity);
        for (let j = 0; j < Tk; j++) {
          if (o.causal && j > i + Tk - Tq) continue;
          if (o.kpm && o.kpm[b * Tk + j]) continue;
          let dot = 0;
          for (let d = 0; d < D; d++) dot += Q[qi(b, i, h, d)] * K[ki(b, j, h, d)];
          s[j] = dot * scale + (o.mask ? o.mask[mIdx(b, h, i, j)] : 0);
        }
        const m = Math.max(...s);
        const p = new Float64Array(Tk);
        if (m !== -Infinity) {
          let l = 0;
          for (let j = 0; j < Tk; j++) l += (p[j] = Math.exp(s[j] - m));
          for (let j = 0; j < Tk; j++) p[j] /= l;
        }
        for (let j = 0; j < Tk; j++) {
          W[((b * H + h) * Tq + i) * Tk + j] = p[j];
          for (let d = 0; d < D; d++) out[qi(b, i, h, d)] += p[j] * V[ki(b, j, h, d)];
        }
        if (dOut) {
          const dp = new Float64Array(Tk);
          let Di = 0;
          for (let j = 0; j < Tk; j++) {
            for (let d = 0; d < D; d++) dp[j] += dOut[qi(b, i, h, d)] * V[ki(b, j, h, d)];
            Di += p[j] * dp[j];
          }
          for (let j = 0; j < Tk; j++) {
            const ds = p[j] * (dp[j] - Di);
            dM[((b * H + h) * Tq + i) * Tk + j] = ds;
            for (let d = 0; d < D; d++) {
              dQ[qi(b, i, h, d)] += scale * ds * K[ki(b, j, h, d)];
              dK[ki(b, j, h, d)] += scale * ds * Q[qi(b, i, h, d)];
              dV[ki(b, j, h, d)] += p[j] * dOut[qi(b, i, h, d)];
            }
          }
        }
      }
    }
  }
  return { out, W, dQ, dK, dV, dM };
}

/** float64 x·W + b for x [rows, inF], W [inF, outF], b [outF] (or none). */
export function refLinear(X: ArrayLike<number>, W: ArrayLike<number>, Bv: ArrayLike<number> | null, rows: number, inF: number, outF: number): Float64Array {
  const y = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < outF; j++) {
      let s = Bv ? Bv[j] : 0;
      for (let p = 0; p < inF; p++) s += X[r * inF + p] * W[p * outF + j];
      y[r * outF + j] = s;
    }
  }
  return y;
}

/**
 * A finite-difference gradient check with the five-point stencil
 *   f'(x) ≈ (f(x − 2h) − 8f(x − h) + 8f(x + h) − f(x + 2h)) / 12h,
 * whose O(h⁴) truncation error allows a larger step than gradCheck's central
 * difference, so float32 round-off in deep compositions (whole transformer
 * layers) stays well below the tolerance. L = Σ w·f(x) with fixed weights w
 * in [0.25, 1.75); at most `per` elements of each input are checked (evenly
 * spread). Returns max |analytic − numeric| / max(|analytic|, |numeric|, 1e-2).
 */
export function fivePointGradError(
  fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], options: { h?: number; per?: number } = {},
): { maxRelError: number; worst: { input: number; index: number; analytic: number; numeric: number } } {
  const h = options.h ?? 1e-2;
  const per = options.per ?? Infinity;
  let w: Float64Array = new Float64Array(0);
  const analytic = tidy(() => {
    for (const x of inputs) x.grad = null;
    const y = fn(...inputs);
    w = Float64Array.from({ length: y.size }, (_, i) => 0.25 + 1.5 * (((i * 2654435761) >>> 0) / 4294967296));
    backward(y, tensor(Float32Array.from(w), y.shape, { backend: y.backend }));
    return inputs.map((x) => (x.grad ? Float64Array.from(x.grad.data()) : new Float64Array(x.size)));
  });
  for (const x of inputs) {
    x.grad?.dispose();
    x.grad = null;
  }
  const L = () =>
    noGrad(() =>
      tidy(() => {
        const y = fn(...inputs).data();
        let s = 0;
        for (let i = 0; i < y.length; i++) s += w[i] * y[i];
        return s;
      }),
    );
  let worst = { input: -1, index: -1, analytic: 0, numeric: 0 };
  let maxRelError = 0;
  inputs.forEach((x, j) => {
    if (!x.requiresGrad) return;
    const step = Math.max(1, Math.floor(x.size / Math.min(x.size, per)));
    for (let idx = 0; idx < x.size; idx += step) {
      const p = (x.ptr >>> 2) + idx;
      const orig = x.backend.heap.f32[p];
      const at = (d: number) => {
        x.backend.heap.f32[p] = orig + d;
        const v = L();
        return [v, Math.fround(orig + d) - orig] as const;
      };
      const [m2, dm2] = at(-2 * h), [m1, dm1] = at(-h), [p1, dp1] = at(h), [p2, dp2] = at(2 * h);
      x.backend.heap.f32[p] = orig;
      // Steps are rounded to float32: use the steps actually taken (h1 ≈ h, h2 ≈ 2h).
      const h1 = (dp1 - dm1) / 2, h2 = (dp2 - dm2) / 2;
      const numeric = (8 * (p1 - m1) / (2 * h1) - (p2 - m2) / (2 * h2) * 2) / 6;
      const a = analytic[j][idx];
      const err = Math.abs(a - numeric) / Math.max(Math.abs(a), Math.abs(numeric), 1e-2);
      if (!(err <= maxRelError)) {
        maxRelError = err;
        worst = { input: j, index: idx, analytic: a, numeric };
      }
    }
  });
  return { maxRelError, worst };
}
