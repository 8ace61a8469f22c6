/**
 * The gemm kernel on every backend against a float64 triple loop: awkward
 * shapes, all transposes, alpha/beta accumulation, leading dimensions wider
 * than the matrix, strided batches with shared operands, random shapes
 * (fast-check), and agreement between backends.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { Backend } from '../src/index.js';
import { BACKENDS, EACH_BACKEND, expectClose, maxRelError, naiveGemm, randomArray } from './helpers.js';

interface Case {
  m: number; n: number; k: number; tA: boolean; tB: boolean; alpha?: number; beta?: number; pad?: number;
}

/** Runs one gemm on backend `be` through the raw kernel; returns C (dense m×n) and the float64 reference. */
function runGemm(be: Backend, c: Case, seed = 1): { got: Float32Array; want: Float64Array; padOk: boolean } {
  const { m, n, k, tA, tB, alpha = 1, beta = 0, pad = 0 } = c;
  const rowsA = tA ? k : m, colsA = tA ? m : k;
  const rowsB = tB ? n : k, colsB = tB ? k : n;
  const lda = colsA + pad, ldb = colsB + pad, ldc = n + pad;
  const A = randomArray(rowsA * colsA, seed);
  const B = randomArray(rowsB * colsB, seed + 1);
  const C0 = randomArray(m * n, seed + 2);
  const h = be.heap;
  const pa = h.alloc(4 * rowsA * lda), pb = h.alloc(4 * rowsB * ldb), pc = h.alloc(4 * m * ldc);
  const sentinel = 12345.5;
  for (let i = 0; i < rowsA; i++) h.f32.set(A.subarray(i * colsA, (i + 1) * colsA), (pa >>> 2) + i * lda);
  for (let i = 0; i < rowsB; i++) h.f32.set(B.subarray(i * colsB, (i + 1) * colsB), (pb >>> 2) + i * ldb);
  h.f32.fill(sentinel, pc >>> 2, (pc >>> 2) + m * ldc);
  for (let i = 0; i < m; i++) h.f32.set(C0.subarray(i * n, (i + 1) * n), (pc >>> 2) + i * ldc);
  be.k.gemm(pc, pa, pb, be.gemmWs, m, n, k, lda, ldb, ldc, +tA, +tB, alpha, beta);
  const got = new Float32Array(m * n);
  let padOk = true;
  for (let i = 0; i < m; i++) {
    got.set(h.f32.subarray((pc >>> 2) + i * ldc, (pc >>> 2) + i * ldc + n), i * n);
    for (let j = n; j < ldc; j++) if (h.f32[(pc >>> 2) + i * ldc + j] !== sentinel) padOk = false;
  }
  h.free(pa); h.free(pb); h.free(pc);
  return { got, want: naiveGemm(A, B, m, n, k, tA, tB, alpha, beta, C0), padOk };
}

const SHAPES: [number, number, number][] = [
  [1, 1, 1], [2, 3, 1], [17, 17, 17], [31, 31, 31], [127, 127, 127], [5, 9, 13], [4, 8, 1], [1, 127, 3],
  [127, 1, 5], [300, 7, 4], [7, 300, 9], [64, 64, 64], [65, 33, 257], [130, 70, 300], [0, 5, 3], [3, 0, 5],
  [1, 1, 600], [3, 1030, 2],
  // K past one K block of the wasm builds (KC = 1024): later blocks add to C.
  [67, 40, 1100], [13, 130, 2049],
];
const TRANSPOSES: [boolean, boolean][] = [[false, false], [true, false], [false, true], [true, true]];

describe.each(EACH_BACKEND)('gemm on %s', (_name, be) => {
  test.each(SHAPES)('m=%i n=%i k=%i, every transpose, matches float64', (m, n, k) => {
    for (const [tA, tB] of TRANSPOSES) {
      const { got, want } = runGemm(be, { m, n, k, tA, tB });
      expectClose(got, want, 2e-5 * Math.sqrt(Math.max(k, 1)));
    }
  });

  test('A read in place by the relaxed build (row strides 64, 128, 192 floats; N a multiple of 16)', () => {
    // [m, n, k, pad]: lda = k + pad. Full 6-row panels read A where it lies, a short last panel is packed.
    const cases: [number, number, number, number][] = [
      [100, 32, 64, 0], [13, 64, 40, 24], [50, 48, 100, 28], [37, 16, 192, 0], [200, 32, 128, 0], [6, 16, 64, 0],
    ];
    for (const [m, n, k, pad] of cases) {
      for (const tB of [false, true]) {
        const { got, want, padOk } = runGemm(be, { m, n, k, tA: false, tB, pad }, m + n);
        expect(padOk).toBe(true);
        expectClose(got, want, 2e-5 * Math.sqrt(k));
      }
    }
  });

  test('alpha and beta accumulate; columns past n (ldc > n) are untouched', () => {
    for (const [tA, tB] of TRANSPOSES) {
      for (const [alpha, beta] of [[0.5, 1], [-2, 0.25], [0, 0.5], [1, 0]]) {
        const { got, want, padOk } = runGemm(be, { m: 13, n: 11, k: 29, tA, tB, alpha, beta, pad: 3 });
        expectClose(got, want, 1e-4);
        expect(padOk).toBe(true);
      }
    }
  });

  test('beta = 0 overwrites NaN in C; K = 0 scales C', () => {
    const h = be.heap;
    const pc = h.alloc(4 * 6);
    h.f32.fill(NaN, pc >>> 2, (pc >>> 2) + 6);
    be.k.gemm(pc, 0, 0, be.gemmWs, 2, 3, 0, 0, 3, 3, 0, 0, 1, 0);
    expect(Array.from(h.f32.subarray(pc >>> 2, (pc >>> 2) + 6))).toEqual([0, 0, 0, 0, 0, 0]);
    h.f32.fill(2, pc >>> 2, (pc >>> 2) + 6);
    be.k.gemm(pc, 0, 0, be.gemmWs, 2, 3, 0, 0, 3, 3, 0, 0, 1, 0.5);
    expect(Array.from(h.f32.subarray(pc >>> 2, (pc >>> 2) + 6))).toEqual([1, 1, 1, 1, 1, 1]);
    h.free(pc);
  });

  test('strided batched gemm, including a shared (stride 0) operand', () => {
    const batch = 4, m = 5, n = 9, k = 7;
    for (const [tA, tB] of TRANSPOSES) {
      for (const [sharedA, sharedB] of [[false, false], [true, false], [false, true]]) {
        const A = randomArray((sharedA ? 1 : batch) * m * k, 3), B = randomArray((sharedB ? 1 : batch) * k * n, 4);
        const h = be.heap;
        const pa = h.alloc(4 * A.length), pb = h.alloc(4 * B.length), pc = h.alloc(4 * batch * m * n);
        h.f32.set(A, pa >>> 2);
        h.f32.set(B, pb >>> 2);
        be.k.gemm_batched(pc, pa, pb, be.gemmWs, batch, m, n, k, tA ? m : k, tB ? k : n, n,
          sharedA ? 0 : m * k, sharedB ? 0 : k * n, m * n, +tA, +tB, 1, 0);
        for (let q = 0; q < batch; q++) {
          const a = sharedA ? A : A.subarray(q * m * k, (q + 1) * m * k);
          const b = sharedB ? B : B.subarray(q * k * n, (q + 1) * k * n);
          const got = h.f32.slice((pc >>> 2) + q * m * n, (pc >>> 2) + (q + 1) * m * n);
          expectClose(got, naiveGemm(a, b, m, n, k, tA, tB), 1e-5);
        }
        h.free(pa); h.free(pb); h.free(pc);
      }
    }
  });

  test('random shapes and transposes (fast-check) match float64', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 300 }),
        fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 3 }), fc.integer(),
        (m, n, k, tA, tB, pad, seed) => {
          const { got, want, padOk } = runGemm(be, { m, n, k, tA, tB, pad, alpha: 1, beta: 0 }, seed);
          return padOk && maxRelError(got, want) <= 1e-5 * Math.sqrt(k) * 4;
        },
      ),
      { numRuns: 60, seed: 42 },
    );
  });
});

test('every backend computes the same product (within 1e-4 relative)', () => {
  const results = BACKENDS.map((be) => runGemm(be, { m: 67, n: 45, k: 513, tA: false, tB: true }, 9).got);
  for (let i = 1; i < results.length; i++) expectClose(results[i], results[0], 1e-4);
});
