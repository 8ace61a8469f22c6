// as-pect specs for assembly/gemm.ts: the kernel against a float64 triple loop
// over awkward shapes (1, primes, tall-skinny, K=1, every panel height and
// edge of the MR×8 and 4×8 tiles, edges of the KC/MC blocks), every transpose
// combination, alpha/beta, beta = 0 over NaN, leading dimensions wider than
// the matrix, and strided batches. (as-pect runs the relaxed build: MR = 6.)
import { gemm, gemm_batched, gemm_workspace_bytes } from "../gemm";

let seed: u32 = 12345;
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

const ws = heap.alloc(<usize>gemm_workspace_bytes());

// Largest |C - reference| / (1 + |reference|) over the m×n result (ldc = ldcPad).
function gemmError(m: i32, n: i32, k: i32, tA: i32, tB: i32, alpha: f32, beta: f32, pad: i32): f64 {
  const lda = (tA ? m : k) + pad;
  const ldb = (tB ? k : n) + pad;
  const ldc = n + pad;
  const a = buf((tA ? k : m) * lda);
  const b = buf((tB ? n : k) * ldb);
  const c = buf(m * ldc);
  const c0 = buf(m * ldc);
  randomize(a, (tA ? k : m) * lda);
  randomize(b, (tB ? n : k) * ldb);
  randomize(c, m * ldc);
  memory.copy(c0, c, <usize>(m * ldc) << 2);
  gemm(c, a, b, ws, m, n, k, lda, ldb, ldc, tA, tB, alpha, beta);
  let worst: f64 = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s: f64 = 0;
      for (let p = 0; p < k; p++) {
        s += at(a, tA ? p * lda + i : i * lda + p) * at(b, tB ? j * ldb + p : p * ldb + j);
      }
      const ref = <f64>alpha * s + (beta == 0 ? 0 : <f64>beta * at(c0, i * ldc + j));
      const err = Math.abs(at(c, i * ldc + j) - ref) / (1 + Math.abs(ref));
      if (err > worst) worst = err;
    }
    // Padding columns beyond n must be untouched.
    for (let j = n; j < ldc; j++) {
      if (at(c, i * ldc + j) != at(c0, i * ldc + j)) worst = 1;
    }
  }
  heap.free(a);
  heap.free(b);
  heap.free(c);
  heap.free(c0);
  return worst;
}

describe("gemm", () => {
  test("matches a float64 loop on awkward shapes, all transposes", () => {
    const shapes: i32[] = [
      1, 1, 1, 2, 3, 1, 17, 17, 17, 31, 31, 31, 5, 9, 13, 4, 8, 1, 1, 127, 3, 127, 1, 5,
      300, 7, 4, 7, 300, 9, 64, 64, 64, 65, 33, 257, 130, 70, 300,
    ];
    let worst: f64 = 0;
    for (let s = 0; s < shapes.length; s += 3) {
      for (let t = 0; t < 4; t++) {
        const e = gemmError(shapes[s], shapes[s + 1], shapes[s + 2], t & 1, t >> 1, 1, 0, 0);
        if (e > worst) worst = e;
      }
    }
    expect<f64>(worst).toBeLessThan(1e-5);
  });

  test("every A-panel height and tail (M = 1…14), N and K edges, all transposes", () => {
    // Rows split into 6- (5- in the plain build) and 4-row panels, full or
    // partial; columns into 8-wide panels (16 at a time when packing B);
    // K tails of the 4-step transposes.
    const ns: i32[] = [8, 9, 16, 17, 24, 33];
    const ks: i32[] = [1, 3, 4, 7, 16, 257];
    let worst: f64 = 0;
    for (let m = 1; m <= 14; m++) {
      for (let t = 0; t < 4; t++) {
        const n = ns[(m + t) % ns.length];
        const k = ks[(m * 3 + t) % ks.length];
        worst = Math.max(worst, gemmError(m, n, k, t & 1, t >> 1, 1, 0, 0));
        worst = Math.max(worst, gemmError(m, n, k, t & 1, t >> 1, 0.75, 0.5, 2));
      }
    }
    expect<f64>(worst).toBeLessThan(1e-5);
  });

  test("beta = 0 ignores NaN in C, in full and in edge tiles", () => {
    const m = 13, n = 19, k = 5;
    const a = buf(m * k), b = buf(k * n), c = buf(m * n);
    randomize(a, m * k);
    randomize(b, k * n);
    for (let i = 0; i < m * n; i++) store<f32>(c + (<usize>i << 2), NaN);
    gemm(c, a, b, ws, m, n, k, k, n, n, 0, 0, 1, 0);
    let worst: f64 = 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s: f64 = 0;
        for (let p = 0; p < k; p++) s += at(a, i * k + p) * at(b, p * n + j);
        const e = Math.abs(at(c, i * n + j) - s); // NaN fails the comparison below
        worst = e < worst ? worst : e;
      }
    }
    expect<f64>(worst).toBeLessThan(1e-5);
    heap.free(a);
    heap.free(b);
    heap.free(c);
  });

  test("alpha, beta accumulate and leading dimensions wider than the matrix", () => {
    let worst: f64 = 0;
    for (let t = 0; t < 4; t++) {
      worst = Math.max(worst, gemmError(13, 11, 29, t & 1, t >> 1, 0.5, 1, 3));
      worst = Math.max(worst, gemmError(9, 17, 300, t & 1, t >> 1, -2, 0.25, 5));
      worst = Math.max(worst, gemmError(6, 6, 6, t & 1, t >> 1, 0, 0.5, 1));
    }
    expect<f64>(worst).toBeLessThan(1e-5);
  });

  test("K = 0 scales C by beta (beta = 0 clears NaN)", () => {
    const c = buf(6);
    for (let i = 0; i < 6; i++) store<f32>(c + (<usize>i << 2), i == 0 ? NaN : <f32>i);
    gemm(c, 0, 0, ws, 2, 3, 0, 1, 3, 3, 0, 0, 1, 0);
    let sum: f64 = 0;
    for (let i = 0; i < 6; i++) sum += at(c, i);
    expect<f64>(sum).toBe(0);
    heap.free(c);
  });

  test("strided batches, with a shared (stride 0) operand", () => {
    const batch = 3, m = 5, n = 9, k = 7;
    const a = buf(batch * m * k), b = buf(k * n), c = buf(batch * m * n);
    randomize(a, batch * m * k);
    randomize(b, k * n);
    gemm_batched(c, a, b, ws, batch, m, n, k, k, n, n, m * k, 0, m * n, 0, 0, 1, 0);
    let worst: f64 = 0;
    for (let q = 0; q < batch; q++) {
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s: f64 = 0;
          for (let p = 0; p < k; p++) s += at(a, q * m * k + i * k + p) * at(b, p * n + j);
          worst = Math.max(worst, Math.abs(at(c, q * m * n + i * n + j) - s));
        }
      }
    }
    expect<f64>(worst).toBeLessThan(1e-5);
    heap.free(a);
    heap.free(b);
    heap.free(c);
  });
});
