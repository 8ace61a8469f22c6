// Unary activations and elementwise math, forward and backward, over
// contiguous float32 arrays of n elements.
//
//   relu        y = max(x, 0)                    dx = dy·[x > 0]
//   leaky_relu  y = x > 0 ? x : slope·x          dx = dy·(x > 0 ? 1 : slope)
//   sigmoid     y = σ(x) = 1/(1 + e^{−x})        dx = dy·y·(1 − y)
//   tanh        y = tanh x                       dx = dy·(1 − y)(1 + y)
//   gelu        y = x·Φ(x)   (exact, erf form)   dx = dy·(Φ(x) + x·φ(x))
//   gelu_tanh   y = x·σ(2u), u = √(2/π)(x + 0.044715x³)   (= ½x(1 + tanh u))
//                                                dx = dy·(s + x·s(1 − s)·2u′)
//   silu        y = x·σ(x)                       dx = dy·(s + x·s(1 − s))
//   exp         y = eˣ        (backward: mul_f32(dx, dy, y))
//   log         y = ln x      (backward: div_f32(dx, dy, x))
//   sqrt        y = √x                           dx = dy/(2y)
//   neg         y = −x        (backward: neg_fwd(dx, dy))
//   abs         y = |x|                          dx = dy·sign(x)
//
// Each backward takes whichever of x and y makes it cheapest: sigmoid, tanh
// and sqrt reuse the output; the rest read the input.
//
// One family in one file because every member is the same loop: an f32x4
// body and a scalar tail that runs the same vector code on a splatted lane
// (so the tail gives bit-identical results). `out` may alias an input.
// The transcendental parts live in vmath.ts.

import { lane0, vexp, vexpHiLo, vlog, vmadd, vnormcdf, vnormpdf, vsigmoid, vsplat, vtanh } from "./vmath";

const RELU = 0;
const LEAKY_RELU = 1;
const SIGMOID = 2;
const TANH = 3;
const GELU = 4;
const GELU_TANH = 5;
const SILU = 6;
const EXP = 7;
const LOG = 8;
const SQRT = 9;
const NEG = 10;
const ABS = 11;

// gelu_tanh: 2u = x·(A + B·x²) with A = 2√(2/π), B = A·0.044715; 2u′ = A + 3B·x².
const GT_A: f64 = 1.5957691216057308;
const GT_B: f64 = 0.07135481627260086;
// |x| beyond this saturates σ(2u) to 0 or 1 in float32; clamping keeps x³ finite.
const GT_CLAMP: f32 = 1.0e4;

// e^{−|2u|} for gelu_tanh. 2u is formed in float64 and handed to vexpHiLo as
// float32 hi + lo: rounding 2u to float32 would cost |2u|·2⁻²⁴ of relative
// error in the negative tail (5e-6 at x = −5).
@inline function gtExpNegAbs(x: v128): v128 {
  const ax = f32x4.pmin(f32x4.abs(x), vsplat(GT_CLAMP));
  const x0 = f64x2.promote_low_f32x4(ax);
  const x1 = f64x2.promote_low_f32x4(v128.shuffle<f32>(ax, ax, 2, 3, 2, 3));
  const a0 = f64x2.mul(x0, f64x2.add(f64x2.mul(f64x2.mul(x0, x0), f64x2.splat(GT_B)), f64x2.splat(GT_A)));
  const a1 = f64x2.mul(x1, f64x2.add(f64x2.mul(f64x2.mul(x1, x1), f64x2.splat(GT_B)), f64x2.splat(GT_A)));
  const h0 = f32x4.demote_f64x2_zero(a0);
  const h1 = f32x4.demote_f64x2_zero(a1);
  const l0 = f32x4.demote_f64x2_zero(f64x2.sub(a0, f64x2.promote_low_f32x4(h0)));
  const l1 = f32x4.demote_f64x2_zero(f64x2.sub(a1, f64x2.promote_low_f32x4(h1)));
  const hi = v128.shuffle<f32>(h0, h1, 0, 1, 4, 5);
  const lo = v128.shuffle<f32>(l0, l1, 0, 1, 4, 5);
  return vexpHiLo(f32x4.neg(hi), f32x4.neg(lo));
}

@inline function zero(): v128 {
  return f32x4.splat(0.0);
}

// With e = e^{−|z|} and q = 1/(1 + e): σ(z) = z < 0 ? e·q : q, and σ(z)(1 − σ(z)) = e·q².
@inline function recip1p(e: v128): v128 {
  return f32x4.div(vsplat(1.0), f32x4.add(e, vsplat(1.0)));
}

@inline function fwd(op: i32, x: v128, h: f32): v128 {
  if (op == RELU) return f32x4.max(x, zero());
  if (op == LEAKY_RELU) return v128.bitselect(x, f32x4.mul(x, f32x4.splat(h)), f32x4.gt(x, zero()));
  if (op == SIGMOID) return vsigmoid(x);
  if (op == TANH) return vtanh(x);
  if (op == GELU) return f32x4.mul(x, vnormcdf(x));
  if (op == GELU_TANH) {
    // x·σ(2u); 2u has the sign of x
    const ea = gtExpNegAbs(x);
    const q = recip1p(ea);
    return f32x4.mul(x, v128.bitselect(f32x4.mul(ea, q), q, f32x4.lt(x, zero())));
  }
  if (op == SILU) return f32x4.mul(x, vsigmoid(x));
  if (op == EXP) return vexp(x);
  if (op == LOG) return vlog(x);
  if (op == SQRT) return f32x4.sqrt(x);
  if (op == NEG) return f32x4.neg(x);
  return f32x4.abs(x); // ABS
}

// a is x (or y, for SIGMOID, TANH, SQRT).
@inline function bwd(op: i32, a: v128, dy: v128, h: f32): v128 {
  if (op == RELU) return v128.and(dy, f32x4.gt(a, zero()));
  if (op == LEAKY_RELU) return v128.bitselect(dy, f32x4.mul(dy, f32x4.splat(h)), f32x4.gt(a, zero()));
  if (op == SIGMOID) return f32x4.mul(f32x4.mul(dy, a), f32x4.sub(vsplat(1.0), a));
  if (op == TANH) {
    return f32x4.mul(dy, f32x4.mul(f32x4.sub(vsplat(1.0), a), f32x4.add(vsplat(1.0), a)));
  }
  if (op == GELU) return f32x4.mul(dy, vmadd(a, vnormpdf(a), vnormcdf(a)));
  if (op == GELU_TANH || op == SILU) {
    // s = σ(z), s(1 − s) = e·q², with z = 2u (gelu_tanh) or x (silu); z has the sign of x.
    let ea: v128, dz: v128;
    if (op == GELU_TANH) {
      ea = gtExpNegAbs(a);
      const xc = f32x4.pmin(f32x4.pmax(a, vsplat(-GT_CLAMP)), vsplat(GT_CLAMP));
      dz = vmadd(vsplat(<f32>(3.0 * GT_B)), f32x4.mul(xc, xc), vsplat(<f32>GT_A));
    } else {
      ea = vexp(f32x4.neg(f32x4.abs(a)));
      dz = vsplat(1.0);
    }
    const q = recip1p(ea);
    const eq = f32x4.mul(ea, q);
    const s = v128.bitselect(eq, q, f32x4.lt(a, zero()));
    const ss = f32x4.mul(eq, q);
    return f32x4.mul(dy, vmadd(f32x4.mul(a, ss), dz, s));
  }
  if (op == SQRT) return f32x4.div(f32x4.mul(dy, vsplat(0.5)), a);
  // ABS: dy·sign(x), 0 at x = 0.
  return v128.or(
    v128.and(dy, f32x4.gt(a, zero())),
    v128.and(f32x4.neg(dy), f32x4.lt(a, zero())),
  );
}

@inline function mapFwd(op: i32, out: usize, x: usize, n: i32, h: f32): void {
  const bytes = <usize>n << 2;
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) v128.store(out + i, fwd(op, v128.load(x + i), h));
  for (; i < bytes; i += 4) store<f32>(out + i, lane0(fwd(op, f32x4.splat(load<f32>(x + i)), h)));
}

@inline function mapBwd(op: i32, dx: usize, a: usize, dy: usize, n: i32, h: f32): void {
  const bytes = <usize>n << 2;
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) v128.store(dx + i, bwd(op, v128.load(a + i), v128.load(dy + i), h));
  for (; i < bytes; i += 4) {
    store<f32>(dx + i, lane0(bwd(op, f32x4.splat(load<f32>(a + i)), f32x4.splat(load<f32>(dy + i)), h)));
  }
}

export function relu_fwd(out: usize, x: usize, n: i32): void { mapFwd(RELU, out, x, n, 0); }
export function relu_bwd(dx: usize, x: usize, dy: usize, n: i32): void { mapBwd(RELU, dx, x, dy, n, 0); }

export function leaky_relu_fwd(out: usize, x: usize, n: i32, slope: f32): void { mapFwd(LEAKY_RELU, out, x, n, slope); }
export function leaky_relu_bwd(dx: usize, x: usize, dy: usize, n: i32, slope: f32): void {
  mapBwd(LEAKY_RELU, dx, x, dy, n, slope);
}

export function sigmoid_fwd(out: usize, x: usize, n: i32): void { mapFwd(SIGMOID, out, x, n, 0); }
export function sigmoid_bwd(dx: usize, y: usize, dy: usize, n: i32): void { mapBwd(SIGMOID, dx, y, dy, n, 0); }

export function tanh_fwd(out: usize, x: usize, n: i32): void { mapFwd(TANH, out, x, n, 0); }
export function tanh_bwd(dx: usize, y: usize, dy: usize, n: i32): void { mapBwd(TANH, dx, y, dy, n, 0); }

export function gelu_fwd(out: usize, x: usize, n: i32): void { mapFwd(GELU, out, x, n, 0); }
export function gelu_bwd(dx: usize, x: usize, dy: usize, n: i32): void { mapBwd(GELU, dx, x, dy, n, 0); }

export function gelu_tanh_fwd(out: usize, x: usize, n: i32): void { mapFwd(GELU_TANH, out, x, n, 0); }
export function gelu_tanh_bwd(dx: usize, x: usize, dy: usize, n: i32): void { mapBwd(GELU_TANH, dx, x, dy, n, 0); }

export function silu_fwd(out: usize, x: usize, n: i32): void { mapFwd(SILU, out, x, n, 0); }
export function silu_bwd(dx: usize, x: usize, dy: usize, n: i32): void { mapBwd(SILU, dx, x, dy, n, 0); }

export function exp_fwd(out: usize, x: usize, n: i32): void { mapFwd(EXP, out, x, n, 0); }
export function log_fwd(out: usize, x: usize, n: i32): void { mapFwd(LOG, out, x, n, 0); }

export function sqrt_fwd(out: usize, x: usize, n: i32): void { mapFwd(SQRT, out, x, n, 0); }
export function sqrt_bwd(dx: usize, y: usize, dy: usize, n: i32): void { mapBwd(SQRT, dx, y, dy, n, 0); }

export function neg_fwd(out: usize, x: usize, n: i32): void { mapFwd(NEG, out, x, n, 0); }

export function abs_fwd(out: usize, x: usize, n: i32): void { mapFwd(ABS, out, x, n, 0); }
export function abs_bwd(dx: usize, x: usize, dy: usize, n: i32): void { mapBwd(ABS, dx, x, dy, n, 0); }
