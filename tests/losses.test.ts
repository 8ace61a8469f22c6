/**
 * crossEntropy, binaryCrossEntropyWithLogits and mseLoss on every backend:
 * hand-computed values, float64 references for every reduction (and label
 * smoothing), gradients in closed form and by finite differences, logits of
 * ±1000, backends agreeing, bad input rejected before any allocation.
 */
import { describe, expect, test } from 'vitest';
import {
  backward, binaryCrossEntropyWithLogits, ConfigError, crossEntropy, DTypeError, gradCheck, mseLoss, ShapeError,
  tensor, tidy, ValueError, type Tensor,
} from '../src/index.js';
import { BACKENDS, EACH_BACKEND, expectClose, randomArray, rng, values, withBackend } from './helpers.js';
import { crossEntropy64, sigmoid64, softmax64 } from './reference-math.js';

const int32 = (xs: number[]) => tensor(xs, undefined, { dtype: 'int32' });

function randomLabels(n: number, c: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Math.floor(r() * c));
}

const mean = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0) / xs.length;
const sum = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0);

describe.each(EACH_BACKEND)('crossEntropy on %s', (_name, be) => {
  test('a hand-computed value, and the gradient (softmax − onehot)/N', () => {
    withBackend(be, () => {
      tidy(() => {
        const logits = tensor([[1, 2, 3], [1, 1, 1]], undefined, { requiresGrad: true });
        const loss = crossEntropy(logits, int32([2, 0]));
        expect(loss.shape).toEqual([]);
        // row 0: log(e + e² + e³) − 3 = 0.4076059644; row 1: log 3 = 1.0986122887
        expect(loss.item()).toBeCloseTo((0.4076059644443804 + 1.0986122886681098) / 2, 6);
        backward(loss);
        const p0 = softmax64([1, 2, 3], [3], 0);
        expectClose(values(logits.grad!), [p0[0] / 2, p0[1] / 2, (p0[2] - 1) / 2, (1 / 3 - 1) / 2, 1 / 6, 1 / 6], 1e-7);
      });
    });
  });

  test.each([
    [1, 1], [3, 5], [17, 10], [5, 1001], [64, 3],
  ])('N=%i, C=%i: every reduction and label smoothing match float64', (n, c) => {
    withBackend(be, () => {
      const X = randomArray(n * c, n + c).map((v) => v * 6);
      const Y = randomLabels(n, c, n * c);
      tidy(() => {
        const logits = tensor(X, [n, c]);
        const labels = int32(Y);
        for (const eps of [0, 0.1]) {
          const ref = crossEntropy64(X, Y, c, eps);
          expectClose(values(crossEntropy(logits, labels, { reduction: 'none', labelSmoothing: eps })), ref, 1e-6);
          expectClose([crossEntropy(logits, labels, { reduction: 'sum', labelSmoothing: eps }).item()], [sum(ref)], 1e-6);
          expectClose([crossEntropy(logits, labels, { labelSmoothing: eps }).item()], [mean(ref)], 1e-6);
        }
      });
    });
  });

  test('gradients match finite differences (mean, sum, none; label smoothing)', () => {
    withBackend(be, () => {
      tidy(() => {
        const x = tensor(randomArray(4 * 7, 2).map((v) => v * 3), [4, 7], { requiresGrad: true });
        const y = int32([6, 0, 3, 3]);
        for (const reduction of ['mean', 'sum', 'none'] as const) {
          for (const labelSmoothing of [0, 0.2]) {
            // The summed loss is O(10): a larger step keeps float32 round-off of the loss out of the differences.
            const r = gradCheck((t) => crossEntropy(t, y, { reduction, labelSmoothing }), [x], { eps: 1e-2 });
            expect(r.maxRelError, `${reduction} ε=${labelSmoothing}`).toBeLessThan(1e-2);
          }
        }
      });
    });
  });

  test('logits of ±1000 give a finite loss and finite gradients', () => {
    withBackend(be, () => {
      tidy(() => {
        const x = tensor([[1000, -1000, 0], [-1000, 1000, 0], [1000, 1000, -1000]], undefined, { requiresGrad: true });
        const loss = crossEntropy(x, int32([1, 1, 0]), { reduction: 'none' });
        expectClose(values(loss), [2000, 0, Math.log(2)], 1e-7);
        backward(crossEntropy(x, int32([1, 1, 0])));
        const g = values(x.grad!);
        expect(g.every(Number.isFinite)).toBe(true);
        expectClose(g, [1 / 3, -1 / 3, 0, 0, 0, 0, (0.5 - 1) / 3, 0.5 / 3, 0], 1e-7);
        expect(Number.isFinite(crossEntropy(x, int32([1, 1, 0]), { labelSmoothing: 0.1 }).item())).toBe(true);
      });
    });
  });

  test('an empty batch: sum 0, mean NaN (as PyTorch), none []', () => {
    withBackend(be, () => {
      tidy(() => {
        const x = tensor(new Float32Array(0), [0, 4]);
        expect(crossEntropy(x, int32([]), { reduction: 'sum' }).item()).toBe(0);
        expect(crossEntropy(x, int32([])).item()).toBeNaN();
        expect(crossEntropy(x, int32([]), { reduction: 'none' }).shape).toEqual([0]);
      });
    });
  });

  test('bad input: labels out of range, wrong dtypes and shapes, bad options — thrown before any allocation', () => {
    withBackend(be, () => {
      const x = tensor([[1, 2, 3], [4, 5, 6]]);
      const x1 = tensor([1, 2, 3]);
      const y = int32([0, 2]);
      const [big, negative, floats, short, long, matrix] = [
        int32([0, 3]), int32([-1, 0]), tensor([0, 1]), int32([0]), int32([0, 1, 2]),
        tensor([[1, 2]], undefined, { dtype: 'int32' }),
      ];
      const before = be.heap.liveBytes;
      expect(() => crossEntropy(x, big)).toThrow(ValueError);
      expect(() => crossEntropy(x, big)).toThrow('crossEntropy: label 3 at index 1 is out of range for 3 classes (valid: 0 to 2)');
      expect(() => crossEntropy(x, negative)).toThrow('crossEntropy: label -1 at index 0 is out of range for 3 classes');
      expect(() => crossEntropy(x, floats)).toThrow(DTypeError);
      expect(() => crossEntropy(x, floats)).toThrow('crossEntropy: labels must be int32 class indices; got');
      expect(() => crossEntropy(y, y)).toThrow('crossEntropy: logits must be float32; got');
      expect(() => crossEntropy(x, short)).toThrow('crossEntropy: labels must be [N] = [2] for logits [2,3]; got [1]');
      expect(() => crossEntropy(x, long)).toThrow(ShapeError);
      expect(() => crossEntropy(x, matrix)).toThrow(ShapeError);
      expect(() => crossEntropy(x1, y)).toThrow('crossEntropy: logits must be [N,C]; got [3]');
      expect(() => crossEntropy(x, y, { reduction: 'avg' as never })).toThrow(
        "crossEntropy: unknown reduction 'avg'; valid: 'mean', 'sum', 'none'",
      );
      expect(() => crossEntropy(x, y, { smoothing: 0.1 } as never)).toThrow(ConfigError);
      expect(() => crossEntropy(x, y, { labelSmoothing: 1.5 })).toThrow('crossEntropy: labelSmoothing must be a number in [0, 1]; got 1.5');
      expect(be.heap.liveBytes).toBe(before);
      for (const t of [x, x1, y, big, negative, floats, short, long, matrix]) t.dispose();
    });
  });
});

describe.each(EACH_BACKEND)('binaryCrossEntropyWithLogits on %s', (_name, be) => {
  const bce64 = (x: number, t: number) => Math.max(x, 0) - x * t + Math.log1p(Math.exp(-Math.abs(x)));

  test.each([0, 1, 3, 5, 17, 1001])('n=%i: every reduction matches float64; gradient is σ(x) − t', (n) => {
    withBackend(be, () => {
      const X = randomArray(n, n + 1).map((v) => v * 20);
      const T = randomArray(n, n + 2).map((v) => (v + 1) / 2);
      const ref = Array.from(X, (x, i) => bce64(x, T[i]));
      tidy(() => {
        const x = tensor(X, [n], { requiresGrad: true });
        const t = tensor(T, [n]);
        expectClose(values(binaryCrossEntropyWithLogits(x, t, { reduction: 'none' })), ref, 1e-6);
        expectClose([binaryCrossEntropyWithLogits(x, t, { reduction: 'sum' }).item()], [sum(ref)], 1e-6);
        if (n === 0) return;
        const loss = binaryCrossEntropyWithLogits(x, t);
        expectClose([loss.item()], [mean(ref)], 1e-6);
        backward(loss);
        expectClose(values(x.grad!), Array.from(X, (v, i) => (sigmoid64(v) - T[i]) / n), 1e-7);
      });
    });
  });

  test('gradients for logits and targets match finite differences', () => {
    withBackend(be, () => {
      tidy(() => {
        const x = tensor(randomArray(12, 3).map((v) => v * 4), [3, 4], { requiresGrad: true });
        const t = tensor(randomArray(12, 4).map((v) => (v + 1) / 2), [3, 4], { requiresGrad: true });
        for (const reduction of ['mean', 'sum', 'none'] as const) {
          expect(gradCheck((a, b) => binaryCrossEntropyWithLogits(a, b, { reduction }), [x, t]).maxRelError).toBeLessThan(1e-2);
        }
      });
    });
  });

  test('logits of ±1000: finite loss and gradient', () => {
    withBackend(be, () => {
      tidy(() => {
        const x = tensor([1000, -1000, 1000, -1000, 30], undefined, { requiresGrad: true });
        const t = tensor([1, 0, 0, 1, 1]);
        expectClose(values(binaryCrossEntropyWithLogits(x, t, { reduction: 'none' })), [0, 0, 1000, 1000, Math.log1p(Math.exp(-30))], 1e-7);
        // log1p keeps the tiny e^{−30} term instead of rounding 1 + e^{−30} to 1.
        expect(binaryCrossEntropyWithLogits(tensor([30]), tensor([1]), { reduction: 'none' }).item()).toBeCloseTo(Math.exp(-30), 18);
        backward(binaryCrossEntropyWithLogits(x, t, { reduction: 'sum' }));
        expectClose(values(x.grad!), [0, 0, 1, -1, -Math.exp(-30)], 1e-7);
      });
    });
  });

  test('bad input: shapes differ, int32, bad reduction — heap unchanged', () => {
    withBackend(be, () => {
      const x = tensor([[1, 2, 3], [4, 5, 6]]);
      const t = tensor([[1, 0], [0, 1], [1, 1]]);
      const ti = tensor([[1, 0, 1], [0, 1, 1]], undefined, { dtype: 'int32' });
      const before = be.heap.liveBytes;
      expect(() => binaryCrossEntropyWithLogits(x, t)).toThrow(
        'binaryCrossEntropyWithLogits: shapes differ: logits is [2,3], targets is [3,2]',
      );
      expect(() => binaryCrossEntropyWithLogits(x, ti)).toThrow(DTypeError);
      expect(() => binaryCrossEntropyWithLogits(x, x, { reduction: 'max' as never })).toThrow(ConfigError);
      expect(be.heap.liveBytes).toBe(before);
      for (const a of [x, t, ti]) a.dispose();
    });
  });
});

describe.each(EACH_BACKEND)('mseLoss on %s', (_name, be) => {
  test.each([0, 1, 3, 5, 17, 1001])('n=%i: every reduction matches float64; gradient 2(p − t)/n', (n) => {
    withBackend(be, () => {
      const P = randomArray(n, n + 5).map((v) => v * 3);
      const T = randomArray(n, n + 6);
      const ref = Array.from(P, (p, i) => (p - T[i]) ** 2);
      tidy(() => {
        const p = tensor(P, [n], { requiresGrad: true });
        const t = tensor(T, [n], { requiresGrad: true });
        expectClose(values(mseLoss(p, t, { reduction: 'none' })), ref, 1e-6);
        expectClose([mseLoss(p, t, { reduction: 'sum' }).item()], [sum(ref)], 1e-6);
        if (n === 0) return;
        const loss = mseLoss(p, t);
        expectClose([loss.item()], [mean(ref)], 1e-6);
        backward(loss);
        expectClose(values(p.grad!), Array.from(P, (v, i) => (2 * (v - T[i])) / n), 1e-7);
        expectClose(values(t.grad!), Array.from(P, (v, i) => (-2 * (v - T[i])) / n), 1e-7);
      });
    });
  });

  test('a hand-computed value and finite-difference gradients', () => {
    withBackend(be, () => {
      tidy(() => {
        expect(mseLoss(tensor([1, 2, 3]), tensor([1, 0, 6])).item()).toBeCloseTo((0 + 4 + 9) / 3, 6);
        const p = tensor(randomArray(10, 1), [2, 5], { requiresGrad: true });
        const t = tensor(randomArray(10, 2), [2, 5], { requiresGrad: true });
        for (const reduction of ['mean', 'sum', 'none'] as const) {
          expect(gradCheck((a, b) => mseLoss(a, b, { reduction }), [p, t]).maxRelError).toBeLessThan(1e-2);
        }
      });
    });
  });

  test('bad input: a shape mismatch names both shapes; heap unchanged', () => {
    withBackend(be, () => {
      const p = tensor([[1, 2, 3], [4, 5, 6]]);
      const t = tensor([[1, 2], [3, 4], [5, 6]]);
      const before = be.heap.liveBytes;
      expect(() => mseLoss(p, t)).toThrow(ShapeError);
      expect(() => mseLoss(p, t)).toThrow('mseLoss: shapes differ: pred is [2,3], target is [3,2]');
      expect(() => mseLoss(p, p, { reduce: 'sum' } as never)).toThrow("mseLoss: unknown option 'reduce'; valid: reduction");
      expect(be.heap.liveBytes).toBe(before);
      p.dispose();
      t.dispose();
    });
  });
});

test('every backend agrees within 1e-4 relative on all three losses and their gradients', () => {
  const [n, c] = [33, 11];
  const X = randomArray(n * c, 21).map((v) => v * 10);
  const Y = randomLabels(n, c, 22);
  const T = randomArray(n * c, 23).map((v) => (v + 1) / 2);
  const results = BACKENDS.map((be) =>
    withBackend(be, () =>
      tidy(() => {
        const out: Float64Array[] = [];
        for (const f of [
          (x: Tensor) => crossEntropy(x, int32(Y), { labelSmoothing: 0.05 }),
          (x: Tensor) => binaryCrossEntropyWithLogits(x, tensor(T, [n, c])),
          (x: Tensor) => mseLoss(x, tensor(T, [n, c]), { reduction: 'sum' }),
        ]) {
          const x = tensor(X, [n, c], { requiresGrad: true });
          const loss = f(x);
          out.push(values(loss));
          backward(loss);
          out.push(values(x.grad!));
        }
        return out;
      }),
    ),
  );
  for (const r of results.slice(1)) r.forEach((v, i) => expectClose(v, results[0][i], 1e-4));
});

test('after backward inside tidy, the probabilities and every temporary are freed', () => {
  for (const be of BACKENDS) {
    withBackend(be, () => {
      const x = tensor(randomArray(40, 1), [8, 5], { requiresGrad: true });
      const y = int32(randomLabels(8, 5, 2));
      const before = be.heap.liveBytes;
      tidy(() => backward(crossEntropy(x, y)));
      x.grad!.dispose();
      x.grad = null;
      expect(be.heap.liveBytes).toBe(before);
      x.dispose();
      y.dispose();
    });
  }
});
