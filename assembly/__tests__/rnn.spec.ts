// as-pect specs for the recurrent kernels against scalar float64 references:
// the LSTM, GRU and RNN cells forward and backward (hidden sizes that
// exercise the SIMD body and the scalar tail, a padded row, a strided output,
// biases), the gate-grade σ and tanh over a wide range, and the packed
// recurrent product (every edge of the 4×8 tile, transposed weights, beta).
import {
  gru_cell_bwd, gru_cell_fwd, lstm_cell_bwd, lstm_cell_fwd, rnn_cell_bwd, rnn_cell_fwd, rnn_matmul_packed,
  rnn_pack_weights,
} from "../rnn";

function buf(n: i32): usize {
  return heap.alloc(<usize>max(n, 1) << 2);
}
function at(p: usize, i: i32): f64 {
  return <f64>load<f32>(p + (<usize>i << 2));
}
function put(p: usize, i: i32, v: f64): void {
  store<f32>(p + (<usize>i << 2), <f32>v);
}
function fillv(p: usize, n: i32, seed: i32, scale: f64): void {
  for (let i = 0; i < n; i++) put(p, i, (<f64>(((i + seed) * 7919) % 201) / 100.0 - 1.0) * scale);
}
function sg(x: f64): f64 {
  return 1 / (1 + Math.exp(-x));
}
// max of up to four non-negative errors
function mx(a: f64, b: f64, c: f64 = 0, d: f64 = 0): f64 {
  return Math.max(Math.max(a, b), Math.max(c, d));
}
function err(a: f64, b: f64): f64 {
  return Math.abs(a - b) / (1 + Math.abs(b));
}

const HIDDEN: i32[] = [1, 3, 4, 5, 9];
const ROWS: i32 = 3; // row 1 is a padded step

describe("recurrent cells", () => {
  test("σ and tanh (gate grade) are within 5e-7 of float64 over [−100, 100]", () => {
    const n = 2001;
    const pre = buf(n), h = buf(n), hp = buf(n);
    let worst: f64 = 0;
    for (let i = 0; i < n; i++) put(pre, i, <f64>(i - 1000) * 0.1);
    rnn_cell_fwd(h, 0, pre, 0, hp, 0, 1, n, 0, 0);
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(at(h, i) - Math.tanh(at(pre, i))));
    expect<f64>(at(h, 0)).toBe(-1); // tanh(−100): exact limits, no NaN
    expect<f64>(at(h, n - 1)).toBe(1);
    // σ and tanh as the LSTM's gate activations (and tanh(c) kept for the backward).
    const gates = buf(4 * n), act = buf(4 * n), c = buf(n), tc = buf(n), cp = buf(n);
    for (let i = 0; i < n; i++) {
      put(gates, i, at(pre, i));
      put(gates, n + i, at(pre, i));
      put(gates, 2 * n + i, at(pre, i));
      put(gates, 3 * n + i, at(pre, i));
      put(cp, i, 0);
    }
    lstm_cell_fwd(h, c, tc, 0, act, gates, 0, hp, cp, 0, 1, n, 0);
    for (let i = 0; i < n; i++) {
      const x = at(pre, i);
      worst = Math.max(worst, Math.abs(at(act, i) - sg(x)));
      worst = Math.max(worst, Math.abs(at(act, 2 * n + i) - Math.tanh(x)));
      worst = Math.max(worst, Math.abs(at(tc, i) - Math.tanh(at(c, i))));
    }
    expect<f64>(worst).toBeLessThan(5e-7);
    expect<f64>(at(act, n - 1)).toBe(1); // σ(100)
    expect<f64>(at(act, 0)).toBeLessThan(1e-30); // σ(−100)
    heap.free(pre); heap.free(h); heap.free(hp); heap.free(gates); heap.free(act); heap.free(c); heap.free(tc); heap.free(cp);
  });

  test("LSTM forward and backward match float64 (body, tail, padded row, strided y)", () => {
    let worst: f64 = 0;
    let bad = 0;
    for (let hi = 0; hi < HIDDEN.length; hi++) {
      const H = HIDDEN[hi], n = ROWS, G = 4 * H, ldy = 2 * H;
      const gates = buf(n * G), g0 = buf(n * G), act = buf(n * G), bias = buf(G);
      const h = buf(n * H), c = buf(n * H), tc = buf(n * H), y = buf(n * ldy), hp = buf(n * H), cp = buf(n * H);
      const mask = buf(n);
      fillv(gates, n * G, 1, 3); fillv(bias, G, 2, 0.5); fillv(hp, n * H, 3, 1); fillv(cp, n * H, 4, 2);
      for (let i = 0; i < n * ldy; i++) put(y, i, 9);
      for (let r = 0; r < n; r++) store<i32>(mask + (<usize>r << 2), r == 1 ? 0 : 1);
      memory.copy(g0, gates, <usize>(n * G) << 2);
      lstm_cell_fwd(h, c, tc, y, act, gates, bias, hp, cp, mask, n, H, ldy);
      for (let r = 0; r < n; r++) {
        for (let j = 0; j < H; j++) {
          const k = r * H + j;
          if (r == 1) {
            if (at(h, k) != at(hp, k) || at(c, k) != at(cp, k) || at(y, r * ldy + j) != 0) bad++;
            continue;
          }
          const i = sg(at(g0, r * G + j) + at(bias, j));
          const f = sg(at(g0, r * G + H + j) + at(bias, H + j));
          const g = Math.tanh(at(g0, r * G + 2 * H + j) + at(bias, 2 * H + j));
          const o = sg(at(g0, r * G + 3 * H + j) + at(bias, 3 * H + j));
          const cn = f * at(cp, k) + i * g;
          worst = mx(worst, err(at(act, r * G + j), i), err(at(act, r * G + 3 * H + j), o));
          worst = mx(worst, err(at(c, k), cn), err(at(h, k), o * Math.tanh(cn)), err(at(y, r * ldy + j), o * Math.tanh(cn)));
        }
        for (let j = H; j < ldy; j++) if (at(y, r * ldy + j) != 9) bad++; // outside the row: untouched
      }
      // Backward: dh, dc in; dgates out; dh → 0 (valid) or unchanged (padded), dc → dc·f.
      const dg = buf(n * G), dh = buf(n * H), dc = buf(n * H), dy = buf(n * ldy), dh0 = buf(n * H), dc0 = buf(n * H);
      fillv(dh, n * H, 5, 1); fillv(dc, n * H, 6, 1); fillv(dy, n * ldy, 7, 1);
      memory.copy(dh0, dh, <usize>(n * H) << 2);
      memory.copy(dc0, dc, <usize>(n * H) << 2);
      lstm_cell_bwd(dg, dh, dc, dy, act, tc, cp, mask, n, H, ldy);
      for (let r = 0; r < n; r++) {
        for (let j = 0; j < H; j++) {
          const k = r * H + j;
          if (r == 1) {
            if (at(dh, k) != at(dh0, k) || at(dc, k) != at(dc0, k)) bad++;
            for (let q = 0; q < 4; q++) if (at(dg, r * G + q * H + j) != 0) bad++;
            continue;
          }
          const i = at(act, r * G + j), f = at(act, r * G + H + j), g = at(act, r * G + 2 * H + j), o = at(act, r * G + 3 * H + j);
          const t = Math.tanh(at(c, k));
          const dhe = at(dh0, k) + at(dy, r * ldy + j);
          const dct = at(dc0, k) + dhe * o * (1 - t * t);
          worst = mx(worst, err(at(dg, r * G + j), dct * g * i * (1 - i)));
          worst = mx(worst, err(at(dg, r * G + H + j), dct * at(cp, k) * f * (1 - f)));
          worst = mx(worst, err(at(dg, r * G + 2 * H + j), dct * i * (1 - g * g)));
          worst = mx(worst, err(at(dg, r * G + 3 * H + j), dhe * t * o * (1 - o)));
          worst = mx(worst, err(at(dc, k), dct * f));
          if (at(dh, k) != 0) bad++;
        }
      }
      heap.free(gates); heap.free(g0); heap.free(act); heap.free(bias); heap.free(h); heap.free(c); heap.free(tc);
      heap.free(y); heap.free(hp); heap.free(cp); heap.free(mask);
      heap.free(dg); heap.free(dh); heap.free(dc); heap.free(dy); heap.free(dh0); heap.free(dc0);
    }
    expect<i32>(bad).toBe(0);
    expect<f64>(worst).toBeLessThan(2e-6);
  });

  test("GRU forward and backward match float64", () => {
    let worst: f64 = 0;
    let bad = 0;
    for (let hi = 0; hi < HIDDEN.length; hi++) {
      const H = HIDDEN[hi], n = ROWS, G = 3 * H;
      const gx = buf(n * G), gh = buf(n * G), bi = buf(G), bh = buf(G), act = buf(n * 4 * H);
      const h = buf(n * H), y = buf(n * H), hp = buf(n * H), mask = buf(n);
      fillv(gx, n * G, 1, 2); fillv(gh, n * G, 2, 2); fillv(bi, G, 3, 0.5); fillv(bh, G, 4, 0.5); fillv(hp, n * H, 5, 1);
      for (let r = 0; r < n; r++) store<i32>(mask + (<usize>r << 2), r == 1 ? 0 : 1);
      gru_cell_fwd(h, y, act, gx, gh, bi, bh, hp, mask, n, H, H);
      const dgx = buf(n * G), dgh = buf(n * G), dh = buf(n * H), dy = buf(n * H), dh0 = buf(n * H);
      fillv(dh, n * H, 6, 1); fillv(dy, n * H, 7, 1);
      memory.copy(dh0, dh, <usize>(n * H) << 2);
      gru_cell_bwd(dgx, dgh, dh, dy, act, hp, mask, n, H, H);
      for (let r = 0; r < n; r++) {
        for (let j = 0; j < H; j++) {
          const k = r * H + j;
          if (r == 1) {
            if (at(h, k) != at(hp, k) || at(y, k) != 0 || at(dh, k) != at(dh0, k) || at(dgx, r * G + j) != 0) bad++;
            continue;
          }
          const rr = sg(at(gx, r * G + j) + at(bi, j) + at(gh, r * G + j) + at(bh, j));
          const z = sg(at(gx, r * G + H + j) + at(bi, H + j) + at(gh, r * G + H + j) + at(bh, H + j));
          const hn = at(gh, r * G + 2 * H + j) + at(bh, 2 * H + j);
          const nn = Math.tanh(at(gx, r * G + 2 * H + j) + at(bi, 2 * H + j) + rr * hn);
          const hv = at(hp, k);
          worst = mx(worst, err(at(h, k), (1 - z) * nn + z * hv), err(at(y, k), (1 - z) * nn + z * hv));
          const dhe = at(dh0, k) + at(dy, k);
          const dn = dhe * (1 - z) * (1 - nn * nn);
          const dz = dhe * (hv - nn) * z * (1 - z);
          const dr = dn * hn * rr * (1 - rr);
          worst = mx(worst, err(at(dgx, r * G + j), dr), err(at(dgx, r * G + H + j), dz), err(at(dgx, r * G + 2 * H + j), dn));
          worst = mx(worst, err(at(dgh, r * G + j), dr), err(at(dgh, r * G + 2 * H + j), dn * rr), err(at(dh, k), dhe * z));
        }
      }
      heap.free(gx); heap.free(gh); heap.free(bi); heap.free(bh); heap.free(act); heap.free(h); heap.free(y);
      heap.free(hp); heap.free(mask); heap.free(dgx); heap.free(dgh); heap.free(dh); heap.free(dy); heap.free(dh0);
    }
    expect<i32>(bad).toBe(0);
    expect<f64>(worst).toBeLessThan(2e-6);
  });

  test("RNN (tanh and relu) forward and backward match float64", () => {
    let worst: f64 = 0;
    for (let relu = 0; relu < 2; relu++) {
      for (let hi = 0; hi < HIDDEN.length; hi++) {
        const H = HIDDEN[hi], n = ROWS;
        const pre = buf(n * H), b = buf(H), h = buf(n * H), hp = buf(n * H), dpre = buf(n * H), dh = buf(n * H), dy = buf(n * H);
        const dh0 = buf(n * H);
        fillv(pre, n * H, 1, 2); fillv(b, H, 2, 0.5); fillv(hp, n * H, 3, 1); fillv(dh, n * H, 4, 1); fillv(dy, n * H, 5, 1);
        memory.copy(dh0, dh, <usize>(n * H) << 2);
        rnn_cell_fwd(h, 0, pre, b, hp, 0, n, H, 0, relu);
        rnn_cell_bwd(dpre, dh, dy, h, 0, n, H, H, relu);
        for (let k = 0; k < n * H; k++) {
          const p = at(pre, k) + at(b, k % H);
          const v = relu ? Math.max(p, 0) : Math.tanh(p);
          worst = mx(worst, err(at(h, k), v));
          const dhe = at(dh0, k) + at(dy, k);
          worst = mx(worst, err(at(dpre, k), relu ? (v > 0 ? dhe : 0) : dhe * (1 - v * v)));
          if (at(dh, k) != 0) worst = 1;
        }
        heap.free(pre); heap.free(b); heap.free(h); heap.free(hp); heap.free(dpre); heap.free(dh); heap.free(dy); heap.free(dh0);
      }
    }
    expect<f64>(worst).toBeLessThan(2e-6);
  });
});

describe("packed recurrent product", () => {
  test("C = op(A)·op(B) + beta·C for every tile edge, transposed or not", () => {
    let worst: f64 = 0;
    const MS: i32[] = [1, 3, 4, 5, 8, 9, 11, 13, 32];
    const NS: i32[] = [1, 7, 8, 9, 17];
    const KS: i32[] = [1, 3, 8];
    for (let mi = 0; mi < MS.length; mi++) for (let ni = 0; ni < NS.length; ni++) for (let ki = 0; ki < KS.length; ki++) {
      for (let ta = 0; ta < 2; ta++) for (let tb = 0; tb < 2; tb++) for (let beta = 0; beta < 2; beta++) {
        const m = MS[mi], n = NS[ni], k = KS[ki];
        const lda = ta ? m + 2 : k + 2, ldc = n + 3, ldb = tb ? k + 1 : n + 1;
        const aLen = ta ? k * lda : m * lda;
        const a = buf(aLen), b = buf(tb ? n * ldb : k * ldb), c = buf(m * ldc), c0 = buf(m * ldc);
        const bp = buf(((n + 7) / 8) * 8 * k), ws = buf(((m + 3) / 4) * 4 * k);
        fillv(a, aLen, 1, 1); fillv(b, tb ? n * ldb : k * ldb, 2, 1); fillv(c, m * ldc, 3, 1);
        memory.copy(c0, c, <usize>(m * ldc) << 2);
        rnn_pack_weights(bp, b, k, n, ldb, tb);
        rnn_matmul_packed(c, a, bp, ws, m, n, k, lda, ldc, ta, <f32>beta);
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < ldc; j++) {
            let want = at(c0, i * ldc + j);
            if (j < n) {
              let s: f64 = beta ? want : 0;
              for (let p = 0; p < k; p++) {
                s += (ta ? at(a, p * lda + i) : at(a, i * lda + p)) * (tb ? at(b, j * ldb + p) : at(b, p * ldb + j));
              }
              want = s;
            }
            worst = mx(worst, err(at(c, i * ldc + j), want));
          }
        }
        heap.free(a); heap.free(b); heap.free(c); heap.free(c0); heap.free(bp); heap.free(ws);
      }
    }
    expect<f64>(worst).toBeLessThan(1e-6);
  });
});
