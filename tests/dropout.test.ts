/**
 * dropout on every backend: the mask equals an independent BigInt
 * implementation of the counter-based hash, the same seed gives the same mask
 * on every backend (SIMD body and scalar tail alike), the kept fraction is
 * ≈ 1 − p, the expected value is preserved, p = 0 is the identity, the
 * backward multiplies by the mask, bad p and seeds are rejected.
 */
import { describe, expect, test } from 'vitest';
import { backward, dropout, gradCheck, ones, tensor, tidy, ValueError } from '../src/index.js';
import { BACKENDS, EACH_BACKEND, randomArray, withBackend } from './helpers.js';

// The mask rule, in BigInt arithmetic (an implementation independent of the kernels' Math.imul/i32x4.mul).
const M32 = 0xffffffffn;
function mix(x: bigint): bigint {
  x ^= x >> 16n;
  x = (x * 0x7feb352dn) & M32;
  x ^= x >> 15n;
  x = (x * 0x846ca68bn) & M32;
  x ^= x >> 16n;
  return x;
}
function keptRef(seed: number, n: number, p: number): boolean[] {
  const key = mix(BigInt(seed) ^ 0x9e3779b9n);
  const threshold = BigInt(Math.floor(Math.fround(p) * 2 ** 32));
  return Array.from({ length: n }, (_, i) => mix(mix((BigInt(i) + key) & M32) ^ key) >= threshold);
}

describe.each(EACH_BACKEND)('dropout on %s', (_name, be) => {
  test.each([0, 1, 3, 5, 17, 1001])('n=%i: the mask is the hash rule; kept elements are scaled by 1/(1 − p)', (n) => {
    withBackend(be, () => {
      const X = randomArray(n, n + 1);
      for (const [p, seed] of [[0.5, 1], [0.1, 0xdeadbeef], [0.9, 0]]) {
        const kept = keptRef(seed, n, p);
        const scale = Math.fround(1 / (1 - Math.fround(p)));
        tidy(() => {
          const y = dropout(tensor(X, [n]), p, seed).data();
          expect(Array.from(y)).toEqual(Array.from(X, (x, i) => (kept[i] ? Math.fround(x * scale) : x * 0)));
        });
      }
    });
  });

  test('kept fraction ≈ 1 − p and the mean is preserved (n = 200,000)', () => {
    withBackend(be, () => {
      tidy(() => {
        for (const p of [0.1, 0.5, 0.8]) {
          const y = dropout(ones([200_000]), p, 42).data();
          let kept = 0;
          let sum = 0;
          for (const v of y) {
            if (v !== 0) kept++;
            sum += v;
          }
          // Binomial standard deviations: √(p(1−p)/n) ≤ 0.0012 for the fraction.
          expect(Math.abs(kept / y.length - (1 - p))).toBeLessThan(0.006);
          expect(Math.abs(sum / y.length - 1)).toBeLessThan(0.03);
        }
      });
    });
  });

  test('p = 0 is the identity; different seeds give different masks; the mask depends only on (seed, index)', () => {
    withBackend(be, () => {
      tidy(() => {
        const X = randomArray(1001, 3);
        expect(Array.from(dropout(tensor(X), 0, 7).data())).toEqual(Array.from(X));
        const a = dropout(ones([1000]), 0.5, 1).data();
        const b = dropout(ones([1000]), 0.5, 2).data();
        let same = 0;
        for (let i = 0; i < 1000; i++) same += +(a[i] === b[i]);
        expect(same).toBeGreaterThan(400);
        expect(same).toBeLessThan(600);
        // A longer tensor with the same seed starts with the same mask (elements 1000–1003 move from tail to body).
        const c = dropout(ones([1003]), 0.5, 1).data();
        const d = dropout(ones([1007]), 0.5, 1).data();
        expect(Array.from(d.slice(0, 1003))).toEqual(Array.from(c));
        expect(Array.from(c.slice(0, 1000))).toEqual(Array.from(a));
      });
    });
  });

  test('backward multiplies by the mask; finite differences agree for a fixed seed', () => {
    withBackend(be, () => {
      tidy(() => {
        const X = randomArray(37, 5);
        const x = tensor(X, [37], { requiresGrad: true });
        const y = dropout(x, 0.3, 99);
        const DY = randomArray(37, 6);
        backward(y, tensor(DY, [37]));
        const kept = keptRef(99, 37, 0.3);
        const scale = Math.fround(1 / (1 - Math.fround(0.3)));
        expect(Array.from(x.grad!.data())).toEqual(Array.from(DY, (g, i) => (kept[i] ? Math.fround(g * scale) : g * 0)));
        const w = tensor(randomArray(12, 7), [3, 4], { requiresGrad: true });
        expect(gradCheck((t) => dropout(t, 0.4, 5), [w]).maxRelError).toBeLessThan(1e-2);
      });
    });
  });

  test('bad p or seed: clear error, heap unchanged', () => {
    withBackend(be, () => {
      const x = tensor([1, 2, 3]);
      const xi = tensor([1, 2, 3], undefined, { dtype: 'int32' });
      const before = be.heap.liveBytes;
      for (const p of [1, -0.1, 1.5, NaN, 0.99999999]) expect(() => dropout(x, p, 1)).toThrow(ValueError);
      expect(() => dropout(x, 1, 1)).toThrow('dropout: p must be a number in [0, 1); got 1');
      for (const seed of [-1, 1.5, 2 ** 32, NaN]) expect(() => dropout(x, 0.5, seed)).toThrow(ValueError);
      expect(() => dropout(x, 0.5, -1)).toThrow('dropout: seed must be an integer in [0, 2^32); got -1');
      expect(() => dropout(xi, 0.5, 1)).toThrow('dropout: expected float32 tensors');
      expect(be.heap.liveBytes).toBe(before);
      x.dispose();
      xi.dispose();
    });
  });
});

test('the same seed gives the same mask on every backend', () => {
  for (const seed of [0, 1, 12345, 0xffffffff]) {
    for (const n of [1, 5, 17, 1001, 4099]) {
      const outs = BACKENDS.map((be) => withBackend(be, () => tidy(() => Array.from(dropout(ones([n]), 0.37, seed).data()))));
      for (const o of outs.slice(1)) expect(o).toEqual(outs[0]);
    }
  }
});
