/**
 * The fused linear op (x·W + b) and take (row gather with scatter-add
 * gradient): values against float64 loops, gradients by finite differences,
 * bad shapes and indices.
 */
import { describe, expect, test } from 'vitest';
import { backward, gradCheck, linear, ShapeError, take, tensor, tidy, ValueError } from '../src/index.js';
import { BACKENDS, EACH_BACKEND, expectClose, naiveGemm, randomArray, values, withBackend } from './helpers.js';

describe.each(EACH_BACKEND)('linear and take on %s', (_name, be) => {
  test('linear = x·W + b for 2-D and batched inputs', () => {
    withBackend(be, () =>
      tidy(() => {
        const X = randomArray(2 * 5 * 7, 1), W = randomArray(7 * 3, 2), B = randomArray(3, 3);
        const y = linear(tensor(X, [2, 5, 7]), tensor(W, [7, 3]), tensor(B, [3]));
        expect(y.shape).toEqual([2, 5, 3]);
        const want = naiveGemm(X, W, 10, 3, 7).map((v, i) => v + B[i % 3]);
        expectClose(y.data(), want, 1e-5);
        expectClose(linear(tensor(X, [10, 7]), tensor(W, [7, 3])).data(), naiveGemm(X, W, 10, 3, 7), 1e-5);
      }),
    );
  });

  test('linear gradients (x, W, b) by finite differences', () => {
    withBackend(be, () =>
      tidy(() => {
        const x = tensor(randomArray(4 * 6, 4), [4, 6], { requiresGrad: true });
        const w = tensor(randomArray(6 * 5, 5), [6, 5], { requiresGrad: true });
        const b = tensor(randomArray(5, 6), [5], { requiresGrad: true });
        expect(gradCheck((a, c, d) => linear(a, c, d), [x, w, b]).maxRelError).toBeLessThan(1e-2);
        const x3 = tensor(randomArray(2 * 3 * 6, 7), [2, 3, 6], { requiresGrad: true });
        expect(gradCheck((a, c) => linear(a, c), [x3, w]).maxRelError).toBeLessThan(1e-2);
      }),
    );
  });

  test('linear backward: dW and db (summed while the GEMM packs dy) over several GEMM blocks and odd widths', () => {
    withBackend(be, () =>
      tidy(() => {
        for (const [rows, inF, outF] of [[300, 7, 21], [5, 3, 8], [520, 2, 35]]) {
          const X = randomArray(rows * inF, rows), W = randomArray(inF * outF, 2), B = randomArray(outF, 3), G = randomArray(rows * outF, 4);
          const x = tensor(X, [rows, inF]), w = tensor(W, [inF, outF], { requiresGrad: true }), b = tensor(B, [outF], { requiresGrad: true });
          backward(linear(x, w, b), tensor(G, [rows, outF]));
          const dW = new Float64Array(inF * outF), dB = new Float64Array(outF);
          for (let r = 0; r < rows; r++) {
            for (let j = 0; j < outF; j++) {
              const g = G[r * outF + j];
              dB[j] += g;
              for (let i = 0; i < inF; i++) dW[i * outF + j] += X[r * inF + i] * g;
            }
          }
          expectClose(w.grad!.data(), dW, 1e-4);
          expectClose(b.grad!.data(), dB, 1e-4);
        }
      }),
    );
  });

  test('take gathers rows; repeated indices accumulate gradient', () => {
    withBackend(be, () =>
      tidy(() => {
        const x = tensor(randomArray(5 * 3, 8), [5, 3], { requiresGrad: true });
        const idx = tensor([4, 0, 4, 2], [2, 2], { dtype: 'int32' });
        const y = take(x, idx);
        expect(y.shape).toEqual([2, 2, 3]);
        const xd = x.data();
        expect(Array.from(y.data().subarray(0, 3))).toEqual(Array.from(xd.subarray(12, 15)));
        expect(gradCheck((t) => take(t, idx), [x]).maxRelError).toBeLessThan(1e-2);
        const labels = tensor([3, 1, 2], [3], { dtype: 'int32' });
        expect(Array.from(take(labels, tensor([2, 0], [2], { dtype: 'int32' })).data())).toEqual([2, 3]);
      }),
    );
  });

  test('bad shapes and indices name the op and values; nothing allocated', () => {
    withBackend(be, () => {
      const x = tensor(randomArray(12, 1), [4, 3]);
      const w = tensor(randomArray(10, 2), [5, 2]);
      const w2 = tensor(randomArray(6, 1), [3, 2]);
      const b3 = tensor([1, 2, 3]);
      const i4 = tensor([0, 4], [2], { dtype: 'int32' });
      const f = tensor([0, 1]);
      const neg = tensor([-1], [1], { dtype: 'int32' });
      const before = be.heap.liveBytes;
      expect(() => linear(x, w)).toThrow('linear: input features differ: x is [4,3], weight is [5,2]');
      expect(() => linear(x, w2, b3)).toThrow(ShapeError);
      expect(() => take(x, i4)).toThrow('take: index 4 at position 1 is out of range for 4 rows');
      expect(() => take(x, f)).toThrow('take: indices must be int32');
      expect(() => take(x, neg)).toThrow(ValueError);
      expect(be.heap.liveBytes).toBe(before);
      for (const t of [x, w, w2, b3, i4, f, neg]) t.dispose();
    });
  });
});

test('linear agrees across backends', () => {
  const r = BACKENDS.map((be) =>
    withBackend(be, () => tidy(() => values(linear(tensor(randomArray(64 * 100, 1), [64, 100]), tensor(randomArray(100 * 30, 2), [100, 30]), tensor(randomArray(30, 3)))))),
  );
  for (const x of r.slice(1)) expectClose(x, r[0], 1e-4);
});
