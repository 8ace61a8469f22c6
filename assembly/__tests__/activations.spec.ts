// as-pect specs for a few kernels against scalar float64 references: relu,
// sigmoid and gelu (forward and backward) on lengths that exercise the SIMD
// body and the scalar tail; softmax over a middle axis; cross-entropy on a
// hand-computed case; the dropout mask rule.
import { gelu_bwd, gelu_fwd, relu_bwd, relu_fwd, sigmoid_fwd } from "../activations";
import { cross_entropy_fwd, softmax_fwd } from "../softmax";
import { dropout_fwd } from "../dropout";

function buf(n: i32): usize {
  return heap.alloc(<usize>max(n, 1) << 2);
}
function at(p: usize, i: i32): f64 {
  return <f64>load<f32>(p + (<usize>i << 2));
}
function put(p: usize, i: i32, v: f64): void {
  store<f32>(p + (<usize>i << 2), <f32>v);
}

const LENGTHS: i32[] = [0, 1, 3, 4, 5, 17, 1001];

function xval(i: i32): f64 {
  return <f64>((i * 37) % 101) * 0.11 - 5.5;
}

// Φ(x) = ½·erfc(−x/√2) from the float64 series (|x| small enough here).
function phi(x: f64): f64 {
  const z = x / Math.SQRT2;
  let term = Math.abs(z), sum = Math.abs(z);
  for (let n = 1; n < 300; n++) {
    term *= (2 * z * z) / <f64>(2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  const erf = 1.1283791670955126 * Math.exp(-z * z) * sum;
  return 0.5 * (1 + (z < 0 ? -erf : erf));
}

describe("activation kernels", () => {
  test("relu forward and backward are exact", () => {
    let bad = 0;
    for (let li = 0; li < LENGTHS.length; li++) {
      const n = LENGTHS[li];
      const x = buf(n), y = buf(n), dy = buf(n), dx = buf(n);
      for (let i = 0; i < n; i++) {
        put(x, i, xval(i));
        put(dy, i, <f64>i);
      }
      relu_fwd(y, x, n);
      relu_bwd(dx, x, dy, n);
      for (let i = 0; i < n; i++) {
        if (at(y, i) != Math.max(at(x, i), 0)) bad++;
        if (at(dx, i) != (at(x, i) > 0 ? <f64>i : 0)) bad++;
      }
      heap.free(x); heap.free(y); heap.free(dy); heap.free(dx);
    }
    expect<i32>(bad).toBe(0);
  });

  test("sigmoid and gelu match float64 (body and tail)", () => {
    let worst: f64 = 0;
    for (let li = 0; li < LENGTHS.length; li++) {
      const n = LENGTHS[li];
      const x = buf(n), y = buf(n), g = buf(n), dy = buf(n), dx = buf(n);
      for (let i = 0; i < n; i++) {
        put(x, i, xval(i));
        put(dy, i, 1);
      }
      sigmoid_fwd(y, x, n);
      gelu_fwd(g, x, n);
      gelu_bwd(dx, x, dy, n);
      for (let i = 0; i < n; i++) {
        const v = at(x, i);
        const s = 1 / (1 + Math.exp(-v));
        worst = Math.max(worst, Math.abs(at(y, i) - s) / (1 + s));
        worst = Math.max(worst, Math.abs(at(g, i) - v * phi(v)) / (1 + Math.abs(v * phi(v))));
        const d = phi(v) + v * Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI);
        worst = Math.max(worst, Math.abs(at(dx, i) - d) / (1 + Math.abs(d)));
      }
      heap.free(x); heap.free(y); heap.free(g); heap.free(dy); heap.free(dx);
    }
    expect<f64>(worst).toBeLessThan(1e-6);
  });

  test("softmax over the middle axis of [2, 5, 7] matches float64", () => {
    const outer = 2, n = 5, inner = 7, total = outer * n * inner;
    const x = buf(total), y = buf(total);
    for (let i = 0; i < total; i++) put(x, i, xval(i));
    softmax_fwd(y, x, outer, n, inner);
    let worst: f64 = 0;
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        let m: f64 = -Infinity, s: f64 = 0;
        for (let k = 0; k < n; k++) m = Math.max(m, at(x, (o * n + k) * inner + j));
        for (let k = 0; k < n; k++) s += Math.exp(at(x, (o * n + k) * inner + j) - m);
        for (let k = 0; k < n; k++) {
          const i = (o * n + k) * inner + j;
          worst = Math.max(worst, Math.abs(at(y, i) - Math.exp(at(x, i) - m) / s));
        }
      }
    }
    expect<f64>(worst).toBeLessThan(1e-6);
    heap.free(x); heap.free(y);
  });

  test("cross-entropy of [[1,2,3],[1,1,1]] with labels [2,0] is 0.7531091", () => {
    const x = buf(6), p = buf(6), labels = buf(2), loss = buf(1);
    const v: f64[] = [1, 2, 3, 1, 1, 1];
    for (let i = 0; i < 6; i++) put(x, i, v[i]);
    store<i32>(labels, 2);
    store<i32>(labels + 4, 0);
    cross_entropy_fwd(loss, p, x, labels, 2, 3, 1, 0.5, 0);
    expect<f64>(Math.abs(at(loss, 0) - 0.7531091265562451)).toBeLessThan(1e-6);
    expect<f64>(Math.abs(at(p, 3) - 1.0 / 3.0)).toBeLessThan(1e-7);
    heap.free(x); heap.free(p); heap.free(labels); heap.free(loss);
  });

  test("dropout: kept elements are scaled by 1/(1 − p), about 1 − p of them are kept", () => {
    const n = 10007;
    const x = buf(n), y = buf(n), m = buf(n);
    for (let i = 0; i < n; i++) put(x, i, 1);
    dropout_fwd(y, m, x, n, 0.25, 1234);
    let kept = 0, bad = 0;
    for (let i = 0; i < n; i++) {
      if (at(m, i) != 0) {
        kept++;
        if (at(y, i) != <f64>(<f32>(1.0 / 0.75))) bad++;
      } else if (at(y, i) != 0) bad++;
    }
    expect<i32>(bad).toBe(0);
    expect<f64>(Math.abs(<f64>kept / <f64>n - 0.75)).toBeLessThan(0.02);
    heap.free(x); heap.free(y); heap.free(m);
  });
});
