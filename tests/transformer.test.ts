/**
 * Transformer layers and models on every backend: finite-difference gradients
 * of whole encoder and decoder layers (post- and pre-norm, every parameter
 * and input), a causal test (perturbing a later token leaves earlier outputs
 * bit-identical), key/value-cached decoding equal to full recomputation for
 * the decoder-only LM and the encoder–decoder, greedy/sampled generation,
 * dropout only in training, a tiny LM that learns, backends agreeing, and
 * bad input naming the layer and the values with the heap unchanged.
 */
import { describe, expect, test } from 'vitest';
import {
  Adam, backward, ConfigError, crossEntropy, generate, gradCheck, noGrad, reshape, seed, Seq2SeqTransformer, tensor, tidy,
  TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer, TransformerLM, Transformer, ValueError, type Tensor,
} from '../src/index.js';
import { fivePointGradError } from './attention-reference.js';
import { BACKENDS, EACH_BACKEND, expectClose, randomArray, values, withBackend } from './helpers.js';

const ids = (data: number[], shape: number[]) => tensor(data, shape, { dtype: 'int32' });

/**
 * Finite-difference check over the inputs and every parameter (at most `per`
 * elements of each), five-point stencil: whole layers are deep enough that
 * float32 round-off would swamp gradCheck's central difference.
 */
function layerGradError(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], params: Tensor[], per = 12): number {
  const r = fivePointGradError((...xs) => fn(...xs.slice(0, inputs.length)), [...inputs, ...params], { per, h: 4e-2 });
  return r.maxRelError;
}

describe.each(EACH_BACKEND)('transformer layers on %s', (_name, be) => {
  test.each([false, true])('encoder layer gradients by finite differences (normFirst %s)', (normFirst) => {
    withBackend(be, () =>
      tidy(() => {
        const l = new TransformerEncoderLayer(8, 2, { dimFeedforward: 12, dropout: 0, activation: 'gelu', normFirst, seed: 1 });
        const x = tensor(randomArray(2 * 5 * 8, 2), [2, 5, 8], { requiresGrad: true });
        const kpm = ids([0, 0, 0, 0, 1, 0, 0, 0, 0, 0], [2, 5]);
        expect(layerGradError((a) => l.forward(a, { keyPaddingMask: kpm }), [x], l.parameters())).toBeLessThan(1e-2);
        expect(layerGradError((a) => l.forward(a, { causal: true }), [x], l.parameters())).toBeLessThan(1e-2);
        l.dispose();
      }),
    );
  });

  test.each([false, true])('decoder layer gradients by finite differences (normFirst %s)', (normFirst) => {
    withBackend(be, () =>
      tidy(() => {
        const l = new TransformerDecoderLayer(8, 2, { dimFeedforward: 12, dropout: 0, activation: 'gelu', normFirst, seed: 3 });
        const tgt = tensor(randomArray(2 * 4 * 8, 4), [2, 4, 8], { requiresGrad: true });
        const mem = tensor(randomArray(2 * 6 * 8, 5), [2, 6, 8], { requiresGrad: true });
        expect(layerGradError((a, m) => l.forward(a, m), [tgt, mem], l.parameters())).toBeLessThan(1e-2);
        l.dispose();
      }),
    );
  });

  test('parameter names follow PyTorch (camelCase, [in, out])', () => {
    withBackend(be, () => {
      const enc = new TransformerEncoderLayer(8, 2, { dimFeedforward: 16 });
      expect(enc.namedParameters().map(([n, t]) => `${n} ${t.shape.join('x')}`)).toEqual([
        'selfAttn.wq 8x8', 'selfAttn.bq 8', 'selfAttn.wk 8x8', 'selfAttn.bk 8', 'selfAttn.wv 8x8', 'selfAttn.bv 8',
        'selfAttn.wo 8x8', 'selfAttn.bo 8', 'linear1.weight 8x16', 'linear1.bias 16', 'linear2.weight 16x8', 'linear2.bias 8',
        'norm1.weight 8', 'norm1.bias 8', 'norm2.weight 8', 'norm2.bias 8',
      ]);
      const dec = new TransformerDecoderLayer(8, 2, { dimFeedforward: 16 });
      expect(dec.namedParameters().map(([n]) => n).filter((n) => n.startsWith('crossAttn') || n.startsWith('norm'))).toEqual([
        'crossAttn.wq', 'crossAttn.bq', 'crossAttn.wk', 'crossAttn.bk', 'crossAttn.wv', 'crossAttn.bv', 'crossAttn.wo',
        'crossAttn.bo', 'norm1.weight', 'norm1.bias', 'norm2.weight', 'norm2.bias', 'norm3.weight', 'norm3.bias',
      ]);
      const t = new Transformer({ dModel: 8, numHeads: 2, numEncoderLayers: 2, numDecoderLayers: 1, dimFeedforward: 16 });
      const names = t.namedParameters().map(([n]) => n);
      expect(names).toContain('encoder.layers.1.selfAttn.wq');
      expect(names).toContain('encoder.norm.weight');
      expect(names).toContain('decoder.layers.0.crossAttn.wo');
      expect(names).toContain('decoder.norm.bias');
      for (const m of [enc, dec, t]) m.dispose();
    });
  });

  test('causal: perturbing a later token leaves every earlier output bit-identical', () => {
    withBackend(be, () =>
      tidy(() => {
        const lm = new TransformerLM({ vocabSize: 11, dModel: 16, numHeads: 4, numLayers: 2, maxLen: 16, dimFeedforward: 32, dropout: 0, seed: 5 });
        const T = 9;
        const base = [1, 5, 2, 7, 3, 3, 9, 0, 4];
        const a = values(lm.forward(ids(base, [1, T])));
        for (const p of [3, 6, 8]) {
          const changed = base.slice();
          changed[p] = (changed[p] + 4) % 11;
          const b = values(lm.forward(ids(changed, [1, T])));
          const V = 11;
          expect(Array.from(b.subarray(0, p * V))).toEqual(Array.from(a.subarray(0, p * V))); // positions < p: identical
          let diff = 0;
          for (let i = p * V; i < (p + 1) * V; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
          expect(diff).toBeGreaterThan(1e-4); // position p itself sees the change
        }
        // The same through the gradient: d logits[t] / d embedding at a later position is zero.
        const x = tensor(randomArray(1 * 6 * 8, 6), [1, 6, 8], { requiresGrad: true });
        const dec = new TransformerDecoderLayer(8, 2, { dimFeedforward: 8, dropout: 0, crossAttention: false, seed: 7 });
        const y = dec.forward(x);
        const g = new Float32Array(6 * 8);
        g.fill(1, 0, 3 * 8); // loss = sum of outputs at positions 0..2
        backward(y, tensor(g, [1, 6, 8]));
        expect(values(x.grad!).subarray(3 * 8).every((v) => v === 0)).toBe(true);
        expect(values(x.grad!).subarray(0, 3 * 8).some((v) => v !== 0)).toBe(true);
        lm.dispose();
        dec.dispose();
      }),
    );
  });

  test('KV-cached decoding gives the logits of full recomputation (decoder-only and encoder–decoder)', () => {
    withBackend(be, () =>
      tidy(() => {
        const lm = new TransformerLM({ vocabSize: 13, dModel: 16, numHeads: 2, numLayers: 2, maxLen: 20, dimFeedforward: 24, dropout: 0.1, seed: 8 });
        lm.eval();
        const seq = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8];
        const B = 2, T = seq.length;
        const both = [...seq, ...seq.map((v) => (v * 7) % 13)];
        const full = values(noGrad(() => lm.forward(ids(both, [B, T]))));
        const cache = lm.createCache(B, T);
        const got = new Float64Array(B * T * 13);
        const put = (logits: Tensor, from: number, n: number) => {
          const v = values(logits);
          for (let b = 0; b < B; b++) got.set(v.subarray(b * n * 13, (b + 1) * n * 13), (b * T + from) * 13);
        };
        const P = 4;
        put(lm.forwardCached(ids([...both.slice(0, P), ...both.slice(T, T + P)], [B, P]), cache), 0, P);
        for (let t = P; t < T; t++) put(lm.forwardCached(ids([both[t], both[T + t]], [B, 1]), cache), t, 1);
        expect(cache.length).toBe(T);
        expectClose(got, full, 1e-4);
        cache.dispose();

        const s2s = new Seq2SeqTransformer({
          srcVocabSize: 9, tgtVocabSize: 7, dModel: 16, numHeads: 4, numEncoderLayers: 2, numDecoderLayers: 2, maxLen: 16,
          dimFeedforward: 24, dropout: 0, seed: 9,
        });
        const src = ids([1, 2, 3, 4, 5, 6, 8, 7, 6, 5, 4, 3], [2, 6]);
        const tgt = [0, 3, 2, 6, 1, 0, 5, 5, 4, 2];
        const fullS = values(noGrad(() => s2s.forward(src, ids(tgt, [2, 5]))));
        const c2 = s2s.createCache(2, 5, src);
        const gotS = new Float64Array(2 * 5 * 7);
        for (let t = 0; t < 5; t++) {
          const v = values(s2s.forwardCached(ids([tgt[t], tgt[5 + t]], [2, 1]), c2));
          gotS.set(v.subarray(0, 7), t * 7);
          gotS.set(v.subarray(7, 14), (5 + t) * 7);
        }
        expectClose(gotS, fullS, 1e-4);
        c2.dispose();
        lm.dispose();
        s2s.dispose();
      }),
    );
  });

  test('generate: greedy with and without the cache agree; seeded sampling is reproducible; topK 1 is greedy', () => {
    withBackend(be, () =>
      tidy(() => {
        const lm = new TransformerLM({ vocabSize: 10, dModel: 16, numHeads: 2, numLayers: 2, maxLen: 24, dimFeedforward: 16, dropout: 0, seed: 10 });
        const prompt = [[1, 2, 3], [4, 5, 6]];
        const a = generate(lm, prompt, { maxNewTokens: 12, greedy: true });
        const b = generate(lm, prompt, { maxNewTokens: 12, greedy: true, useCache: false });
        expect(a.shape).toEqual([2, 15]);
        expect(Array.from(a.data())).toEqual(Array.from(b.data()));
        expect(Array.from(a.data()).slice(0, 3)).toEqual([1, 2, 3]);
        const s1 = generate(lm, prompt, { maxNewTokens: 12, temperature: 1.5, seed: 42 });
        const s2 = generate(lm, prompt, { maxNewTokens: 12, temperature: 1.5, seed: 42 });
        expect(Array.from(s1.data())).toEqual(Array.from(s2.data()));
        const k1 = generate(lm, prompt, { maxNewTokens: 12, topK: 1, seed: 3 });
        expect(Array.from(k1.data())).toEqual(Array.from(a.data()));
        const stop = generate(lm, [[1, 2]], { maxNewTokens: 6, greedy: true, stopToken: Array.from(a.data())[3] });
        expect(Array.from(stop.data()).slice(2)).toEqual(new Array(6).fill(Array.from(a.data())[3]));
        expect(() => generate(lm, [[1, 2]], { maxNewTokens: 30 })).toThrow(
          'generate: prompt 2 + maxNewTokens 30 = 32 positions is longer than the model\'s positional table (maxLen 24)',
        );
        expect(() => generate(lm, [[1, 12]], { maxNewTokens: 3 })).toThrow('generate: token id 12 at position 1 is out of range for a vocabulary of 10');
        lm.dispose();
      }),
    );
  });

  test('dropout acts in training mode only', () => {
    withBackend(be, () =>
      tidy(() => {
        seed(11);
        const enc = new TransformerEncoder(8, 2, 2, { dimFeedforward: 16, dropout: 0.3 });
        const x = tensor(randomArray(2 * 5 * 8, 12), [2, 5, 8]);
        const t1 = values(enc.forward(x)), t2 = values(enc.forward(x));
        expect(t1).not.toEqual(t2);
        enc.eval();
        expect(values(enc.forward(x))).toEqual(values(enc.forward(x)));
        enc.dispose();
      }),
    );
  });

  test('a tiny LM learns a periodic sequence', () => {
    withBackend(be, () => {
      seed(12);
      const lm = new TransformerLM({ vocabSize: 6, dModel: 16, numHeads: 2, numLayers: 1, maxLen: 16, dimFeedforward: 32, dropout: 0 });
      const opt = new Adam(lm.parameters(), { lr: 1e-2 });
      const seqs = [0, 1, 2, 3, 4, 5].map((s) => Array.from({ length: 13 }, (_, i) => (s + i) % 6));
      const x = ids(seqs.flatMap((r) => r.slice(0, 12)), [6, 12]);
      const y = ids(seqs.flatMap((r) => r.slice(1)), [72]);
      const losses: number[] = [];
      for (let step = 0; step < 60; step++) {
        tidy(() => {
          const loss = crossEntropy(reshape(lm.forward(x), [72, 6]), y);
          opt.zeroGrad();
          backward(loss);
          opt.step();
          losses.push(loss.item());
        });
      }
      expect(losses[0]).toBeGreaterThan(1.5);
      expect(losses[losses.length - 1]).toBeLessThan(0.1);
      const out = generate(lm, [[2, 3]], { maxNewTokens: 8, greedy: true });
      expect(Array.from(out.data())).toEqual([2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);
      out.dispose();
      x.dispose();
      y.dispose();
      opt.dispose();
      lm.dispose();
    });
  });

  test('bad input names the layer and the values; heap unchanged', () => {
    withBackend(be, () => {
      const enc = new TransformerEncoderLayer(8, 2, { dimFeedforward: 8 });
      const dec = new TransformerDecoderLayer(8, 2, { dimFeedforward: 8 });
      const lm = new TransformerLM({ vocabSize: 50, dModel: 8, numHeads: 2, numLayers: 1, maxLen: 6, dimFeedforward: 8 });
      const x = tensor(randomArray(2 * 3 * 6, 1), [2, 3, 6]);
      const x8 = tensor(randomArray(2 * 3 * 8, 1), [2, 3, 8]);
      const badMask = tensor(randomArray(4 * 4, 1), [4, 4]);
      const tooLong = ids(new Array(7).fill(1), [1, 7]);
      const outOfVocab = ids([1, 2, 3, 57], [1, 4]);
      const before = be.heap.liveBytes;
      expect(() => new TransformerEncoderLayer(30, 4)).toThrow('TransformerEncoderLayer: dModel 30 is not divisible by numHeads 4');
      expect(() => new TransformerEncoderLayer(8, 2, { activation: 'tanh' as 'relu' })).toThrow(ConfigError);
      expect(() => enc.forward(x)).toThrow('TransformerEncoderLayer: src must be [B, T, 8]; got [2,3,6]');
      expect(() => enc.forward(x8, { mask: badMask })).toThrow(
        'MultiHeadAttention: mask [4,4] does not broadcast to the attention scores [B, H, Tq, Tk] = [2,2,3,3]',
      );
      expect(() => dec.forward(x8)).toThrow('TransformerDecoderLayer: memory [B, S, 8] is required (the layer has cross-attention)');
      expect(() => lm.forward(outOfVocab)).toThrow('TransformerLM: token id 57 at position [0,3] is out of range for a vocabulary of 50');
      expect(() => lm.forward(tooLong)).toThrow('TransformerLM: sequence length 7 is longer than the positional table (maxLen 6)');
      expect(() => lm.forward(tooLong)).toThrow(ValueError);
      expect(be.heap.liveBytes).toBe(before);
      for (const t of [x, x8, badMask, tooLong, outOfVocab]) t.dispose();
      for (const m of [enc, dec, lm]) m.dispose();
    });
  });
});

test('backends agree on an encoder layer forward and backward (1e-4 relative)', () => {
  const run = (be: (typeof BACKENDS)[number]) =>
    withBackend(be, () =>
      tidy(() => {
        const l = new TransformerEncoderLayer(64, 4, { dimFeedforward: 128, dropout: 0.1, normFirst: true, seed: 13 });
        seed(14); // the dropout masks come from the global generator: same seed, same masks
        const x = tensor(randomArray(4 * 32 * 64, 15), [4, 32, 64], { requiresGrad: true });
        const y = l.forward(x);
        backward(y, tensor(randomArray(4 * 32 * 64, 16), [4, 32, 64]));
        const r = [values(y), values(x.grad!), ...l.parameters().map((p) => values(p.grad!))];
        l.dispose();
        return r;
      }),
    );
  const r = BACKENDS.map(run);
  for (const x of r.slice(1)) x.forEach((a, i) => expectClose(a, r[0][i], 1e-4));
});
