// as-pect specs for assembly/optim.ts: every update kernel (every flag
// combination) and reduction against a float64 scalar reference, on lengths
// that exercise the SIMD body and the scalar tail. Two steps per update so the
// second reads state written by the first.
import {
  sgd_step, adam_step, rmsprop_step, adagrad_step, sumsq_f32, sumabs_f32, absmax_f32, clamp_f32, sign_scale_f32,
} from "../optim";

const LENGTHS: i32[] = [0, 1, 3, 4, 5, 17, 33];

function buf(n: i32): usize {
  return heap.alloc(<usize>max(n, 1) << 2);
}
@inline function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}
function get(p: usize, i: i32): f32 {
  return load<f32>(at(p, i));
}
function fillPattern(p: usize, n: i32, seed: i32): void {
  for (let i = 0; i < n; i++) store<f32>(at(p, i), <f32>((i * 7 + seed * 13) % 19) * 0.1 - 0.9);
}
function fillValue(p: usize, n: i32, v: f32): void {
  for (let i = 0; i < n; i++) store<f32>(at(p, i), v);
}
function relErr(a: f64, b: f64): f64 {
  return Math.abs(a - b) / (1 + Math.abs(b));
}

// Worst relative error over all lengths and both steps, for one configuration.
function sgdErr(momentum: f32, dampening: f32, wd: f32, nesterov: i32): f64 {
  let worst: f64 = 0;
  for (let li = 0; li < LENGTHS.length; li++) {
    const n = LENGTHS[li];
    const p = buf(n), b = buf(n), g = buf(n);
    fillPattern(p, n, 1);
    fillValue(b, n, 0);
    const rp = new Array<f64>(n), rb = new Array<f64>(n);
    for (let i = 0; i < n; i++) { rp[i] = get(p, i); rb[i] = 0; }
    for (let t = 1; t <= 2; t++) {
      fillPattern(g, n, t + 3);
      sgd_step(p, momentum != 0 ? b : 0, g, n, 0.1, momentum, dampening, wd, nesterov, t == 1 ? 1 : 0);
      for (let i = 0; i < n; i++) {
        let gr: f64 = <f64>get(g, i) + <f64>wd * rp[i];
        if (momentum != 0) {
          rb[i] = t == 1 ? gr : <f64>momentum * rb[i] + (1 - <f64>dampening) * gr;
          gr = nesterov != 0 ? gr + <f64>momentum * rb[i] : rb[i];
        }
        rp[i] -= 0.1 * gr;
        worst = Math.max(worst, relErr(get(p, i), rp[i]));
      }
    }
    heap.free(p); heap.free(b); heap.free(g);
  }
  return worst;
}

function adamErr(wd: f32, decoupled: i32, amsgrad: i32): f64 {
  const lr: f64 = 0.01, b1: f64 = 0.9, b2: f64 = 0.999, eps: f64 = 1e-8;
  let worst: f64 = 0;
  for (let li = 0; li < LENGTHS.length; li++) {
    const n = LENGTHS[li];
    const p = buf(n), m = buf(n), v = buf(n), vm = buf(n), g = buf(n);
    fillPattern(p, n, 2);
    fillValue(m, n, 0); fillValue(v, n, 0); fillValue(vm, n, 0);
    const rp = new Array<f64>(n), rm = new Array<f64>(n), rv = new Array<f64>(n), rx = new Array<f64>(n);
    for (let i = 0; i < n; i++) { rp[i] = get(p, i); rm[i] = 0; rv[i] = 0; rx[i] = 0; }
    for (let t = 1; t <= 2; t++) {
      fillPattern(g, n, t * 5);
      const bc1 = 1 - Math.pow(b1, t), bc2 = 1 - Math.pow(b2, t);
      adam_step(p, m, v, amsgrad != 0 ? vm : 0, g, n, <f32>lr, <f32>b1, <f32>b2, <f32>eps, wd, decoupled, amsgrad, <f32>bc1, <f32>bc2);
      for (let i = 0; i < n; i++) {
        let gr: f64 = get(g, i);
        if (decoupled != 0) rp[i] *= 1 - lr * <f64>wd;
        else gr += <f64>wd * rp[i];
        rm[i] = b1 * rm[i] + (1 - b1) * gr;
        rv[i] = b2 * rv[i] + (1 - b2) * gr * gr;
        rx[i] = Math.max(rx[i], rv[i]);
        const vv = amsgrad != 0 ? rx[i] : rv[i];
        rp[i] -= lr * (rm[i] / bc1) / (Math.sqrt(vv / bc2) + eps);
        worst = Math.max(worst, relErr(get(p, i), rp[i]));
      }
    }
    heap.free(p); heap.free(m); heap.free(v); heap.free(vm); heap.free(g);
  }
  return worst;
}

function rmspropErr(momentum: f32, centered: i32): f64 {
  const lr: f64 = 0.01, alpha: f64 = 0.9, eps: f64 = 1e-8, wd: f64 = 0.05;
  let worst: f64 = 0;
  for (let li = 0; li < LENGTHS.length; li++) {
    const n = LENGTHS[li];
    const p = buf(n), s = buf(n), b = buf(n), ga = buf(n), g = buf(n);
    fillPattern(p, n, 3);
    fillValue(s, n, 0); fillValue(b, n, 0); fillValue(ga, n, 0);
    const rp = new Array<f64>(n), rs = new Array<f64>(n), rb = new Array<f64>(n), rg = new Array<f64>(n);
    for (let i = 0; i < n; i++) { rp[i] = get(p, i); rs[i] = 0; rb[i] = 0; rg[i] = 0; }
    for (let t = 1; t <= 2; t++) {
      fillPattern(g, n, t * 3 + 1);
      rmsprop_step(p, s, momentum != 0 ? b : 0, centered != 0 ? ga : 0, g, n, <f32>lr, <f32>alpha, <f32>eps, <f32>wd, momentum, centered);
      for (let i = 0; i < n; i++) {
        const gr: f64 = <f64>get(g, i) + wd * rp[i];
        rs[i] = alpha * rs[i] + (1 - alpha) * gr * gr;
        let d: f64;
        if (centered != 0) {
          rg[i] = alpha * rg[i] + (1 - alpha) * gr;
          d = Math.sqrt(rs[i] - rg[i] * rg[i]) + eps;
        } else {
          d = Math.sqrt(rs[i]) + eps;
        }
        if (momentum != 0) {
          rb[i] = <f64>momentum * rb[i] + gr / d;
          rp[i] -= lr * rb[i];
        } else {
          rp[i] -= lr * gr / d;
        }
        worst = Math.max(worst, relErr(get(p, i), rp[i]));
      }
    }
    heap.free(p); heap.free(s); heap.free(b); heap.free(ga); heap.free(g);
  }
  return worst;
}

function adagradErr(): f64 {
  const eps: f64 = 1e-10, wd: f64 = 0.01, init: f64 = 0.1;
  let worst: f64 = 0;
  for (let li = 0; li < LENGTHS.length; li++) {
    const n = LENGTHS[li];
    const p = buf(n), s = buf(n), g = buf(n);
    fillPattern(p, n, 4);
    fillValue(s, n, <f32>init);
    const rp = new Array<f64>(n), rs = new Array<f64>(n);
    for (let i = 0; i < n; i++) { rp[i] = get(p, i); rs[i] = <f64><f32>init; }
    for (let t = 1; t <= 2; t++) {
      fillPattern(g, n, t + 7);
      const clr: f64 = 0.1 / (1 + <f64>(t - 1) * 0.5);
      adagrad_step(p, s, g, n, <f32>clr, <f32>eps, <f32>wd);
      for (let i = 0; i < n; i++) {
        const gr: f64 = <f64>get(g, i) + wd * rp[i];
        rs[i] += gr * gr;
        rp[i] -= clr * gr / (Math.sqrt(rs[i]) + eps);
        worst = Math.max(worst, relErr(get(p, i), rp[i]));
      }
    }
    heap.free(p); heap.free(s); heap.free(g);
  }
  return worst;
}

// Reductions and clamps: exact (or float64-accumulated) against scalar loops.
function reductionMismatches(): i32 {
  let bad = 0;
  for (let li = 0; li < LENGTHS.length; li++) {
    const n = LENGTHS[li];
    const x = buf(n), out = buf(n), r = buf(4);
    fillPattern(x, n, 6);
    let sq: f64 = 0, ab: f64 = 0, mx: f32 = 0;
    for (let i = 0; i < n; i++) {
      const v = <f64>get(x, i);
      sq += v * v;
      ab += Math.abs(v);
      mx = Mathf.max(mx, Mathf.abs(get(x, i)));
    }
    sumsq_f32(r, x, n);
    if (relErr(get(r, 0), sq) > 1e-6) bad++;
    sumabs_f32(r, x, n);
    if (relErr(get(r, 0), ab) > 1e-6) bad++;
    absmax_f32(r, x, n);
    if (get(r, 0) != mx) bad++;
    clamp_f32(out, x, n, -0.3, 0.25);
    for (let i = 0; i < n; i++) if (get(out, i) != Mathf.min(Mathf.max(get(x, i), -0.3), 0.25)) bad++;
    sign_scale_f32(out, x, n, 2.5);
    for (let i = 0; i < n; i++) {
      const v = get(x, i);
      const want: f32 = v > 0 ? 2.5 : v < 0 ? -2.5 : 0;
      if (get(out, i) != want) bad++;
    }
    heap.free(x); heap.free(out); heap.free(r);
  }
  return bad;
}

describe("optim", () => {
  test("sgd_step: plain, momentum, dampening + weight decay, nesterov", () => {
    expect<bool>(sgdErr(0, 0, 0, 0) < 1e-6).toBe(true);
    expect<bool>(sgdErr(0.9, 0, 0, 0) < 1e-6).toBe(true);
    expect<bool>(sgdErr(0.9, 0.1, 0.01, 0) < 1e-6).toBe(true);
    expect<bool>(sgdErr(0.8, 0, 0.05, 1) < 1e-6).toBe(true);
  });
  test("adam_step: coupled / decoupled weight decay, with and without amsgrad", () => {
    expect<bool>(adamErr(0, 0, 0) < 1e-5).toBe(true);
    expect<bool>(adamErr(0.1, 0, 1) < 1e-5).toBe(true);
    expect<bool>(adamErr(0.1, 1, 0) < 1e-5).toBe(true);
    expect<bool>(adamErr(0.1, 1, 1) < 1e-5).toBe(true);
  });
  test("rmsprop_step: plain, momentum, centered, both", () => {
    expect<bool>(rmspropErr(0, 0) < 1e-5).toBe(true);
    expect<bool>(rmspropErr(0.9, 0) < 1e-5).toBe(true);
    expect<bool>(rmspropErr(0, 1) < 1e-5).toBe(true);
    expect<bool>(rmspropErr(0.5, 1) < 1e-5).toBe(true);
  });
  test("adagrad_step with lr decay, weight decay and an initial accumulator", () => {
    expect<bool>(adagradErr() < 1e-5).toBe(true);
  });
  test("sumsq / sumabs / absmax / clamp / sign_scale", () => {
    expect<i32>(reductionMismatches()).toBe(0);
  });
});
