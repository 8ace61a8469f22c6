// LayerNorm and RMSNorm over the last axis: fused forward and backward.
//
// x is seen as [rows, n]: every row of n contiguous floats is normalised on
// its own. (A BatchNorm family, which normalises over the batch instead, would
// live in its own file.)
//
//   LayerNorm:  μ = mean(x),  σ² = mean((x − μ)²),  r = 1/√(σ² + ε)
//               x̂ = (x − μ)·r,   y = x̂·γ + β
//   backward:   g = dy·γ
//               dx = r·(g − mean(g) − x̂·mean(g·x̂))
//               dγ = Σ_rows dy·x̂,   dβ = Σ_rows dy
//
//   RMSNorm:    r = 1/√(mean(x²) + ε),  x̂ = x·r,  y = x̂·γ
//   backward:   g = dy·γ
//               dx = r·(g − x̂·mean(g·x̂)),   dγ = Σ_rows dy·x̂
//
// The forward saves μ and r per row (two floats), so the backward needs no
// second pass over the statistics. Variance is computed from x − μ (two
// passes), not E[x²] − μ², so rows with a large mean keep their precision.
// γ (gamma) and β (beta) are optional: a pointer of 0 means "absent" (γ = 1,
// β = 0); the heap never hands out address 0. dγ and dβ are overwritten
// (zeroed, then summed over the rows) when their pointers are non-zero.
//
// Passes per row: forward 3 (sum, squared deviations, scale), backward 2
// (the two means together with dγ/dβ accumulation, then dx). SIMD over n,
// scalar tails. Reference: Ba, Kiros & Hinton, "Layer Normalization" (2016);
// Zhang & Sennrich, "Root Mean Square Layer Normalization" (2019); llm.c's
// layernorm_forward/backward.

import { vmadd, vsplat } from "./vmath";

@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

@inline function ldg(p: usize, off: usize): v128 {
  return p == 0 ? vsplat(1.0) : v128.load(p + off);
}

@inline function ldgs(p: usize, off: usize): f32 {
  return p == 0 ? <f32>1.0 : load<f32>(p + off);
}

// Σ (x − c) over one row (c = the row's first element: summing deviations
// instead of raw values keeps rows with a large mean precise in float32).
function rowSum(x: usize, bytes: usize, c: f32): f32 {
  const vc = vsplat(c);
  let a0 = vsplat(0), a1 = vsplat(0);
  let i: usize = 0;
  for (; i + 32 <= bytes; i += 32) {
    a0 = f32x4.add(a0, f32x4.sub(v128.load(x + i), vc));
    a1 = f32x4.add(a1, f32x4.sub(v128.load(x + i, 16), vc));
  }
  for (; i + 16 <= bytes; i += 16) a0 = f32x4.add(a0, f32x4.sub(v128.load(x + i), vc));
  let s = hsum(f32x4.add(a0, a1));
  for (; i < bytes; i += 4) s += load<f32>(x + i) - c;
  return s;
}

// Σ (x − c)² over one row.
function rowSqDev(x: usize, bytes: usize, c: f32): f32 {
  const vc = vsplat(c);
  let a0 = vsplat(0), a1 = vsplat(0);
  let i: usize = 0;
  for (; i + 32 <= bytes; i += 32) {
    const d0 = f32x4.sub(v128.load(x + i), vc);
    const d1 = f32x4.sub(v128.load(x + i, 16), vc);
    a0 = vmadd(d0, d0, a0);
    a1 = vmadd(d1, d1, a1);
  }
  for (; i + 16 <= bytes; i += 16) {
    const d0 = f32x4.sub(v128.load(x + i), vc);
    a0 = vmadd(d0, d0, a0);
  }
  let s = hsum(f32x4.add(a0, a1));
  for (; i < bytes; i += 4) {
    const d = load<f32>(x + i) - c;
    s += d * d;
  }
  return s;
}

// y = (x − mu)·r·γ + β over one row (γ, β may be 0 = absent).
function rowNormalize(y: usize, x: usize, gamma: usize, beta: usize, bytes: usize, mu: f32, r: f32): void {
  const vm = vsplat(mu), vr = vsplat(r);
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) {
    const xh = f32x4.mul(f32x4.sub(v128.load(x + i), vm), vr);
    const g = ldg(gamma, i);
    v128.store(y + i, beta == 0 ? f32x4.mul(xh, g) : vmadd(xh, g, v128.load(beta + i)));
  }
  for (; i < bytes; i += 4) {
    const xh = (load<f32>(x + i) - mu) * r;
    store<f32>(y + i, xh * ldgs(gamma, i) + (beta == 0 ? <f32>0 : load<f32>(beta + i)));
  }
}

// ─── four rows at a time ────────────────────────────────────────────────────
//
// A row's statistics are a chain of dependent adds (sum, then squared
// deviations, then 1/√ in float64), and short rows (n = 64 in the bench
// transformer: 16 vectors) leave that chain exposed. The forward takes blocks
// of four rows: four independent chains interleave, each reduction ends in
// one 4×4 transpose-add (hsum4: lane k = row k's total) and the four
// 1/√(σ² + ε) are two f64x2 operations (the same float64 arithmetic as the
// one-row code) — 65 → 42 µs for [1024, 64]. The backward takes pairs of
// rows (normBwd2), which also halves the loads and stores of dγ, dβ.

// [Σa, Σb, Σc, Σd] over each vector's lanes.
@inline function hsum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const u0 = f32x4.add(v128.shuffle<f32>(a, b, 0, 4, 1, 5), v128.shuffle<f32>(a, b, 2, 6, 3, 7));
  const u1 = f32x4.add(v128.shuffle<f32>(c, d, 0, 4, 1, 5), v128.shuffle<f32>(c, d, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(u0, u1, 0, 1, 4, 5), v128.shuffle<f32>(u0, u1, 2, 3, 6, 7));
}

// [x0, x1, x2, x3] from four scalars.
@inline function vec4(x0: f32, x1: f32, x2: f32, x3: f32): v128 {
  return f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(x0), 1, x1), 2, x2), 3, x3);
}

// 1/√(v + ε) per lane, in float64 (as the one-row code does), rounded to float32.
@inline function rsqrt4(v: v128, eps: f32): v128 {
  const e = f64x2.splat(<f64>eps), one = f64x2.splat(1.0);
  const lo = f64x2.div(one, f64x2.sqrt(f64x2.add(f64x2.promote_low_f32x4(v), e)));
  const hi = f64x2.div(one, f64x2.sqrt(f64x2.add(f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3)), e)));
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

// Rows r … r+3 of layernorm_fwd (centered) or rmsnorm_fwd (not: μ = 0).
@inline function normFwd4(
  y: usize, mean: usize, rstd: usize, x: usize, gamma: usize, beta: usize, r: i32, bytes: usize, invN: f32, eps: f32,
  centered: bool,
): void {
  const x0 = x + <usize>r * bytes, x1 = x0 + bytes, x2 = x1 + bytes, x3 = x2 + bytes;
  let mu = f32x4.splat(0);
  if (centered) {
    // Σ (x − c) with c = the row's first element (see rowSum).
    const c0 = load<f32>(x0), c1 = load<f32>(x1), c2 = load<f32>(x2), c3 = load<f32>(x3);
    const v0 = vsplat(c0), v1 = vsplat(c1), v2 = vsplat(c2), v3 = vsplat(c3);
    let a0 = vsplat(0), a1 = a0, a2 = a0, a3 = a0;
    let i: usize = 0;
    for (; i + 16 <= bytes; i += 16) {
      a0 = f32x4.add(a0, f32x4.sub(v128.load(x0 + i), v0));
      a1 = f32x4.add(a1, f32x4.sub(v128.load(x1 + i), v1));
      a2 = f32x4.add(a2, f32x4.sub(v128.load(x2 + i), v2));
      a3 = f32x4.add(a3, f32x4.sub(v128.load(x3 + i), v3));
    }
    let S = hsum4(a0, a1, a2, a3);
    for (; i < bytes; i += 4) {
      S = f32x4.add(S, vec4(load<f32>(x0 + i) - c0, load<f32>(x1 + i) - c1, load<f32>(x2 + i) - c2, load<f32>(x3 + i) - c3));
    }
    mu = vmadd(S, vsplat(invN), vec4(c0, c1, c2, c3));
  }
  const m0 = vsplat(f32x4.extract_lane(mu, 0)), m1 = vsplat(f32x4.extract_lane(mu, 1));
  const m2 = vsplat(f32x4.extract_lane(mu, 2)), m3 = vsplat(f32x4.extract_lane(mu, 3));
  let q0 = vsplat(0), q1 = q0, q2 = q0, q3 = q0;
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) {
    const d0 = f32x4.sub(v128.load(x0 + i), m0), d1 = f32x4.sub(v128.load(x1 + i), m1);
    const d2 = f32x4.sub(v128.load(x2 + i), m2), d3 = f32x4.sub(v128.load(x3 + i), m3);
    q0 = vmadd(d0, d0, q0);
    q1 = vmadd(d1, d1, q1);
    q2 = vmadd(d2, d2, q2);
    q3 = vmadd(d3, d3, q3);
  }
  let Q = hsum4(q0, q1, q2, q3);
  for (; i < bytes; i += 4) {
    const d = f32x4.sub(vec4(load<f32>(x0 + i), load<f32>(x1 + i), load<f32>(x2 + i), load<f32>(x3 + i)), mu);
    Q = vmadd(d, d, Q);
  }
  const rs = rsqrt4(f32x4.mul(Q, vsplat(invN)), eps);
  const ro = <usize>r << 2;
  if (centered) v128.store(mean + ro, mu);
  v128.store(rstd + ro, rs);
  const y0 = y + <usize>r * bytes;
  rowNormalize(y0, x0, gamma, beta, bytes, f32x4.extract_lane(mu, 0), f32x4.extract_lane(rs, 0));
  rowNormalize(y0 + bytes, x1, gamma, beta, bytes, f32x4.extract_lane(mu, 1), f32x4.extract_lane(rs, 1));
  rowNormalize(y0 + 2 * bytes, x2, gamma, beta, bytes, f32x4.extract_lane(mu, 2), f32x4.extract_lane(rs, 2));
  rowNormalize(y0 + 3 * bytes, x3, gamma, beta, bytes, f32x4.extract_lane(mu, 3), f32x4.extract_lane(rs, 3));
}

/**
 * LayerNorm forward over rows of n: y [rows, n], mean and rstd [rows] (saved
 * for the backward), from x [rows, n], γ [n] or 0, β [n] or 0.
 */
export function layernorm_fwd(
  y: usize, mean: usize, rstd: usize, x: usize, gamma: usize, beta: usize, rows: i32, n: i32, eps: f32,
): void {
  const bytes = <usize>n << 2;
  const invN = <f32>(1.0 / <f64>n);
  let r0 = 0;
  if (n > 0) for (; r0 + 4 <= rows; r0 += 4) normFwd4(y, mean, rstd, x, gamma, beta, r0, bytes, invN, eps, true);
  for (let r = r0; r < rows; r++) {
    const off = <usize>r * bytes;
    const c = n > 0 ? load<f32>(x + off) : <f32>0;
    const mu = c + rowSum(x + off, bytes, c) * invN;
    const variance = rowSqDev(x + off, bytes, mu) * invN;
    const rs = <f32>(1.0 / Math.sqrt(<f64>variance + <f64>eps));
    store<f32>(mean + (<usize>r << 2), mu);
    store<f32>(rstd + (<usize>r << 2), rs);
    rowNormalize(y + off, x + off, gamma, beta, bytes, mu, rs);
  }
}

// Shared backward for both norms (mu = 0 and centered = false for RMSNorm):
// pass 1 accumulates Σg, Σg·x̂ and dγ, dβ; pass 2 writes dx (acc: adds to it).
@inline function normBackward(
  dx: usize, dgamma: usize, dbeta: usize, dy: usize, x: usize, mean: usize, rstd: usize, gamma: usize,
  rows: i32, n: i32, centered: bool, acc: bool,
): void {
  const bytes = <usize>n << 2;
  const invN = <f32>(1.0 / <f64>n);
  if (dgamma != 0) memory.fill(dgamma, 0, bytes);
  if (dbeta != 0) memory.fill(dbeta, 0, bytes);
  let r0 = 0;
  for (; r0 + 2 <= rows; r0 += 2) normBwd2(dx, dgamma, dbeta, dy, x, mean, rstd, gamma, r0, bytes, invN, centered, acc);
  for (let r = r0; r < rows; r++) {
    const off = <usize>r * bytes;
    const mu: f32 = centered ? load<f32>(mean + (<usize>r << 2)) : 0;
    const rs = load<f32>(rstd + (<usize>r << 2));
    const vm = vsplat(mu), vr = vsplat(rs);
    const xr = x + off, gr = dy + off, dr = dx + off;
    // pass 1
    let sg = vsplat(0), sgx = vsplat(0);
    let i: usize = 0;
    for (; i + 16 <= bytes; i += 16) {
      const xh = f32x4.mul(f32x4.sub(v128.load(xr + i), vm), vr);
      const d = v128.load(gr + i);
      const g = f32x4.mul(d, ldg(gamma, i));
      sg = f32x4.add(sg, g);
      sgx = vmadd(g, xh, sgx);
      if (dgamma != 0) v128.store(dgamma + i, vmadd(d, xh, v128.load(dgamma + i)));
      if (dbeta != 0) v128.store(dbeta + i, f32x4.add(d, v128.load(dbeta + i)));
    }
    let a = hsum(sg), b = hsum(sgx);
    for (; i < bytes; i += 4) {
      const xh = (load<f32>(xr + i) - mu) * rs;
      const d = load<f32>(gr + i);
      const g = d * ldgs(gamma, i);
      a += g;
      b += g * xh;
      if (dgamma != 0) store<f32>(dgamma + i, load<f32>(dgamma + i) + d * xh);
      if (dbeta != 0) store<f32>(dbeta + i, load<f32>(dbeta + i) + d);
    }
    a *= invN;
    b *= invN;
    if (!centered) a = 0;
    // pass 2: dx = r·(g − a − x̂·b)
    rowDx(dr, xr, gr, gamma, bytes, mu, rs, a, b, acc);
  }
}

// Rows r, r+1 of the backward (see normBackward): pass 1 for both rows
// together (dγ, dβ updated once per vector per two rows, rows accumulated in
// order), pass 2 row by row. (Four rows' accumulators, means and scales
// would need more than V8's 15 vector registers: measured slower.)
@inline function normBwd2(
  dx: usize, dgamma: usize, dbeta: usize, dy: usize, x: usize, mean: usize, rstd: usize, gamma: usize,
  r: i32, bytes: usize, invN: f32, centered: bool, acc: bool,
): void {
  const ro = <usize>r << 2;
  const mu0: f32 = centered ? load<f32>(mean + ro) : 0, mu1: f32 = centered ? load<f32>(mean + ro, 4) : 0;
  const rs0 = load<f32>(rstd + ro), rs1 = load<f32>(rstd + ro, 4);
  const off = <usize>r * bytes;
  const x0 = x + off, x1 = x0 + bytes;
  const g0 = dy + off, g1 = g0 + bytes;
  const m0 = vsplat(mu0), m1 = vsplat(mu1), s0 = vsplat(rs0), s1 = vsplat(rs1);
  let sg0 = vsplat(0), sg1 = sg0, sx0 = sg0, sx1 = sg0;
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) {
    const gm = ldg(gamma, i);
    const h0 = f32x4.mul(f32x4.sub(v128.load(x0 + i), m0), s0), d0 = v128.load(g0 + i);
    const h1 = f32x4.mul(f32x4.sub(v128.load(x1 + i), m1), s1), d1 = v128.load(g1 + i);
    let g = f32x4.mul(d0, gm);
    sg0 = f32x4.add(sg0, g);
    sx0 = vmadd(g, h0, sx0);
    g = f32x4.mul(d1, gm);
    sg1 = f32x4.add(sg1, g);
    sx1 = vmadd(g, h1, sx1);
    if (dgamma != 0) v128.store(dgamma + i, vmadd(d1, h1, vmadd(d0, h0, v128.load(dgamma + i))));
    if (dbeta != 0) v128.store(dbeta + i, f32x4.add(d1, f32x4.add(d0, v128.load(dbeta + i))));
  }
  let a0 = hsum(sg0), a1 = hsum(sg1), b0 = hsum(sx0), b1 = hsum(sx1);
  for (; i < bytes; i += 4) {
    const gm = ldgs(gamma, i);
    const h0 = (load<f32>(x0 + i) - mu0) * rs0, d0 = load<f32>(g0 + i);
    const h1 = (load<f32>(x1 + i) - mu1) * rs1, d1 = load<f32>(g1 + i);
    a0 += d0 * gm;
    b0 += d0 * gm * h0;
    a1 += d1 * gm;
    b1 += d1 * gm * h1;
    if (dgamma != 0) store<f32>(dgamma + i, load<f32>(dgamma + i) + d0 * h0 + d1 * h1);
    if (dbeta != 0) store<f32>(dbeta + i, load<f32>(dbeta + i) + d0 + d1);
  }
  rowDx(dx + off, x0, g0, gamma, bytes, mu0, rs0, centered ? a0 * invN : 0, b0 * invN, acc);
  rowDx(dx + off + bytes, x1, g1, gamma, bytes, mu1, rs1, centered ? a1 * invN : 0, b1 * invN, acc);
}

// dx = r·(g − a − x̂·b) over one row, g = dy·γ, x̂ = (x − μ)·r; acc: dx +=
// (the same value added, so the same bits as a separate add pass).
@inline function rowDx(dr: usize, xr: usize, gr: usize, gamma: usize, bytes: usize, mu: f32, rs: f32, a: f32, b: f32, acc: bool): void {
  const vm = vsplat(mu), vr = vsplat(rs), va = vsplat(a), vb = vsplat(b);
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) {
    const xh = f32x4.mul(f32x4.sub(v128.load(xr + i), vm), vr);
    const g = f32x4.mul(v128.load(gr + i), ldg(gamma, i));
    const d = f32x4.mul(vr, f32x4.sub(f32x4.sub(g, va), f32x4.mul(xh, vb)));
    v128.store(dr + i, acc ? f32x4.add(v128.load(dr + i), d) : d);
  }
  for (; i < bytes; i += 4) {
    const xh = (load<f32>(xr + i) - mu) * rs;
    const g = load<f32>(gr + i) * ldgs(gamma, i);
    const d = rs * (g - a - xh * b);
    store<f32>(dr + i, acc ? load<f32>(dr + i) + d : d);
  }
}

/**
 * LayerNorm backward: dx [rows, n]; dγ, dβ [n] (overwritten; 0 = not wanted)
 * from dy, x, the saved mean and rstd, and γ (0 = absent). accDx ≠ 0: dx is
 * added to instead of overwritten (autograd hands in x's pending gradient —
 * a pre-norm block's residual stream — which saves the add pass after).
 */
export function layernorm_bwd(
  dx: usize, dgamma: usize, dbeta: usize, dy: usize, x: usize, mean: usize, rstd: usize, gamma: usize, rows: i32, n: i32,
  accDx: i32,
): void {
  normBackward(dx, dgamma, dbeta, dy, x, mean, rstd, gamma, rows, n, true, accDx != 0);
}

/** RMSNorm forward: y [rows, n] and rstd [rows] from x [rows, n] and γ [n] (or 0). */
export function rmsnorm_fwd(y: usize, rstd: usize, x: usize, gamma: usize, rows: i32, n: i32, eps: f32): void {
  const bytes = <usize>n << 2;
  const invN = <f32>(1.0 / <f64>n);
  let r0 = 0;
  for (; r0 + 4 <= rows; r0 += 4) normFwd4(y, 0, rstd, x, gamma, 0, r0, bytes, invN, eps, false);
  for (let r = r0; r < rows; r++) {
    const off = <usize>r * bytes;
    const ms = rowSqDev(x + off, bytes, 0) * invN;
    const rs = <f32>(1.0 / Math.sqrt(<f64>ms + <f64>eps));
    store<f32>(rstd + (<usize>r << 2), rs);
    rowNormalize(y + off, x + off, gamma, 0, bytes, 0, rs);
  }
}

/** RMSNorm backward: dx [rows, n] and dγ [n] (overwritten; 0 = not wanted); accDx as layernorm_bwd's. */
export function rmsnorm_bwd(
  dx: usize, dgamma: usize, dy: usize, x: usize, rstd: usize, gamma: usize, rows: i32, n: i32, accDx: i32,
): void {
  normBackward(dx, dgamma, 0, dy, x, 0, rstd, gamma, rows, n, false, accDx != 0);
}
