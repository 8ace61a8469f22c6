// Elementwise losses: binary cross-entropy from logits and mean squared error.
// (Softmax cross-entropy is in softmax.ts: it shares the softmax row passes.)
//
//   bce_logits   ℓ = max(x, 0) − x·t + log(1 + e^{−|x|})     dℓ/dx = σ(x) − t
//   mse          ℓ = (p − t)²                                 dℓ/dp = 2(p − t)
//
// The BCE form never exponentiates a positive number, so ±1000 logits give a
// finite loss; log1p keeps the e^{−|x|} term when it is below float32's
// epsilon. Reduction: reduce == 0 writes ℓ per element into out[0..n);
// otherwise out[0] = scale·Σ ℓ (scale = 1/n for a mean, 1 for a sum), summed
// in float64. The backward's upstream gradient is dy[i] per element, or
// dy[0]·scale for every element when reduced.

import { lane0, vexp, vlog1p, vsplat } from "./vmath";

@inline function bceLoss(x: v128, t: v128): v128 {
  const sp = vlog1p(vexp(f32x4.neg(f32x4.abs(x))));
  return f32x4.add(f32x4.sub(f32x4.max(x, vsplat(0)), f32x4.mul(x, t)), sp);
}

@inline function bceGrad(x: v128, t: v128): v128 {
  const ea = vexp(f32x4.neg(f32x4.abs(x)));
  const q = f32x4.div(vsplat(1.0), f32x4.add(ea, vsplat(1.0)));
  const s = v128.bitselect(f32x4.mul(ea, q), q, f32x4.lt(x, vsplat(0))); // σ(x)
  return f32x4.sub(s, t);
}

@inline function mseLoss(p: v128, t: v128): v128 {
  const d = f32x4.sub(p, t);
  return f32x4.mul(d, d);
}

@inline function mseGrad(p: v128, t: v128): v128 {
  const d = f32x4.sub(p, t);
  return f32x4.add(d, d);
}

const BCE = 0;
const MSE = 1;

@inline function lossOf(op: i32, a: v128, b: v128): v128 {
  return op == BCE ? bceLoss(a, b) : mseLoss(a, b);
}

@inline function gradOf(op: i32, a: v128, b: v128): v128 {
  return op == BCE ? bceGrad(a, b) : mseGrad(a, b);
}

@inline function forward(op: i32, out: usize, a: usize, b: usize, n: i32, reduce: i32, scale: f32): void {
  const bytes = <usize>n << 2;
  let i: usize = 0;
  if (reduce == 0) {
    for (; i + 16 <= bytes; i += 16) v128.store(out + i, lossOf(op, v128.load(a + i), v128.load(b + i)));
    for (; i < bytes; i += 4) {
      store<f32>(out + i, lane0(lossOf(op, f32x4.splat(load<f32>(a + i)), f32x4.splat(load<f32>(b + i)))));
    }
    return;
  }
  let acc = f64x2.splat(0);
  for (; i + 16 <= bytes; i += 16) {
    const l = lossOf(op, v128.load(a + i), v128.load(b + i));
    acc = f64x2.add(f64x2.add(acc, f64x2.promote_low_f32x4(l)), f64x2.promote_low_f32x4(v128.shuffle<f32>(l, l, 2, 3, 2, 3)));
  }
  let s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  for (; i < bytes; i += 4) {
    s += <f64>lane0(lossOf(op, f32x4.splat(load<f32>(a + i)), f32x4.splat(load<f32>(b + i))));
  }
  store<f32>(out, <f32>(s * <f64>scale));
}

@inline function backward(op: i32, da: usize, a: usize, b: usize, dy: usize, n: i32, reduce: i32, scale: f32): void {
  const bytes = <usize>n << 2;
  let i: usize = 0;
  if (reduce != 0) {
    const g: f32 = n > 0 ? load<f32>(dy) * scale : 0;
    const vg = vsplat(g);
    for (; i + 16 <= bytes; i += 16) v128.store(da + i, f32x4.mul(gradOf(op, v128.load(a + i), v128.load(b + i)), vg));
    for (; i < bytes; i += 4) {
      store<f32>(da + i, lane0(gradOf(op, f32x4.splat(load<f32>(a + i)), f32x4.splat(load<f32>(b + i)))) * g);
    }
    return;
  }
  for (; i + 16 <= bytes; i += 16) {
    v128.store(da + i, f32x4.mul(gradOf(op, v128.load(a + i), v128.load(b + i)), v128.load(dy + i)));
  }
  for (; i < bytes; i += 4) {
    store<f32>(da + i, lane0(gradOf(op, f32x4.splat(load<f32>(a + i)), f32x4.splat(load<f32>(b + i)))) * load<f32>(dy + i));
  }
}

/** Binary cross-entropy from logits x against targets t (same length n). */
export function bce_logits_fwd(out: usize, x: usize, t: usize, n: i32, reduce: i32, scale: f32): void {
  forward(BCE, out, x, t, n, reduce, scale);
}

/** dx = (σ(x) − t)·g. */
export function bce_logits_bwd(dx: usize, x: usize, t: usize, dy: usize, n: i32, reduce: i32, scale: f32): void {
  backward(BCE, dx, x, t, dy, n, reduce, scale);
}

/** Squared error of pred p against target t (same length n). */
export function mse_fwd(out: usize, p: usize, t: usize, n: i32, reduce: i32, scale: f32): void {
  forward(MSE, out, p, t, n, reduce, scale);
}

/** dp = 2(p − t)·g. */
export function mse_bwd(dp: usize, p: usize, t: usize, dy: usize, n: i32, reduce: i32, scale: f32): void {
  backward(MSE, dp, p, t, dy, n, reduce, scale);
}
