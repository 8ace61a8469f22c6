/**
 * Pooling over NHWC images: max and average pooling against float64 loops,
 * gradients by finite differences, global average pooling, the layers,
 * wasm-vs-js agreement and bad input.
 */
import { describe, expect, test } from 'vitest';
import {
  AvgPool2d, ConfigError, Flatten, GlobalAvgPool2d, MaxPool2d, ShapeError, avgPool2d, backward, globalAvgPool2d,
  gradCheck, maxPool2d, tensor, tidy, type Padding,
} from '../src/index.js';
import { BACKENDS, EACH_BACKEND, expectClose, randomArray, rng, values, withBackend } from './helpers.js';

interface PoolCase {
  name: string;
  N: number; H: number; W: number; C: number;
  k: [number, number];
  stride?: [number, number];
  padding?: Padding;
}

function padsOf(c: PoolCase, s: [number, number]): [number, number, number, number] {
  const p = c.padding ?? 0;
  if (p === 'valid') return [0, 0, 0, 0];
  if (p === 'same') {
    const tot = (size: number, st: number, k: number) => Math.max((Math.ceil(size / st) - 1) * st + k - size, 0);
    const th = tot(c.H, s[0], c.k[0]), tw = tot(c.W, s[1], c.k[1]);
    return [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
  }
  const [ph, pw] = typeof p === 'number' ? [p, p] : p;
  return [ph, ph, pw, pw];
}

/** float64 pooling over [N, H, W, C]; avg divides by kH·kW (countIncludePad) or the taps inside. */
function naivePool(c: PoolCase, x: ArrayLike<number>, kind: 'max' | 'avg', countIncludePad = true): { y: Float64Array; shape: number[] } {
  const s = c.stride ?? c.k;
  const [pT, pB, pL, pR] = padsOf(c, s);
  const OH = Math.floor((c.H + pT + pB - c.k[0]) / s[0]) + 1;
  const OW = Math.floor((c.W + pL + pR - c.k[1]) / s[1]) + 1;
  const y = new Float64Array(c.N * OH * OW * c.C);
  for (let n = 0; n < c.N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let ch = 0; ch < c.C; ch++) {
          let m = -Infinity, sum = 0, count = 0;
          for (let a = 0; a < c.k[0]; a++)
            for (let b = 0; b < c.k[1]; b++) {
              const ih = oh * s[0] - pT + a, iw = ow * s[1] - pL + b;
              if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W) continue;
              const v = x[((n * c.H + ih) * c.W + iw) * c.C + ch];
              m = Math.max(m, v);
              sum += v;
              count++;
            }
          y[((n * OH + oh) * OW + ow) * c.C + ch] = kind === 'max' ? m : sum / (countIncludePad ? c.k[0] * c.k[1] : count);
        }
  return { y, shape: [c.N, OH, OW, c.C] };
}

const CASES: PoolCase[] = [
  { name: '2×2 stride 2', N: 2, H: 6, W: 4, C: 8, k: [2, 2] },
  { name: '2×2 stride 2, odd size and channels', N: 2, H: 5, W: 7, C: 5, k: [2, 2] },
  { name: '3×3 stride 2 padding 1 (overlapping)', N: 2, H: 7, W: 6, C: 4, k: [3, 3], stride: [2, 2], padding: 1 },
  { name: '3×3 stride 1 (overlapping)', N: 1, H: 5, W: 5, C: 3, k: [3, 3], stride: [1, 1] },
  { name: "2×3 stride [1,2] 'same'", N: 2, H: 5, W: 6, C: 6, k: [2, 3], stride: [1, 2], padding: 'same' },
  { name: '3×2 stride [3,2] padding [1,1]', N: 1, H: 7, W: 6, C: 9, k: [3, 2], stride: [3, 2], padding: [1, 1] },
  { name: 'window = image', N: 3, H: 3, W: 4, C: 2, k: [3, 4] },
];

/** Distinct values at least 0.01 apart (a permutation), so the maximum is unique and stays put under ±eps. */
function distinct(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const v = Float32Array.from({ length: n }, (_, i) => (i - n / 2) * 0.01);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [v[i], v[j]] = [v[j], v[i]];
  }
  return v;
}

const optsOf = (c: PoolCase) => ({ stride: c.stride, padding: c.padding });

describe.each(EACH_BACKEND)('pooling on %s', (_name, be) => {
  test.each(CASES.map((c) => [c.name, c] as const))('maxPool2d / avgPool2d forward match float64 loops: %s', (_n, c) => {
    withBackend(be, () =>
      tidy(() => {
        const x = tensor(randomArray(c.N * c.H * c.W * c.C, 3), [c.N, c.H, c.W, c.C]);
        const mx = naivePool(c, x.data(), 'max');
        const y = maxPool2d(x, c.k, optsOf(c));
        expect(y.shape).toEqual(mx.shape);
        expectClose(y.data(), mx.y, 0);
        for (const countIncludePad of [true, false]) {
          const av = naivePool(c, x.data(), 'avg', countIncludePad);
          const z = avgPool2d(x, c.k, { ...optsOf(c), countIncludePad });
          expect(z.shape).toEqual(av.shape);
          expectClose(z.data(), av.y, 1e-6);
        }
      }),
    );
  });

  test.each(CASES.map((c) => [c.name, c] as const))('gradients by finite differences: %s', (_n, c) => {
    withBackend(be, () =>
      tidy(() => {
        const x = tensor(distinct(c.N * c.H * c.W * c.C, 5), [c.N, c.H, c.W, c.C], { requiresGrad: true });
        const rm = gradCheck((t) => maxPool2d(t, c.k, optsOf(c)), [x], { eps: 1e-3 });
        expect(rm.maxRelError, `max ${JSON.stringify(rm.worst)}`).toBeLessThan(1e-2);
        for (const countIncludePad of [true, false]) {
          const ra = gradCheck((t) => avgPool2d(t, c.k, { ...optsOf(c), countIncludePad }), [x], { eps: 0.05 });
          expect(ra.maxRelError, `avg ${JSON.stringify(ra.worst)}`).toBeLessThan(1e-2);
        }
      }),
    );
  });

  test('max-pool gradient goes to the first maximum on ties; NaN propagates', () => {
    withBackend(be, () =>
      tidy(() => {
        const x = tensor([1, 5, 5, 2, 3, 3, 3, 3], [1, 2, 4, 1], { requiresGrad: true });
        const y = maxPool2d(x, 2);
        expect(Array.from(y.data())).toEqual([5, 5]);
        backward(y, tensor([1, 10], [1, 1, 2, 1]));
        expect(Array.from(x.grad!.data())).toEqual([0, 1, 10, 0, 0, 0, 0, 0]);
        const xn = tensor([1, NaN, 2, 3, 4, 5, 6, 7], [1, 2, 2, 2]);
        const yn = maxPool2d(xn, 2).data();
        expect(Number.isNaN(yn[1])).toBe(true);
        expect(yn[0]).toBe(6);
      }),
    );
  });

  test('globalAvgPool2d: per-channel mean, [N, C] (or [N,1,1,C]); gradient', () => {
    withBackend(be, () =>
      tidy(() => {
        const [N, H, W, C] = [2, 3, 4, 5];
        const xs = randomArray(N * H * W * C, 9);
        const x = tensor(xs, [N, H, W, C], { requiresGrad: true });
        const y = globalAvgPool2d(x);
        expect(y.shape).toEqual([N, C]);
        const ref = new Float64Array(N * C);
        for (let n = 0; n < N; n++) for (let i = 0; i < H * W; i++) for (let c = 0; c < C; c++) ref[n * C + c] += xs[(n * H * W + i) * C + c] / (H * W);
        expectClose(y.data(), ref, 1e-6);
        expect(globalAvgPool2d(x, true).shape).toEqual([N, 1, 1, C]);
        expect(new GlobalAvgPool2d().forward(x).shape).toEqual([N, C]);
        expect(gradCheck((t) => globalAvgPool2d(t), [x], { eps: 0.05 }).maxRelError).toBeLessThan(1e-2);
      }),
    );
  });

  test('layers: MaxPool2d / AvgPool2d / Flatten shapes', () => {
    withBackend(be, () =>
      tidy(() => {
        const x = tensor(randomArray(2 * 28 * 28 * 16, 1), [2, 28, 28, 16]);
        const p = new MaxPool2d(2).forward(x);
        expect(p.shape).toEqual([2, 14, 14, 16]);
        expect(new AvgPool2d(3, { stride: 2, padding: 1 }).forward(x).shape).toEqual([2, 14, 14, 16]);
        expect(new Flatten().forward(new MaxPool2d(2).forward(p)).shape).toEqual([2, 7 * 7 * 16]);
        expect(new MaxPool2d([2, 1]).forward(x).shape).toEqual([2, 14, 28, 16]);
      }),
    );
  });

  test('bad input: errors name the op or layer and the shapes; heap unchanged', () => {
    withBackend(be, () => {
      const x = tensor(randomArray(2 * 3 * 3 * 4, 1), [2, 3, 3, 4]);
      const x3 = tensor(randomArray(3 * 3 * 4, 1), [3, 3, 4]);
      const before = be.heap.liveBytes;
      expect(() => maxPool2d(x, 4)).toThrow('maxPool2d: window 4×4 is larger than the padded input 3×3 (input [2,3,3,4], padding 0)');
      expect(() => new MaxPool2d(5).forward(x)).toThrow('MaxPool2d(5×5): window 5×5 is larger than the padded input 3×3');
      expect(() => avgPool2d(x, 2, { padding: 2 })).toThrow('avgPool2d: padding 2 is more than half the window 2×2');
      expect(() => maxPool2d(x, 2, { stride: 0 })).toThrow('maxPool2d: stride must be a positive integer or a pair [h, w] of them; got 0 (input [2,3,3,4])');
      expect(() => maxPool2d(x, 0)).toThrow('maxPool2d: kernelSize must be a positive integer');
      expect(() => maxPool2d(x3, 2)).toThrow(ShapeError);
      expect(() => maxPool2d(x3, 2)).toThrow('hint: add a batch dimension');
      expect(() => avgPool2d(x, 2, { countIncludePad: 1 as never })).toThrow(ConfigError);
      expect(() => maxPool2d(x, 2, { countIncludePad: true } as never)).toThrow("maxPool2d: unknown option 'countIncludePad'");
      expect(() => globalAvgPool2d(x3)).toThrow('globalAvgPool2d: input must be [N, H, W, C] (NHWC); got [3,3,4]');
      expect(be.heap.liveBytes).toBe(before);
      expect(() => new MaxPool2d(2, { stride: -1 })).toThrow('MaxPool2d(2×2): stride must be a positive integer');
      expect(() => new AvgPool2d(2, { padding: 'full' as never })).toThrow('AvgPool2d(2×2): padding must be');
      x.dispose();
      x3.dispose();
    });
  });
});

test('wasm and js agree (max and avg pooling, forward and backward)', () => {
  const c: PoolCase = { name: '', N: 4, H: 28, W: 28, C: 16, k: [2, 2] };
  const o: PoolCase = { name: '', N: 2, H: 9, W: 9, C: 7, k: [3, 3], stride: [2, 2], padding: 1 };
  const results = BACKENDS.map((be) =>
    withBackend(be, () =>
      tidy(() => {
        const out: Float64Array[] = [];
        for (const cc of [c, o]) {
          const x = tensor(distinct(cc.N * cc.H * cc.W * cc.C, 2), [cc.N, cc.H, cc.W, cc.C], { requiresGrad: true });
          const y = maxPool2d(x, cc.k, optsOf(cc));
          backward(y, tensor(randomArray(y.size, 3), y.shape));
          const z = avgPool2d(x, cc.k, optsOf(cc));
          out.push(values(y), values(x.grad!), values(z));
        }
        return out;
      }),
    ),
  );
  for (const r of results.slice(1)) r.forEach((v, i) => expectClose(v, results[0][i], 1e-5));
});
