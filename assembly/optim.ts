// Optimizer update kernels and the reductions that clipping and the L1/L2
// penalties need, over contiguous float32 ranges.
//
// One family in one file because every member is the same loop: an f32x4 body
// over n & ~3 elements and a scalar tail, run once over a whole parameter slab
// (src/optim/optimizer.ts lays parameters, gradients and state out so that one
// call updates every parameter of a group). Formulas are PyTorch's, in the
// same order of operations (torch/optim/{sgd,adam,adamw,rmsprop,adagrad}.py):
//
//   SGD      g ← g + wd·p
//            b ← g (first step) | μ·b + (1−τ)·g;  g ← g + μ·b (nesterov) | b
//            p ← p − lr·g
//   Adam(W)  p ← p·(1 − lr·wd) (decoupled)  |  g ← g + wd·p (coupled, L2)
//            m ← m + (1−β1)·(g − m);  v ← β2·v + (1−β2)·g²;  v̂ ← max(v̂, v) (amsgrad)
//            p ← p − (lr/bc1) · m / (√v / √bc2 + ε),  bc_i = 1 − β_i^t
//   RMSprop  g ← g + wd·p;  s ← α·s + (1−α)·g²;  ḡ ← ḡ + (1−α)·(g − ḡ) (centered)
//            d ← √(s − ḡ²) (centered) | √s, + ε
//            b ← μ·b + g/d;  p ← p − lr·b  (momentum)  |  p ← p − lr·g/d
//   Adagrad  g ← g + wd·p;  S ← S + g²;  p ← p − clr·g/(√S + ε)  (clr computed in TS)
//
// Flags (nesterov, decoupled, …) select a specialised loop: each @inline loop
// is instantiated with constant flags so the hot loop has no branches.
// Pointers to buffers a configuration does not use (momentum off, no amsgrad)
// may be 0: they are never touched.

// ─── SGD ────────────────────────────────────────────────────────────────────

@inline function sgdLoop(
  p: usize, buf: usize, g: usize, n: i32, lr: f32, momentum: f32, dampening: f32, wd: f32,
  hasMomentum: bool, nesterov: bool, first: bool,
): void {
  const bytes = <usize>n << 2;
  const vlr = f32x4.splat(lr), vmu = f32x4.splat(momentum), vdamp = f32x4.splat(1 - dampening), vwd = f32x4.splat(wd);
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) {
    const pv = v128.load(p + i);
    let gv = f32x4.add(v128.load(g + i), f32x4.mul(vwd, pv));
    if (hasMomentum) {
      let b: v128;
      if (first) b = gv;
      else b = f32x4.add(f32x4.mul(vmu, v128.load(buf + i)), f32x4.mul(vdamp, gv));
      v128.store(buf + i, b);
      gv = nesterov ? f32x4.add(gv, f32x4.mul(vmu, b)) : b;
    }
    v128.store(p + i, f32x4.sub(pv, f32x4.mul(vlr, gv)));
  }
  const damp: f32 = 1 - dampening;
  for (; i < bytes; i += 4) {
    const pv = load<f32>(p + i);
    let gv = load<f32>(g + i) + wd * pv;
    if (hasMomentum) {
      let b: f32;
      if (first) b = gv;
      else b = momentum * load<f32>(buf + i) + damp * gv;
      store<f32>(buf + i, b);
      gv = nesterov ? gv + momentum * b : b;
    }
    store<f32>(p + i, pv - lr * gv);
  }
}

/**
 * One SGD step over n elements: p (in/out), buf (momentum buffer, in/out; may
 * be 0 when momentum == 0), g (gradient, in). `firstStep` != 0 initialises the
 * momentum buffer with the gradient, as PyTorch does for a fresh buffer.
 */
export function sgd_step(
  p: usize, buf: usize, g: usize, n: i32,
  lr: f32, momentum: f32, dampening: f32, weightDecay: f32, nesterov: i32, firstStep: i32,
): void {
  if (momentum == 0) sgdLoop(p, buf, g, n, lr, momentum, dampening, weightDecay, false, false, false);
  else if (firstStep != 0) {
    if (nesterov != 0) sgdLoop(p, buf, g, n, lr, momentum, dampening, weightDecay, true, true, true);
    else sgdLoop(p, buf, g, n, lr, momentum, dampening, weightDecay, true, false, true);
  } else {
    if (nesterov != 0) sgdLoop(p, buf, g, n, lr, momentum, dampening, weightDecay, true, true, false);
    else sgdLoop(p, buf, g, n, lr, momentum, dampening, weightDecay, true, false, false);
  }
}

// ─── Adam / AdamW ───────────────────────────────────────────────────────────

@inline function adamLoop(
  p: usize, m: usize, v: usize, vmax: usize, g: usize, n: i32,
  lr: f32, b1: f32, b2: f32, eps: f32, wd: f32, bc1: f32, bc2: f32,
  decoupled: bool, amsgrad: bool,
): void {
  const bytes = <usize>n << 2;
  const stepSize: f32 = lr / bc1;
  const bc2Sqrt: f32 = Mathf.sqrt(bc2);
  const decay: f32 = 1 - lr * wd;
  const vwd = f32x4.splat(wd), vdecay = f32x4.splat(decay);
  const v1mb1 = f32x4.splat(1 - b1), vb2 = f32x4.splat(b2), v1mb2 = f32x4.splat(1 - b2);
  const vstep = f32x4.splat(stepSize), vbc2 = f32x4.splat(bc2Sqrt), veps = f32x4.splat(eps);
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) {
    let pv = v128.load(p + i);
    let gv = v128.load(g + i);
    if (decoupled) pv = f32x4.mul(pv, vdecay);
    else gv = f32x4.add(gv, f32x4.mul(vwd, pv));
    let mv = v128.load(m + i);
    mv = f32x4.add(mv, f32x4.mul(v1mb1, f32x4.sub(gv, mv)));
    let sv = f32x4.add(f32x4.mul(vb2, v128.load(v + i)), f32x4.mul(v1mb2, f32x4.mul(gv, gv)));
    v128.store(m + i, mv);
    v128.store(v + i, sv);
    if (amsgrad) {
      sv = f32x4.max(v128.load(vmax + i), sv);
      v128.store(vmax + i, sv);
    }
    const denom = f32x4.add(f32x4.div(f32x4.sqrt(sv), vbc2), veps);
    v128.store(p + i, f32x4.sub(pv, f32x4.mul(vstep, f32x4.div(mv, denom))));
  }
  for (; i < bytes; i += 4) {
    let pv = load<f32>(p + i);
    let gv = load<f32>(g + i);
    if (decoupled) pv = pv * decay;
    else gv = gv + wd * pv;
    let mv = load<f32>(m + i);
    mv = mv + (1 - b1) * (gv - mv);
    let sv = b2 * load<f32>(v + i) + (1 - b2) * (gv * gv);
    store<f32>(m + i, mv);
    store<f32>(v + i, sv);
    if (amsgrad) {
      sv = Mathf.max(load<f32>(vmax + i), sv);
      store<f32>(vmax + i, sv);
    }
    const denom = Mathf.sqrt(sv) / bc2Sqrt + eps;
    store<f32>(p + i, pv - stepSize * (mv / denom));
  }
}

/**
 * One Adam / AdamW step over n elements: p, m (first moment), v (second
 * moment), vmax (running max of v; only with amsgrad, else may be 0) in/out;
 * g in. `decoupled` != 0 is AdamW's weight decay p·(1 − lr·wd), else wd is an
 * L2 term added to the gradient. bc1 = 1 − β1^t, bc2 = 1 − β2^t (from TS).
 */
export function adam_step(
  p: usize, m: usize, v: usize, vmax: usize, g: usize, n: i32,
  lr: f32, b1: f32, b2: f32, eps: f32, weightDecay: f32, decoupled: i32, amsgrad: i32, bc1: f32, bc2: f32,
): void {
  if (decoupled != 0) {
    if (amsgrad != 0) adamLoop(p, m, v, vmax, g, n, lr, b1, b2, eps, weightDecay, bc1, bc2, true, true);
    else adamLoop(p, m, v, vmax, g, n, lr, b1, b2, eps, weightDecay, bc1, bc2, true, false);
  } else {
    if (amsgrad != 0) adamLoop(p, m, v, vmax, g, n, lr, b1, b2, eps, weightDecay, bc1, bc2, false, true);
    else adamLoop(p, m, v, vmax, g, n, lr, b1, b2, eps, weightDecay, bc1, bc2, false, false);
  }
}

// ─── RMSprop ────────────────────────────────────────────────────────────────

@inline function rmspropLoop(
  p: usize, sq: usize, buf: usize, gavg: usize, g: usize, n: i32,
  lr: f32, alpha: f32, eps: f32, wd: f32, momentum: f32,
  hasMomentum: bool, centered: bool,
): void {
  const bytes = <usize>n << 2;
  const vlr = f32x4.splat(lr), valpha = f32x4.splat(alpha), v1ma = f32x4.splat(1 - alpha);
  const veps = f32x4.splat(eps), vwd = f32x4.splat(wd), vmu = f32x4.splat(momentum);
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) {
    const pv = v128.load(p + i);
    const gv = f32x4.add(v128.load(g + i), f32x4.mul(vwd, pv));
    const sv = f32x4.add(f32x4.mul(valpha, v128.load(sq + i)), f32x4.mul(v1ma, f32x4.mul(gv, gv)));
    v128.store(sq + i, sv);
    let avg: v128;
    if (centered) {
      let ga = v128.load(gavg + i);
      ga = f32x4.add(ga, f32x4.mul(v1ma, f32x4.sub(gv, ga)));
      v128.store(gavg + i, ga);
      avg = f32x4.sqrt(f32x4.sub(sv, f32x4.mul(ga, ga)));
    } else {
      avg = f32x4.sqrt(sv);
    }
    avg = f32x4.add(avg, veps);
    if (hasMomentum) {
      const b = f32x4.add(f32x4.mul(vmu, v128.load(buf + i)), f32x4.div(gv, avg));
      v128.store(buf + i, b);
      v128.store(p + i, f32x4.sub(pv, f32x4.mul(vlr, b)));
    } else {
      v128.store(p + i, f32x4.sub(pv, f32x4.mul(vlr, f32x4.div(gv, avg))));
    }
  }
  for (; i < bytes; i += 4) {
    const pv = load<f32>(p + i);
    const gv = load<f32>(g + i) + wd * pv;
    const sv = alpha * load<f32>(sq + i) + (1 - alpha) * (gv * gv);
    store<f32>(sq + i, sv);
    let avg: f32;
    if (centered) {
      let ga = load<f32>(gavg + i);
      ga = ga + (1 - alpha) * (gv - ga);
      store<f32>(gavg + i, ga);
      avg = Mathf.sqrt(sv - ga * ga);
    } else {
      avg = Mathf.sqrt(sv);
    }
    avg = avg + eps;
    if (hasMomentum) {
      const b = momentum * load<f32>(buf + i) + gv / avg;
      store<f32>(buf + i, b);
      store<f32>(p + i, pv - lr * b);
    } else {
      store<f32>(p + i, pv - lr * (gv / avg));
    }
  }
}

/**
 * One RMSprop step over n elements: p, sq (square average), buf (momentum
 * buffer; may be 0 when momentum == 0), gavg (gradient average; may be 0
 * unless centered) in/out; g in.
 */
export function rmsprop_step(
  p: usize, sq: usize, buf: usize, gavg: usize, g: usize, n: i32,
  lr: f32, alpha: f32, eps: f32, weightDecay: f32, momentum: f32, centered: i32,
): void {
  if (momentum != 0) {
    if (centered != 0) rmspropLoop(p, sq, buf, gavg, g, n, lr, alpha, eps, weightDecay, momentum, true, true);
    else rmspropLoop(p, sq, buf, gavg, g, n, lr, alpha, eps, weightDecay, momentum, true, false);
  } else {
    if (centered != 0) rmspropLoop(p, sq, buf, gavg, g, n, lr, alpha, eps, weightDecay, momentum, false, true);
    else rmspropLoop(p, sq, buf, gavg, g, n, lr, alpha, eps, weightDecay, momentum, false, false);
  }
}

// ─── Adagrad ────────────────────────────────────────────────────────────────

/**
 * One Adagrad step over n elements: p, sum (accumulated squares) in/out; g in.
 * `clr` is the decayed learning rate lr / (1 + (t − 1)·lrDecay), from TS.
 */
export function adagrad_step(p: usize, sum: usize, g: usize, n: i32, clr: f32, eps: f32, weightDecay: f32): void {
  const bytes = <usize>n << 2;
  const vclr = f32x4.splat(clr), veps = f32x4.splat(eps), vwd = f32x4.splat(weightDecay);
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) {
    const pv = v128.load(p + i);
    const gv = f32x4.add(v128.load(g + i), f32x4.mul(vwd, pv));
    const s = f32x4.add(v128.load(sum + i), f32x4.mul(gv, gv));
    v128.store(sum + i, s);
    const std = f32x4.add(f32x4.sqrt(s), veps);
    v128.store(p + i, f32x4.sub(pv, f32x4.mul(vclr, f32x4.div(gv, std))));
  }
  for (; i < bytes; i += 4) {
    const pv = load<f32>(p + i);
    const gv = load<f32>(g + i) + weightDecay * pv;
    const s = load<f32>(sum + i) + gv * gv;
    store<f32>(sum + i, s);
    store<f32>(p + i, pv - clr * (gv / (Mathf.sqrt(s) + eps)));
  }
}

// ─── reductions and clamps (clipping, penalties) ────────────────────────────

// Sums accumulate in float64 (two f64x2 lanes per f32x4), so the norm of a
// slab of millions of gradients keeps float32 accuracy.

/** out[0] = Σ x[i]² (accumulated in float64, stored as float32). */
export function sumsq_f32(out: usize, x: usize, n: i32): void {
  const bytes = <usize>n << 2;
  let lo = f64x2.splat(0), hi = f64x2.splat(0);
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) {
    const v = v128.load(x + i);
    const a = f64x2.promote_low_f32x4(v);
    const b = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
    lo = f64x2.add(lo, f64x2.mul(a, a));
    hi = f64x2.add(hi, f64x2.mul(b, b));
  }
  const s2 = f64x2.add(lo, hi);
  let s = f64x2.extract_lane(s2, 0) + f64x2.extract_lane(s2, 1);
  for (; i < bytes; i += 4) {
    const v = <f64>load<f32>(x + i);
    s += v * v;
  }
  store<f32>(out, <f32>s);
}

/** out[0] = Σ |x[i]| (accumulated in float64, stored as float32). */
export function sumabs_f32(out: usize, x: usize, n: i32): void {
  const bytes = <usize>n << 2;
  let lo = f64x2.splat(0), hi = f64x2.splat(0);
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) {
    const v = f32x4.abs(v128.load(x + i));
    lo = f64x2.add(lo, f64x2.promote_low_f32x4(v));
    hi = f64x2.add(hi, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)));
  }
  const s2 = f64x2.add(lo, hi);
  let s = f64x2.extract_lane(s2, 0) + f64x2.extract_lane(s2, 1);
  for (; i < bytes; i += 4) s += <f64>Mathf.abs(load<f32>(x + i));
  store<f32>(out, <f32>s);
}

/** out[0] = max |x[i]| (0 for n = 0; NaN if any element is NaN). */
export function absmax_f32(out: usize, x: usize, n: i32): void {
  const bytes = <usize>n << 2;
  let m = f32x4.splat(0);
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) m = f32x4.max(m, f32x4.abs(v128.load(x + i)));
  let s = Mathf.max(Mathf.max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), Mathf.max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
  for (; i < bytes; i += 4) s = Mathf.max(s, Mathf.abs(load<f32>(x + i)));
  store<f32>(out, s);
}

/** out = min(max(x, lo), hi) elementwise (NaN stays NaN). `out` may alias `x`. */
export function clamp_f32(out: usize, x: usize, n: i32, lo: f32, hi: f32): void {
  const bytes = <usize>n << 2;
  const vlo = f32x4.splat(lo), vhi = f32x4.splat(hi);
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) v128.store(out + i, f32x4.min(f32x4.max(v128.load(x + i), vlo), vhi));
  for (; i < bytes; i += 4) store<f32>(out + i, Mathf.min(Mathf.max(load<f32>(x + i), lo), hi));
}

/** out = s·sign(x) elementwise, sign(0) = 0 (the L1 penalty's subgradient). `out` may alias `x`. */
export function sign_scale_f32(out: usize, x: usize, n: i32, s: f32): void {
  const bytes = <usize>n << 2;
  const vpos = f32x4.splat(s), vneg = f32x4.splat(-s), zero = f32x4.splat(0);
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) {
    const v = v128.load(x + i);
    v128.store(out + i, v128.or(v128.and(f32x4.gt(v, zero), vpos), v128.and(f32x4.lt(v, zero), vneg)));
  }
  for (; i < bytes; i += 4) {
    const v = load<f32>(x + i);
    store<f32>(out + i, v > 0 ? s : v < 0 ? -s : 0);
  }
}
