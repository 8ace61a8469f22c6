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

/**
 * LayerNorm forward over rows of n: y [rows, n], mean and rstd [rows] (saved
 * for the backward), from x [rows, n], γ [n] or 0, β [n] or 0.
 */
export function layernorm_fwd(
  y: usize, mean: usize, rstd: usize, x: usize, gamma: usize, beta: usize, rows: i32, n: i32, eps: f32,
): void {
  const bytes = <usize>n << 2;
  const invN = <f32>(1.0 / <f64>n);
  for (let r = 0; r < rows; r++) {
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
// pass 1 accumulates Σg, Σg·x̂ and dγ, dβ; pass 2 writes dx.
@inline function normBackward(
  dx: usize, dgamma: usize, dbeta: usize, dy: usize, x: usize, mean: usize, rstd: usize, gamma: usize,
  rows: i32, n: i32, centered: bool,
): void {
  const bytes = <usize>n << 2;
  const invN = <f32>(1.0 / <f64>n);
  if (dgamma != 0) memory.fill(dgamma, 0, bytes);
  if (dbeta != 0) memory.fill(dbeta, 0, bytes);
  for (let r = 0; r < rows; r++) {
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
    const va = vsplat(a), vb = vsplat(b);
    i = 0;
    for (; i + 16 <= bytes; i += 16) {
      const xh = f32x4.mul(f32x4.sub(v128.load(xr + i), vm), vr);
      const g = f32x4.mul(v128.load(gr + i), ldg(gamma, i));
      v128.store(dr + i, f32x4.mul(vr, f32x4.sub(f32x4.sub(g, va), f32x4.mul(xh, vb))));
    }
    for (; i < bytes; i += 4) {
      const xh = (load<f32>(xr + i) - mu) * rs;
      const g = load<f32>(gr + i) * ldgs(gamma, i);
      store<f32>(dr + i, rs * (g - a - xh * b));
    }
  }
}

/**
 * LayerNorm backward: dx [rows, n]; dγ, dβ [n] (overwritten; 0 = not wanted)
 * from dy, x, the saved mean and rstd, and γ (0 = absent).
 */
export function layernorm_bwd(
  dx: usize, dgamma: usize, dbeta: usize, dy: usize, x: usize, mean: usize, rstd: usize, gamma: usize, rows: i32, n: i32,
): void {
  normBackward(dx, dgamma, dbeta, dy, x, mean, rstd, gamma, rows, n, true);
}

/** RMSNorm forward: y [rows, n] and rstd [rows] from x [rows, n] and γ [n] (or 0). */
export function rmsnorm_fwd(y: usize, rstd: usize, x: usize, gamma: usize, rows: i32, n: i32, eps: f32): void {
  const bytes = <usize>n << 2;
  const invN = <f32>(1.0 / <f64>n);
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * bytes;
    const ms = rowSqDev(x + off, bytes, 0) * invN;
    const rs = <f32>(1.0 / Math.sqrt(<f64>ms + <f64>eps));
    store<f32>(rstd + (<usize>r << 2), rs);
    rowNormalize(y + off, x + off, gamma, 0, bytes, 0, rs);
  }
}

/** RMSNorm backward: dx [rows, n] and dγ [n] (overwritten; 0 = not wanted). */
export function rmsnorm_bwd(dx: usize, dgamma: usize, dy: usize, x: usize, rstd: usize, gamma: usize, rows: i32, n: i32): void {
  normBackward(dx, dgamma, 0, dy, x, 0, rstd, gamma, rows, n, false);
}
