/**
 * The matmul op: 2-D, batched, shared operands and transposes against float64
 * references; gradients by finite differences for every layout; bad shapes.
 */
import { describe, expect, test } from 'vitest';
import { gradCheck, matmul, ShapeError, tensor, tidy } from '../src/index.js';
import { BACKENDS, EACH_BACKEND, expectClose, naiveGemm, randomArray, values, withBackend } from './helpers.js';

describe.each(EACH_BACKEND)('matmul on %s', (_name, be) => {
  test('2-D with every transpose flag matches float64', () => {
    withBackend(be, () =>
      tidy(() => {
        const m = 7, n = 5, k = 9;
        for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]]) {
          const A = randomArray(m * k, 1), B = randomArray(k * n, 2);
          const a = tensor(A, tA ? [k, m] : [m, k]), b = tensor(B, tB ? [n, k] : [k, n]);
          const c = matmul(a, b, { transposeA: tA, transposeB: tB });
          expect(c.shape).toEqual([m, n]);
          expectClose(c.data(), naiveGemm(A, B, m, n, k, tA, tB), 1e-5);
        }
      }),
    );
  });

  test('batched, and a 2-D operand shared across the batch', () => {
    withBackend(be, () =>
      tidy(() => {
        const B = 3, m = 4, n = 6, k = 5;
        const A3 = randomArray(B * m * k, 3), B3 = randomArray(B * k * n, 4), B2 = randomArray(k * n, 5), A2 = randomArray(m * k, 6);
        const c1 = matmul(tensor(A3, [B, m, k]), tensor(B3, [B, k, n]));
        const c2 = matmul(tensor(A3, [B, m, k]), tensor(B2, [k, n]));
        const c3 = matmul(tensor(A2, [m, k]), tensor(B3, [B, k, n]));
        for (let q = 0; q < B; q++) {
          const a = A3.subarray(q * m * k, (q + 1) * m * k), b = B3.subarray(q * k * n, (q + 1) * k * n);
          const sl = (t: typeof c1) => t.data().subarray(q * m * n, (q + 1) * m * n);
          expectClose(sl(c1), naiveGemm(a, b, m, n, k), 1e-5);
          expectClose(sl(c2), naiveGemm(a, B2, m, n, k), 1e-5);
          expectClose(sl(c3), naiveGemm(A2, b, m, n, k), 1e-5);
        }
      }),
    );
  });

  test('gradients match finite differences: 2-D, transposes, batched, shared operands', () => {
    withBackend(be, () =>
      tidy(() => {
        const p = (shape: number[], seed: number) =>
          tensor(randomArray(shape.reduce((x, y) => x * y), seed), shape, { requiresGrad: true });
        const cases: [number[], number[], boolean, boolean][] = [
          [[3, 4], [4, 5], false, false], [[4, 3], [4, 5], true, false], [[3, 4], [5, 4], false, true],
          [[4, 3], [5, 4], true, true], [[2, 3, 4], [2, 4, 5], false, false], [[2, 3, 4], [4, 5], false, false],
          [[2, 4, 3], [4, 5], true, false], [[2, 3, 4], [5, 4], false, true], [[3, 4], [2, 4, 5], false, false],
          [[4, 3], [2, 5, 4], true, true], [[2, 4, 3], [2, 5, 4], true, true],
        ];
        cases.forEach(([sa, sb, tA, tB], i) => {
          const r = gradCheck((a, b) => matmul(a, b, { transposeA: tA, transposeB: tB }), [p(sa, i), p(sb, i + 50)]);
          expect(r.maxRelError, `case ${i}: ${JSON.stringify(r.worst)}`).toBeLessThan(1e-2);
        });
      }),
    );
  });

  test('bad shapes name the op and both shapes; nothing is allocated', () => {
    withBackend(be, () => {
      const a = tensor(randomArray(12, 1), [4, 3]);
      const b = tensor(randomArray(10, 2), [2, 5]);
      const v = tensor([1, 2, 3]);
      const before = be.heap.liveBytes;
      expect(() => matmul(a, b)).toThrow('matmul: inner dimensions differ: a is [4,3], b is [2,5]');
      expect(() => matmul(a, v)).toThrow(ShapeError);
      const a3 = tensor(randomArray(24, 3), [2, 4, 3]);
      const b3 = tensor(randomArray(45, 4), [3, 3, 5]);
      const after = be.heap.liveBytes;
      expect(() => matmul(a3, b3)).toThrow('matmul: batch dimensions differ');
      expect(be.heap.liveBytes).toBe(after);
      expect(after - before).toBe(96 + 192); // a3 and b3 (16-byte aligned), nothing else
      for (const t of [a, b, v, a3, b3]) t.dispose();
    });
  });
});

test('wasm and js matmul agree within 1e-4 relative on a layer-sized product', () => {
  const results = BACKENDS.map((be) =>
    withBackend(be, () => tidy(() => values(matmul(tensor(randomArray(64 * 784, 1), [64, 784]), tensor(randomArray(784 * 30, 2), [784, 30]))))),
  );
  for (const r of results.slice(1)) expectClose(r, results[0], 1e-4);
});
