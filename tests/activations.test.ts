/**
 * Activations and elementwise math (relu, leakyRelu, sigmoid, tanh, gelu,
 * geluTanh, silu, exp, log, sqrt, neg, abs) on every backend: forward and
 * backward against float64 references on awkward lengths, ≤ 1e-6 relative
 * error over wide ranges, finite results for large |x|, finite-difference
 * gradients, backends agreeing, bad input rejected with the heap unchanged.
 */
import { describe, expect, test } from 'vitest';
import {
  abs, backward, ConfigError, DTypeError, exp, gelu, geluTanh, gradCheck, leakyRelu, log, neg, relu, sigmoid, silu,
  sqrt, tanh, tensor, tidy, ValueError, type Tensor,
} from '../src/index.js';
import { BACKENDS, EACH_BACKEND, expectClose, randomArray, rng, values, withBackend } from './helpers.js';
import { UNARY_REF } from './reference-math.js';

const LENGTHS = [0, 1, 3, 5, 17, 1001];

const OPS: Record<string, (x: Tensor) => Tensor> = {
  relu, leakyRelu: (x) => leakyRelu(x), sigmoid, tanh, gelu, geluTanh, silu, exp, log, sqrt, neg, abs,
};
const NAMES = Object.keys(OPS);

/** Test inputs for an op: uniform in its natural domain, kept away from kinks. */
function inputs(name: string, n: number, seed: number): Float32Array {
  const r = randomArray(n, seed);
  if (name === 'log' || name === 'sqrt') return r.map((v) => 0.05 + 2 * Math.abs(v)); // (0.05, 2.05)
  if (name === 'relu' || name === 'leakyRelu' || name === 'abs') return r.map((v) => 4 * v + (v >= 0 ? 0.05 : -0.05));
  return r.map((v) => 6 * v); // [−6, 6)
}

/** n points from lo to hi (geometric when `geo`), rounded to float32. */
function grid(lo: number, hi: number, n: number, geo = false): Float32Array {
  const g = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / (n - 1);
    g[i] = geo ? lo * (hi / lo) ** t : lo + (hi - lo) * t;
  }
  return g;
}

/** Strict relative error max |a − b| / |b| over elements with |b| ≥ floor (denormals excluded). */
function strictRelError(actual: ArrayLike<number>, expected: ArrayLike<number>, floor = 1e-37): number {
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const b = expected[i];
    if (Math.abs(b) < floor) {
      if (!(Math.abs(actual[i]) < 1e-30)) return Infinity;
      continue;
    }
    const e = Math.abs(actual[i] - b) / Math.abs(b);
    if (!(e <= worst)) worst = e;
  }
  return worst;
}

// Where each transcendental is checked to 1e-6 relative.
const WIDE: [string, number, number, boolean][] = [
  ['exp', -87, 88.7, false],
  ['log', 1e-30, 1e30, true],
  ['sigmoid', -87, 87, false],
  ['tanh', -20, 20, false],
  ['gelu', -12, 12, false],
  ['geluTanh', -10, 10, false],
  ['silu', -85, 85, false],
];

describe.each(EACH_BACKEND)('activations on %s', (_name, be) => {
  test.each(NAMES)('%s forward matches float64 on awkward lengths', (name) => {
    withBackend(be, () => {
      for (const n of LENGTHS) {
        const X = inputs(name, n, n + 11);
        tidy(() => {
          const y = OPS[name](tensor(X, [n]));
          expect(y.shape).toEqual([n]);
          expectClose(values(y), Array.from(X, UNARY_REF[name].f), 1e-6);
        });
      }
    });
  });

  test.each(WIDE)('%s is within 1e-6 relative of float64 over [%s, %s]', (name, lo, hi, geo) => {
    withBackend(be, () => {
      tidy(() => {
        const X = grid(lo, hi, 20_003, geo);
        const y = values(OPS[name](tensor(X)));
        const err = strictRelError(y, Array.from(X, UNARY_REF[name].f));
        expect(err, `${name}: max relative error ${err}`).toBeLessThanOrEqual(1e-6);
      });
    });
  });

  test.each(NAMES)('%s backward equals the float64 derivative times dy', (name) => {
    withBackend(be, () => {
      for (const n of [1, 5, 17, 1001]) {
        const X = inputs(name, n, n + 3);
        const DY = randomArray(n, n + 4);
        tidy(() => {
          const x = tensor(X, [n], { requiresGrad: true });
          backward(OPS[name](x), tensor(DY, [n]));
          expectClose(values(x.grad!), Array.from(X, (v, i) => UNARY_REF[name].df(v) * DY[i]), 2e-6);
        });
      }
    });
  });

  test.each(NAMES)('%s gradient matches finite differences', (name) => {
    withBackend(be, () => {
      tidy(() => {
        const x = tensor(inputs(name, 24, 99).map((v) => (name === 'exp' ? v / 3 : v)), [4, 6], { requiresGrad: true });
        const r = gradCheck(OPS[name], [x]);
        expect(r.maxRelError, JSON.stringify(r.worst)).toBeLessThan(1e-2);
      });
    });
  });

  test('leakyRelu takes a slope; gelu({ approximate: "tanh" }) is geluTanh', () => {
    withBackend(be, () => {
      tidy(() => {
        const x = tensor([-2, -0.5, 0, 0.5, 3]);
        expect(Array.from(leakyRelu(x, 0.2).data())).toEqual([-0.4, -0.1, 0, 0.5, 3].map(Math.fround));
        expect(Array.from(relu(x).data())).toEqual([0, 0, 0, 0.5, 3]);
        expect(Array.from(gelu(x, { approximate: 'tanh' }).data())).toEqual(Array.from(geluTanh(x).data()));
        const xs = tensor([-2, 3], undefined, { requiresGrad: true });
        backward(leakyRelu(xs, 0.2), tensor([1, 1]));
        expect(Array.from(xs.grad!.data())).toEqual([Math.fround(0.2), 1]);
      });
    });
  });

  test('large |x|: finite results and gradients where the true values are finite', () => {
    withBackend(be, () => {
      tidy(() => {
        const X = [-1000, -100, -50, -20, 20, 50, 100, 1000];
        const x = tensor(X, undefined, { requiresGrad: true });
        for (const name of ['sigmoid', 'tanh', 'gelu', 'geluTanh', 'silu']) {
          const y = values(OPS[name](x));
          expect(y.every(Number.isFinite), `${name}: ${y}`).toBe(true);
          expectClose(y, X.map(UNARY_REF[name].f), 1e-6);
          x.grad?.dispose();
          x.grad = null;
          backward(OPS[name](x), tensor(X.map(() => 1)));
          const g = values(x.grad!);
          expect(g.every(Number.isFinite), `${name} grad: ${g}`).toBe(true);
          expectClose(g, X.map(UNARY_REF[name].df), 1e-6);
        }
        // Saturation is exact where float32 cannot tell the difference.
        expect(Array.from(sigmoid(tensor([50, 100, 1000])).data())).toEqual([1, 1, 1]);
        expect(Array.from(tanh(x).data())).toEqual([-1, -1, -1, -1, 1, 1, 1, 1]);
        expect(Array.from(gelu(tensor([-1000, 50, 1000])).data()).map((v) => v + 0)).toEqual([0, 50, 1000]);
        expect(Array.from(exp(tensor([-200, 200, 88, -88])).data())).toEqual(
          [0, Infinity, Math.exp(88), Math.exp(-88)].map(Math.fround),
        );
        expect(Array.from(log(tensor([0, -1, Infinity, NaN])).data())).toEqual([-Infinity, NaN, Infinity, NaN]);
      });
    });
  });

  test('NaN propagates through every op', () => {
    withBackend(be, () => {
      tidy(() => {
        for (const name of NAMES) {
          expect(Number.isNaN(OPS[name](tensor([NaN, NaN, NaN, NaN, NaN])).data()[4]), name).toBe(true);
        }
      });
    });
  });

  test('bad input: wrong dtype, bad slope, bad option — clear error, heap unchanged', () => {
    withBackend(be, () => {
      const xi = tensor([1, 2, 3], undefined, { dtype: 'int32' });
      const x = tensor([1, 2, 3]);
      const before = be.heap.liveBytes;
      for (const name of NAMES) expect(() => OPS[name](xi)).toThrow(DTypeError);
      expect(() => relu(xi)).toThrow('relu: expected float32 tensors; got');
      expect(() => leakyRelu(x, NaN)).toThrow(ValueError);
      expect(() => leakyRelu(x, Infinity)).toThrow('leakyRelu: negativeSlope must be a finite number; got Infinity');
      expect(() => gelu(x, { approximate: 'fast' as never })).toThrow("gelu: unknown approximate 'fast'; valid: 'none', 'tanh'");
      expect(() => gelu(x, { approx: 'tanh' } as never)).toThrow(ConfigError);
      expect(be.heap.liveBytes).toBe(before);
      x.dispose();
      expect(() => sigmoid(x)).toThrow('was disposed');
      xi.dispose();
    });
  });
});

test('every backend agrees within 1e-4 relative, forward and backward', () => {
  const r = rng(5);
  const X = Float32Array.from({ length: 1003 }, () => (r() - 0.5) * 24);
  const P = X.map((v) => Math.abs(v) + 0.01);
  for (const name of NAMES) {
    const data = name === 'log' || name === 'sqrt' ? P : X;
    const results = BACKENDS.map((be) =>
      withBackend(be, () =>
        tidy(() => {
          const x = tensor(data, undefined, { requiresGrad: true });
          const y = OPS[name](x);
          backward(y, tensor(randomArray(data.length, 8)));
          return [values(y), values(x.grad!)];
        }),
      ),
    );
    for (const [y, g] of results.slice(1)) {
      expectClose(y, results[0][0], 1e-4);
      expectClose(g, results[0][1], 1e-4);
    }
  }
});

test('the SIMD body and the scalar tail give identical results for the same value', () => {
  for (const be of BACKENDS) {
    withBackend(be, () =>
      tidy(() => {
        for (const a of [-7.3, -0.4, 0.3, 2.9, 11.5]) {
          for (const name of NAMES) {
            const v = name === 'log' || name === 'sqrt' ? Math.abs(a) : a;
            // Five copies: elements 0–3 run in the SIMD body, element 4 in the scalar tail.
            const y = OPS[name](tensor([v, v, v, v, v])).data();
            expect(y[4], `${name}(${v})`).toBe(y[0]);
          }
        }
      }),
    );
  }
});

test('every op of this family is registered with a backward rule', async () => {
  const { OP_REGISTRY } = await import('../src/autograd.js');
  const names = [
    'relu', 'leaky_relu', 'sigmoid', 'tanh', 'gelu', 'gelu_tanh', 'silu', 'exp', 'log', 'sqrt', 'neg', 'abs',
    'softmax', 'log_softmax', 'cross_entropy', 'binary_cross_entropy_with_logits', 'mse_loss', 'dropout',
  ];
  for (const name of names) expect(typeof OP_REGISTRY.get(name)?.backward, name).toBe('function');
});
