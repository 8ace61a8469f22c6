/**
 * Initializers on every backend: statistics on 10^5 samples against their
 * formulas (mean and std within sampling tolerance, bounds of uniform and
 * truncated draws, WᵀW = I for orthogonal), fans in the [in, out] layout,
 * PyTorch's gains, seed reproducibility, bit-identical tensors across
 * backends, in-place `initialize`, lookup by name, and bad input.
 */
import { describe, expect, test } from 'vitest';
import {
  calculateGain, computeFans, ConfigError, Generator, getGenerator, getInitializer, glorotUniform, heNormal, initialize,
  INITIALIZER_NAMES, initializers, kaimingNormal, kaimingUniform, lecunNormal, lecunUniform, orthogonal, seed, ShapeError,
  truncatedNormal, ValueError, xavierNormal, xavierUniform, zeros,
} from '../src/index.js';
import { BACKENDS, EACH_BACKEND, naiveGemm, values, withBackend } from './helpers.js';

const SHAPE = [400, 250]; // 10^5 samples; fanIn 400, fanOut 250
const N = 100_000;

function moments(xs: ArrayLike<number>) {
  let s = 0, min = Infinity, max = -Infinity;
  for (let i = 0; i < xs.length; i++) {
    s += xs[i];
    if (xs[i] < min) min = xs[i];
    if (xs[i] > max) max = xs[i];
  }
  const mean = s / xs.length;
  let v = 0;
  for (let i = 0; i < xs.length; i++) v += (xs[i] - mean) ** 2;
  return { mean, std: Math.sqrt(v / xs.length), min, max };
}

/** Mean within 5 standard errors of `mean`, std within 1.5 % of `std`. */
function expectMoments(xs: ArrayLike<number>, mean: number, std: number): ReturnType<typeof moments> {
  const m = moments(xs);
  expect(Math.abs(m.mean - mean), `mean ${m.mean} vs ${mean}`).toBeLessThan((5 * std) / Math.sqrt(xs.length));
  expect(Math.abs(m.std / std - 1), `std ${m.std} vs ${std}`).toBeLessThan(0.015);
  return m;
}

const phi = (x: number) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);

describe.each(EACH_BACKEND)('initializers on %s', (_name, be) => {
  const make = <T>(fn: () => T) => withBackend(be, fn);

  test('uniform / normal / constant / zeros / ones', () => {
    make(() => {
      const u = initializers.uniform(SHAPE, { low: -2, high: 3, seed: 1 });
      expect(u.shape).toEqual(SHAPE);
      expect(u.dtype).toBe('float32');
      const mu = expectMoments(values(u), 0.5, 5 / Math.sqrt(12));
      expect(mu.min).toBeGreaterThanOrEqual(-2);
      expect(mu.max).toBeLessThan(3);
      const u01 = moments(values(initializers.uniform([N], { seed: 2 })));
      expect(u01.min).toBeGreaterThanOrEqual(0);
      expect(u01.max).toBeLessThan(1);
      expectMoments(values(initializers.normal(SHAPE, { mean: 1, std: 2, seed: 3 })), 1, 2);
      expectMoments(values(initializers.normal([N], { seed: 4 })), 0, 1);
      expect(Array.from(initializers.constant([5], { value: 0.5 }).data())).toEqual([0.5, 0.5, 0.5, 0.5, 0.5]);
      expect(Array.from(initializers.ones([3]).data())).toEqual([1, 1, 1]);
      expect(Array.from(initializers.zeros([2, 2]).data())).toEqual([0, 0, 0, 0]);
      expect(Array.from(initializers.uniform([4], { low: 2, high: 2 }).data())).toEqual([2, 2, 2, 2]);
      expect(initializers.normal([0, 7]).size).toBe(0);
    });
  });

  test('truncatedNormal: inside [a, b], moments of the truncated distribution', () => {
    make(() => {
      // Default cut-offs mean ± 2σ: std = σ·√(1 − 4φ(2)/Z), Z = P(|z| < 2) = erf(√2).
      const Z = 0.9544997361036416;
      const t = values(truncatedNormal(SHAPE, { mean: 0.5, std: 2, seed: 5 }));
      const m = expectMoments(t, 0.5, 2 * Math.sqrt(1 - (4 * phi(2)) / Z));
      expect(m.min).toBeGreaterThanOrEqual(-3.5);
      expect(m.max).toBeLessThanOrEqual(4.5);
      // Asymmetric cut-offs [−1, 0.5] on N(0, 1): mean (φ(−1) − φ(0.5))/Z', Z' = Φ(0.5) − Φ(−1).
      const Z2 = 0.6914624612740131 - 0.15865525393145707;
      const mean2 = (phi(-1) - phi(0.5)) / Z2;
      const var2 = 1 + (-1 * phi(-1) - 0.5 * phi(0.5)) / Z2 - mean2 ** 2;
      const t2 = values(truncatedNormal([N], { a: -1, b: 0.5, seed: 6 }));
      const m2 = expectMoments(t2, mean2, Math.sqrt(var2));
      expect(m2.min).toBeGreaterThanOrEqual(-1);
      expect(m2.max).toBeLessThanOrEqual(0.5);
    });
  });

  test('xavier / glorot: bound gain·√(6/(fanIn+fanOut)), std gain·√(2/(fanIn+fanOut))', () => {
    make(() => {
      for (const gain of [1, 2]) {
        const bound = gain * Math.sqrt(6 / 650);
        const m = expectMoments(values(xavierUniform(SHAPE, { gain, seed: 7 })), 0, bound / Math.sqrt(3));
        expect(Math.max(-m.min, m.max)).toBeLessThanOrEqual(bound);
        expect(Math.max(-m.min, m.max)).toBeGreaterThan(0.999 * bound);
        expectMoments(values(xavierNormal(SHAPE, { gain, seed: 8 })), 0, gain * Math.sqrt(2 / 650));
      }
      expect(glorotUniform).toBe(xavierUniform);
    });
  });

  test('kaiming / he: gain/√fan with PyTorch gains, fanIn or fanOut', () => {
    make(() => {
      const cases: [object, number][] = [
        [{}, Math.sqrt(2) / Math.sqrt(400)], // leakyRelu with a = 0: √2
        [{ mode: 'fanOut' }, Math.sqrt(2) / Math.sqrt(250)],
        [{ nonlinearity: 'relu' }, Math.sqrt(2 / 400)],
        [{ nonlinearity: 'tanh' }, 5 / 3 / Math.sqrt(400)],
        [{ nonlinearity: 'leakyRelu', a: 0.2 }, Math.sqrt(2 / 1.04) / Math.sqrt(400)],
        [{ nonlinearity: 'selu', mode: 'fanOut' }, 0.75 / Math.sqrt(250)],
        [{ nonlinearity: 'linear', fanIn: 100 }, 1 / Math.sqrt(100)],
      ];
      for (const [o, std] of cases) {
        const m = expectMoments(values(kaimingUniform(SHAPE, { ...o, seed: 9 })), 0, std);
        expect(Math.max(-m.min, m.max)).toBeLessThanOrEqual(Math.sqrt(3) * std);
        expectMoments(values(kaimingNormal(SHAPE, { ...o, seed: 10 })), 0, std);
      }
      expect(heNormal).toBe(kaimingNormal);
    });
  });

  test('lecun: √(3/fanIn) bound, 1/√fanIn std', () => {
    make(() => {
      const m = expectMoments(values(lecunUniform(SHAPE, { seed: 11 })), 0, 1 / Math.sqrt(400));
      expect(Math.max(-m.min, m.max)).toBeLessThanOrEqual(Math.sqrt(3 / 400));
      expectMoments(values(lecunNormal(SHAPE, { seed: 12 })), 0, 1 / Math.sqrt(400));
    });
  });

  test('orthogonal: WᵀW = gain²·I (tall), W·Wᵀ = gain²·I (wide), rank 3 flattened; sign convention', () => {
    make(() => {
      const check = (rows: number, cols: number, W: Float64Array, gain: number) => {
        const k = Math.min(rows, cols);
        const P = rows >= cols ? naiveGemm(W, W, cols, cols, rows, true, false) : naiveGemm(W, W, rows, rows, cols, false, true);
        let err = 0;
        for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) err = Math.max(err, Math.abs(P[i * k + j] - (i === j ? gain * gain : 0)));
        expect(err).toBeLessThan(1e-5 * gain * gain);
      };
      check(50, 20, values(orthogonal([50, 20], { seed: 13 })), 1);
      check(20, 50, values(orthogonal([20, 50], { seed: 14 })), 1);
      check(64, 64, values(orthogonal([64, 64], { seed: 15, gain: 2 })), 2);
      check(20, 6, values(orthogonal([4, 5, 6], { seed: 16 })), 1);
      // With R's diagonal positive, Q's first column is A's first column normalised.
      const g = new Generator(17);
      const A = Float64Array.from({ length: 30 * 10 }, () => g.normal());
      let norm = 0;
      for (let i = 0; i < 30; i++) norm += A[i * 10] ** 2;
      const W = values(orthogonal([30, 10], { seed: 17 }));
      for (let i = 0; i < 30; i++) expect(W[i * 10]).toBeCloseTo(A[i * 10] / Math.sqrt(norm), 6);
    });
  });

  test('seeds: per-call seeds are reproducible and leave the global generator alone; seed() reproduces a run', () => {
    make(() => {
      const a = values(heNormal([30, 20], { seed: 1 }));
      expect(values(heNormal([30, 20], { seed: 1 }))).toEqual(a);
      expect(values(heNormal([30, 20], { seed: 2 }))).not.toEqual(a);
      seed(42);
      const run1 = [values(xavierUniform([8, 8])), values(truncatedNormal([50])), values(orthogonal([6, 4]))];
      seed(42);
      const st = getGenerator().getState();
      heNormal([8, 8], { seed: 99 }); // its own generator: the global one does not move
      expect(getGenerator().getState()).toEqual(st);
      const run2 = [values(xavierUniform([8, 8])), values(truncatedNormal([50])), values(orthogonal([6, 4]))];
      expect(run2).toEqual(run1);
    });
  });

  test('initialize fills in place; getInitializer looks up by name; options name and requiresGrad', () => {
    make(() => {
      const t = zeros([16, 8]);
      const ptr = t.ptr;
      expect(initialize(t, 'heNormal', { seed: 3, mode: 'fanOut' })).toBe(t);
      expect(t.ptr).toBe(ptr);
      expect(values(t)).toEqual(values(kaimingNormal([16, 8], { seed: 3, mode: 'fanOut' })));
      expect(values(getInitializer('glorotNormal')([5, 5], { seed: 4 }))).toEqual(values(xavierNormal([5, 5], { seed: 4 })));
      const w = xavierUniform([3, 2], { requiresGrad: true, name: 'fc1.weight' });
      expect(w.requiresGrad).toBe(true);
      expect(w.name).toBe('fc1.weight');
      for (const name of INITIALIZER_NAMES) expect(getInitializer(name)([6, 5], { seed: 1 }).shape).toEqual([6, 5]);
    });
  });

  test('bad input: clear errors; the global generator and the heap unchanged', () => {
    make(() => {
      const t = zeros([4, 4]);
      const live = be.heap.liveBytes;
      seed(1);
      const st = getGenerator().getState();
      const cases: [() => unknown, Function, string | RegExp][] = [
        [() => getInitializer('heNormall'), ConfigError, /getInitializer: unknown initializer 'heNormall'; valid: zeros, ones, constant, uniform, normal, truncatedNormal, xavierUniform, .*heNormal/],
        [() => initialize(t, 'bogus'), ConfigError, "initialize: unknown initializer 'bogus'; valid: zeros"],
        [() => heNormal([4, 4], { mode: 'fan_in' as any }), ConfigError, "kaimingNormal: unknown mode 'fan_in'; valid: 'fanIn', 'fanOut'"],
        [() => kaimingUniform([4, 4], { nonlinearity: 'gelu' as any }), ConfigError, "kaimingUniform: unknown nonlinearity 'gelu'; valid: 'linear'"],
        [() => xavierUniform([4, 4], { gian: 2 } as any), ConfigError, "xavierUniform: unknown option 'gian'; valid: gain, fanIn, fanOut, seed, backend, requiresGrad, name"],
        [() => initialize(t, 'heNormal', { backend: be }), ConfigError, "unknown option 'backend' (initialize fills an existing tensor)"],
        [() => initializers.uniform([4], { low: 1, high: 0 }), ValueError, 'uniform: low must be ≤ high; got low 1, high 0'],
        [() => initializers.normal([4], { std: -1 }), ValueError, 'normal: std must be a finite number ≥ 0; got -1'],
        [() => xavierNormal([4, 4], { gain: NaN }), ValueError, 'xavierNormal: gain must be a finite number; got NaN'],
        [() => truncatedNormal([4], { a: 1, b: -1 }), ValueError, 'the cut-offs must be finite numbers with a ≤ b'],
        [() => truncatedNormal([4], { a: 10, b: 11 }), ValueError, /holds only .* of N\(0, 1²\)/],
        [() => heNormal([10]), ShapeError, 'kaimingNormal: fans cannot be computed for a tensor with fewer than 2 dimensions (shape [10]); hint: pass fanIn and fanOut'],
        [() => heNormal([4, 4], { fanIn: 0 }), ValueError, 'kaimingNormal: fanIn must be a positive integer; got 0'],
        [() => orthogonal([5]), ShapeError, 'orthogonal: only tensors with 2 or more dimensions'],
        [() => heNormal([4, 4], { seed: 1.5 }), ValueError, 'the seed must be an integer'],
        [() => heNormal([4, -4]), ShapeError, 'dimensions must be non-negative integers'],
      ];
      for (const [fn, cls, msg] of cases) {
        expect(fn).toThrow(cls as any);
        expect(fn).toThrow(msg);
      }
      expect(getGenerator().getState()).toEqual(st);
      expect(be.heap.liveBytes).toBe(live);
      expect(values(t).every((v) => v === 0)).toBe(true);
      t.dispose();
    });
  });
});

describe('fans and gains', () => {
  test("computeFans: [in, out]; [..., in, out] with the receptive field in front; explicit fans win", () => {
    expect(computeFans([3, 2])).toEqual({ fanIn: 3, fanOut: 2 });
    expect(computeFans([3, 3, 16, 32])).toEqual({ fanIn: 144, fanOut: 288 });
    expect(computeFans([7], { fanIn: 5, fanOut: 9 })).toEqual({ fanIn: 5, fanOut: 9 });
    expect(computeFans([3, 2], { fanOut: 10 })).toEqual({ fanIn: 3, fanOut: 10 });
    // A bias can use its layer's fans explicitly.
    expect(moments(values(kaimingUniform([1000], { fanIn: 4, fanOut: 4, seed: 1 }))).max).toBeLessThanOrEqual(Math.sqrt(6 / 4));
  });

  test("calculateGain: PyTorch's values", () => {
    expect(calculateGain('linear')).toBe(1);
    expect(calculateGain('sigmoid')).toBe(1);
    expect(calculateGain('tanh')).toBe(5 / 3);
    expect(calculateGain('relu')).toBe(Math.SQRT2);
    expect(calculateGain('leakyRelu')).toBeCloseTo(Math.sqrt(2 / (1 + 0.01 ** 2)), 15);
    expect(calculateGain('leakyRelu', 0.2)).toBeCloseTo(Math.sqrt(2 / 1.04), 15);
    expect(calculateGain('selu')).toBe(0.75);
    expect(() => calculateGain('swish' as any)).toThrow(ConfigError);
  });
});

test('the same seed gives bit-identical tensors on every backend', () => {
  for (const name of INITIALIZER_NAMES) {
    const runs = BACKENDS.map((be) =>
      withBackend(be, () => {
        seed(2024);
        const a = getInitializer(name)([37, 23]);
        const b = getInitializer(name)([3, 4, 5], { seed: 5 });
        expect(a.backend).toBe(be);
        const out = [Array.from(a.data()), Array.from(b.data())];
        a.dispose();
        b.dispose();
        return out;
      }),
    );
    for (const r of runs.slice(1)) expect(r).toEqual(runs[0]);
  }
});
