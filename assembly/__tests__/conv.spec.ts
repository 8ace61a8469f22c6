// as-pect specs for assembly/conv.ts and assembly/pool.ts: im2col and the
// direct convolution against a float64 direct convolution, col2im as the
// adjoint of im2col (⟨im2col x, c⟩ = ⟨x, col2im c⟩), the filter gradient
// against colsᵀ·dy, pad_nhwc/conv_filter_flip by index, and max pooling.
import { col2im, conv2d_direct, conv2d_filter_grad, conv_filter_flip, im2col, pad_nhwc } from "../conv";
import { maxpool2d_bwd, maxpool2d_fwd } from "../pool";

let seed: u32 = 777;
function rnd(): f32 {
  seed = seed * 1664525 + 1013904223;
  return <f32>(<f64>(seed >> 8) / 16777216.0 - 0.5);
}
function buf(n: i32): usize {
  return heap.alloc(<usize>max(n, 1) << 2);
}
function randomize(p: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(p + (<usize>i << 2), rnd());
}
function at(p: usize, i: i32): f64 {
  return <f64>load<f32>(p + (<usize>i << 2));
}

// One geometry: x [N,H,W,C], kernel kH×kW, stride, padding (top/left; bottom/right given by OH/OW), dilation.
class G {
  constructor(
    public N: i32, public H: i32, public W: i32, public C: i32, public O: i32,
    public kH: i32, public kW: i32, public sH: i32, public sW: i32,
    public pT: i32, public pL: i32, public pB: i32, public pR: i32, public dH: i32, public dW: i32,
  ) {}
  get OH(): i32 { return (this.H + this.pT + this.pB - this.dH * (this.kH - 1) - 1) / this.sH + 1; }
  get OW(): i32 { return (this.W + this.pL + this.pR - this.dW * (this.kW - 1) - 1) / this.sW + 1; }
  get K(): i32 { return this.kH * this.kW * this.C; }
  get P(): i32 { return this.N * this.OH * this.OW; }
  // x value at (n, ih, iw, c), 0 outside.
  xAt(x: usize, n: i32, ih: i32, iw: i32, c: i32): f64 {
    if (ih < 0 || ih >= this.H || iw < 0 || iw >= this.W) return 0;
    return at(x, ((n * this.H + ih) * this.W + iw) * this.C + c);
  }
  // Patch-matrix entry (p, k) computed from the definition.
  colAt(x: usize, p: i32, k: i32): f64 {
    const n = p / (this.OH * this.OW);
    const oh = (p / this.OW) % this.OH;
    const ow = p % this.OW;
    const c = k % this.C;
    const t = k / this.C;
    return this.xAt(x, n, oh * this.sH - this.pT + (t / this.kW) * this.dH, ow * this.sW - this.pL + (t % this.kW) * this.dW, c);
  }
}

const GEOMETRIES: G[] = [
  new G(2, 5, 6, 3, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),
  new G(1, 7, 7, 1, 16, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1),
  new G(2, 6, 5, 4, 9, 2, 3, 1, 2, 1, 0, 0, 1, 2, 1),
  new G(3, 4, 4, 5, 3, 4, 4, 1, 1, 2, 1, 1, 2, 1, 1),
  new G(1, 9, 8, 2, 12, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2),
];

function im2colError(g: G): f64 {
  const x = buf(g.N * g.H * g.W * g.C);
  randomize(x, g.N * g.H * g.W * g.C);
  const cols = buf(g.P * g.K);
  // In two chunks, to exercise row0.
  const half = g.P / 2;
  im2col(cols, x, g.H, g.W, g.C, g.kH, g.kW, g.OH, g.OW, g.sH, g.sW, g.pT, g.pL, g.dH, g.dW, 0, half);
  im2col(cols + ((<usize>half * g.K) << 2), x, g.H, g.W, g.C, g.kH, g.kW, g.OH, g.OW, g.sH, g.sW, g.pT, g.pL, g.dH, g.dW, half, g.P - half);
  let worst: f64 = 0;
  for (let p = 0; p < g.P; p++) for (let k = 0; k < g.K; k++) worst = max(worst, Math.abs(at(cols, p * g.K + k) - g.colAt(x, p, k)));
  heap.free(x);
  heap.free(cols);
  return worst;
}

// |⟨im2col x, c⟩ − ⟨x, col2im c⟩| relative to the sum of |terms|.
function adjointError(g: G): f64 {
  const nx = g.N * g.H * g.W * g.C;
  const x = buf(nx), c = buf(g.P * g.K), cols = buf(g.P * g.K), dx = buf(nx);
  randomize(x, nx);
  randomize(c, g.P * g.K);
  im2col(cols, x, g.H, g.W, g.C, g.kH, g.kW, g.OH, g.OW, g.sH, g.sW, g.pT, g.pL, g.dH, g.dW, 0, g.P);
  memory.fill(dx, 0, <usize>nx << 2);
  col2im(dx, c, g.H, g.W, g.C, g.kH, g.kW, g.OH, g.OW, g.sH, g.sW, g.pT, g.pL, g.dH, g.dW, 0, g.P);
  let a: f64 = 0, b: f64 = 0, scale: f64 = 0;
  for (let i = 0; i < g.P * g.K; i++) {
    a += at(cols, i) * at(c, i);
    scale += Math.abs(at(cols, i) * at(c, i));
  }
  for (let i = 0; i < nx; i++) b += at(x, i) * at(dx, i);
  heap.free(x); heap.free(c); heap.free(cols); heap.free(dx);
  return Math.abs(a - b) / (1 + scale);
}

// conv2d_direct over pad_nhwc(x) against Σ_k col(p,k)·w(k,o) + bias(o) in float64.
function directError(g: G): f64 {
  const nx = g.N * g.H * g.W * g.C;
  const Hp = g.H + g.pT + g.pB, Wp = g.W + g.pL + g.pR;
  const x = buf(nx), xp = buf(g.N * Hp * Wp * g.C), w = buf(g.K * g.O), bias = buf(g.O), y = buf(g.P * g.O);
  randomize(x, nx);
  randomize(w, g.K * g.O);
  randomize(bias, g.O);
  pad_nhwc(xp, x, g.N, g.H, g.W, g.C, Hp, Wp, g.pT, g.pL);
  conv2d_direct(y, xp, w, bias, g.N, Hp, Wp, g.C, g.kH, g.kW, g.OH, g.OW, g.sH, g.sW, g.dH, g.dW, g.O);
  let worst: f64 = 0;
  for (let p = 0; p < g.P; p++) {
    for (let o = 0; o < g.O; o++) {
      let s = at(bias, o);
      for (let k = 0; k < g.K; k++) s += g.colAt(x, p, k) * at(w, k * g.O + o);
      worst = max(worst, Math.abs(at(y, p * g.O + o) - s) / (1 + Math.abs(s)));
    }
  }
  heap.free(x); heap.free(xp); heap.free(w); heap.free(bias); heap.free(y);
  return worst;
}

// conv2d_filter_grad against Σ_p col(p,k)·dy(p,o), accumulating onto an existing dw (beta = 1).
function filterGradError(g: G): f64 {
  const nx = g.N * g.H * g.W * g.C;
  const Hp = g.H + g.pT + g.pB, Wp = g.W + g.pL + g.pR;
  const x = buf(nx), xp = buf(g.N * Hp * Wp * g.C), dy = buf(g.P * g.O), dw = buf(g.K * g.O), dw0 = buf(g.K * g.O);
  const db = buf(g.O), db0 = buf(g.O);
  randomize(x, nx);
  randomize(dy, g.P * g.O);
  randomize(dw, g.K * g.O);
  randomize(db, g.O);
  memory.copy(dw0, dw, <usize>(g.K * g.O) << 2);
  memory.copy(db0, db, <usize>g.O << 2);
  pad_nhwc(xp, x, g.N, g.H, g.W, g.C, Hp, Wp, g.pT, g.pL);
  conv2d_filter_grad(dw, db, xp, dy, g.N, Hp, Wp, g.C, g.kH, g.kW, g.OH, g.OW, g.sH, g.sW, g.dH, g.dW, g.O, 1);
  let worst: f64 = 0;
  for (let o = 0; o < g.O; o++) {
    let s = at(db0, o);
    for (let p = 0; p < g.P; p++) s += at(dy, p * g.O + o);
    worst = max(worst, Math.abs(at(db, o) - s) / (1 + Math.abs(s)));
  }
  heap.free(db);
  heap.free(db0);
  for (let k = 0; k < g.K; k++) {
    for (let o = 0; o < g.O; o++) {
      let s = at(dw0, k * g.O + o);
      for (let p = 0; p < g.P; p++) s += g.colAt(x, p, k) * at(dy, p * g.O + o);
      worst = max(worst, Math.abs(at(dw, k * g.O + o) - s) / (1 + Math.abs(s)));
    }
  }
  heap.free(x); heap.free(xp); heap.free(dy); heap.free(dw); heap.free(dw0);
  return worst;
}

describe("conv", () => {
  test("im2col rows equal the patch definition (chunked, padding, stride, dilation)", () => {
    for (let i = 0; i < GEOMETRIES.length; i++) expect<f64>(im2colError(GEOMETRIES[i])).toBe(0);
  });
  test("col2im is the adjoint of im2col", () => {
    for (let i = 0; i < GEOMETRIES.length; i++) expect<bool>(adjointError(GEOMETRIES[i]) < 1e-6).toBe(true);
  });
  test("conv2d_direct over a padded input equals the float64 convolution", () => {
    for (let i = 0; i < GEOMETRIES.length; i++) expect<bool>(directError(GEOMETRIES[i]) < 1e-5).toBe(true);
  });
  test("conv2d_filter_grad equals colsᵀ·dy and db = Σ dy (accumulating)", () => {
    for (let i = 0; i < GEOMETRIES.length; i++) expect<bool>(filterGradError(GEOMETRIES[i]) < 1e-5).toBe(true);
  });
  test("pad_nhwc pads and crops; conv_filter_flip reverses taps and swaps channels", () => {
    const x = buf(2 * 2 * 3 * 2), out = buf(2 * 3 * 2 * 2);
    for (let i = 0; i < 24; i++) store<f32>(x + (<usize>i << 2), <f32>(i + 1));
    // top 1 (one zero row), left −1 (crop the first column): out[n, i, j] = x[n, i − 1, j + 1]
    pad_nhwc(out, x, 2, 2, 3, 2, 3, 2, 1, -1);
    let bad = 0;
    for (let n = 0; n < 2; n++)
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 2; j++)
          for (let c = 0; c < 2; c++) {
            const want: f64 = i == 0 ? 0 : at(x, ((n * 2 + i - 1) * 3 + j + 1) * 2 + c);
            if (at(out, ((n * 3 + i) * 2 + j) * 2 + c) != want) bad++;
          }
    expect<i32>(bad).toBe(0);
    const w = buf(3 * 2 * 4), f = buf(3 * 4 * 2);
    randomize(w, 24);
    conv_filter_flip(f, w, 3, 2, 4);
    bad = 0;
    for (let t = 0; t < 3; t++) for (let o = 0; o < 4; o++) for (let c = 0; c < 2; c++) if (at(f, (t * 4 + o) * 2 + c) != at(w, ((2 - t) * 2 + c) * 4 + o)) bad++;
    expect<i32>(bad).toBe(0);
  });
});

describe("pool", () => {
  test("2×2 max pooling: values, argmax indices, and the backward writes dy at the argmax", () => {
    // x [1, 4, 4, 5]: 5 channels exercise the SIMD body and the scalar tail.
    const n = 4 * 4 * 5;
    const x = buf(n), out = buf(2 * 2 * 5), idx = buf(2 * 2 * 5), dx = buf(n), dy = buf(2 * 2 * 5);
    randomize(x, n);
    randomize(dy, 20);
    maxpool2d_fwd(out, idx, x, 1, 4, 4, 5, 2, 2, 2, 2, 2, 2, 0, 0);
    let bad = 0;
    for (let oh = 0; oh < 2; oh++)
      for (let ow = 0; ow < 2; ow++)
        for (let c = 0; c < 5; c++) {
          let best: f64 = -Infinity;
          let arg = -1;
          for (let a = 0; a < 2; a++)
            for (let b = 0; b < 2; b++) {
              const e = ((oh * 2 + a) * 4 + ow * 2 + b) * 5 + c;
              if (at(x, e) > best) { best = at(x, e); arg = e; }
            }
          const o = (oh * 2 + ow) * 5 + c;
          if (at(out, o) != best || load<i32>(idx + (<usize>o << 2)) != arg) bad++;
        }
    expect<i32>(bad).toBe(0);
    maxpool2d_bwd(dx, idx, dy, 1, 4, 4, 5, 2, 2, 2, 2, 2, 2, 0, 0);
    let total: f64 = 0, want: f64 = 0;
    for (let i = 0; i < n; i++) total += at(dx, i);
    for (let i = 0; i < 20; i++) want += at(dy, i);
    expect<bool>(Math.abs(total - want) < 1e-5).toBe(true);
    for (let o = 0; o < 20; o++) if (at(dx, load<i32>(idx + (<usize>o << 2))) != at(dy, o)) bad++;
    expect<i32>(bad).toBe(0);
  });
});
