/**
 * MultiHeadAttention on every backend: named parameters and PyTorch-like
 * init, forward against a float64 reference (projections and attention as
 * plain loops) for self- and cross-attention (Tq ≠ Tk, kdim/vdim ≠ dModel),
 * per-head weights for visualisation, per-head weight slices, finite-difference
 * gradients of every weight and bias and of the inputs, key/value caching
 * equal to full recomputation, and bad input (dModel not divisible by
 * numHeads, masks that do not broadcast) naming the layer and the values with
 * the heap unchanged.
 */
import { describe, expect, test } from 'vitest';
import {
  AttentionCache, backward, ConfigError, gradCheck, MultiHeadAttention, noGrad, slice, tensor, tidy, type Tensor,
} from '../src/index.js';
import { refAttention, refLinear } from './attention-reference.js';
import { BACKENDS, EACH_BACKEND, expectClose, randomArray, values, withBackend } from './helpers.js';

const f32 = (t: Tensor | undefined) => (t ? Float64Array.from(t.data()) : null);

/** float64 MHA forward from the module's weights. */
function refMha(m: MultiHeadAttention, Xq: ArrayLike<number>, Xk: ArrayLike<number>, Xv: ArrayLike<number>, B: number, Tq: number, Tk: number, opts: { causal?: boolean } = {}) {
  const d = m.dModel, H = m.numHeads, D = m.headDim;
  const Q = refLinear(Xq, f32(m.wq)!, f32(m.bq), B * Tq, d, d);
  const K = refLinear(Xk, f32(m.wk)!, f32(m.bk), B * Tk, m.kdim, d);
  const V = refLinear(Xv, f32(m.wv)!, f32(m.bv), B * Tk, m.vdim, d);
  const a = refAttention(Q, K, V, B, H, Tq, Tk, D, opts);
  return { y: refLinear(a.out, f32(m.wo)!, f32(m.bo), B * Tq, d, d), W: a.W };
}

describe.each(EACH_BACKEND)('MultiHeadAttention on %s', (_name, be) => {
  test('parameters: names, shapes, PyTorch-like init', () => {
    withBackend(be, () =>
      tidy(() => {
        const m = new MultiHeadAttention(64, 4, { seed: 1 });
        expect(m.namedParameters().map(([n, t]) => `${n} ${t.shape.join('x')}`)).toEqual([
          'wq 64x64', 'bq 64', 'wk 64x64', 'bk 64', 'wv 64x64', 'bv 64', 'wo 64x64', 'bo 64',
        ]);
        expect(m.headDim).toBe(16);
        const bound = Math.sqrt(6 / (64 + 3 * 64)); // xavier over the stacked [3d, d] in_proj_weight
        for (const w of [m.wq, m.wk, m.wv]) {
          const v = values(w);
          expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(bound);
          expect(Math.max(...v.map(Math.abs))).toBeGreaterThan(bound * 0.9);
        }
        expect(Math.max(...values(m.wo).map(Math.abs))).toBeLessThanOrEqual(1 / 8);
        for (const b of [m.bq, m.bk, m.bv, m.bo]) expect(values(b!).every((x) => x === 0)).toBe(true);
        const nb = new MultiHeadAttention(8, 2, { bias: false, kdim: 5, vdim: 3 });
        expect(nb.namedParameters().map(([n, t]) => `${n} ${t.shape.join('x')}`)).toEqual(['wq 8x8', 'wk 5x8', 'wv 3x8', 'wo 8x8']);
        m.dispose();
        nb.dispose();
      }),
    );
  });

  test('self-attention and cross-attention match float64; per-head weights', () => {
    withBackend(be, () =>
      tidy(() => {
        const [B, Tq, Tk, d, H] = [2, 5, 7, 12, 3];
        const m = new MultiHeadAttention(d, H, { seed: 2 });
        // Non-zero biases so they are exercised.
        for (const b of [m.bq!, m.bk!, m.bv!, m.bo!]) be.heap.f32.set(randomArray(d, b.id), b.ptr >>> 2);
        const X = randomArray(B * Tq * d, 3), M = randomArray(B * Tk * d, 4);
        const x = tensor(X, [B, Tq, d]), mem = tensor(M, [B, Tk, d]);
        const self = m.forward(x, undefined, undefined, { causal: true, needWeights: true });
        const refSelf = refMha(m, X, X, X, B, Tq, Tq, { causal: true });
        expectClose(values(self.output), refSelf.y, 1e-5);
        expect(self.weights.shape).toEqual([B, H, Tq, Tq]);
        expectClose(values(self.weights), refSelf.W, 1e-5);
        const cross = m.forward(x, mem, mem, { needWeights: true, averageWeights: true });
        const refCross = refMha(m, X, M, M, B, Tq, Tk);
        expectClose(values(cross.output), refCross.y, 1e-5);
        expect(cross.weights.shape).toEqual([B, Tq, Tk]);
        const avg = new Float64Array(B * Tq * Tk);
        refCross.W.forEach((w, i) => {
          const j = i % Tk, q = Math.floor(i / Tk) % Tq, b = Math.floor(i / (Tk * Tq * H));
          avg[(b * Tq + q) * Tk + j] += w / H;
        });
        expectClose(values(cross.weights), avg, 1e-5);
        // kdim / vdim differ from dModel
        const m2 = new MultiHeadAttention(8, 2, { kdim: 5, vdim: 3, seed: 3 });
        const K5 = randomArray(B * Tk * 5, 5), V3 = randomArray(B * Tk * 3, 6), Q8 = randomArray(B * Tq * 8, 7);
        const y2 = m2.forward(tensor(Q8, [B, Tq, 8]), tensor(K5, [B, Tk, 5]), tensor(V3, [B, Tk, 3]));
        expectClose(values(y2), refMha(m2, Q8, K5, V3, B, Tq, Tk).y, 1e-5);
        m.dispose();
        m2.dispose();
      }),
    );
  });

  test('self-attention through the fused [wq | wk | wv] projection equals the three separate projections', () => {
    withBackend(be, () =>
      tidy(() => {
        const m = new MultiHeadAttention(16, 4, { seed: 9 });
        for (const b of [m.bq!, m.bk!, m.bv!, m.bo!]) be.heap.f32.set(randomArray(16, b.id), b.ptr >>> 2);
        const X = randomArray(3 * 6 * 16, 20), G = randomArray(3 * 6 * 16, 21);
        const run = (separate: boolean) => {
          const x = tensor(X, [3, 6, 16], { requiresGrad: true });
          // A distinct tensor with the same values takes the general (cross-attention) path.
          const kv = separate ? tensor(X, [3, 6, 16], { requiresGrad: true }) : undefined;
          const mask = tensor(randomArray(6 * 6, 22), [6, 6]);
          const y = m.forward(x, kv, kv, { mask, causal: true });
          backward(y, tensor(G, [3, 6, 16]));
          const dx = values(x.grad!);
          if (kv) values(kv.grad!).forEach((g, i) => (dx[i] += g));
          const r = [values(y), dx, ...m.parameters().map((p) => values(p.grad!))];
          for (const p of m.parameters()) {
            p.grad!.dispose();
            p.grad = null;
          }
          return r;
        };
        const fused = run(false), separate = run(true);
        fused.forEach((a, i) => expectClose(a, separate[i], 1e-5));
        m.dispose();
      }),
    );
  });

  test('headWeights(h) are the columns of wq/wk/wv and the rows of wo of that head', () => {
    withBackend(be, () =>
      tidy(() => {
        const m = new MultiHeadAttention(12, 3, { seed: 4 });
        const h = m.headWeights(1);
        expect(h.wq.shape).toEqual([12, 4]);
        expect(h.wo.shape).toEqual([4, 12]);
        expect(h.bq!.shape).toEqual([4]);
        const wq = values(m.wq);
        const col = values(h.wq);
        for (let r = 0; r < 12; r++) for (let c = 0; c < 4; c++) expect(col[r * 4 + c]).toBe(wq[r * 12 + 4 + c]);
        expect(Array.from(values(h.wo))).toEqual(Array.from(values(m.wo)).slice(48, 96));
        expect(() => m.headWeights(3)).toThrow('MultiHeadAttention: head 3 is out of range for 3 heads');
        m.dispose();
      }),
    );
  });

  test('gradients of every weight, bias and input by finite differences', () => {
    withBackend(be, () =>
      tidy(() => {
        const m = new MultiHeadAttention(6, 2, { seed: 5 });
        for (const b of [m.bq!, m.bk!, m.bv!, m.bo!]) be.heap.f32.set(randomArray(6, b.id).map((v) => v * 0.3), b.ptr >>> 2);
        const x = tensor(randomArray(2 * 4 * 6, 8), [2, 4, 6], { requiresGrad: true });
        const mem = tensor(randomArray(2 * 5 * 6, 9), [2, 5, 6], { requiresGrad: true });
        const params = m.parameters();
        const self = gradCheck((xx) => m.forward(xx, undefined, undefined, { causal: true }), [x, ...params], { eps: 5e-3 });
        expect(self.maxRelError).toBeLessThan(1e-2);
        const cross = gradCheck((xx, mm) => m.forward(xx, mm, mm), [x, mem, ...params], { eps: 5e-3 });
        expect(cross.maxRelError).toBeLessThan(1e-2);
        m.dispose();
      }),
    );
  });

  test('a key/value cache fed one token at a time gives the same outputs as full causal attention', () => {
    withBackend(be, () =>
      tidy(() => {
        const [B, T, d] = [2, 7, 8];
        const m = new MultiHeadAttention(d, 2, { seed: 6 });
        const X = randomArray(B * T * d, 10);
        const x = tensor(X, [B, T, d]);
        const full = values(noGrad(() => m.forward(x, undefined, undefined, { causal: true })));
        const cache = new AttentionCache(T);
        const steps: Float64Array[] = [];
        // prompt of 3, then one token at a time
        const chunks = [[0, 3], [3, 4], [4, 5], [5, 6], [6, 7]];
        for (const [a, b] of chunks) {
          const xt = slice(x, 1, a, b);
          steps.push(values(m.forward(xt, undefined, undefined, { causal: true, cache })));
        }
        expect(cache.length).toBe(T);
        // reassemble [B, T, d] from the chunks
        const got = new Float64Array(B * T * d);
        chunks.forEach(([a, b], c) => {
          const n = b - a;
          for (let bb = 0; bb < B; bb++) got.set(steps[c].subarray(bb * n * d, (bb + 1) * n * d), (bb * T + a) * d);
        });
        expectClose(got, full, 1e-5);
        expect(() => m.forward(slice(x, 1, 0, 1), undefined, undefined, { cache })).toThrow(
          'MultiHeadAttention: the key/value cache holds 7 positions; 8 are needed (7 cached + 1 new)',
        );
        cache.dispose();
        m.dispose();
      }),
    );
  });

  test('bad input names the layer and the values; heap unchanged', () => {
    withBackend(be, () => {
      const m = new MultiHeadAttention(8, 2);
      const x = tensor(randomArray(2 * 3 * 8, 1), [2, 3, 8]);
      const x7 = tensor(randomArray(2 * 3 * 7, 1), [2, 3, 7]);
      const mem = tensor(randomArray(1 * 4 * 8, 1), [1, 4, 8]);
      const badMask = tensor(randomArray(3 * 5, 2), [3, 5]);
      const kpm = tensor([0, 0], [2, 1], { dtype: 'int32' });
      const before = be.heap.liveBytes;
      expect(() => new MultiHeadAttention(30, 4)).toThrow('MultiHeadAttention: dModel 30 is not divisible by numHeads 4');
      expect(() => new MultiHeadAttention(30, 4)).toThrow(ConfigError);
      expect(() => m.forward(x7)).toThrow('MultiHeadAttention: query must be [B, T, 8]; got [2,3,7]');
      expect(() => m.forward(x, mem, mem)).toThrow('MultiHeadAttention: batch sizes differ');
      expect(() => m.forward(x, undefined, undefined, { mask: badMask })).toThrow(
        'MultiHeadAttention: mask [3,5] does not broadcast to the attention scores [B, H, Tq, Tk] = [2,2,3,3]',
      );
      expect(() => m.forward(x, undefined, undefined, { keyPaddingMask: kpm })).toThrow(
        'MultiHeadAttention: keyPaddingMask must be [B, Tk] = [2,3]; got [2,1]',
      );
      expect(be.heap.liveBytes).toBe(before);
      for (const t of [x, x7, mem, badMask, kpm]) t.dispose();
      m.dispose();
    });
  });
});

test('backends agree on MHA forward and gradients (1e-4 relative)', () => {
  const run = (be: (typeof BACKENDS)[number]) =>
    withBackend(be, () =>
      tidy(() => {
        const m = new MultiHeadAttention(64, 4, { seed: 7 });
        const x = tensor(randomArray(4 * 32 * 64, 11), [4, 32, 64], { requiresGrad: true });
        const y = m.forward(x, undefined, undefined, { causal: true });
        backward(y, tensor(randomArray(4 * 32 * 64, 12), [4, 32, 64]));
        const r = [values(y), values(x.grad!), ...m.parameters().map((p) => values(p.grad!))];
        m.dispose();
        return r;
      }),
    );
  const r = BACKENDS.map(run);
  for (const x of r.slice(1)) x.forEach((a, i) => expectClose(a, r[0][i], 1e-4));
});
