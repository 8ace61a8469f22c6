// as-pect specs for assembly/layernorm.ts: LayerNorm and RMSNorm forward and
// backward against float64 loops over awkward row lengths (1, 3, 4, 7, 33),
// with and without γ/β (pointer 0 = absent), dγ/dβ summed over rows; dx
// overwritten or (accDx) added to a random prior gradient.
import { layernorm_bwd, layernorm_fwd, rmsnorm_bwd, rmsnorm_fwd } from "../layernorm";

let seed: u32 = 99;
function rnd(): f32 {
  seed = seed * 1664525 + 1013904223;
  return <f32>(<f64>(seed >> 8) / 16777216.0 - 0.5) * 4;
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

function normError(rows: i32, n: i32, affine: bool, rms: bool, acc: bool = false): f64 {
  const x = buf(rows * n), y = buf(rows * n), dy = buf(rows * n), dx = buf(rows * n), prior = buf(rows * n);
  const g = affine ? buf(n) : 0, b = affine && !rms ? buf(n) : 0;
  const dg = affine ? buf(n) : 0, db = affine && !rms ? buf(n) : 0;
  const mean = buf(rows), rstd = buf(rows);
  randomize(x, rows * n);
  randomize(dy, rows * n);
  randomize(prior, rows * n);
  memory.copy(dx, prior, (<usize>(rows * n)) << 2);
  if (g != 0) randomize(g, n);
  if (b != 0) randomize(b, n);
  const eps: f32 = 1e-5;
  if (rms) {
    rmsnorm_fwd(y, rstd, x, g, rows, n, eps);
    rmsnorm_bwd(dx, dg, dy, x, rstd, g, rows, n, acc ? 1 : 0);
  } else {
    layernorm_fwd(y, mean, rstd, x, g, b, rows, n, eps);
    layernorm_bwd(dx, dg, db, dy, x, mean, rstd, g, rows, n, acc ? 1 : 0);
  }
  let worst: f64 = 0;
  const sg = new Array<f64>(n).fill(0), sb = new Array<f64>(n).fill(0);
  for (let r = 0; r < rows; r++) {
    let mu: f64 = 0;
    if (!rms) {
      for (let j = 0; j < n; j++) mu += at(x, r * n + j);
      mu /= <f64>n;
    }
    let v: f64 = 0;
    for (let j = 0; j < n; j++) v += (at(x, r * n + j) - mu) * (at(x, r * n + j) - mu);
    const rs = 1 / Math.sqrt(v / <f64>n + <f64>eps);
    let a: f64 = 0, c: f64 = 0;
    for (let j = 0; j < n; j++) {
      const xh = (at(x, r * n + j) - mu) * rs;
      const gam = g != 0 ? at(g, j) : 1;
      const want = xh * gam + (b != 0 ? at(b, j) : 0);
      worst = Math.max(worst, Math.abs(at(y, r * n + j) - want) / (1 + Math.abs(want)));
      const gg = at(dy, r * n + j) * gam;
      a += gg;
      c += gg * xh;
      sg[j] += at(dy, r * n + j) * xh;
      sb[j] += at(dy, r * n + j);
    }
    a = rms ? 0 : a / <f64>n;
    c /= <f64>n;
    for (let j = 0; j < n; j++) {
      const xh = (at(x, r * n + j) - mu) * rs;
      const gg = at(dy, r * n + j) * (g != 0 ? at(g, j) : 1);
      const want = rs * (gg - a - xh * c) + (acc ? at(prior, r * n + j) : 0);
      worst = Math.max(worst, Math.abs(at(dx, r * n + j) - want) / (1 + Math.abs(want)));
    }
  }
  for (let j = 0; j < n; j++) {
    if (dg != 0) worst = Math.max(worst, Math.abs(at(dg, j) - sg[j]) / (1 + Math.abs(sg[j])));
    if (db != 0) worst = Math.max(worst, Math.abs(at(db, j) - sb[j]) / (1 + Math.abs(sb[j])));
  }
  const blocks: usize[] = [x, y, dy, dx, prior, g, b, dg, db, mean, rstd];
  for (let i = 0; i < blocks.length; i++) if (blocks[i] != 0) heap.free(blocks[i]);
  return worst;
}

describe("layernorm", () => {
  test("LayerNorm forward and backward match float64 (with and without γ, β)", () => {
    let worst: f64 = 0;
    const ns: i32[] = [1, 3, 4, 7, 33];
    for (let i = 0; i < ns.length; i++) {
      worst = Math.max(worst, normError(5, ns[i], true, false));
      worst = Math.max(worst, normError(3, ns[i], false, false));
      worst = Math.max(worst, normError(4, ns[i], true, false, true));
      worst = Math.max(worst, normError(3, ns[i], false, false, true));
    }
    expect<f64>(worst).toBeLessThan(1e-4);
  });

  test("RMSNorm forward and backward match float64", () => {
    let worst: f64 = 0;
    const ns: i32[] = [1, 3, 4, 7, 33];
    for (let i = 0; i < ns.length; i++) {
      worst = Math.max(worst, normError(5, ns[i], true, true));
      worst = Math.max(worst, normError(3, ns[i], false, true));
      worst = Math.max(worst, normError(4, ns[i], true, true, true));
      worst = Math.max(worst, normError(3, ns[i], false, true, true));
    }
    expect<f64>(worst).toBeLessThan(1e-4);
  });
});
