/**
 * sum, mean, max over axes and argmax: forward against float64 loops, gradients
 * by finite differences, on every backend.
 */
import { describe, expect, test } from 'vitest';
import { argmax, gradCheck, max, mean, ShapeError, sum, tensor, tidy, ValueError } from '../src/index.js';
import { BACKENDS, EACH_BACKEND, expectClose, randomArray, values, withBackend } from './helpers.js';

/** float64 reference: reduce `data` of `shape` over `axes` with `f` (sum or max). */
function reduceRef(data: ArrayLike<number>, shape: number[], axes: number[], f: 'sum' | 'max'): Float64Array {
  const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const n = outShape.reduce((p, d) => p * d, 1);
  const out = new Float64Array(n).fill(f === 'sum' ? 0 : -Infinity);
  const total = shape.reduce((p, d) => p * d, 1);
  for (let flat = 0; flat < total; flat++) {
    let r = flat, o = 0, mul = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
      const c = r % shape[i];
      r = Math.floor(r / shape[i]);
      if (!axes.includes(i)) o += c * mul;
      mul *= outShape[i];
    }
    out[o] = f === 'sum' ? out[o] + data[flat] : Math.max(out[o], data[flat]);
  }
  return out;
}

describe.each(EACH_BACKEND)('reductions on %s', (_name, be) => {
  const shape = [3, 4, 5];
  const X = randomArray(60, 11);

  test('sum and mean over every axis combination match float64', () => {
    withBackend(be, () =>
      tidy(() => {
        const x = tensor(X, shape);
        for (const axes of [[0], [1], [2], [0, 1], [1, 2], [0, 2], [0, 1, 2]]) {
          const want = reduceRef(X, shape, axes, 'sum');
          expectClose(sum(x, axes).data(), want, 1e-5);
          const count = axes.reduce((p, a) => p * shape[a], 1);
          expectClose(mean(x, axes, true).data(), want.map((v) => v / count), 1e-5);
          expect(sum(x, axes, true).shape).toEqual(shape.map((d, i) => (axes.includes(i) ? 1 : d)));
        }
        expect(sum(x).shape).toEqual([]);
        expectClose([sum(x).item()], [X.reduce((a, b) => a + b, 0)], 1e-5);
        expectClose(sum(x, -1).data(), reduceRef(X, shape, [2], 'sum'), 1e-5);
        // A long contiguous row (SIMD body + tail) and a tall column.
        const L = randomArray(1003, 3);
        expectClose([sum(tensor(L)).item()], [L.reduce((a, b) => a + b, 0)], 1e-5);
        expectClose(sum(tensor(L, [17, 59]), 0).data(), reduceRef(L, [17, 59], [0], 'sum'), 1e-5);
      }),
    );
  });

  test('max and argmax match float64; ties take the first index', () => {
    withBackend(be, () =>
      tidy(() => {
        const x = tensor(X, shape);
        for (const axis of [0, 1, 2]) {
          expectClose(max(x, axis).data(), reduceRef(X, shape, [axis], 'max'), 0);
        }
        expect(max(x).item()).toBe(Math.max(...X));
        expect(Array.from(argmax(tensor([[1, 3, 3], [5, 2, 5]]), 1).data())).toEqual([1, 0]);
        expect(argmax(x, 1).dtype).toBe('int32');
      }),
    );
  });

  test('gradients of sum, mean, max by finite differences', () => {
    withBackend(be, () =>
      tidy(() => {
        const x = tensor(X, shape, { requiresGrad: true });
        for (const axes of [undefined, 0, 1, 2, [0, 2], [1, 2]]) {
          expect(gradCheck((t) => sum(t, axes), [x]).maxRelError).toBeLessThan(1e-2);
          expect(gradCheck((t) => mean(t, axes, true), [x]).maxRelError).toBeLessThan(1e-2);
        }
        for (const axis of [undefined, 0, 1, 2]) expect(gradCheck((t) => max(t, axis), [x]).maxRelError).toBeLessThan(1e-2);
      }),
    );
  });

  test('bad axes and empty reductions are clear errors', () => {
    withBackend(be, () => {
      const x = tensor(X, shape);
      const before = be.heap.liveBytes;
      expect(() => sum(x, 3)).toThrow('sum: axis 3 is out of range for a tensor of rank 3');
      expect(() => max(x, -4)).toThrow(ShapeError);
      expect(() => mean(tensor([], [0]))).toThrow(ValueError);
      expect(be.heap.liveBytes).toBe(before + 16); // the [0] tensor
      x.dispose();
    });
  });
});

test('reductions agree across backends', () => {
  const r = BACKENDS.map((be) => withBackend(be, () => tidy(() => values(sum(tensor(randomArray(4000, 5), [40, 100]), 1)))));
  for (const x of r.slice(1)) expectClose(x, r[0], 1e-5);
});
