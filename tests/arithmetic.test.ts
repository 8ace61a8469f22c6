/**
 * add/sub/mul/div (tensor∘tensor and tensor∘scalar), fill and copy on every
 * backend: forward against the float32-rounded float64 result on awkward
 * lengths, backward by finite differences, bad input rejected with the heap
 * unchanged.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { add, backward, div, full, gradCheck, mul, relu, ShapeError, sub, sum, tensor, tidy, ValueError, zeros } from '../src/index.js';
import { BACKENDS, EACH_BACKEND, expectClose, randomArray, values, withBackend } from './helpers.js';

const LENGTHS = [0, 1, 3, 5, 17, 1001];
const OPS = { add, sub, mul, div } as const;
const REF = {
  add: (x: number, y: number) => x + y,
  sub: (x: number, y: number) => x - y,
  mul: (x: number, y: number) => x * y,
  div: (x: number, y: number) => x / y,
};

describe.each(EACH_BACKEND)('arithmetic on %s', (_name, be) => {
  test.each(Object.keys(OPS) as (keyof typeof OPS)[])('%s: tensor∘tensor and tensor∘scalar are exact float32', (op) => {
    withBackend(be, () => {
      for (const n of LENGTHS) {
        const A = randomArray(n, n + 1);
        const B = randomArray(n, n + 2).map((v) => v + Math.sign(v || 1) * 0.5); // away from 0 for div
        tidy(() => {
          const a = tensor(A, [n]), b = tensor(B, [n]);
          expect(Array.from(OPS[op](a, b).data())).toEqual(Array.from(A, (x, i) => Math.fround(REF[op](x, B[i]))));
          expect(Array.from(OPS[op](a, 1.75).data())).toEqual(Array.from(A, (x) => Math.fround(REF[op](x, 1.75))));
        });
      }
    });
  });

  test('gradients of add/sub/mul/div match finite differences', () => {
    withBackend(be, () => {
      tidy(() => {
        const a = tensor(randomArray(12, 5), [3, 4], { requiresGrad: true });
        const b = tensor(randomArray(12, 6).map((v) => v + Math.sign(v) * 0.7), [3, 4], { requiresGrad: true });
        for (const op of Object.values(OPS)) {
          expect(gradCheck((x, y) => op(x, y), [a, b]).maxRelError).toBeLessThan(1e-2);
          expect(gradCheck((x) => op(x, -1.5), [a]).maxRelError).toBeLessThan(1e-2);
        }
        // x∘x: both inputs are the same tensor; gradients add up.
        expect(gradCheck((x) => mul(x, x), [a]).maxRelError).toBeLessThan(1e-2);
      });
    });
  });

  test('full/zeros fill every element; int32 full', () => {
    withBackend(be, () => {
      tidy(() => {
        for (const n of LENGTHS) expect(Array.from(full([n], 2.5).data())).toEqual(new Array(n).fill(2.5));
        expect(Array.from(full([2, 2], 7, { dtype: 'int32' }).data())).toEqual([7, 7, 7, 7]);
      });
    });
  });

  test('bad input: shape mismatch, non-finite scalar, division by 0 — clear error, heap unchanged', () => {
    withBackend(be, () => {
      const a = tensor([1, 2, 3]);
      const b = tensor([[1, 2], [3, 4]]);
      const before = be.heap.liveBytes;
      expect(() => add(a, b)).toThrow(ShapeError);
      expect(() => add(a, b)).toThrow('add: shapes [3] and [2,2] do not broadcast (dimension -1: 3 vs 2');
      expect(() => mul(a, NaN)).toThrow(ValueError);
      expect(() => mul(a, Infinity)).toThrow('mul: the scalar operand must be a finite number; got Infinity');
      expect(() => div(a, 0)).toThrow('div: the divisor must be a finite nonzero number; got 0');
      expect(() => full([2], NaN)).toThrow(ValueError);
      expect(() => zeros([2, -1])).toThrow('dimensions must be non-negative integers; got [2,-1]');
      expect(() => zeros([1.5])).toThrow(ShapeError);
      expect(be.heap.liveBytes).toBe(before);
      expect(Array.from(a.data())).toEqual([1, 2, 3]);
      a.dispose();
      b.dispose();
    });
  });

  test('broadcasting forward matches a float64 loop; gradients reduce to each operand shape', () => {
    withBackend(be, () =>
      tidy(() => {
        const cases: [number[], number[]][] = [
          [[4, 5], [5]], [[4, 5], [4, 1]], [[1, 5], [3, 1]], [[2, 3, 4], [3, 1]], [[2, 1, 4], [1, 3, 1]],
          [[5], [2, 3, 5]], [[2, 2, 2, 2, 3], [2, 1, 2, 1, 3]], [[3, 4], []],
        ];
        for (const [sa, sb] of cases) {
          const na = sa.reduce((p, d) => p * d, 1), nb = sb.reduce((p, d) => p * d, 1);
          const A = randomArray(na, na + 3), B = randomArray(nb, nb + 4).map((v) => v + Math.sign(v || 1) * 0.6);
          const outShape = Array.from({ length: Math.max(sa.length, sb.length) }, (_, i) => {
            const da = sa[sa.length - Math.max(sa.length, sb.length) + i] ?? 1;
            const db = sb[sb.length - Math.max(sa.length, sb.length) + i] ?? 1;
            return Math.max(da, db);
          });
          const idx = (shape: number[], coord: number[]) => {
            let f = 0;
            const off = coord.length - shape.length;
            shape.forEach((d, i) => (f = f * d + (d === 1 ? 0 : coord[i + off])));
            return f;
          };
          const n = outShape.reduce((p, d) => p * d, 1);
          for (const [name, op] of Object.entries(OPS)) {
            const want = new Float64Array(n);
            for (let f = 0; f < n; f++) {
              const coord: number[] = [];
              let r = f;
              for (let i = outShape.length - 1; i >= 0; i--) {
                coord.unshift(r % outShape[i]);
                r = Math.floor(r / outShape[i]);
              }
              want[f] = REF[name as keyof typeof REF](A[idx(sa, coord)], B[idx(sb, coord)]);
            }
            const got = op(tensor(A, sa), tensor(B, sb));
            expect(got.shape).toEqual(outShape);
            expectClose(got.data(), want, 1e-6);
            const a = tensor(A, sa, { requiresGrad: true }), b = tensor(B, sb, { requiresGrad: true });
            const r = gradCheck((x, y) => op(x, y), [a, b]);
            expect(r.maxRelError, `${name} ${JSON.stringify([sa, sb])} ${JSON.stringify(r.worst)}`).toBeLessThan(1e-2);
          }
        }
      }),
    );
  });

  test('scalar on the left: s − x and s / x with gradients', () => {
    withBackend(be, () =>
      tidy(() => {
        const x = tensor([1, 2, -4], [3], { requiresGrad: true });
        expect(Array.from(sub(10, x).data())).toEqual([9, 8, 14]);
        expect(Array.from(div(2, x).data())).toEqual([2, 1, -0.5]);
        expect(gradCheck((t) => div(2, t), [x]).maxRelError).toBeLessThan(1e-2);
        expect(gradCheck((t) => sub(3, t), [x]).maxRelError).toBeLessThan(1e-2);
      }),
    );
  });

  test('random shapes (fast-check): mul then backward gives gy·b', () => {
    withBackend(be, () => {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 }), fc.integer(), (shape, seed) => {
          return tidy(() => {
            const n = shape.reduce((p, d) => p * d, 1);
            const a = tensor(randomArray(n, seed), shape, { requiresGrad: true });
            const b = tensor(randomArray(n, seed + 1), shape);
            backward(mul(a, b), tensor(randomArray(n, seed + 2), shape));
            const want = randomArray(n, seed + 2).map((g, i) => g * b.data()[i]);
            return Array.from(a.grad!.data()).every((v, i) => v === want[i]);
          });
        }),
        { numRuns: 40, seed: 7 },
      );
    });
  });
});

test('every backend agrees on a chain of ops', () => {
  const results = BACKENDS.map((be) =>
    withBackend(be, () => tidy(() => values(div(mul(add(tensor(randomArray(50, 1)), 3), tensor(randomArray(50, 2))), 1.5)))),
  );
  for (const r of results.slice(1)) expectClose(r, results[0], 1e-6);
});

// add (and add_scalar) pass their output gradient through as a view rather
// than copying it; autograd must then never accumulate in place into storage
// another pending gradient shares.
describe.each(EACH_BACKEND)('gradient pass-through on %s', (_name, be) => {
  test('shared gradient views: a + a, residual chains, leaves reached twice', () => {
    withBackend(be, () =>
      tidy(() => {
        const A = randomArray(6, 31), B = randomArray(6, 32);
        const a = tensor(A, [2, 3], { requiresGrad: true });
        const b = tensor(B, [2, 3], { requiresGrad: true });
        backward(sum(add(a, a)));
        expect(Array.from(a.grad!.data())).toEqual([2, 2, 2, 2, 2, 2]);
        a.grad = null;
        // h = a + b; out = (h + a) + (h·3) + 1  →  da = 1 + 1 + 3 = 5, db = 1 + 3 = 4
        const h = add(a, b);
        backward(sum(add(add(add(h, a), mul(h, 3)), 1)));
        expect(Array.from(a.grad!.data())).toEqual([5, 5, 5, 5, 5, 5]);
        expect(Array.from(b.grad!.data())).toEqual([4, 4, 4, 4, 4, 4]);
        // residual: r = x + relu(x); out = r + r·r  →  dx = (1 + 2r)(1 + [x > 0])
        const x = tensor(A, [2, 3], { requiresGrad: true });
        const r = add(x, relu(x));
        backward(sum(add(r, mul(r, r))));
        const R = Array.from(r.data());
        expectClose(x.grad!.data(), A.map((v, i) => (1 + 2 * R[i]) * (1 + (v > 0 ? 1 : 0))), 1e-6);
        // sub(a, a) = 0 everywhere, gradient 0
        const c = tensor(A, [2, 3], { requiresGrad: true });
        backward(sum(sub(c, c)));
        expect(Array.from(c.grad!.data())).toEqual([0, 0, 0, 0, 0, 0]);
      }),
    );
  });
});
