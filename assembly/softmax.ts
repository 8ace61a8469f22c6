// Softmax and log-softmax over one axis, and the fused softmax cross-entropy.
//
// Softmax (and log-softmax) see the tensor as [outer, n, inner]: the axis has
// length n and stride `inner` (the product of the trailing dimensions).
//
//   y = softmax(x):      y_k = e^{x_k − m} / S,   m = max_k x_k, S = Σ_k e^{x_k − m}
//   y = log_softmax(x):  y_k = x_k − m − log S
//   softmax backward:    dx = y·(dy − Σ_k dy_k·y_k)
//   log_softmax bwd:     dx = dy − e^{y}·Σ_k dy_k
//
// Subtracting the max first keeps every exponent ≤ 0, so logits of ±1000 are
// fine. Sums accumulate in float64.
//
// Layout and passes, for one [n] slice:
//   inner == 1 (the last axis): the slice is contiguous; SIMD runs along it
//     (pass 1 max, pass 2 exp and sum, pass 3 scale).
//   inner > 1: the slices of 4 neighbouring columns are interleaved; SIMD runs
//     across columns, each lane owning one slice, same three passes.
//
//     x[o, k, j]   k ↓ (stride inner)   j → (contiguous: 4 lanes)
//
// cross_entropy lives here, not in losses.ts, because it is softmax: the same
// row passes produce the probabilities (kept for the backward) and log S.
//
//   loss_i = (1 − ε)(log S + m − x_{i,y_i}) + ε(log S + m − mean_j x_ij)
//          = −Σ_j t_ij log p_ij with t = (1 − ε)·onehot(y_i) + ε/C
//   dlogits_ij = (p_ij − t_ij)·g_i,  g_i = dy_i (reduce = 0) or dy·scale
//
// Labels are int32 in [0, C), checked by the op before the kernel runs.

import { lane0, vexp, vlog, vsplat } from "./vmath";

// ─── helpers over a contiguous row of n floats ──────────────────────────────

@inline function hmax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

// Adds the four lanes of v (float32) to the float64 pair accumulator `acc`.
@inline function accum64(acc: v128, v: v128): v128 {
  return f64x2.add(f64x2.add(acc, f64x2.promote_low_f32x4(v)), f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3)));
}

@inline function hsum64(acc: v128): f64 {
  return f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
}

function rowMax(x: usize, n: i32): f32 {
  const bytes = <usize>n << 2;
  let vm = vsplat(-Infinity);
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) vm = f32x4.max(vm, v128.load(x + i));
  let m = hmax(vm);
  for (; i < bytes; i += 4) m = max(m, load<f32>(x + i));
  return m;
}

// out_k = e^{x_k − m} (out may alias x); returns Σ_k out_k in float64.
function rowExp(out: usize, x: usize, n: i32, m: f32): f64 {
  const bytes = <usize>n << 2;
  const vm = vsplat(m);
  let acc = f64x2.splat(0);
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) {
    const e = vexp(f32x4.sub(v128.load(x + i), vm));
    v128.store(out + i, e);
    acc = accum64(acc, e);
  }
  let s = hsum64(acc);
  for (; i < bytes; i += 4) {
    const e = lane0(vexp(f32x4.splat(load<f32>(x + i) - m)));
    store<f32>(out + i, e);
    s += <f64>e;
  }
  return s;
}

// out_k = x_k·a + b
function rowAffine(out: usize, x: usize, n: i32, a: f32, b: f32): void {
  const bytes = <usize>n << 2;
  const va = vsplat(a), vb = vsplat(b);
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) v128.store(out + i, f32x4.add(f32x4.mul(v128.load(x + i), va), vb));
  for (; i < bytes; i += 4) store<f32>(out + i, load<f32>(x + i) * a + b);
}

// out_k = (x_k − m) − l  (x − m is exact near the max, so large logits keep their precision)
function rowShift(out: usize, x: usize, n: i32, m: f32, l: f32): void {
  const bytes = <usize>n << 2;
  const vm = vsplat(m), vl = vsplat(l);
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) v128.store(out + i, f32x4.sub(f32x4.sub(v128.load(x + i), vm), vl));
  for (; i < bytes; i += 4) store<f32>(out + i, (load<f32>(x + i) - m) - l);
}

// Σ_k a_k·b_k (or Σ_k a_k when b == 0) in float64.
function rowDot(a: usize, b: usize, n: i32): f64 {
  const bytes = <usize>n << 2;
  let acc = f64x2.splat(0);
  let i: usize = 0;
  let s: f64 = 0;
  if (b == 0) {
    for (; i + 16 <= bytes; i += 16) acc = accum64(acc, v128.load(a + i));
    s = hsum64(acc);
    for (; i < bytes; i += 4) s += <f64>load<f32>(a + i);
  } else {
    for (; i + 16 <= bytes; i += 16) acc = accum64(acc, f32x4.mul(v128.load(a + i), v128.load(b + i)));
    s = hsum64(acc);
    for (; i < bytes; i += 4) s += <f64>(load<f32>(a + i) * load<f32>(b + i));
  }
  return s;
}

// ─── helpers over 4 (vec) or 1 (!vec) interleaved columns, stride `st` bytes ─

@inline function ld(p: usize, vec: bool): v128 {
  return vec ? v128.load(p) : f32x4.splat(load<f32>(p));
}

@inline function st(p: usize, v: v128, vec: bool): void {
  if (vec) v128.store(p, v);
  else store<f32>(p, lane0(v));
}

// The four float64 lane sums (lo: lanes 0–1, hi: lanes 2–3) as one f32x4.
@inline function demote4(lo: v128, hi: v128): v128 {
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

@inline function colsSoftmax(out: usize, x: usize, n: i32, st_: usize, vec: bool, logMode: bool): void {
  // pass 1: max
  let vm = vsplat(-Infinity);
  for (let k = 0; k < n; k++) vm = f32x4.max(vm, ld(x + <usize>k * st_, vec));
  // pass 2: e^{x − m}, summed per lane in float64
  let lo = f64x2.splat(0), hi = f64x2.splat(0);
  for (let k = 0; k < n; k++) {
    const p = <usize>k * st_;
    const e = vexp(f32x4.sub(ld(x + p, vec), vm));
    if (!logMode) st(out + p, e, vec);
    lo = f64x2.add(lo, f64x2.promote_low_f32x4(e));
    hi = f64x2.add(hi, f64x2.promote_low_f32x4(v128.shuffle<f32>(e, e, 2, 3, 2, 3)));
  }
  const s = demote4(lo, hi);
  // pass 3: scale (softmax) or shift (log-softmax)
  if (logMode) {
    const ls = vlog(s);
    for (let k = 0; k < n; k++) {
      const p = <usize>k * st_;
      st(out + p, f32x4.sub(f32x4.sub(ld(x + p, vec), vm), ls), vec);
    }
  } else {
    const inv = f32x4.div(vsplat(1.0), s);
    for (let k = 0; k < n; k++) {
      const p = <usize>k * st_;
      st(out + p, f32x4.mul(ld(out + p, vec), inv), vec);
    }
  }
}

@inline function colsBackward(dx: usize, y: usize, dy: usize, n: i32, st_: usize, vec: bool, logMode: bool): void {
  let lo = f64x2.splat(0), hi = f64x2.splat(0);
  for (let k = 0; k < n; k++) {
    const p = <usize>k * st_;
    const t = logMode ? ld(dy + p, vec) : f32x4.mul(ld(dy + p, vec), ld(y + p, vec));
    lo = f64x2.add(lo, f64x2.promote_low_f32x4(t));
    hi = f64x2.add(hi, f64x2.promote_low_f32x4(v128.shuffle<f32>(t, t, 2, 3, 2, 3)));
  }
  const s = demote4(lo, hi);
  for (let k = 0; k < n; k++) {
    const p = <usize>k * st_;
    const yv = ld(y + p, vec);
    const g = ld(dy + p, vec);
    if (logMode) st(dx + p, f32x4.sub(g, f32x4.mul(vexp(yv), s)), vec);
    else st(dx + p, f32x4.mul(yv, f32x4.sub(g, s)), vec);
  }
}

// ─── kernels ────────────────────────────────────────────────────────────────

@inline function softmaxAny(out: usize, x: usize, outer: i32, n: i32, inner: i32, logMode: bool): void {
  if (inner == 1) {
    const rowBytes = <usize>n << 2;
    for (let o = 0; o < outer; o++) {
      const xr = x + <usize>o * rowBytes;
      const yr = out + <usize>o * rowBytes;
      const m = rowMax(xr, n);
      if (logMode) {
        const s = rowExp(yr, xr, n, m); // scratch: overwritten below
        rowShift(yr, xr, n, m, lane0(vlog(f32x4.splat(<f32>s))));
      } else {
        const s = rowExp(yr, xr, n, m);
        rowAffine(yr, yr, n, <f32>(1.0 / s), 0);
      }
    }
    return;
  }
  const st_ = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const base = <usize>o * <usize>n * st_;
    let j = 0;
    for (; j + 4 <= inner; j += 4) colsSoftmax(out + base + (<usize>j << 2), x + base + (<usize>j << 2), n, st_, true, logMode);
    for (; j < inner; j++) colsSoftmax(out + base + (<usize>j << 2), x + base + (<usize>j << 2), n, st_, false, logMode);
  }
}

@inline function softmaxBackwardAny(dx: usize, y: usize, dy: usize, outer: i32, n: i32, inner: i32, logMode: bool): void {
  if (inner == 1) {
    const rowBytes = <usize>n << 2;
    for (let o = 0; o < outer; o++) {
      const off = <usize>o * rowBytes;
      const s = <f32>(logMode ? rowDot(dy + off, 0, n) : rowDot(dy + off, y + off, n));
      rowBackward(dx + off, y + off, dy + off, n, s, logMode);
    }
    return;
  }
  const st_ = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const base = <usize>o * <usize>n * st_;
    let j = 0;
    for (; j + 4 <= inner; j += 4) {
      const c = base + (<usize>j << 2);
      colsBackward(dx + c, y + c, dy + c, n, st_, true, logMode);
    }
    for (; j < inner; j++) {
      const c = base + (<usize>j << 2);
      colsBackward(dx + c, y + c, dy + c, n, st_, false, logMode);
    }
  }
}

// Backward over one contiguous row once the sum s is known.
@inline function rowBackward(dx: usize, y: usize, dy: usize, n: i32, s: f32, logMode: bool): void {
  const bytes = <usize>n << 2;
  const vs = vsplat(s);
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) {
    const yv = v128.load(y + i), g = v128.load(dy + i);
    if (logMode) v128.store(dx + i, f32x4.sub(g, f32x4.mul(vexp(yv), vs)));
    else v128.store(dx + i, f32x4.mul(yv, f32x4.sub(g, vs)));
  }
  for (; i < bytes; i += 4) {
    const yv = f32x4.splat(load<f32>(y + i)), g = f32x4.splat(load<f32>(dy + i));
    if (logMode) store<f32>(dx + i, lane0(f32x4.sub(g, f32x4.mul(vexp(yv), vs))));
    else store<f32>(dx + i, lane0(f32x4.mul(yv, f32x4.sub(g, vs))));
  }
}

export function softmax_fwd(out: usize, x: usize, outer: i32, n: i32, inner: i32): void {
  softmaxAny(out, x, outer, n, inner, false);
}

export function softmax_bwd(dx: usize, y: usize, dy: usize, outer: i32, n: i32, inner: i32): void {
  softmaxBackwardAny(dx, y, dy, outer, n, inner, false);
}

export function log_softmax_fwd(out: usize, x: usize, outer: i32, n: i32, inner: i32): void {
  softmaxAny(out, x, outer, n, inner, true);
}

export function log_softmax_bwd(dx: usize, y: usize, dy: usize, outer: i32, n: i32, inner: i32): void {
  softmaxBackwardAny(dx, y, dy, outer, n, inner, true);
}

/**
 * Fused softmax cross-entropy. logits [n, c], labels int32 [n] → probs [n, c]
 * (kept for the backward) and the loss: per row into loss[0..n) when
 * reduce == 0, else scale·Σ rows into loss[0]. smoothing = ε ∈ [0, 1].
 */
export function cross_entropy_fwd(
  loss: usize, probs: usize, logits: usize, labels: usize, n: i32, c: i32, reduce: i32, scale: f32, smoothing: f32,
): void {
  const rowBytes = <usize>c << 2;
  const eps = <f64>smoothing;
  let total: f64 = 0;
  for (let i = 0; i < n; i++) {
    const xr = logits + <usize>i * rowBytes;
    const pr = probs + <usize>i * rowBytes;
    const m = rowMax(xr, c);
    const s = rowExp(pr, xr, c, m);
    rowAffine(pr, pr, c, <f32>(1.0 / s), 0);
    const logS = Math.log(s);
    const label = load<i32>(labels + (<usize>i << 2));
    let li = (<f64>m - <f64>load<f32>(xr + (<usize>label << 2))) + logS;
    if (eps != 0) {
      const meanX = rowDot(xr, 0, c) / <f64>c;
      li = (1 - eps) * li + eps * ((<f64>m - meanX) + logS);
    }
    if (reduce != 0) total += li;
    else store<f32>(loss + (<usize>i << 2), <f32>li);
  }
  if (reduce != 0) store<f32>(loss, <f32>(total * <f64>scale));
}

/** dlogits = (probs − t)·g, t = (1 − ε)·onehot(label) + ε/c; g = dy[i] or dy[0]·scale. */
export function cross_entropy_bwd(
  dlogits: usize, probs: usize, labels: usize, dy: usize, n: i32, c: i32, reduce: i32, scale: f32, smoothing: f32,
): void {
  const rowBytes = <usize>c << 2;
  const off = <f32>(<f64>smoothing / <f64>c);
  const hit = <f32>(1.0 - <f64>smoothing);
  const g0 = reduce != 0 && n > 0 ? load<f32>(dy) * scale : 0;
  for (let i = 0; i < n; i++) {
    const g = reduce != 0 ? g0 : load<f32>(dy + (<usize>i << 2));
    const dr = dlogits + <usize>i * rowBytes;
    rowAffine(dr, probs + <usize>i * rowBytes, c, g, -off * g);
    const at = dr + (<usize>load<i32>(labels + (<usize>i << 2)) << 2);
    store<f32>(at, load<f32>(at) - hit * g);
  }
}
