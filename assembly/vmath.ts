// Vector math on f32x4: exp, log, log1p, tanh, sigmoid, erf/erfc and the
// normal CDF/PDF. Shared by the activation, softmax and loss kernels; not a
// kernel family itself (nothing here is exported from assembly/index.ts).
// Everything is @inline: the kernels get straight-line SIMD code, and asc
// warns (AS112) about exported functions with v128 signatures otherwise.
//
// Every function takes and returns one f32x4; the kernels call them on
// f32x4.splat(x) for their scalar tails, so an element gets the same result
// whether it falls in the SIMD body or in the tail.
//
// Accuracy: worst relative error against float64, measured by
// assembly/__tests__/vmath.spec.ts (which logs it) and
// tests/activations.test.ts over the whole finite range (subnormal results
// excluded):
//
//   exp 8e-8   log 8e-8   log1p 2.5e-7   tanh 1.3e-7   sigmoid 1.8e-7
//   expNeg (the attention softmax's exp, x ≤ 0) 1.8e-7
//   erf 2.4e-7   erfc 3.8e-7 (down to erfc(9) ≈ 4e-37)
//   and through them gelu 4.5e-7, gelu_tanh 2.1e-7, silu 2.3e-7
//
// The relaxed build fuses the polynomial steps and differs from the plain one
// in the last bits.
//
// References: S. L. Moshier, Cephes Math Library (expf, logf, tanhf);
// W. J. Cody & W. Waite, Software Manual for the Elementary Functions (1980)
// for the two-constant range reduction; Numerical Recipes 3rd ed. §6.2.2
// (erfc by a Chebyshev fit, fractional error < 1.2e-7 everywhere).

/** a·b + c (fused in the relaxed build). */
@inline export function vmadd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

/** c − a·b (fused in the relaxed build). */
@inline export function vnmadd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_nmadd(a, b, c);
  } else {
    return f32x4.sub(c, f32x4.mul(a, b));
  }
}

@inline export function vsplat(x: f32): v128 {
  return f32x4.splat(x);
}

/** Lane 0 of f(splat(x)): the scalar tail of a SIMD loop. */
@inline export function lane0(v: v128): f32 {
  return f32x4.extract_lane(v, 0);
}

// ─── shuffles ───────────────────────────────────────────────────────────────

// Transposes the 4×4 block at src (row stride `ld` bytes) into dst as 4 rows of
// 4 floats (dst stride `dstStride` bytes): dst[c][r] = src[r][c].
@inline export function transpose4x4(src: usize, ld: usize, dst: usize, dstStride: usize): void {
  storeTransposed4x4(v128.load(src), v128.load(src + ld), v128.load(src + 2 * ld), v128.load(src + 3 * ld), dst, dstStride);
}

// Stores the 4×4 block whose rows are r0…r3 transposed: dst row c (stride
// `dstStride` bytes) = (r0[c], r1[c], r2[c], r3[c]).
@inline export function storeTransposed4x4(r0: v128, r1: v128, r2: v128, r3: v128, dst: usize, dstStride: usize): void {
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5); // r0[0] r1[0] r0[1] r1[1]
  const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5); // r2[0] r3[0] r2[1] r3[1]
  const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(dst + dstStride, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(dst + 2 * dstStride, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * dstStride, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}

// ─── exp ────────────────────────────────────────────────────────────────────
//
// e^x = 2^n · e^r with n = round(x / ln2), r = x − n·ln2 ∈ [−ln2/2, ln2/2].
// n·ln2 is subtracted in two parts (C1 has 9 significant bits, so n·C1 and
// x − n·C1 are exact), e^r is Cephes' degree-7 polynomial, and 2^n is built in
// the exponent bits as 2^(n>>1) · 2^(n − n>>1) so that both the overflow edge
// (n = 128, x ≤ 88.72) and the subnormal range (n down to −150) come out right
// with no special case. x is clamped to [−104, 89]: below, the result rounds
// to 0; above, the product overflows to +Inf as it should. NaN stays NaN.

const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const EXP_LO: f32 = -104.0;
const EXP_HI: f32 = 89.0;

// e^r ≈ 1 + r + r²·P(r), |r| ≤ ln2/2 (Cephes expf).
@inline function expPoly(r: v128): v128 {
  // Estrin's scheme: P = (c0 + c1·r) + r²·((c2 + c3·r) + r²·(c4 + c5·r)).
  // The three inner pairs are independent, so the dependency chain is three
  // multiply-adds deep instead of Horner's five (the loop that calls vexp is
  // latency-bound).
  const r2 = f32x4.mul(r, r);
  const a = vmadd(vsplat(1.6666665459e-1), r, vsplat(5.0000001201e-1));
  const b = vmadd(vsplat(8.3334519073e-3), r, vsplat(4.1665795894e-2));
  const c = vmadd(vsplat(1.9875691500e-4), r, vsplat(1.3981999507e-3));
  const p = vmadd(vmadd(c, r2, b), r2, a);
  return f32x4.add(vmadd(r2, p, r), vsplat(1.0));
}

// y · 2^n for integer n ∈ [−150, 128].
@inline function scale2n(y: v128, n: v128): v128 {
  const n1 = i32x4.shr_s(n, 1);
  const n2 = i32x4.sub(n, n1);
  const bias = i32x4.splat(127);
  const s1 = i32x4.shl(i32x4.add(n1, bias), 23);
  const s2 = i32x4.shl(i32x4.add(n2, bias), 23);
  return f32x4.mul(f32x4.mul(y, s1), s2);
}

// min(max(x, lo), hi) with pmin/pmax (one instruction each on x86, where
// f32x4.min/max need several); x = NaN passes through as NaN.
@inline function clamp(x: v128, lo: f32, hi: f32): v128 {
  return f32x4.pmin(f32x4.pmax(x, vsplat(lo)), vsplat(hi));
}

// n = round(v·log2e) both as a float and as an integer, by the shifter trick:
// adding 1.5·2²³ rounds to an integer (ties to even, like f32x4.nearest) and
// leaves it in the low mantissa bits (|n| < 2²² here). Cheaper than
// nearest + trunc_sat, which V8 expands to several instructions each.
const SHIFTER: f32 = 12582912.0;
const SHIFTER_BITS: i32 = 0x4b400000;

/** e^x per lane. */
@inline export function vexp(x: v128): v128 {
  const xc = clamp(x, EXP_LO, EXP_HI);
  const t = vmadd(xc, vsplat(LOG2E), vsplat(SHIFTER));
  const fn = f32x4.sub(t, vsplat(SHIFTER));
  let r = vnmadd(fn, vsplat(LN2_HI), xc);
  r = vnmadd(fn, vsplat(LN2_LO), r);
  return scale2n(expPoly(r), i32x4.sub(t, i32x4.splat(SHIFTER_BITS)));
}

// e^r ≈ 1 + r + r²·P(r), |r| ≤ ln2/2, P of degree 3 (not Cephes' 5): the
// minimax fit of this form (relative error 1.05e-7 in exact arithmetic, 1.8e-7
// evaluated in float32). Two multiply-adds and two constants fewer than
// expPoly, which in the attention's exp loops is more than its share: with
// thirteen constants V8 spills vector registers there (forward 5–10% faster,
// paired; fitted by Lawson's iteratively reweighted least squares).
@inline function expPoly5(r: v128): v128 {
  const r2 = f32x4.mul(r, r);
  const a = vmadd(vsplat(1.6667114198e-1), r, vsplat(4.9999231100e-1));
  const b = vmadd(vsplat(8.3125215024e-3), r, vsplat(4.1890114546e-2));
  return f32x4.add(vmadd(r2, vmadd(b, r2, a), r), vsplat(1.0));
}

/**
 * e^x for x ≤ 88, as the attention kernels use it (x = s − max ≤ 0): vexp's
 * reduction with a shorter polynomial (expPoly5: 1.8e-7 relative above 2⁻¹²⁶
 * instead of ~1 ulp), and 2^n built in
 * the exponent bits in one step, (n + 127) << 23, which needs n ≥ −127: x is
 * clamped at −88 below, where n = −127 gives the bits of +0 and so an exact 0
 * (the results flushed to 0 are those below ~2⁻¹²⁶, x < −87.3, where vexp
 * returns subnormals; no softmax weight cares). No upper clamp: n ≤ 127 for
 * x ≤ 88 (n = 128 up to 88.7 gives +Inf). NaN stays NaN. Seven vector ops
 * fewer than vexp (one clamp, the split scaling), which matters where exp is
 * most of a loop (the attention softmax).
 */
@inline export function vexpNeg(x: v128): v128 {
  const xc = f32x4.pmax(x, vsplat(-88.0));
  const t = vmadd(xc, vsplat(LOG2E), vsplat(SHIFTER));
  const fn = f32x4.sub(t, vsplat(SHIFTER));
  let r = vnmadd(fn, vsplat(LN2_HI), xc);
  r = vnmadd(fn, vsplat(LN2_LO), r);
  return f32x4.mul(expPoly5(r), i32x4.shl(i32x4.add(t, i32x4.splat(127 - SHIFTER_BITS)), 23));
}

/**
 * e^(hi + lo) for an argument carried in two parts (|lo| ≲ 2, hi exact):
 * the reduction subtracts n·ln2 from hi exactly before adding lo, so an
 * argument like −x² is not rounded to float32 first (rounding −x² alone would
 * cost x²·2⁻²⁴ of relative error: 6e-6 at x = 10).
 */
@inline export function vexpHiLo(hi: v128, lo: v128): v128 {
  const s = f32x4.add(hi, lo);
  const sc = clamp(s, EXP_LO, EXP_HI);
  const hc = clamp(hi, 2.0 * EXP_LO, 2.0 * EXP_HI);
  const t = vmadd(sc, vsplat(LOG2E), vsplat(SHIFTER));
  const fn = f32x4.sub(t, vsplat(SHIFTER));
  let r = vnmadd(fn, vsplat(LN2_HI), hc);
  r = vnmadd(fn, vsplat(LN2_LO), r);
  r = f32x4.add(r, lo);
  const y = scale2n(expPoly(r), i32x4.sub(t, i32x4.splat(SHIFTER_BITS)));
  // Out of range (or a huge lo): exact limits; NaN compares false and stays NaN.
  const under = f32x4.lt(s, vsplat(EXP_LO));
  const over = f32x4.gt(s, vsplat(EXP_HI));
  return v128.bitselect(vsplat(Infinity), v128.andnot(y, under), over);
}

// x = xh + xl with xh holding the top 12 significant bits, so xh·xh is exact
// in float32 and x² = xh² + (x − xh)(x + xh) with the second term small.
@inline export function vhead(x: v128): v128 {
  return v128.and(x, i32x4.splat(<i32>0xfffff000));
}

// ─── log ────────────────────────────────────────────────────────────────────
//
// x = 2^e · m with m ∈ [√½, √2); log x = e·ln2 + log(1 + f), f = m − 1, with
// Cephes' degree-9 polynomial for log(1 + f) and ln2 in two parts.
// Subnormal inputs are scaled by 2^23 first. log 0 = −Inf, log(x < 0) = NaN,
// log(+Inf) = +Inf.

const SQRTH: f32 = 0.70710678118654752440;

/** Natural logarithm per lane. */
@inline export function vlog(x: v128): v128 {
  const tiny = f32x4.lt(x, vsplat(1.17549435e-38)); // subnormal (or ≤ 0, handled below)
  const xs = v128.bitselect(f32x4.mul(x, vsplat(8388608.0)), x, tiny);
  let e = i32x4.sub(i32x4.shr_u(i32x4.shl(xs, 1), 24), i32x4.splat(126));
  e = i32x4.add(e, v128.and(tiny, i32x4.splat(-23)));
  let m = v128.or(v128.and(xs, i32x4.splat(0x007fffff)), i32x4.splat(0x3f000000)); // [0.5, 1)
  const lo = f32x4.lt(m, vsplat(SQRTH));
  e = i32x4.add(e, lo); // e − 1 where m < √½ (the mask is −1)
  // f = 2m − 1 where m < √½, else m − 1
  const f = f32x4.sub(f32x4.add(m, v128.and(m, lo)), vsplat(1.0));
  const z = f32x4.mul(f, f);
  let p = vmadd(vsplat(7.0376836292e-2), f, vsplat(-1.1514610310e-1));
  p = vmadd(p, f, vsplat(1.1676998740e-1));
  p = vmadd(p, f, vsplat(-1.2420140846e-1));
  p = vmadd(p, f, vsplat(1.4249322787e-1));
  p = vmadd(p, f, vsplat(-1.6668057665e-1));
  p = vmadd(p, f, vsplat(2.0000714765e-1));
  p = vmadd(p, f, vsplat(-2.4999993993e-1));
  p = vmadd(p, f, vsplat(3.3333331174e-1));
  let y = f32x4.mul(f32x4.mul(p, f), z);
  const fe = f32x4.convert_i32x4_s(e);
  y = vmadd(fe, vsplat(LN2_LO), y);
  y = vnmadd(vsplat(0.5), z, y);
  let r = f32x4.add(f, y);
  r = vmadd(fe, vsplat(LN2_HI), r);
  // Special values: 0 → −Inf, negative → NaN, +Inf and NaN → themselves.
  r = v128.bitselect(vsplat(-Infinity), r, f32x4.eq(x, vsplat(0.0)));
  r = v128.bitselect(vsplat(NaN), r, f32x4.lt(x, vsplat(0.0)));
  return v128.bitselect(x, r, v128.or(f32x4.ne(x, x), f32x4.eq(x, vsplat(Infinity))));
}

/**
 * log(1 + x) per lane, accurate for tiny x (Goldberg's trick: with u = 1 + x
 * rounded, log1p(x) = log(u) · x / (u − 1), exact up to log's own error).
 */
@inline export function vlog1p(x: v128): v128 {
  const u = f32x4.add(x, vsplat(1.0));
  const um1 = f32x4.sub(u, vsplat(1.0));
  const r = f32x4.div(f32x4.mul(vlog(u), x), um1);
  // u == 1: log1p(x) = x to float32 precision; u = +Inf: +Inf (not Inf·x/Inf).
  const same = f32x4.eq(um1, vsplat(0.0));
  const inf = f32x4.eq(u, vsplat(Infinity));
  return v128.bitselect(u, v128.bitselect(x, r, same), inf);
}

// ─── tanh, sigmoid ──────────────────────────────────────────────────────────

const SIGN: i32 = <i32>0x80000000;

/**
 * tanh per lane (Cephes tanhf): an odd polynomial for |x| < 0.625, where
 * 1 − 2/(e^{2|x|} + 1) would cancel, and that formula above (e^{2|x|} = Inf
 * gives exactly ±1, so tanh(±50) is ±1, not NaN).
 */
@inline export function vtanh(x: v128): v128 {
  const ax = f32x4.abs(x);
  const e = vexp(f32x4.add(ax, ax));
  const big = v128.or(
    f32x4.sub(vsplat(1.0), f32x4.div(vsplat(2.0), f32x4.add(e, vsplat(1.0)))),
    v128.and(x, i32x4.splat(SIGN)),
  );
  const z = f32x4.mul(x, x);
  let p = vmadd(vsplat(-5.70498872745e-3), z, vsplat(2.06390887954e-2));
  p = vmadd(p, z, vsplat(-5.37397155531e-2));
  p = vmadd(p, z, vsplat(1.33314422036e-1));
  p = vmadd(p, z, vsplat(-3.33332819422e-1));
  const small = vmadd(f32x4.mul(p, z), x, x);
  return v128.bitselect(big, small, f32x4.ge(ax, vsplat(0.625)));
}

/**
 * σ(x) = 1/(1 + e^{−x}) per lane, from e^{−|x|} ∈ (0, 1] so nothing
 * overflows: σ(x) = q for x ≥ 0 and e^{−|x|}·q for x < 0, q = 1/(1 + e^{−|x|}).
 * Both tails keep their relative accuracy; σ(±100) is 1 and 0 (no NaN).
 */
@inline export function vsigmoid(x: v128): v128 {
  const ea = vexp(f32x4.neg(f32x4.abs(x)));
  const q = f32x4.div(vsplat(1.0), f32x4.add(ea, vsplat(1.0)));
  return v128.bitselect(f32x4.mul(ea, q), q, f32x4.lt(x, vsplat(0.0)));
}

// ─── erf, erfc, normal CDF ──────────────────────────────────────────────────
//
// For z ≥ 0, erfc(z) = t · exp(−z² + P(t)), t = 2/(2 + z), with the
// Chebyshev-fitted degree-9 polynomial P of Numerical Recipes (fractional
// error < 1.2e-7 for every z ≥ 0). −z² goes to vexpHiLo in two parts, so
// erfc keeps its relative accuracy far into the tail (erfc(9) ≈ 4e-37).

// erfc(z) for z ≥ 0, given z² = sqHi + sqLo (sqHi exact).
@inline function erfcPos(z: v128, sqHi: v128, sqLo: v128): v128 {
  const t = f32x4.div(vsplat(2.0), f32x4.add(z, vsplat(2.0)));
  let p = vmadd(vsplat(0.17087277), t, vsplat(-0.82215223));
  p = vmadd(p, t, vsplat(1.48851587));
  p = vmadd(p, t, vsplat(-1.13520398));
  p = vmadd(p, t, vsplat(0.27886807));
  p = vmadd(p, t, vsplat(-0.18628806));
  p = vmadd(p, t, vsplat(0.09678418));
  p = vmadd(p, t, vsplat(0.37409196));
  p = vmadd(p, t, vsplat(1.00002368));
  p = vmadd(p, t, vsplat(-1.26551223));
  return f32x4.mul(t, vexpHiLo(f32x4.neg(sqHi), f32x4.sub(p, sqLo)));
}

// erfc(|z|) with z² split exactly.
@inline function erfcAbs(z: v128): v128 {
  const az = f32x4.abs(z);
  const h = vhead(az);
  return erfcPos(az, f32x4.mul(h, h), f32x4.mul(f32x4.sub(az, h), f32x4.add(az, h)));
}

/** erfc(z) per lane: erfc(|z|), or 2 − erfc(|z|) for z < 0. */
@inline export function verfc(z: v128): v128 {
  const e = erfcAbs(z);
  return v128.bitselect(f32x4.sub(vsplat(2.0), e), e, f32x4.lt(z, vsplat(0.0)));
}

/**
 * erf(z) per lane: the Maclaurin series z·Σ cₖ z²ᵏ for |z| < 0.5 (where
 * 1 − erfc(z) would lose relative accuracy; seven terms leave < 1e-9), and
 * ±(1 − erfc(|z|)) above. Saturates to ±1; NaN stays NaN.
 */
@inline export function verf(z: v128): v128 {
  const z2 = f32x4.mul(z, z);
  // 2/√π · (1 − z²/3 + z⁴/10 − z⁶/42 + z⁸/216 − z¹⁰/1320 + z¹²/9360)
  let p = vmadd(vsplat(1.2055332981789664e-4), z2, vsplat(-8.548327023450852e-4));
  p = vmadd(p, z2, vsplat(5.223977625442187e-3));
  p = vmadd(p, z2, vsplat(-2.6866170645131252e-2));
  p = vmadd(p, z2, vsplat(1.1283791670955126e-1));
  p = vmadd(p, z2, vsplat(-3.7612638903183754e-1));
  p = vmadd(p, z2, vsplat(1.1283791670955126));
  const small = f32x4.mul(p, z);
  const big = v128.or(f32x4.sub(vsplat(1.0), erfcAbs(z)), v128.and(z, i32x4.splat(SIGN)));
  return v128.bitselect(small, big, f32x4.lt(f32x4.abs(z), vsplat(0.5)));
}

const INV_SQRT2: f32 = 0.70710678118654752440;
const INV_SQRT_2PI: f32 = 0.39894228040143267794;

/**
 * Φ(x) = P(N(0,1) ≤ x) = ½·erfc(−x/√2) per lane. The tail exponent −x²/2 is
 * formed from x itself (not from the rounded x/√2), so Φ(−12) ≈ 1.8e-33 keeps
 * its relative accuracy.
 */
@inline export function vnormcdf(x: v128): v128 {
  const ax = f32x4.abs(x);
  const h = vhead(ax);
  const half = vsplat(0.5);
  // z² = x²/2 = h²/2 + (ax − h)(ax + h)/2; h²/2 is exact.
  const e = erfcPos(
    f32x4.mul(ax, vsplat(INV_SQRT2)),
    f32x4.mul(f32x4.mul(h, h), half),
    f32x4.mul(f32x4.mul(f32x4.sub(ax, h), f32x4.add(ax, h)), half),
  );
  const tail = f32x4.mul(e, half); // Φ(−|x|)
  return v128.bitselect(tail, f32x4.sub(vsplat(1.0), tail), f32x4.lt(x, vsplat(0.0)));
}

/** φ(x) = e^{−x²/2}/√(2π) per lane (the exponent in two parts, as in vnormcdf). */
@inline export function vnormpdf(x: v128): v128 {
  const ax = f32x4.abs(x);
  const h = vhead(ax);
  const half = vsplat(0.5);
  const hi = f32x4.neg(f32x4.mul(f32x4.mul(h, h), half));
  const lo = f32x4.neg(f32x4.mul(f32x4.mul(f32x4.sub(ax, h), f32x4.add(ax, h)), half));
  return f32x4.mul(vexpHiLo(hi, lo), vsplat(INV_SQRT_2PI));
}
