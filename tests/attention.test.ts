/**
 * The fused scaled-dot-product-attention op on every backend: forward and
 * gradients against a float64 reference (awkward sizes: one query, one key,
 * T not a multiple of the 4-query tile or the 8-key panel, head sizes 1, 3,
 * 5, 16, 17), causal alignment when Tq ≠ Tk, key-padding and additive masks
 * (broadcast and learned), fully masked rows, returned weights, dropout
 * (same mask on every backend, gradient consistent), finite differences,
 * backends agreeing, and bad input naming the op with the heap unchanged.
 */
import { describe, expect, test } from 'vitest';
import {
  backward, gradCheck, mul, noGrad, scaledDotProductAttention, ShapeError, tensor, tidy, ValueError, type Tensor,
} from '../src/index.js';
import { refAttention } from './attention-reference.js';
import { BACKENDS, EACH_BACKEND, expectClose, randomArray, values, withBackend } from './helpers.js';

// [B, H, Tq, Tk, D]
const SHAPES: [number, number, number, number, number][] = [
  [1, 1, 1, 1, 1], [1, 1, 1, 5, 3], [2, 1, 5, 5, 4], [1, 2, 7, 9, 5], [2, 3, 9, 6, 16], [1, 2, 17, 17, 8],
  [2, 2, 13, 33, 17], [1, 1, 3, 12, 2],
  // longer than one key block of the backward (128 keys): blocks, partial last block, causal across blocks
  [1, 2, 37, 300, 8], [1, 1, 260, 260, 16],
];

describe.each(EACH_BACKEND)('scaledDotProductAttention on %s', (_name, be) => {
  test.each(SHAPES)('B%i H%i Tq%i Tk%i D%i: forward, weights and gradients match float64 (plain and causal)', (B, H, Tq, Tk, D) => {
    for (const causal of [false, true]) {
      withBackend(be, () =>
        tidy(() => {
          const Q = randomArray(B * Tq * H * D, 1 + Tq), K = randomArray(B * Tk * H * D, 2 + Tk), V = randomArray(B * Tk * H * D, 3);
          const G = randomArray(B * Tq * H * D, 4);
          const q = tensor(Q, [B, Tq, H, D], { requiresGrad: true });
          const k = tensor(K, [B, Tk, H, D], { requiresGrad: true });
          const v = tensor(V, [B, Tk, H, D], { requiresGrad: true });
          const { output, weights } = scaledDotProductAttention(q, k, v, { causal, returnWeights: true });
          const ref = refAttention(Q, K, V, B, H, Tq, Tk, D, { causal }, G);
          expect(output.shape).toEqual([B, Tq, H, D]);
          expect(weights.shape).toEqual([B, H, Tq, Tk]);
          expectClose(values(output), ref.out, 1e-5);
          expectClose(values(weights), ref.W, 1e-5);
          backward(output, tensor(G, [B, Tq, H, D]));
          expectClose(values(q.grad!), ref.dQ, 1e-5);
          expectClose(values(k.grad!), ref.dK, 1e-5);
          expectClose(values(v.grad!), ref.dV, 1e-5);
        }),
      );
    }
  });

  // Without returnWeights, training keeps the probabilities for the backward in
  // the kernels' own layout (Tk ≤ 64) or recomputes them; unmasked, non-causal
  // attention takes the key-major kernels (backward: one key block, D a
  // multiple of 8). Shapes on each side of those limits, and query counts that
  // are not multiples of the 8- or 16-query tiles.
  test.each([
    [2, 4, 32, 32, 16], [1, 2, 9, 6, 16], [2, 1, 21, 64, 8], [1, 2, 19, 65, 16], [1, 1, 11, 128, 8],
    [1, 2, 5, 129, 8], [2, 2, 13, 33, 17], [1, 3, 7, 40, 12],
  ])('training path (weights not requested) B%i H%i Tq%i Tk%i D%i: output and gradients match float64', (B, H, Tq, Tk, D) => {
    for (const causal of [false, true]) {
      withBackend(be, () =>
        tidy(() => {
          const Q = randomArray(B * Tq * H * D, 5 + Tq), K = randomArray(B * Tk * H * D, 6 + Tk), V = randomArray(B * Tk * H * D, 7);
          const G = randomArray(B * Tq * H * D, 8);
          const q = tensor(Q, [B, Tq, H, D], { requiresGrad: true });
          const k = tensor(K, [B, Tk, H, D], { requiresGrad: true });
          const v = tensor(V, [B, Tk, H, D], { requiresGrad: true });
          const output = scaledDotProductAttention(q, k, v, { causal });
          const ref = refAttention(Q, K, V, B, H, Tq, Tk, D, { causal }, G);
          expectClose(values(output), ref.out, 1e-5);
          backward(output, tensor(G, [B, Tq, H, D]));
          expectClose(values(q.grad!), ref.dQ, 1e-5);
          expectClose(values(k.grad!), ref.dK, 1e-5);
          expectClose(values(v.grad!), ref.dV, 1e-5);
        }),
      );
    }
  });

  test('masks: additive (broadcast), key padding, both; fully masked rows give zeros', () => {
    withBackend(be, () =>
      tidy(() => {
        const [B, H, Tq, Tk, D] = [2, 3, 6, 7, 5];
        const Q = randomArray(B * Tq * H * D, 5), K = randomArray(B * Tk * H * D, 6), V = randomArray(B * Tk * H * D, 7);
        const G = randomArray(B * Tq * H * D, 8);
        const M = randomArray(Tq * Tk, 9).map((x) => x * 2);
        M[3] = -Infinity;
        const kpm = [0, 0, 1, 0, 0, 0, 1, /* b=1 */ 1, 1, 1, 1, 1, 1, 1]; // batch 1: every key padded
        const q = tensor(Q, [B, Tq, H, D], { requiresGrad: true });
        const k = tensor(K, [B, Tk, H, D], { requiresGrad: true });
        const v = tensor(V, [B, Tk, H, D], { requiresGrad: true });
        const mask = tensor(M, [Tq, Tk], { requiresGrad: true });
        const kp = tensor(kpm, [B, Tk], { dtype: 'int32' });
        const out = scaledDotProductAttention(q, k, v, { mask, keyPaddingMask: kp });
        const ref = refAttention(Q, K, V, B, H, Tq, Tk, D, { mask: M, maskShape: [Tq, Tk], kpm }, G);
        expectClose(values(out), ref.out, 1e-5);
        expect(values(out).slice(Tq * H * D).every((x) => x === 0)).toBe(true); // batch 1 is fully masked
        backward(out, tensor(G, [B, Tq, H, D]));
        expectClose(values(q.grad!), ref.dQ, 1e-5);
        expectClose(values(k.grad!), ref.dK, 1e-5);
        expectClose(values(v.grad!), ref.dV, 1e-5);
        // d mask = Σ_{b,h} dS
        const dM = new Float64Array(Tq * Tk);
        ref.dM.forEach((x, idx) => (dM[idx % (Tq * Tk)] += x));
        expectClose(values(mask.grad!), dM, 1e-5);
        expect(values(mask.grad!).every(Number.isFinite)).toBe(true);
        // Per-batch-and-head additive mask [B, H, Tq, Tk] and a [B,1,1,Tk] float padding mask.
        const M4 = randomArray(B * H * Tq * Tk, 10);
        const out4 = scaledDotProductAttention(q, k, v, { mask: tensor(M4, [B, H, Tq, Tk]), causal: true });
        expectClose(values(out4), refAttention(Q, K, V, B, H, Tq, Tk, D, { mask: M4, maskShape: [B, H, Tq, Tk], causal: true }).out, 1e-5);
      }),
    );
  });

  test('a learned mask over several key blocks: gradient = Σ dS over batch and heads', () => {
    withBackend(be, () =>
      tidy(() => {
        const [B, H, Tq, Tk, D] = [2, 2, 20, 290, 8];
        const Q = randomArray(B * Tq * H * D, 41), K = randomArray(B * Tk * H * D, 42), V = randomArray(B * Tk * H * D, 43);
        const G = randomArray(B * Tq * H * D, 44), M = randomArray(Tq * Tk, 45);
        const mask = tensor(M, [Tq, Tk], { requiresGrad: true });
        const q = tensor(Q, [B, Tq, H, D], { requiresGrad: true });
        const out = scaledDotProductAttention(q, tensor(K, [B, Tk, H, D]), tensor(V, [B, Tk, H, D]), { mask, causal: true });
        backward(out, tensor(G, [B, Tq, H, D]));
        const ref = refAttention(Q, K, V, B, H, Tq, Tk, D, { mask: M, maskShape: [Tq, Tk], causal: true }, G);
        expectClose(values(out), ref.out, 1e-5);
        expectClose(values(q.grad!), ref.dQ, 1e-5);
        const dM = new Float64Array(Tq * Tk);
        ref.dM.forEach((x, idx) => (dM[idx % (Tq * Tk)] += x));
        expectClose(values(mask.grad!), dM, 1e-5);
      }),
    );
  });

  test('gradients of q, k, v and a learned mask by finite differences', () => {
    withBackend(be, () =>
      tidy(() => {
        const [B, H, Tq, Tk, D] = [1, 2, 5, 6, 3];
        const q = tensor(randomArray(B * Tq * H * D, 11), [B, Tq, H, D], { requiresGrad: true });
        const k = tensor(randomArray(B * Tk * H * D, 12), [B, Tk, H, D], { requiresGrad: true });
        const v = tensor(randomArray(B * Tk * H * D, 13), [B, Tk, H, D], { requiresGrad: true });
        const m = tensor(randomArray(H * Tq * Tk, 14), [H, Tq, Tk], { requiresGrad: true });
        const r = gradCheck((a, b, c, d) => scaledDotProductAttention(a, b, c, { mask: d, causal: true }), [q, k, v, m]);
        expect(r.maxRelError).toBeLessThan(1e-2);
        const q3 = tensor(randomArray(2 * 4 * 6, 15), [2, 4, 6], { requiresGrad: true });
        const k3 = tensor(randomArray(2 * 9 * 6, 16), [2, 9, 6], { requiresGrad: true });
        const v3 = tensor(randomArray(2 * 9 * 6, 17), [2, 9, 6], { requiresGrad: true });
        // A step of 5e-3 keeps the forward's float32 rounding (the softmax's exp: 1.8e-7) out of the differences.
        expect(gradCheck((a, b, c) => scaledDotProductAttention(a, b, c), [q3, k3, v3], { eps: 5e-3 }).maxRelError).toBeLessThan(1e-2);
      }),
    );
  });

  test('dropout: drops weights, rescales, gradient consistent with the forward it made', () => {
    withBackend(be, () =>
      tidy(() => {
        const [B, H, T, D] = [2, 2, 9, 4];
        const q = tensor(randomArray(B * T * H * D, 21), [B, T, H, D], { requiresGrad: true });
        const k = tensor(randomArray(B * T * H * D, 22), [B, T, H, D], { requiresGrad: true });
        const v = tensor(randomArray(B * T * H * D, 23), [B, T, H, D], { requiresGrad: true });
        const plain = values(scaledDotProductAttention(q, k, v));
        const dropped = values(scaledDotProductAttention(q, k, v, { dropout: 0.3, seed: 5 }));
        expect(maxAbsDiff(plain, dropped)).toBeGreaterThan(1e-3);
        // With a fixed seed the function is deterministic, so finite differences apply.
        const r = gradCheck((a, b, c) => scaledDotProductAttention(a, b, c, { dropout: 0.3, seed: 5 }), [q, k, v], { eps: 5e-3 });
        expect(r.maxRelError).toBeLessThan(1e-2);
      }),
    );
  });

  test('bad input: names the op and the values; heap unchanged', () => {
    withBackend(be, () => {
      const q = tensor(randomArray(2 * 3 * 2 * 4, 1), [2, 3, 2, 4]);
      const k = tensor(randomArray(2 * 5 * 2 * 4, 2), [2, 5, 2, 4]);
      const k3 = tensor(randomArray(2 * 5 * 2 * 3, 2), [2, 5, 2, 3]);
      const badMask = tensor(randomArray(3 * 4, 3), [3, 4]);
      const badKpm = tensor([0, 0, 0], [1, 3], { dtype: 'int32' });
      const before = be.heap.liveBytes;
      expect(() => scaledDotProductAttention(q, k, k3)).toThrow(ShapeError);
      expect(() => scaledDotProductAttention(q, k3, k3)).toThrow('scaledDotProductAttention: head sizes differ (4 vs 3)');
      expect(() => scaledDotProductAttention(q, k, k, { mask: badMask })).toThrow(
        'scaledDotProductAttention: mask [3,4] does not broadcast to the attention scores [B, H, Tq, Tk] = [2,2,3,5]',
      );
      expect(() => scaledDotProductAttention(q, k, k, { keyPaddingMask: badKpm })).toThrow(
        'scaledDotProductAttention: keyPaddingMask must be [B, Tk] = [2,5]; got [1,3]',
      );
      expect(() => scaledDotProductAttention(q, k, k, { dropout: 1 })).toThrow(ValueError);
      expect(be.heap.liveBytes).toBe(before);
      for (const t of [q, k, k3, badMask, badKpm]) t.dispose();
    });
  });
});

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('backends agree (1e-4 relative), dropout masks included', () => {
  const [B, H, T, D] = [2, 4, 37, 16];
  const run = (be: (typeof BACKENDS)[number]) =>
    withBackend(be, () =>
      tidy(() => {
        const q = tensor(randomArray(B * T * H * D, 31), [B, T, H, D], { requiresGrad: true });
        const k = tensor(randomArray(B * T * H * D, 32), [B, T, H, D], { requiresGrad: true });
        const v = tensor(randomArray(B * T * H * D, 33), [B, T, H, D], { requiresGrad: true });
        const y = scaledDotProductAttention(q, k, v, { causal: true, dropout: 0.2, seed: 9 });
        backward(y, tensor(randomArray(B * T * H * D, 34), [B, T, H, D]));
        return [values(y), values(q.grad!), values(k.grad!), values(v.grad!)];
      }),
    );
  const results = BACKENDS.map(run);
  for (const r of results.slice(1)) r.forEach((x, i) => expectClose(x, results[0][i], 1e-4));
});

test('weights are detached and rows sum to 1', () => {
  for (const be of BACKENDS) {
    withBackend(be, () =>
      tidy(() => {
        const x = tensor(randomArray(1 * 6 * 8, 3), [1, 6, 8]);
        const { weights } = noGrad(() => scaledDotProductAttention(x, x, x, { causal: true, returnWeights: true }));
        const w = values(weights);
        for (let i = 0; i < 6; i++) {
          let s = 0;
          for (let j = 0; j < 6; j++) s += w[i * 6 + j];
          expect(Math.abs(s - 1)).toBeLessThan(1e-5);
          for (let j = i + 1; j < 6; j++) expect(w[i * 6 + j]).toBe(0);
        }
        void mul;
        void (null as unknown as Tensor);
      }),
    );
  }
});
