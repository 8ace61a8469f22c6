// Fused recurrent cell kernels: the per-step non-linear part of RNN, LSTM and
// GRU layers, forward and backward, and the per-step recurrent product with
// W_hh packed once per sequence. The big matrix products (x·W_ih for all
// steps at once, and every weight gradient) are gemm() calls made by
// src/ops/rnn.ts: one step of a layer is one rnn_matmul_packed plus one cell
// kernel here, forward and backward.
//
// Shapes (n rows = batch, H = hidden; gate blocks in PyTorch's order):
//
//   LSTM  gates/act [n, 4H] = i | f | g | o      c' = f⊙c + i⊙g,  h' = o⊙tanh(c')
//         i, f, o = σ(·), g = tanh(·)             (gates + bias, bias = b_ih + b_hh)
//   GRU   gx, gh    [n, 3H] = r | z | n          (x·W_ih and h·W_hh, without biases)
//         act       [n, 4H] = r | z | n | hn     hn = gh_n + b_hn
//         r = σ(gx_r + b_ir + gh_r + b_hr), z = σ(gx_z + b_iz + gh_z + b_hz),
//         n = tanh(gx_n + b_in + r⊙hn),  h' = (1 − z)⊙n + z⊙h
//   RNN   pre       [n, H]                       h' = tanh(pre + bias) or relu(pre + bias)
//
// Bias pointers may be 0 (no bias). Every [n, H] state buffer is contiguous;
// the layer output y is written with its own row stride `ldy` (elements), so
// a batch-first output [N, T, H] is filled in place one time step at a time
// (ldy = T·H). y = 0 skips it.
//
// Masks: `mask` is 0 (every row valid) or an int32 [n] for this step; a row
// with mask 0 is a padded step: its state passes through unchanged, its
// output is 0, and in the backward its gradient passes straight through to
// the previous state while its gate gradients are 0.
//
// Backward conventions: `dh` (and `dc`) are in/out. On entry, the gradient
// reaching h_t (c_t) from later steps; on exit, the part of the gradient of
// h_{t−1} (c_{t−1}) that does not go through W_hh. The caller then adds
// dgates·W_hhᵀ onto dh (rnn_matmul_packed, beta = 1). `dy` (row stride ldy)
// is the gradient of this step's output, added to dh on valid rows.
//
// σ and tanh are 1/(1 + e^{−x}) and 1 − 2/(1 + e^{2x}) on a gate-grade exp
// (`expPos`/`expNeg` below: ~3e-7 relative, arguments clamped to ±80): one exp
// and one division each, accurate to ~3e-7 absolute — what a gate needs — and
// exact limits (0, 1, ±1); a third cheaper than vmath's full-range vexp. The
// forward's cost is its five exps per unit.
//
// Each H loop runs an f32x4 body and a scalar tail that runs the same vector
// code on splatted lanes (so results do not depend on where a column falls).
// `act` may alias `gates` (the LSTM forward overwrites pre-activations with
// activations in place).

import { micro5x8, packAPanel, packAPartial } from "./tiles";
import { lane0, transpose4x4, vmadd, vnmadd, vsplat } from "./vmath";

@inline function ld(p: usize, tail: bool): v128 {
  return tail ? v128.load32_splat(p) : v128.load(p);
}

@inline function st(p: usize, v: v128, tail: bool): void {
  if (tail) store<f32>(p, lane0(v));
  else v128.store(p, v);
}

// x + b[j], or x when there is no bias.
@inline function addb(x: v128, b: usize, j: usize, tail: bool): v128 {
  return b == 0 ? x : f32x4.add(x, ld(b + j, tail));
}

@inline function valid(mask: usize, r: i32): bool {
  return mask == 0 || load<i32>(mask + (<usize>r << 2)) != 0;
}

// e^x = 2^n · e^r, n = round(x·log2 e), r = x − n·ln2 in two parts (Cody &
// Waite), e^r by its degree-6 Taylor polynomial (|r| ≤ ln2/2: truncation
// < 1.2e-7). x is clamped to [−80, 80] so 2^n is a normal float built in the
// exponent bits directly (σ and tanh saturate far inside that range). The
// shifter 1.5·2²³ rounds n to an integer in the low mantissa bits.
const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const SHIFTER: f32 = 12582912.0;
const SHIFTER_BITS: i32 = 0x4b400000;

@inline function one(): v128 {
  return vsplat(1.0);
}

// 2^n from the shifted t (n in its low mantissa bits): (n + 127) << 23.
@inline function pow2n(t: v128): v128 {
  return i32x4.shl(i32x4.add(t, i32x4.splat(127 - SHIFTER_BITS)), 23);
}

/** e^x, x clamped to [−80, 80]. */
@inline function expPos(x: v128): v128 {
  const xc = f32x4.pmin(f32x4.pmax(x, vsplat(-80.0)), vsplat(80.0));
  const t = vmadd(xc, vsplat(LOG2E), vsplat(SHIFTER));
  const fn = f32x4.sub(t, vsplat(SHIFTER));
  let r = vnmadd(fn, vsplat(LN2_HI), xc);
  r = vnmadd(fn, vsplat(LN2_LO), r);
  let p = vmadd(vsplat(1.0 / 720.0), r, vsplat(1.0 / 120.0));
  p = vmadd(p, r, vsplat(1.0 / 24.0));
  p = vmadd(p, r, vsplat(1.0 / 6.0));
  p = vmadd(p, r, vsplat(0.5));
  p = vmadd(p, r, one());
  p = vmadd(p, r, one());
  return f32x4.mul(p, pow2n(t));
}

/**
 * e^{−x}, x clamped to [−80, 80], without negating x (a negation costs V8
 * three instructions): n = round(−x·log2 e), s = x + n·ln2 = −r, and
 * e^r = P(−s) by the alternating coefficients.
 */
@inline function expNeg(x: v128): v128 {
  const xc = f32x4.pmin(f32x4.pmax(x, vsplat(-80.0)), vsplat(80.0));
  const t = vmadd(xc, vsplat(-LOG2E), vsplat(SHIFTER));
  const fn = f32x4.sub(t, vsplat(SHIFTER));
  let sr = vmadd(fn, vsplat(LN2_HI), xc);
  sr = vmadd(fn, vsplat(LN2_LO), sr);
  let p = vmadd(vsplat(1.0 / 720.0), sr, vsplat(-1.0 / 120.0));
  p = vmadd(p, sr, vsplat(1.0 / 24.0));
  p = vmadd(p, sr, vsplat(-1.0 / 6.0));
  p = vmadd(p, sr, vsplat(0.5));
  p = vmadd(p, sr, vsplat(-1.0));
  p = vmadd(p, sr, one());
  return f32x4.mul(p, pow2n(t));
}

@inline function sig(x: v128): v128 {
  return f32x4.div(one(), f32x4.add(one(), expNeg(x)));
}

@inline function tanh(x: v128): v128 {
  const q = f32x4.div(one(), f32x4.add(one(), expPos(f32x4.add(x, x))));
  return vnmadd(vsplat(2.0), q, one());
}

// σ′ from σ: s(1 − s).
@inline function dsig(s: v128): v128 {
  return f32x4.mul(s, f32x4.sub(one(), s));
}

// tanh′ from t = tanh: 1 − t².
@inline function dtanh(t: v128): v128 {
  return vnmadd(t, t, one());
}

// ─── LSTM ───────────────────────────────────────────────────────────────────

// The forward runs each row in two passes: gates and c_t for the whole row,
// then tanh(c_t) and h_t. In one pass, each vector of units is one long
// dependency chain (exp → division → c_t → exp → division → h_t, ~150
// instructions) that the out-of-order window cannot overlap with the next
// one, so the kernel ran at the chain's latency; split, the first pass has
// four independent gate chains per vector and the second is short enough for
// consecutive vectors to overlap (1.3–1.4× faster at the benchmark LSTM's
// step shape; three passes, i and f split from g and o, measured slower).

// Pass 1 at unit j: the gate activations (into act) and c_t.
@inline function lstmGatesAt(j: usize, tail: bool, Hb: usize, c: usize, act: usize, g: usize, b: usize, cp: usize): void {
  const gi = sig(addb(ld(g + j, tail), b, j, tail));
  const gf = sig(addb(ld(g + Hb + j, tail), b, Hb + j, tail));
  const gg = tanh(addb(ld(g + 2 * Hb + j, tail), b, 2 * Hb + j, tail));
  const go = sig(addb(ld(g + 3 * Hb + j, tail), b, 3 * Hb + j, tail));
  st(act + j, gi, tail);
  st(act + Hb + j, gf, tail);
  st(act + 2 * Hb + j, gg, tail);
  st(act + 3 * Hb + j, go, tail);
  st(c + j, vmadd(gf, ld(cp + j, tail), f32x4.mul(gi, gg)), tail);
}

// Pass 2 at unit j: tanh(c_t), h_t = o⊙tanh(c_t) and the output row.
@inline function lstmOutAt(j: usize, tail: bool, Hb: usize, h: usize, c: usize, tc: usize, y: usize, act: usize): void {
  const t = tanh(ld(c + j, tail));
  const hn = f32x4.mul(ld(act + 3 * Hb + j, tail), t);
  st(tc + j, t, tail);
  st(h + j, hn, tail);
  if (y != 0) st(y + j, hn, tail);
}

/**
 * One LSTM step for n rows: activations of gates + bias (written to act,
 * which may alias gates), the new cell state c, tanh(c) (kept for the
 * backward), the new hidden state h, and the output row y (stride ldy; 0
 * skips it). bias: [4H] (b_ih + b_hh) or 0.
 */
export function lstm_cell_fwd(
  h: usize, c: usize, tc: usize, y: usize, act: usize,
  gates: usize, bias: usize, hPrev: usize, cPrev: usize, mask: usize,
  n: i32, hidden: i32, ldy: i32,
): void {
  const Hb = <usize>hidden << 2;
  const body = <usize>(hidden & ~3) << 2;
  const ldyb = <usize>ldy << 2;
  for (let r = 0; r < n; r++) {
    const ro = <usize>r * Hb;
    const yr: usize = y == 0 ? 0 : y + <usize>r * ldyb;
    if (!valid(mask, r)) {
      memory.copy(h + ro, hPrev + ro, Hb);
      memory.copy(c + ro, cPrev + ro, Hb);
      if (yr != 0) memory.fill(yr, 0, Hb);
      continue;
    }
    const gr = gates + 4 * ro;
    const ar = act + 4 * ro;
    let j: usize = 0;
    for (; j < body; j += 16) lstmGatesAt(j, false, Hb, c + ro, ar, gr, bias, cPrev + ro);
    for (; j < Hb; j += 4) lstmGatesAt(j, true, Hb, c + ro, ar, gr, bias, cPrev + ro);
    j = 0;
    for (; j < body; j += 16) lstmOutAt(j, false, Hb, h + ro, c + ro, tc + ro, yr, ar);
    for (; j < Hb; j += 4) lstmOutAt(j, true, Hb, h + ro, c + ro, tc + ro, yr, ar);
  }
}

@inline function lstmBwdAt(
  j: usize, tail: bool, Hb: usize, dg: usize, dh: usize, dc: usize, dy: usize, act: usize, tc: usize, cp: usize,
): void {
  let dhe = ld(dh + j, tail);
  if (dy != 0) dhe = f32x4.add(dhe, ld(dy + j, tail));
  const gi = ld(act + j, tail);
  const gf = ld(act + Hb + j, tail);
  const gg = ld(act + 2 * Hb + j, tail);
  const go = ld(act + 3 * Hb + j, tail);
  const t = ld(tc + j, tail);
  // dc_t in total: from later steps plus through h_t = o·tanh(c_t).
  const dct = vmadd(f32x4.mul(dhe, go), dtanh(t), ld(dc + j, tail));
  st(dg + j, f32x4.mul(f32x4.mul(dct, gg), dsig(gi)), tail);
  st(dg + Hb + j, f32x4.mul(f32x4.mul(dct, ld(cp + j, tail)), dsig(gf)), tail);
  st(dg + 2 * Hb + j, f32x4.mul(f32x4.mul(dct, gi), dtanh(gg)), tail);
  st(dg + 3 * Hb + j, f32x4.mul(f32x4.mul(dhe, t), dsig(go)), tail);
  st(dc + j, f32x4.mul(dct, gf), tail);
  st(dh + j, vsplat(0.0), tail);
}

/**
 * LSTM step backward: gate gradients dgates [n, 4H] (pre-activation), and dc,
 * dh updated in place from step t to step t−1 (see the header; the caller adds
 * dgates·W_hhᵀ to dh). act, tc: the step's saved activations and tanh(c_t);
 * cPrev: c_{t−1}.
 */
export function lstm_cell_bwd(
  dgates: usize, dh: usize, dc: usize,
  dy: usize, act: usize, tc: usize, cPrev: usize, mask: usize,
  n: i32, hidden: i32, ldy: i32,
): void {
  const Hb = <usize>hidden << 2;
  const body = <usize>(hidden & ~3) << 2;
  const ldyb = <usize>ldy << 2;
  for (let r = 0; r < n; r++) {
    const ro = <usize>r * Hb;
    const dgr = dgates + 4 * ro;
    if (!valid(mask, r)) {
      memory.fill(dgr, 0, 4 * Hb);
      continue;
    }
    const dyr: usize = dy == 0 ? 0 : dy + <usize>r * ldyb;
    const ar = act + 4 * ro;
    let j: usize = 0;
    for (; j < body; j += 16) lstmBwdAt(j, false, Hb, dgr, dh + ro, dc + ro, dyr, ar, tc + ro, cPrev + ro);
    for (; j < Hb; j += 4) lstmBwdAt(j, true, Hb, dgr, dh + ro, dc + ro, dyr, ar, tc + ro, cPrev + ro);
  }
}

// ─── GRU ────────────────────────────────────────────────────────────────────

@inline function gruFwdAt(
  j: usize, tail: bool, Hb: usize, h: usize, y: usize, act: usize, gx: usize, gh: usize, bi: usize, bh: usize,
  hp: usize,
): void {
  const pr = addb(addb(f32x4.add(ld(gx + j, tail), ld(gh + j, tail)), bi, j, tail), bh, j, tail);
  const pz = addb(addb(f32x4.add(ld(gx + Hb + j, tail), ld(gh + Hb + j, tail)), bi, Hb + j, tail), bh, Hb + j, tail);
  const hn = addb(ld(gh + 2 * Hb + j, tail), bh, 2 * Hb + j, tail);
  const xn = addb(ld(gx + 2 * Hb + j, tail), bi, 2 * Hb + j, tail);
  const r = sig(pr);
  const z = sig(pz);
  const nn = tanh(vmadd(r, hn, xn));
  const hv = ld(hp + j, tail);
  const hnew = vmadd(z, f32x4.sub(hv, nn), nn); // (1 − z)·n + z·h
  st(act + j, r, tail);
  st(act + Hb + j, z, tail);
  st(act + 2 * Hb + j, nn, tail);
  st(act + 3 * Hb + j, hn, tail);
  st(h + j, hnew, tail);
  if (y != 0) st(y + j, hnew, tail);
}

/**
 * One GRU step for n rows. gx = x·W_ih and gh = h·W_hh for this step (without
 * biases), bih, bhh = b_ih, b_hh [3H] or 0. Writes act (r, z, n, hn) for the
 * backward, the new state h and the output row y (stride ldy; 0 skips it).
 */
export function gru_cell_fwd(
  h: usize, y: usize, act: usize,
  gx: usize, gh: usize, bih: usize, bhh: usize, hPrev: usize, mask: usize,
  n: i32, hidden: i32, ldy: i32,
): void {
  const Hb = <usize>hidden << 2;
  const body = <usize>(hidden & ~3) << 2;
  const ldyb = <usize>ldy << 2;
  for (let r = 0; r < n; r++) {
    const ro = <usize>r * Hb;
    const yr: usize = y == 0 ? 0 : y + <usize>r * ldyb;
    if (!valid(mask, r)) {
      memory.copy(h + ro, hPrev + ro, Hb);
      if (yr != 0) memory.fill(yr, 0, Hb);
      continue;
    }
    const ar = act + 4 * ro;
    const gxr = gx + 3 * ro;
    const ghr = gh + 3 * ro;
    let j: usize = 0;
    for (; j < body; j += 16) gruFwdAt(j, false, Hb, h + ro, yr, ar, gxr, ghr, bih, bhh, hPrev + ro);
    for (; j < Hb; j += 4) gruFwdAt(j, true, Hb, h + ro, yr, ar, gxr, ghr, bih, bhh, hPrev + ro);
  }
}

@inline function gruBwdAt(
  j: usize, tail: bool, Hb: usize, dgx: usize, dgh: usize, dh: usize, dy: usize, act: usize, hp: usize,
): void {
  let dhe = ld(dh + j, tail);
  if (dy != 0) dhe = f32x4.add(dhe, ld(dy + j, tail));
  const r = ld(act + j, tail);
  const z = ld(act + Hb + j, tail);
  const nn = ld(act + 2 * Hb + j, tail);
  const hn = ld(act + 3 * Hb + j, tail);
  const hv = ld(hp + j, tail);
  // h' = n + z·(h − n)
  const dnpre = f32x4.mul(f32x4.mul(dhe, f32x4.sub(one(), z)), dtanh(nn));
  const dzpre = f32x4.mul(f32x4.mul(dhe, f32x4.sub(hv, nn)), dsig(z));
  const drpre = f32x4.mul(f32x4.mul(dnpre, hn), dsig(r));
  st(dgx + j, drpre, tail);
  st(dgx + Hb + j, dzpre, tail);
  st(dgx + 2 * Hb + j, dnpre, tail);
  st(dgh + j, drpre, tail);
  st(dgh + Hb + j, dzpre, tail);
  st(dgh + 2 * Hb + j, f32x4.mul(dnpre, r), tail);
  st(dh + j, f32x4.mul(dhe, z), tail);
}

/**
 * GRU step backward: dgx [n, 3H] (gradient of x·W_ih + b_ih), dgh [n, 3H]
 * (gradient of h·W_hh + b_hh), and dh updated in place (the caller adds
 * dgh·W_hhᵀ). act: the saved r, z, n, hn; hPrev: h_{t−1}.
 */
export function gru_cell_bwd(
  dgx: usize, dgh: usize, dh: usize,
  dy: usize, act: usize, hPrev: usize, mask: usize,
  n: i32, hidden: i32, ldy: i32,
): void {
  const Hb = <usize>hidden << 2;
  const body = <usize>(hidden & ~3) << 2;
  const ldyb = <usize>ldy << 2;
  for (let r = 0; r < n; r++) {
    const ro = <usize>r * Hb;
    const dgxr = dgx + 3 * ro;
    const dghr = dgh + 3 * ro;
    if (!valid(mask, r)) {
      memory.fill(dgxr, 0, 3 * Hb);
      memory.fill(dghr, 0, 3 * Hb);
      continue;
    }
    const dyr: usize = dy == 0 ? 0 : dy + <usize>r * ldyb;
    const ar = act + 4 * ro;
    let j: usize = 0;
    for (; j < body; j += 16) gruBwdAt(j, false, Hb, dgxr, dghr, dh + ro, dyr, ar, hPrev + ro);
    for (; j < Hb; j += 4) gruBwdAt(j, true, Hb, dgxr, dghr, dh + ro, dyr, ar, hPrev + ro);
  }
}

// ─── Elman RNN ──────────────────────────────────────────────────────────────

@inline function rnnFwdAt(j: usize, tail: bool, h: usize, y: usize, pre: usize, b: usize, relu: bool): void {
  const p = addb(ld(pre + j, tail), b, j, tail);
  const v = relu ? f32x4.max(p, vsplat(0.0)) : tanh(p);
  st(h + j, v, tail);
  if (y != 0) st(y + j, v, tail);
}

/**
 * One Elman RNN step: h = tanh(pre + bias) (relu != 0: max(·, 0)), pre = x·W_ih
 * + h_{t−1}·W_hh for this step, bias [H] (b_ih + b_hh) or 0; output row y
 * (stride ldy; 0 skips it).
 */
export function rnn_cell_fwd(
  h: usize, y: usize,
  pre: usize, bias: usize, hPrev: usize, mask: usize,
  n: i32, hidden: i32, ldy: i32, relu: i32,
): void {
  const Hb = <usize>hidden << 2;
  const body = <usize>(hidden & ~3) << 2;
  const ldyb = <usize>ldy << 2;
  for (let r = 0; r < n; r++) {
    const ro = <usize>r * Hb;
    const yr: usize = y == 0 ? 0 : y + <usize>r * ldyb;
    if (!valid(mask, r)) {
      memory.copy(h + ro, hPrev + ro, Hb);
      if (yr != 0) memory.fill(yr, 0, Hb);
      continue;
    }
    let j: usize = 0;
    if (relu != 0) {
      for (; j < body; j += 16) rnnFwdAt(j, false, h + ro, yr, pre + ro, bias, true);
      for (; j < Hb; j += 4) rnnFwdAt(j, true, h + ro, yr, pre + ro, bias, true);
    } else {
      for (; j < body; j += 16) rnnFwdAt(j, false, h + ro, yr, pre + ro, bias, false);
      for (; j < Hb; j += 4) rnnFwdAt(j, true, h + ro, yr, pre + ro, bias, false);
    }
  }
}

@inline function rnnBwdAt(j: usize, tail: bool, dpre: usize, dh: usize, dy: usize, h: usize, relu: bool): void {
  let dhe = ld(dh + j, tail);
  if (dy != 0) dhe = f32x4.add(dhe, ld(dy + j, tail));
  const hv = ld(h + j, tail);
  const d = relu ? v128.and(dhe, f32x4.gt(hv, vsplat(0.0))) : f32x4.mul(dhe, dtanh(hv));
  st(dpre + j, d, tail);
  st(dh + j, vsplat(0.0), tail);
}

/**
 * Elman RNN step backward: dpre [n, H] from dh (+ dy) and the step's output
 * h; dh becomes the non-W_hh part of the gradient of h_{t−1} (0 on valid rows,
 * unchanged on padded ones).
 */
export function rnn_cell_bwd(
  dpre: usize, dh: usize,
  dy: usize, h: usize, mask: usize,
  n: i32, hidden: i32, ldy: i32, relu: i32,
): void {
  const Hb = <usize>hidden << 2;
  const body = <usize>(hidden & ~3) << 2;
  const ldyb = <usize>ldy << 2;
  for (let r = 0; r < n; r++) {
    const ro = <usize>r * Hb;
    if (!valid(mask, r)) {
      memory.fill(dpre + ro, 0, Hb);
      continue;
    }
    const dyr: usize = dy == 0 ? 0 : dy + <usize>r * ldyb;
    let j: usize = 0;
    if (relu != 0) {
      for (; j < body; j += 16) rnnBwdAt(j, false, dpre + ro, dh + ro, dyr, h + ro, true);
      for (; j < Hb; j += 4) rnnBwdAt(j, true, dpre + ro, dh + ro, dyr, h + ro, true);
    } else {
      for (; j < body; j += 16) rnnBwdAt(j, false, dpre + ro, dh + ro, dyr, h + ro, false);
      for (; j < Hb; j += 4) rnnBwdAt(j, true, dpre + ro, dh + ro, dyr, h + ro, false);
    }
  }
}

// ─── the recurrent product with pre-packed weights ──────────────────────────
//
// Every step multiplies a small state block (n = batch rows) by the same W_hh
// (forward: h·W_hh; backward: dgates·W_hhᵀ). A general GEMM call re-packs
// W_hh at every step; here it is packed once per sequence into 8-column
// panels (gemm.ts's layout), and each step packs only its small A block
// (4- or 5-row panels, as gemm.ts) and runs a 4×8 (or 5×8) register-tiled
// micro-kernel over the panels:
//
//   Bp panel (8 columns of op(B), k rows):  p=0: b0 … b7 | p=1: b0 … b7 | …
//   Ap panel (4 rows of A, k columns):      p=0: a0 a1 a2 a3 | p=1: …
//
//   for each B panel:               (k·32 bytes, stays in L1 …)
//     for each A panel:             (… while the small A block streams past it)
//       C[4 rows, 8 cols] = Ap·Bp + beta·C      (eight f32x4 accumulators)
//
// Measured on the 2-core EPYC dev machines (relaxed build, [32,128]·[128,512]
// and [32,512]·[512,128]): 41 GFLOPS against 30–31 for a gemm() call per step
// and 32–35 with A read in place.
//
// Tile height per build. Plain SIMD build: 5-row panels first (tiles.ts's
// micro5x8, gemm's kernel, with its peeled first k step), then 4-row ones (bigPanels: m = 32
// is 5·4 + 4·3), 10–15% faster than 4×8 on these products. Relaxed build: 4×8
// only. Its loop already runs at ~90% of the FMA peak of the Zen 3 dev hosts
// (8 accumulators cover the FMA latency; V8 hoists the broadcast addresses),
// and a 6×8 tile (gemm.ts's micro6x8, spill-free) measured 4–9% slower, a
// 5×8 one no faster.

const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 4 : 5;
const NR: i32 = 8;
// 4×8 scratch for the 4×8 tile's partial tiles. (All of a tile's accumulators go there
// before any call: a vector live across a call is spilled, and V8 spills it
// at its definition, inside the k loop: 1.6–1.9× slower.)
const EDGE: usize = memory.data(4 * NR * 4, 16);

/**
 * Packs op(B) [k, n] into 8-column panels at dst (zero-padded to a multiple of
 * 8 columns: ceil(n/8)·8·k floats). op(B) = B ([k, n], ldb ≥ n) or Bᵀ (B is
 * [n, k], ldb ≥ k).
 */
export function rnn_pack_weights(dst: usize, b: usize, k: i32, n: i32, ldb: i32, transB: i32): void {
  const ldbb = <usize>ldb << 2;
  for (let j0 = 0; j0 < n; j0 += NR) {
    const panel = dst + ((<usize>j0 * k) << 2);
    const cols = min(NR, n - j0);
    if (cols == NR && transB == 0) {
      let src = b + (<usize>j0 << 2);
      for (let p = 0; p < k; p++) {
        const d = panel + (<usize>p << 5);
        v128.store(d, v128.load(src));
        v128.store(d, v128.load(src, 16), 16);
        src += ldbb;
      }
      continue;
    }
    let p0 = 0;
    if (cols == NR) {
      // op(B) = Bᵀ: the panel's 8 columns are 8 rows of B; 4×4 transposes
      // of 4 depths at a time (the forward packs W_hhᵀ this way every call).
      const src = b + <usize>j0 * ldbb;
      for (; p0 + 4 <= k; p0 += 4) {
        const s = src + (<usize>p0 << 2);
        const d = panel + (<usize>p0 << 5);
        transpose4x4(s, ldbb, d, 32);
        transpose4x4(s + 4 * ldbb, ldbb, d + 16, 32);
      }
    }
    for (let p = p0; p < k; p++) {
      const d = panel + (<usize>p << 5);
      for (let c = 0; c < NR; c++) {
        let v: f32 = 0;
        if (c < cols) {
          const j = j0 + c;
          v = transB != 0 ? load<f32>(b + <usize>j * ldbb + (<usize>p << 2)) : load<f32>(b + <usize>p * ldbb + (<usize>j << 2));
        }
        store<f32>(d + (<usize>c << 2), v);
      }
    }
  }
}

// Number of MR-row panels for an m-row A block: the most that leave a
// remainder covered by 4-row panels with the least zero padding (so the block
// never pads more than 3 rows, and never more than all-4-row panels would:
// ceil(m/4)·4·k floats of scratch always suffice). The MR-row panels come
// first, then the 4-row ones (m = 32: 5·4 + 4·3). Plain SIMD build only.
function bigPanels(m: i32): i32 {
  let best = 0, waste = (-m) & 3;
  for (let a = 1; a * MR <= m; a++) {
    const w = (a * MR - m) & 3;
    if (w <= waste) { best = a; waste = w; }
  }
  return best;
}

// Packs op(A) [m, k] into 4-row panels at dst, rows past m zero. op(A) = A
// ([m, k], row stride lda) or Aᵀ (A is [k, m]: a panel's 4 rows at depth p are
// 4 contiguous floats).
function packRows4(dst: usize, a: usize, m: i32, k: i32, lda: i32, transA: bool): void {
  const ldab = <usize>lda << 2;
  if (transA) {
    for (let i = 0; i < m; i += 4) {
      const panel = dst + ((<usize>i * k) << 2);
      const rows = min(4, m - i);
      let src = a + (<usize>i << 2);
      for (let p = 0; p < k; p++) {
        const d = panel + (<usize>p << 4);
        if (rows == 4) v128.store(d, v128.load(src));
        else for (let r = 0; r < 4; r++) store<f32>(d + (<usize>r << 2), r < rows ? load<f32>(src + (<usize>r << 2)) : 0);
        src += ldab;
      }
    }
    return;
  }
  for (let i = 0; i < m; i += 4) {
    const src = a + <usize>i * ldab;
    const panel = dst + ((<usize>i * k) << 2);
    if (i + 4 <= m) {
      let p = 0;
      for (; p + 4 <= k; p += 4) {
        const s = src + (<usize>p << 2);
        const r0 = v128.load(s), r1 = v128.load(s + ldab), r2 = v128.load(s + 2 * ldab), r3 = v128.load(s + 3 * ldab);
        const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
        const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
        const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
        const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
        const d = panel + (<usize>p << 4);
        v128.store(d, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
        v128.store(d, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), 16);
        v128.store(d, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 32);
        v128.store(d, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 48);
      }
      for (; p < k; p++) {
        const s = src + (<usize>p << 2);
        const d = panel + (<usize>p << 4);
        store<f32>(d, load<f32>(s));
        store<f32>(d, load<f32>(s + ldab), 4);
        store<f32>(d, load<f32>(s + 2 * ldab), 8);
        store<f32>(d, load<f32>(s + 3 * ldab), 12);
      }
    } else {
      const rows = m - i;
      for (let p = 0; p < k; p++) {
        const d = panel + (<usize>p << 4);
        for (let r = 0; r < 4; r++) {
          store<f32>(d + (<usize>r << 2), r < rows ? load<f32>(src + <usize>r * ldab + (<usize>p << 2)) : 0);
        }
      }
    }
  }
}

// Packs op(A) [m, k] at dst: `big` (≥ 1) panels of MR (5) rows, then 4-row
// panels, the last one zero-padded past m (big = 0 runs packRows4); the panel
// holding row i starts at i·k floats.
// op(A) = A ([m, k], row stride lda) or Aᵀ (A is [k, m]: a panel's rows at
// depth p are contiguous floats).
function packRows(dst: usize, a: usize, m: i32, k: i32, lda: i32, transA: bool, big: i32): void {
  const ldab = <usize>lda << 2;
  for (let i = 0, h = 0; i < m; i += h) {
    h = i < big * MR ? MR : 4;
    const rows = min(h, m - i);
    const panel = dst + ((<usize>i * k) << 2);
    const src = transA ? a + (<usize>i << 2) : a + <usize>i * ldab;
    if (rows < h) packAPartial(panel, src, ldab, transA, h, rows, k);
    else packAPanel(panel, src, ldab, transA, h, k);
  }
}

// C[0:rows, 0:cols] = Ap·Bp + beta·C (rows ≤ 4, cols ≤ 8; beta = 0: C not read).
@inline function tile(c: usize, ldcb: usize, ap: usize, bp: usize, k: i32, rows: i32, cols: i32, beta: f32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let a = ap, b = bp;
  for (let p = 0; p < k; p++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let av = v128.load32_splat(a);
    c00 = vmadd(av, b0, c00);
    c01 = vmadd(av, b1, c01);
    av = v128.load32_splat(a, 4);
    c10 = vmadd(av, b0, c10);
    c11 = vmadd(av, b1, c11);
    av = v128.load32_splat(a, 8);
    c20 = vmadd(av, b0, c20);
    c21 = vmadd(av, b1, c21);
    av = v128.load32_splat(a, 12);
    c30 = vmadd(av, b0, c30);
    c31 = vmadd(av, b1, c31);
    a += 16;
    b += 32;
  }
  if (rows == 4 && cols == NR) {
    let cr = c;
    if (beta == 0) {
      v128.store(cr, c00); v128.store(cr, c01, 16); cr += ldcb;
      v128.store(cr, c10); v128.store(cr, c11, 16); cr += ldcb;
      v128.store(cr, c20); v128.store(cr, c21, 16); cr += ldcb;
      v128.store(cr, c30); v128.store(cr, c31, 16);
    } else {
      const vb = f32x4.splat(beta);
      v128.store(cr, vmadd(v128.load(cr), vb, c00)); v128.store(cr, vmadd(v128.load(cr, 16), vb, c01), 16); cr += ldcb;
      v128.store(cr, vmadd(v128.load(cr), vb, c10)); v128.store(cr, vmadd(v128.load(cr, 16), vb, c11), 16); cr += ldcb;
      v128.store(cr, vmadd(v128.load(cr), vb, c20)); v128.store(cr, vmadd(v128.load(cr, 16), vb, c21), 16); cr += ldcb;
      v128.store(cr, vmadd(v128.load(cr), vb, c30)); v128.store(cr, vmadd(v128.load(cr, 16), vb, c31), 16);
    }
    return;
  }
  v128.store(EDGE, c00); v128.store(EDGE, c01, 16);
  v128.store(EDGE, c10, 32); v128.store(EDGE, c11, 48);
  v128.store(EDGE, c20, 64); v128.store(EDGE, c21, 80);
  v128.store(EDGE, c30, 96); v128.store(EDGE, c31, 112);
  for (let r = 0; r < rows; r++) {
    const row = c + <usize>r * ldcb;
    for (let j = 0; j < cols; j++) {
      const v = load<f32>(EDGE + (<usize>(r * NR + j) << 2));
      const dst = row + (<usize>j << 2);
      store<f32>(dst, beta == 0 ? v : v + beta * load<f32>(dst));
    }
  }
}

/**
 * C [m, n] (ldc) = op(A) [m, k] · op(B) + beta·C, with op(B) packed by
 * `rnn_pack_weights`; op(A) = A ([m, k], lda) or Aᵀ (A is [k, m], lda);
 * ws: ceil(m/4)·4·k floats of scratch for packed A. beta = 0: C is write-only.
 */
export function rnn_matmul_packed(
  c: usize, a: usize, bp: usize, ws: usize, m: i32, n: i32, k: i32, lda: i32, ldc: i32, transA: i32, beta: f32,
): void {
  if (m <= 0 || n <= 0) return;
  if (!ASC_FEATURE_RELAXED_SIMD && k > 0) {
    const ldcb = <usize>ldc << 2;
    // 5-row panels (micro5x8 with alpha = 1, no bias; it peels k = 0, so k ≥ 1),
    // then 4-row ones.
    const big = bigPanels(m);
    if (big == 0) packRows4(ws, a, m, k, lda, transA != 0);
    else packRows(ws, a, m, k, lda, transA != 0, big);
    const mBig = big * MR;
    const m4 = mBig + ((m - mBig) & ~3);
    for (let j0 = 0; j0 < n; j0 += NR) {
      const panel = bp + ((<usize>j0 * k) << 2);
      const cols = min(NR, n - j0);
      const cc = c + (<usize>j0 << 2);
      for (let i = 0; i < mBig; i += MR) micro5x8(k, ws + ((<usize>i * k) << 2), panel, cc + <usize>i * ldcb, ldcb, MR, cols, 1, beta, 0);
      if (cols == NR) {
        for (let i = mBig; i < m4; i += 4) tile(cc + <usize>i * ldcb, ldcb, ws + ((<usize>i * k) << 2), panel, k, 4, NR, beta);
      } else {
        for (let i = mBig; i < m4; i += 4) tile(cc + <usize>i * ldcb, ldcb, ws + ((<usize>i * k) << 2), panel, k, 4, cols, beta);
      }
      if (m4 < m) tile(cc + <usize>m4 * ldcb, ldcb, ws + ((<usize>m4 * k) << 2), panel, k, m - m4, cols, beta);
    }
    return;
  }
  // Relaxed build (and k = 0): 4-row panels and the 4×8 tile only.
  packRows4(ws, a, m, k, lda, transA != 0);
  const ldcb = <usize>ldc << 2;
  const mFull = m & ~3;
  for (let j0 = 0; j0 < n; j0 += NR) {
    const panel = bp + ((<usize>j0 * k) << 2);
    const cols = min(NR, n - j0);
    const cc = c + (<usize>j0 << 2);
    if (cols == NR) {
      for (let i = 0; i < mFull; i += 4) tile(cc + <usize>i * ldcb, ldcb, ws + ((<usize>i * k) << 2), panel, k, 4, NR, beta);
    } else {
      for (let i = 0; i < mFull; i += 4) tile(cc + <usize>i * ldcb, ldcb, ws + ((<usize>i * k) << 2), panel, k, 4, cols, beta);
    }
    if (mFull < m) tile(cc + <usize>mFull * ldcb, ldcb, ws + ((<usize>mFull * k) << 2), panel, k, m - mFull, cols, beta);
  }
}
