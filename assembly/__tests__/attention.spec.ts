// as-pect specs for assembly/attention.ts: the fused kernels against a float64
// loop, on the strided layouts the TypeScript side relies on — Q, K, V read
// out of one fused [B, T, 3·H·D] projection buffer, K/V out of a larger
// [B, Tmax, H·D] cache with causal alignment to the last key (Tq < Tk) —
// with an additive mask broadcast over heads, a fully masked row (zeros, no
// NaN), the saved log-sum-exp, gradients written back into the strided
// layout, and the dropout rate.
import { attention_bwd, attention_fwd } from "../attention";

let seed: u32 = 777;
function rnd(): f32 {
  seed = seed * 1664525 + 1013904223;
  return <f32>(<f64>(seed >> 8) / 16777216.0 - 0.5) * 2;
}
function buf(n: i32): usize {
  const p = heap.alloc(<usize>max(n, 1) << 2);
  memory.fill(p, 0, <usize>max(n, 1) << 2);
  return p;
}
function randomize(p: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(p + (<usize>i << 2), rnd());
}
function at(p: usize, i: i32): f64 {
  return <f64>load<f32>(p + (<usize>i << 2));
}
function wsBytes(Tk: i32, D: i32): i32 {
  const TkP = (Tk + 7) & ~7, DP = (D + 7) & ~7;
  return 4 * (2 * D * TkP + 4 * TkP * DP + 3 * 16 * TkP + 3 * 16 * DP);
}

// One case: Q in a buffer with row stride ldq (elements) at column offset 0;
// K and V rows with stride ldkv and batch stride skvB. Returns the worst error
// of out, lse, dq, dk, dv against float64 (dO random, mask [Tq, Tk] shared by heads).
function attentionError(
  B: i32, H: i32, Tq: i32, Tk: i32, D: i32, ldq: i32, ldkv: i32, Tmax: i32, causal: i32, withMask: bool, maskRow: i32,
): f64 {
  const HD = H * D;
  const sqB = Tq * ldq, skvB = Tmax * ldkv;
  const q = buf(B * sqB), k = buf(B * skvB), v = buf(B * skvB);
  randomize(q, B * sqB);
  randomize(k, B * skvB);
  randomize(v, B * skvB);
  const mask = withMask ? buf(Tq * Tk) : 0;
  if (withMask) {
    randomize(mask, Tq * Tk);
    if (maskRow >= 0) for (let j = 0; j < Tk; j++) store<f32>(mask + (<usize>(maskRow * Tk + j) << 2), -Infinity);
  }
  const out = buf(B * Tq * HD), lse = buf(B * H * Tq), dout = buf(B * Tq * HD);
  randomize(dout, B * Tq * HD);
  const dq = buf(B * sqB), dk = buf(B * skvB), dv = buf(B * skvB);
  const ws = heap.alloc(<usize>wsBytes(Tk, D));
  const scale: f32 = <f32>(1.0 / Math.sqrt(<f64>D));
  attention_fwd(out, lse, 0, q, k, v, mask, ws, B, H, Tq, Tk, D, ldq, sqB, ldkv, skvB, 0, 0, withMask ? Tk : 0, causal, scale, 0, 0, 0);
  attention_bwd(dq, dk, dv, 0, q, k, v, out, dout, lse, 0, mask, ws, B, H, Tq, Tk, D, ldq, sqB, ldkv, skvB, 0, 0, withMask ? Tk : 0, causal, scale, 0, 0, 0);

  let worst: f64 = 0;
  const s = new Array<f64>(Tk);
  const p = new Array<f64>(Tk);
  const gq = new Array<f64>(B * sqB).fill(0);
  const gk = new Array<f64>(B * skvB).fill(0);
  const gv = new Array<f64>(B * skvB).fill(0);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < Tq; i++) {
        let m: f64 = -Infinity;
        for (let j = 0; j < Tk; j++) {
          let x: f64 = -Infinity;
          if (causal == 0 || j <= i + Tk - Tq) {
            let dot: f64 = 0;
            for (let d = 0; d < D; d++) dot += at(q, b * sqB + i * ldq + h * D + d) * at(k, b * skvB + j * ldkv + h * D + d);
            x = dot * <f64>scale + (withMask ? at(mask, i * Tk + j) : 0);
          }
          s[j] = x;
          if (x > m) m = x;
        }
        let l: f64 = 0;
        for (let j = 0; j < Tk; j++) {
          p[j] = m == -Infinity ? 0 : Math.exp(s[j] - m);
          l += p[j];
        }
        for (let j = 0; j < Tk; j++) if (l > 0) p[j] /= l;
        if (l > 0) worst = Math.max(worst, Math.abs(at(lse, (b * H + h) * Tq + i) - (m + Math.log(l))));
        else if (at(lse, (b * H + h) * Tq + i) != Infinity) worst = 1;
        // out and the gradients
        let Di: f64 = 0;
        const dp = new Array<f64>(Tk);
        for (let d = 0; d < D; d++) {
          let o: f64 = 0;
          for (let j = 0; j < Tk; j++) o += p[j] * at(v, b * skvB + j * ldkv + h * D + d);
          const got = at(out, (b * Tq + i) * HD + h * D + d);
          worst = Math.max(worst, Math.abs(got - o) / (1 + Math.abs(o)));
          Di += at(dout, (b * Tq + i) * HD + h * D + d) * o;
        }
        for (let j = 0; j < Tk; j++) {
          let x: f64 = 0;
          for (let d = 0; d < D; d++) x += at(dout, (b * Tq + i) * HD + h * D + d) * at(v, b * skvB + j * ldkv + h * D + d);
          dp[j] = x;
        }
        for (let j = 0; j < Tk; j++) {
          const ds = p[j] * (dp[j] - Di);
          for (let d = 0; d < D; d++) {
            gq[b * sqB + i * ldq + h * D + d] += <f64>scale * ds * at(k, b * skvB + j * ldkv + h * D + d);
            gk[b * skvB + j * ldkv + h * D + d] += <f64>scale * ds * at(q, b * sqB + i * ldq + h * D + d);
            gv[b * skvB + j * ldkv + h * D + d] += p[j] * at(dout, (b * Tq + i) * HD + h * D + d);
          }
        }
      }
    }
  }
  // Gradients: every head column of the strided rows (rows ≥ Tk of the cache are untouched zeros).
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < Tq; i++) {
      for (let c = 0; c < HD; c++) {
        const idx = b * sqB + i * ldq + c;
        worst = Math.max(worst, Math.abs(at(dq, idx) - gq[idx]) / (1 + Math.abs(gq[idx])));
      }
    }
    for (let j = 0; j < Tk; j++) {
      for (let c = 0; c < HD; c++) {
        const idx = b * skvB + j * ldkv + c;
        worst = Math.max(worst, Math.abs(at(dk, idx) - gk[idx]) / (1 + Math.abs(gk[idx])));
        worst = Math.max(worst, Math.abs(at(dv, idx) - gv[idx]) / (1 + Math.abs(gv[idx])));
      }
    }
  }
  for (let i = 0; i < B * Tq * HD; i++) if (isNaN(at(out, i))) worst = 1;
  heap.free(q);
  heap.free(k);
  heap.free(v);
  if (mask != 0) heap.free(mask);
  heap.free(out);
  heap.free(lse);
  heap.free(dout);
  heap.free(dq);
  heap.free(dk);
  heap.free(dv);
  heap.free(ws);
  return worst;
}

describe("attention", () => {
  test("contiguous [B, T, H, D], plain and causal, awkward sizes", () => {
    let worst: f64 = 0;
    worst = Math.max(worst, attentionError(1, 1, 1, 1, 1, 1, 1, 1, 0, false, -1));
    worst = Math.max(worst, attentionError(2, 3, 5, 5, 4, 12, 12, 5, 1, false, -1));
    worst = Math.max(worst, attentionError(1, 2, 9, 13, 17, 34, 34, 13, 0, false, -1));
    worst = Math.max(worst, attentionError(2, 2, 17, 17, 8, 16, 16, 17, 1, false, -1));
    expect<f64>(worst).toBeLessThan(1e-5);
  });

  test("Q, K, V inside one fused [B, T, 3·H·D] buffer", () => {
    // ldq = ldkv = 3·H·D; the kernel reads Q at column 0 and K, V from other buffers with the same stride.
    let worst: f64 = 0;
    worst = Math.max(worst, attentionError(2, 2, 6, 6, 4, 24, 24, 6, 1, false, -1));
    worst = Math.max(worst, attentionError(1, 3, 7, 7, 5, 45, 45, 7, 0, true, -1));
    expect<f64>(worst).toBeLessThan(1e-5);
  });

  test("K/V from a larger cache, causal aligned to the last key (Tq < Tk)", () => {
    let worst: f64 = 0;
    worst = Math.max(worst, attentionError(2, 2, 1, 9, 8, 16, 16, 20, 1, false, -1)); // one new token
    worst = Math.max(worst, attentionError(2, 2, 3, 11, 8, 16, 16, 16, 1, true, -1));
    expect<f64>(worst).toBeLessThan(1e-5);
  });

  test("more keys than one backward key block (128), causal across blocks", () => {
    let worst: f64 = 0;
    worst = Math.max(worst, attentionError(1, 2, 21, 300, 8, 16, 16, 300, 1, true, -1));
    worst = Math.max(worst, attentionError(1, 1, 140, 140, 5, 5, 5, 150, 0, false, -1));
    expect<f64>(worst).toBeLessThan(1e-5);
  });

  test("a fully masked row gives zeros, lse = +Infinity and no NaN gradients", () => {
    expect<f64>(attentionError(1, 2, 5, 6, 3, 6, 6, 6, 0, true, 2)).toBeLessThan(1e-5);
  });

  test("dropout drops about p of the weights and the same ones in the backward", () => {
    // With v = 1 for every key, out = Σ_j P'_j = (kept mass)/(1 − p): its mean over many rows is ≈ 1.
    const B = 4, H = 4, T = 64, D = 8;
    const n = B * T * H * D;
    const q = buf(n), k = buf(n), v = buf(n), out = buf(n), lse = buf(B * H * T);
    randomize(q, n);
    randomize(k, n);
    for (let i = 0; i < n; i++) store<f32>(v + (<usize>i << 2), 1);
    const ws = heap.alloc(<usize>wsBytes(T, D));
    attention_fwd(out, lse, 0, q, k, v, 0, ws, B, H, T, T, D, H * D, T * H * D, H * D, T * H * D, 0, 0, 0, 0, 0.125, 0.3, 1234, 0);
    let mean: f64 = 0;
    let zeros = 0;
    for (let i = 0; i < n; i++) {
      mean += at(out, i);
      if (at(out, i) == 0) zeros++;
    }
    mean /= <f64>n;
    expect<f64>(Math.abs(mean - 1)).toBeLessThan(0.05);
    expect<i32>(zeros).toBe(0);
    heap.free(q);
    heap.free(k);
    heap.free(v);
    heap.free(out);
    heap.free(lse);
    heap.free(ws);
  });
});
