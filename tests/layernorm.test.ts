/**
 * LayerNorm and RMSNorm (ops and modules) on every backend: forward against a
 * float64 reference over awkward row lengths (1, 3, 5, 17, 64, 1001) and a
 * large-mean row, gradients of x, γ, β against the closed form and by finite
 * differences, the backward adding dx into a pending residual gradient,
 * no-affine variants, multi-dimensional normalized shapes,
 * backends agreeing, bad input naming the layer with the heap unchanged.
 */
import { describe, expect, test } from 'vitest';
import {
  add, backward, gradCheck, LayerNorm, layerNorm, mul, RMSNorm, rmsNorm, SGD, ShapeError, tensor, tidy, ValueError,
} from '../src/index.js';
import { BACKENDS, EACH_BACKEND, expectClose, randomArray, values, withBackend } from './helpers.js';

/** float64 layer norm (or RMS norm) of rows of n, with γ, β; also the gradients for dy. */
function refNorm(X: ArrayLike<number>, n: number, G: ArrayLike<number> | null, Bt: ArrayLike<number> | null, eps: number, rms: boolean, DY?: ArrayLike<number>) {
  const rows = X.length / n;
  const y = new Float64Array(X.length), dx = new Float64Array(X.length), dg = new Float64Array(n), db = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    let mu = 0;
    if (!rms) {
      for (let j = 0; j < n; j++) mu += X[o + j];
      mu /= n;
    }
    let v = 0;
    for (let j = 0; j < n; j++) v += (X[o + j] - mu) ** 2;
    const rs = 1 / Math.sqrt(v / n + eps);
    const xh = Array.from({ length: n }, (_, j) => (X[o + j] - mu) * rs);
    for (let j = 0; j < n; j++) y[o + j] = xh[j] * (G ? G[j] : 1) + (Bt ? Bt[j] : 0);
    if (DY) {
      const g = Array.from({ length: n }, (_, j) => DY[o + j] * (G ? G[j] : 1));
      const a = rms ? 0 : g.reduce((s, x) => s + x, 0) / n;
      const b = g.reduce((s, x, j) => s + x * xh[j], 0) / n;
      for (let j = 0; j < n; j++) {
        dx[o + j] = rs * (g[j] - a - xh[j] * b);
        dg[j] += DY[o + j] * xh[j];
        db[j] += DY[o + j];
      }
    }
  }
  return { y, dx, dg, db };
}

describe.each(EACH_BACKEND)('layerNorm and rmsNorm on %s', (_name, be) => {
  test.each([1, 3, 5, 17, 64, 1001])('rows of %i: forward and backward match float64', (n) => {
    for (const rms of [false, true]) {
      withBackend(be, () =>
        tidy(() => {
          const rows = 6;
          const X = randomArray(rows * n, n).map((v, i) => v * 3 + (i < n ? 1000 : 0)); // first row: a large mean
          const G = randomArray(n, 2).map((v) => v + 1.5), Bt = randomArray(n, 3), DY = randomArray(rows * n, 4);
          const x = tensor(X, [2, 3, n], { requiresGrad: true });
          const g = tensor(G, [n], { requiresGrad: true });
          const b = tensor(Bt, [n], { requiresGrad: true });
          const y = rms ? rmsNorm(x, n, g, 1e-6) : layerNorm(x, n, g, b, 1e-5);
          const ref = refNorm(X, n, G, rms ? null : Bt, rms ? 1e-6 : 1e-5, rms, DY);
          expectClose(values(y), ref.y, n === 1 && !rms ? 1e-3 : 2e-5);
          backward(y, tensor(DY, [2, 3, n]));
          expectClose(values(x.grad!), ref.dx, n === 1 ? 1e-2 : 5e-4);
          expectClose(values(g.grad!), ref.dg, 5e-5);
          if (!rms) expectClose(values(b.grad!), ref.db, 1e-5);
        }),
      );
    }
  });

  // A pre-norm residual block, y = x + 2·norm(x): x's gradient from the skip is
  // pending when the norm's backward runs, so the kernel adds dx into it
  // (accDx = 1) instead of writing a new tensor that autograd adds after.
  test.each([[false], [true]])('residual around the norm (rms %s): dx added into the pending gradient matches float64', (rms) => {
    withBackend(be, () =>
      tidy(() => {
        const n = 19, rows = 5;
        const X = randomArray(rows * n, 21).map((v) => v * 3), G = randomArray(n, 22).map((v) => v + 1.5), Bt = randomArray(n, 23);
        const DY = randomArray(rows * n, 24);
        const x = tensor(X, [rows, n], { requiresGrad: true });
        const g = tensor(G, [n], { requiresGrad: true });
        const b = tensor(Bt, [n], { requiresGrad: true });
        const flags: number[] = [];
        const kname = rms ? 'rmsnorm_bwd' : 'layernorm_bwd';
        const k = be.k as unknown as Record<string, (...a: number[]) => void>;
        const orig = k[kname];
        k[kname] = (...a: number[]) => {
          flags.push(a[a.length - 1]);
          orig(...a);
        };
        try {
          const normed = rms ? rmsNorm(x, n, g, 1e-6) : layerNorm(x, n, g, b, 1e-5);
          backward(add(x, mul(normed, 2)), tensor(DY, [rows, n]));
        } finally {
          k[kname] = orig;
        }
        expect(flags).toEqual([1]);
        const ref = refNorm(X, n, G, rms ? null : Bt, rms ? 1e-6 : 1e-5, rms, DY.map((v) => 2 * v));
        expectClose(values(x.grad!), ref.dx.map((v, i) => v + DY[i]), 5e-4);
        expectClose(values(g.grad!), ref.dg, 5e-5);
      }),
    );
  });

  // A parameter normalised directly: after an optimizer's (lazy) zeroGrad its .grad holds stale
  // values standing for zeros, and the norm's backward writes dx there (accDx = 0) instead of
  // adding to them.
  test('a parameter normalised directly: after zeroGrad, dx is written into its .grad, matching float64', () => {
    withBackend(be, () =>
      tidy(() => {
        const n = 11, rows = 3;
        const X = randomArray(rows * n, 31).map((v) => v * 2), DY = randomArray(rows * n, 32);
        const x = tensor(X, [rows, n], { requiresGrad: true });
        const opt = new SGD([x], { lr: 0.1 });
        backward(layerNorm(x, n), tensor(randomArray(rows * n, 33), [rows, n])); // stale values
        opt.zeroGrad();
        const k = be.k as unknown as Record<string, (...a: number[]) => void>;
        const orig = k.layernorm_bwd;
        const calls: number[][] = [];
        k.layernorm_bwd = (...a: number[]) => {
          calls.push([a[0], a[a.length - 1]]);
          orig(...a);
        };
        try {
          backward(layerNorm(x, n), tensor(DY, [rows, n]));
        } finally {
          k.layernorm_bwd = orig;
        }
        expect(calls).toEqual([[x.grad!.ptr, 0]]);
        expectClose(values(x.grad!), refNorm(X, n, null, null, 1e-5, false, DY).dx, 5e-4);
        opt.dispose();
      }),
    );
  });

  test('finite differences: with and without affine, multi-dimensional normalized shape', () => {
    withBackend(be, () =>
      tidy(() => {
        const x = tensor(randomArray(4 * 7, 5).map((v) => v * 2), [4, 7], { requiresGrad: true });
        const g = tensor(randomArray(7, 6), [7], { requiresGrad: true });
        const b = tensor(randomArray(7, 7), [7], { requiresGrad: true });
        // Normalised outputs are O(1) whatever the input scale: a step of 5e-3 keeps round-off out of the differences.
        const fd = { eps: 5e-3 };
        expect(gradCheck((a, c, d) => layerNorm(a, 7, c, d), [x, g, b], fd).maxRelError).toBeLessThan(1e-2);
        expect(gradCheck((a) => layerNorm(a, [7]), [x], fd).maxRelError).toBeLessThan(1e-2);
        expect(gradCheck((a, c) => rmsNorm(a, 7, c), [x, g], fd).maxRelError).toBeLessThan(1e-2);
        const x3 = tensor(randomArray(2 * 3 * 5, 8), [2, 3, 5], { requiresGrad: true });
        const g2 = tensor(randomArray(15, 9), [3, 5], { requiresGrad: true });
        expect(gradCheck((a, c) => layerNorm(a, [3, 5], c), [x3, g2], fd).maxRelError).toBeLessThan(1e-2);
      }),
    );
  });

  test('modules: LayerNorm(64) and RMSNorm(64) parameters, names and output statistics', () => {
    withBackend(be, () =>
      tidy(() => {
        const ln = new LayerNorm(64);
        const rn = new RMSNorm(64, { eps: 1e-5 });
        expect(ln.namedParameters().map(([n, t]) => [n, t.shape])).toEqual([['weight', [64]], ['bias', [64]]]);
        expect(rn.namedParameters().map(([n]) => n)).toEqual(['weight']);
        expect(new LayerNorm(8, { elementwiseAffine: false }).parameters()).toEqual([]);
        const x = tensor(randomArray(3 * 64, 1).map((v) => v * 5 + 2), [3, 64]);
        const y = values(ln.forward(x));
        for (let r = 0; r < 3; r++) {
          const row = y.slice(r * 64, (r + 1) * 64);
          const mu = row.reduce((s, v) => s + v, 0) / 64;
          const v2 = row.reduce((s, v) => s + (v - mu) ** 2, 0) / 64;
          expect(Math.abs(mu)).toBeLessThan(1e-5);
          expect(Math.abs(v2 - 1)).toBeLessThan(1e-3);
        }
        const z = values(rn.forward(x));
        const ms = z.slice(0, 64).reduce((s, v) => s + v * v, 0) / 64;
        expect(Math.abs(ms - 1)).toBeLessThan(1e-3);
        ln.dispose();
        rn.dispose();
      }),
    );
  });

  test('bad input names the layer and the shapes; heap unchanged', () => {
    withBackend(be, () => {
      const ln = new LayerNorm(64);
      const rn = new RMSNorm(64);
      const x = tensor(randomArray(2 * 30, 1), [2, 30]);
      const g = tensor(randomArray(5, 1), [5]);
      const before = be.heap.liveBytes;
      expect(() => ln.forward(x)).toThrow('LayerNorm: input [2,30] does not end with the normalized shape [64]');
      expect(() => rn.forward(x)).toThrow(ShapeError);
      expect(() => layerNorm(x, 30, g)).toThrow('layerNorm: weight must have the normalized shape [30]; got [5]');
      expect(() => layerNorm(x, 30, undefined, undefined, -1)).toThrow(ValueError);
      expect(() => new LayerNorm(0)).toThrow('LayerNorm: normalizedShape must be one or more positive integers; got [0]');
      expect(be.heap.liveBytes).toBe(before);
      for (const t of [x, g]) t.dispose();
      ln.dispose();
      rn.dispose();
    });
  });
});

test('backends agree (1e-4 relative)', () => {
  const run = (b: (typeof BACKENDS)[number]) =>
    withBackend(b, () =>
      tidy(() => {
        const x = tensor(randomArray(32 * 96, 1), [32, 96], { requiresGrad: true });
        const g = tensor(randomArray(96, 2), [96], { requiresGrad: true });
        const bb = tensor(randomArray(96, 3), [96], { requiresGrad: true });
        const y = layerNorm(x, 96, g, bb);
        const z = rmsNorm(x, 96, g);
        backward(y, tensor(randomArray(32 * 96, 4), [32, 96]));
        backward(z, tensor(randomArray(32 * 96, 5), [32, 96]));
        return [values(y), values(z), values(x.grad!), values(g.grad!), values(bb.grad!)];
      }),
    );
  const r = BACKENDS.map(run);
  for (const x of r.slice(1)) x.forEach((a, i) => expectClose(a, r[0][i], 1e-4));
});
