/**
 * Batch normalisation: batch statistics and the running-statistics update
 * against float64 formulas, eval mode, gradients (x, γ, β) by finite
 * differences in training and eval mode, accuracy over many rows, the
 * BatchNorm2d/1d layers, wasm-vs-js agreement and bad input.
 */
import { describe, expect, test } from 'vitest';
import {
  BatchNorm1d, BatchNorm2d, ConfigError, ShapeError, ValueError, backward, batchNorm, gradCheck, tensor, tidy,
} from '../src/index.js';
import { BACKENDS, EACH_BACKEND, expectClose, randomArray, values, withBackend } from './helpers.js';

/** float64 batch statistics of x viewed as [R, C]: mean and biased variance. */
function stats(x: ArrayLike<number>, C: number): { mean: Float64Array; varB: Float64Array; R: number } {
  const R = x.length / C;
  const mean = new Float64Array(C), varB = new Float64Array(C);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) mean[c] += x[r * C + c] / R;
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) varB[c] += (x[r * C + c] - mean[c]) ** 2 / R;
  return { mean, varB, R };
}

function normalize(x: ArrayLike<number>, C: number, mean: ArrayLike<number>, v: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>, eps: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = i % C;
    y[i] = ((x[i] - mean[c]) / Math.sqrt(v[c] + eps)) * g[c] + b[c];
  }
  return y;
}

describe.each(EACH_BACKEND)('batchNorm on %s', (_name, be) => {
  test('training: batch statistics, affine, running statistics (unbiased var, momentum)', () => {
    withBackend(be, () =>
      tidy(() => {
        const [N, H, W, C] = [3, 4, 5, 6];
        const xs = randomArray(N * H * W * C, 1).map((v, i) => v * (1 + (i % C)) + (i % C) - 2);
        const gs = randomArray(C, 2), bs = randomArray(C, 3);
        const rm0 = randomArray(C, 4), rv0 = randomArray(C, 5).map((v) => v + 2);
        const x = tensor(xs, [N, H, W, C]);
        const rm = tensor(rm0, [C]), rv = tensor(rv0, [C]);
        const y = batchNorm(x, rm, rv, tensor(gs), tensor(bs), { training: true, momentum: 0.3, eps: 1e-3 });
        const { mean, varB, R } = stats(xs, C);
        expectClose(y.data(), normalize(xs, C, mean, varB, gs, bs, 1e-3), 1e-5);
        expectClose(rm.data(), Array.from(rm0, (m, c) => 0.7 * m + 0.3 * mean[c]), 1e-6);
        expectClose(rv.data(), Array.from(rv0, (v, c) => 0.7 * v + 0.3 * varB[c] * R / (R - 1)), 1e-6);
        // No affine, no running statistics.
        const y2 = batchNorm(x, null, null, null, null, { training: true });
        expectClose(y2.data(), normalize(xs, C, mean, varB, new Float64Array(C).fill(1), new Float64Array(C), 1e-5), 1e-5);
      }),
    );
  });

  test('eval: running statistics, nothing updated', () => {
    withBackend(be, () =>
      tidy(() => {
        const C = 4;
        const xs = randomArray(5 * C, 6);
        const rm0 = randomArray(C, 7), rv0 = randomArray(C, 8).map((v) => v + 1.5);
        const gs = randomArray(C, 9), bs = randomArray(C, 10);
        const rm = tensor(rm0), rv = tensor(rv0);
        const y = batchNorm(tensor(xs, [5, C]), rm, rv, tensor(gs), tensor(bs));
        expectClose(y.data(), normalize(xs, C, rm0, rv0, gs, bs, 1e-5), 1e-5);
        expect(Array.from(rm.data())).toEqual(Array.from(rm0));
        expect(Array.from(rv.data())).toEqual(Array.from(rv0));
      }),
    );
  });

  test('gradients (x, γ, β) by finite differences, training and eval', () => {
    withBackend(be, () =>
      tidy(() => {
        const [N, H, W, C] = [2, 3, 3, 5];
        const x = tensor(randomArray(N * H * W * C, 11), [N, H, W, C], { requiresGrad: true });
        const g = tensor(randomArray(C, 12), [C], { requiresGrad: true });
        const b = tensor(randomArray(C, 13), [C], { requiresGrad: true });
        const rm = tensor(randomArray(C, 14)), rv = tensor(randomArray(C, 15).map((v) => v + 1.5));
        // Training mode without running statistics (gradCheck calls the function many times).
        // A step of 1e-2 keeps float32 round-off of the O(1) normalised outputs well below the
        // tolerance; the truncation error of central differences is O(eps²).
        const o = { eps: 1e-2 };
        const rt = gradCheck((xx, gg, bb) => batchNorm(xx, null, null, gg, bb, { training: true }), [x, g, b], o);
        expect(rt.maxRelError, JSON.stringify(rt.worst)).toBeLessThan(1e-2);
        const re = gradCheck((xx, gg, bb) => batchNorm(xx, rm, rv, gg, bb), [x, g, b], o);
        expect(re.maxRelError, JSON.stringify(re.worst)).toBeLessThan(1e-2);
        const rn = gradCheck((xx) => batchNorm(xx, null, null, null, null, { training: true }), [x], o);
        expect(rn.maxRelError, JSON.stringify(rn.worst)).toBeLessThan(1e-2);
      }),
    );
  });

  test('many rows with a large mean: statistics stay accurate (float64 across blocks)', () => {
    withBackend(be, () =>
      tidy(() => {
        const C = 3, R = 50_000;
        const xs = randomArray(R * C, 16).map((v, i) => 1000 + (i % C) + v * 0.5);
        const y = batchNorm(tensor(xs, [R, C]), null, null, null, null, { training: true });
        const { mean, varB } = stats(xs, C);
        expectClose(y.data(), normalize(xs, C, mean, varB, [1, 1, 1], [0, 0, 0], 1e-5), 2e-3);
      }),
    );
  });

  test('BatchNorm2d layer: parameters, buffers, train/eval switching', () => {
    withBackend(be, () => {
      const bn = new BatchNorm2d(4, { momentum: 0.5 });
      expect(bn.namedParameters().map(([n]) => n)).toEqual(['weight', 'bias']);
      expect(bn.namedBuffers().map(([n]) => n)).toEqual(['runningMean', 'runningVar']);
      const xs = randomArray(2 * 3 * 3 * 4, 17).map((v) => v + 3);
      tidy(() => {
        const x = tensor(xs, [2, 3, 3, 4]);
        const y = bn.forward(x);
        const { mean } = stats(xs, 4);
        expectClose(bn.runningMean!.data(), Array.from(mean, (m) => 0.5 * m), 1e-6);
        // Training output has zero mean per channel.
        const ym = stats(y.data(), 4).mean;
        for (const m of ym) expect(Math.abs(m)).toBeLessThan(1e-5);
        bn.eval();
        const rmBefore = Array.from(bn.runningMean!.data());
        const z = bn.forward(x);
        expect(Array.from(bn.runningMean!.data())).toEqual(rmBefore);
        expectClose(z.data(), normalize(xs, 4, bn.runningMean!.data(), bn.runningVar!.data(), [1, 1, 1, 1], [0, 0, 0, 0], 1e-5), 1e-5);
      });
      const bn1 = new BatchNorm1d(3, { affine: false, trackRunningStats: false });
      expect(bn1.parameters()).toEqual([]);
      bn1.eval();
      tidy(() => {
        const y = bn1.forward(tensor(randomArray(8 * 3, 18), [8, 3]));
        for (const m of stats(y.data(), 3).mean) expect(Math.abs(m)).toBeLessThan(1e-5);
      });
      bn.dispose();
    });
  });

  test('bad input: errors name the op or layer and the shapes; heap unchanged', () => {
    withBackend(be, () => {
      const bn = new BatchNorm2d(4);
      const x = tensor(randomArray(2 * 3 * 3 * 5, 1), [2, 3, 3, 5]);
      const one = tensor(randomArray(4, 1), [1, 1, 1, 4]);
      const flat = tensor(randomArray(8, 1), [2, 4]);
      const rm = tensor(randomArray(4, 1));
      const before = be.heap.liveBytes;
      expect(() => bn.forward(x)).toThrow('BatchNorm2d(4): input has 5 channels (last axis) but the layer has 4 (input [2,3,3,5])');
      expect(() => bn.forward(one)).toThrow('BatchNorm2d(4): training needs more than one value per channel; input [1,1,1,4] has 1 per channel');
      expect(() => bn.forward(flat)).toThrow('BatchNorm2d(4): input must be [N, H, W, C] (NHWC); got [2,4]');
      expect(() => batchNorm(x, rm, rm, null, null, { training: true })).toThrow('batchNorm: runningMean must be [5] for input [2,3,3,5]');
      expect(() => batchNorm(flat, null, null)).toThrow(ValueError);
      expect(() => batchNorm(flat, rm, null, null, null, { training: true })).toThrow('give both runningMean and runningVar');
      expect(() => batchNorm(flat, null, null, null, null, { training: true, momentum: 2 })).toThrow('momentum must be a number in [0, 1]');
      expect(() => batchNorm(flat, null, null, null, null, { training: true, eps: 0 })).toThrow('eps must be a positive number');
      expect(() => batchNorm(flat, null, null, null, null, { train: true } as never)).toThrow("batchNorm: unknown option 'train'");
      expect(be.heap.liveBytes).toBe(before);
      expect(() => new BatchNorm2d(0)).toThrow(ConfigError);
      expect(() => new BatchNorm2d(3, { mom: 1 } as never)).toThrow("BatchNorm2d(3): unknown option 'mom'");
      expect(ShapeError).toBeDefined();
      for (const t of [x, one, flat, rm]) t.dispose();
      bn.dispose();
    });
  });
});

test('wasm and js agree within 1e-4 (training forward, running stats, backward)', () => {
  const results = BACKENDS.map((be) =>
    withBackend(be, () =>
      tidy(() => {
        const [N, H, W, C] = [8, 14, 14, 16];
        const x = tensor(randomArray(N * H * W * C, 21).map((v, i) => v * 2 + (i % 7)), [N, H, W, C], { requiresGrad: true });
        const g = tensor(randomArray(C, 22), [C], { requiresGrad: true });
        const b = tensor(randomArray(C, 23), [C], { requiresGrad: true });
        const rm = tensor(new Float32Array(C)), rv = tensor(new Float32Array(C).fill(1));
        const y = batchNorm(x, rm, rv, g, b, { training: true });
        backward(y, tensor(randomArray(y.size, 24), y.shape));
        return [values(y), values(rm), values(rv), values(x.grad!), values(g.grad!), values(b.grad!)];
      }),
    ),
  );
  for (const r of results.slice(1)) r.forEach((v, i) => expectClose(v, results[0][i], 1e-4));
});
