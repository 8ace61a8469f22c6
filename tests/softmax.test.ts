/**
 * softmax and logSoftmax over every axis on every backend: forward against a
 * float64 reference (awkward lengths, first/middle/last axes, inner sizes that
 * exercise the 4-column SIMD groups and the column tail), backward against the
 * closed form and finite differences, huge logits, backends agreeing, bad
 * axes and dtypes rejected with the heap unchanged.
 */
import { describe, expect, test } from 'vitest';
import {
  backward, DTypeError, gradCheck, logSoftmax, mul, softmax, tensor, tidy, ValueError,
} from '../src/index.js';
import { BACKENDS, EACH_BACKEND, expectClose, randomArray, values, withBackend } from './helpers.js';
import { softmax64 } from './reference-math.js';

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

// [shape, axis]: lengths 0, 1, 3, 5, 17, 1001 along the last axis; first and
// middle axes with inner = 1, 3, 4, 7 (a SIMD group plus a 3-column tail), 8.
const CASES: [number[], number][] = [
  [[0], -1], [[1], -1], [[3], -1], [[5], 0], [[17], -1], [[1001], -1],
  [[4, 0], -1], [[0, 3], 0], [[3, 17], 1], [[3, 17], 0], [[6, 5], -2],
  [[2, 5, 7], 1], [[2, 5, 7], -1], [[2, 5, 7], 0], [[3, 17, 4], 1], [[2, 3, 8], 1], [[2, 1001, 3], 1],
  [[2, 3, 4, 5], 2], [[], -1], [[], 0],
];

describe.each(EACH_BACKEND)('softmax on %s', (_name, be) => {
  test.each(CASES)('forward of shape %j over axis %i matches float64', (shape, axis) => {
    withBackend(be, () => {
      const X = randomArray(size(shape), shape.length * 31 + axis).map((v) => v * 8);
      tidy(() => {
        const x = tensor(X, shape);
        const y = softmax(x, axis);
        const ly = logSoftmax(x, axis);
        expect(y.shape).toEqual(shape);
        expectClose(values(y), softmax64(X, shape, axis), 1e-6);
        expectClose(values(ly), softmax64(X, shape, axis, true), 2e-6);
      });
    });
  });

  test.each(CASES.filter(([s]) => size(s) > 0))('backward of shape %j over axis %i equals the closed form', (shape, axis) => {
    withBackend(be, () => {
      const n = size(shape);
      const X = randomArray(n, 7 + axis).map((v) => v * 4);
      const DY = randomArray(n, 9);
      tidy(() => {
        const x = tensor(X, shape, { requiresGrad: true });
        backward(softmax(x, axis), tensor(DY, shape));
        const gs = values(x.grad!);
        x.grad!.dispose();
        x.grad = null;
        backward(logSoftmax(x, axis), tensor(DY, shape));
        const gl = values(x.grad!);
        // dx = y·(dy − Σ dy·y) and dx = dy − softmax·Σ dy, sums along the axis, in float64.
        const y = softmax64(X, shape, axis);
        const ax = axis < 0 ? axis + Math.max(shape.length, 1) : axis;
        const len = shape[ax] ?? 1;
        const inner = size(shape.slice(ax + 1));
        const ws = new Float64Array(n), wl = new Float64Array(n);
        for (let o = 0; o < n / (len * inner); o++) {
          for (let j = 0; j < inner; j++) {
            const at = (k: number) => o * len * inner + k * inner + j;
            let sdy = 0, sdyy = 0;
            for (let k = 0; k < len; k++) {
              sdy += DY[at(k)];
              sdyy += DY[at(k)] * y[at(k)];
            }
            for (let k = 0; k < len; k++) {
              ws[at(k)] = y[at(k)] * (DY[at(k)] - sdyy);
              wl[at(k)] = DY[at(k)] - y[at(k)] * sdy;
            }
          }
        }
        expectClose(gs, ws, 2e-6);
        expectClose(gl, wl, 2e-6);
      });
    });
  });

  test.each([[[3, 5], -1], [[3, 5], 0], [[2, 3, 5], 1], [[2, 5, 6], 1]] as [number[], number][])(
    'gradients for shape %j, axis %i match finite differences',
    (shape, axis) => {
      withBackend(be, () => {
        tidy(() => {
          const x = tensor(randomArray(size(shape), 3).map((v) => v * 3), shape, { requiresGrad: true });
          // Weighting by a fixed tensor makes the check non-trivial for softmax (Σ y = 1 along the axis).
          const w = tensor(randomArray(size(shape), 4), shape);
          expect(gradCheck((t) => mul(softmax(t, axis), w), [x]).maxRelError).toBeLessThan(1e-2);
          // log-softmax outputs are O(log n): a larger step keeps float32 round-off out of the differences.
          expect(gradCheck((t) => logSoftmax(t, axis), [x], { eps: 1e-2 }).maxRelError).toBeLessThan(1e-2);
        });
      });
    },
  );

  test('huge logits (±1000) and -Infinity entries stay finite', () => {
    withBackend(be, () => {
      tidy(() => {
        const x = tensor([[1000, -1000, 999], [-1000, -1000, -1000], [0, -Infinity, 0]], undefined, { requiresGrad: true });
        const y = softmax(x);
        expectClose(values(y), [1 / (1 + Math.exp(-1)), 0, Math.exp(-1) / (1 + Math.exp(-1)), 1 / 3, 1 / 3, 1 / 3, 0.5, 0, 0.5], 1e-6);
        const ly = values(logSoftmax(x));
        expectClose(ly.filter(Number.isFinite), [-Math.log1p(Math.exp(-1)), -2000 - Math.log1p(Math.exp(-1)), -1 - Math.log1p(Math.exp(-1)),
          -Math.log(3), -Math.log(3), -Math.log(3), -Math.log(2), -Math.log(2)], 1e-6);
        expect(ly[7]).toBe(-Infinity);
        backward(softmax(x), tensor([[1, 2, 3], [1, 2, 3], [1, 2, 3]]));
        expect(values(x.grad!).every(Number.isFinite)).toBe(true);
      });
    });
  });

  test('bad input: axis out of range, non-integer axis, int32 — clear error, heap unchanged', () => {
    withBackend(be, () => {
      const x = tensor([[1, 2], [3, 4]]);
      const xi = tensor([1, 2], undefined, { dtype: 'int32' });
      const before = be.heap.liveBytes;
      expect(() => softmax(x, 2)).toThrow(ValueError);
      expect(() => softmax(x, 2)).toThrow('softmax: axis 2 is out of range for a tensor of rank 2');
      expect(() => logSoftmax(x, -3)).toThrow('logSoftmax: axis -3 is out of range for a tensor of rank 2 (valid: -2 to 1)');
      expect(() => softmax(x, 0.5)).toThrow('softmax: axis 0.5 is out of range');
      expect(() => softmax(xi)).toThrow(DTypeError);
      expect(be.heap.liveBytes).toBe(before);
      x.dispose();
      xi.dispose();
    });
  });
});

test('every backend agrees within 1e-4 relative (last and middle axis, forward and backward)', () => {
  for (const [shape, axis] of [[[7, 1001], -1], [[3, 50, 11], 1]] as [number[], number][]) {
    const X = randomArray(size(shape), 12).map((v) => v * 10);
    const DY = randomArray(size(shape), 13);
    const results = BACKENDS.map((be) =>
      withBackend(be, () =>
        tidy(() => {
          const x = tensor(X, shape, { requiresGrad: true });
          const y = softmax(x, axis);
          backward(y, tensor(DY, shape));
          const g = values(x.grad!);
          x.grad!.dispose();
          x.grad = null;
          const ly = logSoftmax(x, axis);
          backward(ly, tensor(DY, shape));
          return [values(y), g, values(ly), values(x.grad!)];
        }),
      ),
    );
    for (const r of results.slice(1)) for (let i = 0; i < 4; i++) expectClose(r[i], results[0][i], 1e-4);
  }
});
