/**
 * Embedding and positional encodings on every backend: rows gathered, the
 * gradient of repeated token ids accumulated (closed form: each row's
 * gradient is the sum of the output gradients of its occurrences, and finite
 * differences), init, sinusoidal values against the formula, learned
 * positions with an offset, and bad input (ids out of the vocabulary, float
 * ids, sequences longer than the positional table) naming the layer and the
 * values with the heap unchanged.
 */
import { describe, expect, test } from 'vitest';
import {
  backward, DTypeError, Embedding, gradCheck, LearnedPositionalEmbedding, SinusoidalPositionalEncoding, tensor, tidy,
} from '../src/index.js';
import { EACH_BACKEND, expectClose, randomArray, values, withBackend } from './helpers.js';

describe.each(EACH_BACKEND)('Embedding and positions on %s', (_name, be) => {
  test('forward gathers rows; repeated ids accumulate their gradients', () => {
    withBackend(be, () =>
      tidy(() => {
        const V = 7, d = 5;
        const e = new Embedding(V, d, { seed: 1 });
        expect(e.namedParameters().map(([n, t]) => [n, t.shape])).toEqual([['weight', [V, d]]]);
        const ids = [3, 1, 3, 3, 0, 6, 1, 3]; // 3 four times, 1 twice, 2/4/5 never
        const idT = tensor(ids, [2, 4], { dtype: 'int32' });
        const y = e.forward(idT);
        expect(y.shape).toEqual([2, 4, d]);
        const W = values(e.weight);
        const Y = values(y);
        ids.forEach((id, i) => expect(Array.from(Y.subarray(i * d, (i + 1) * d))).toEqual(Array.from(W.subarray(id * d, (id + 1) * d))));
        const G = randomArray(ids.length * d, 2);
        backward(y, tensor(G, [2, 4, d]));
        const want = new Float64Array(V * d);
        ids.forEach((id, i) => {
          for (let j = 0; j < d; j++) want[id * d + j] += G[i * d + j];
        });
        expectClose(values(e.weight.grad!), want, 1e-6);
        expect(values(e.weight.grad!).subarray(2 * d, 3 * d).every((x) => x === 0)).toBe(true);
        e.weight.grad = null;
        expect(gradCheck(() => e.forward(idT), [e.weight]).maxRelError).toBeLessThan(1e-2);
        e.dispose();
      }),
    );
  });

  test('init: N(0, 1) by default, std option, other initializers', () => {
    withBackend(be, () =>
      tidy(() => {
        const e = new Embedding(100, 50, { seed: 3 });
        const w = values(e.weight);
        const mean = w.reduce((s, v) => s + v, 0) / w.length;
        const sd = Math.sqrt(w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length);
        expect(Math.abs(mean)).toBeLessThan(0.05);
        expect(Math.abs(sd - 1)).toBeLessThan(0.05);
        const e2 = new Embedding(100, 50, { std: 0.02, seed: 3 });
        expectClose(values(e2.weight), w.map((v) => v * 0.02), 1e-6);
        const e3 = new Embedding(4, 3, { init: 'zeros' });
        expect(values(e3.weight).every((v) => v === 0)).toBe(true);
        for (const m of [e, e2, e3]) m.dispose();
      }),
    );
  });

  test('sinusoidal encoding matches the formula; offsets; learned positions add their rows and learn', () => {
    withBackend(be, () =>
      tidy(() => {
        const d = 6, L = 10;
        const pe = new SinusoidalPositionalEncoding(d, L);
        expect(pe.parameters()).toEqual([]);
        expect(pe.namedBuffers().map(([n]) => n)).toEqual(['pe']);
        const x = tensor(new Float32Array(2 * 3 * d), [2, 3, d]);
        const y = values(pe.forward(x, 4));
        for (let b = 0; b < 2; b++) {
          for (let t = 0; t < 3; t++) {
            for (let i = 0; i < d; i++) {
              const pos = t + 4;
              const w = pos / Math.pow(10000, (i - (i % 2)) / d);
              expect(Math.abs(y[(b * 3 + t) * d + i] - (i % 2 === 0 ? Math.sin(w) : Math.cos(w)))).toBeLessThan(1e-6);
            }
          }
        }
        const lp = new LearnedPositionalEmbedding(L, d, { seed: 5 });
        const X = randomArray(2 * 3 * d, 6);
        const z = lp.forward(tensor(X, [2, 3, d]), 2);
        const P = values(lp.weight);
        const want = Array.from(X, (v, i) => v + P[(2 + (Math.floor(i / d) % 3)) * d + (i % d)]);
        expectClose(values(z), want, 1e-6);
        backward(z, tensor(new Float32Array(2 * 3 * d).fill(1), [2, 3, d]));
        const g = values(lp.weight.grad!);
        for (let p = 0; p < L; p++) for (let i = 0; i < d; i++) expect(g[p * d + i]).toBe(p >= 2 && p < 5 ? 2 : 0);
        pe.dispose();
        lp.dispose();
      }),
    );
  });

  test('bad input: ids out of range, float ids, too-long sequences — the layer and the values; heap unchanged', () => {
    withBackend(be, () => {
      const e = new Embedding(50, 4);
      const pe = new SinusoidalPositionalEncoding(4, 8);
      const lp = new LearnedPositionalEmbedding(8, 4);
      const ids = tensor([1, 2, 3, 57, 4], [5], { dtype: 'int32' });
      const ids2 = tensor([1, 2, 3, 4, 5, -1], [2, 3], { dtype: 'int32' });
      const fl = tensor([1, 2]);
      const x = tensor(new Float32Array(9 * 4), [1, 9, 4]);
      const x3 = tensor(new Float32Array(3 * 4), [1, 3, 4]);
      const x5 = tensor(new Float32Array(3 * 5), [1, 3, 5]);
      const before = be.heap.liveBytes;
      expect(() => e.forward(ids)).toThrow('Embedding: token id 57 at position 3 is out of range for a vocabulary of 50');
      expect(() => e.forward(ids2)).toThrow('Embedding: token id -1 at position [1,2] is out of range for a vocabulary of 50');
      expect(() => e.forward(fl)).toThrow(DTypeError);
      expect(() => pe.forward(x)).toThrow('SinusoidalPositionalEncoding: sequence length 9 is longer than the positional table (maxLen 8)');
      expect(() => lp.forward(x3, 6)).toThrow(
        'LearnedPositionalEmbedding: sequence length 3 at offset 6 (positions up to 8) is longer than the positional table (maxLen 8)',
      );
      expect(() => lp.forward(x5)).toThrow('LearnedPositionalEmbedding: input must be [..., T, 4]; got [1,3,5]');
      expect(() => new Embedding(0, 3)).toThrow('Embedding: numEmbeddings must be a positive integer; got 0');
      expect(be.heap.liveBytes).toBe(before);
      for (const t of [ids, ids2, fl, x, x3, x5]) t.dispose();
      for (const m of [e, pe, lp]) m.dispose();
    });
  });
});
