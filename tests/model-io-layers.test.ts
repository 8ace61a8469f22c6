/**
 * saveModel → loadModel for every registered layer type and a few composed
 * models, on every backend: the description reads back the whole constructor
 * configuration, weights and buffers come back bit for bit, outputs are
 * bit-identical, and saving the loaded model gives the same bytes.
 *
 * Completeness: every registered type has a case here, and every Module
 * class exported from src/index.ts is registered — a new layer cannot
 * silently miss saving.
 */
import { describe, expect, test } from 'vitest';
import * as wg from '../src/index.js';
import {
  AvgPool2d, BatchNorm1d, BatchNorm2d, Conv1d, Conv2d, describeModule, Dropout, Embedding, Flatten, GELU, GlobalAvgPool2d,
  Identity, LayerNorm, LeakyReLU, LearnedPositionalEmbedding, Linear, loadModel, loadTensors, LogSoftmax, MaxPool2d, Module,
  MultiHeadAttention, ReLU, registeredModules, RMSNorm, saveModel, seed, Seq2SeqTransformer, Sequential, Sigmoid, SiLU,
  SinusoidalPositionalEncoding, Softmax, Tanh, tensor, tidy, Transformer, TransformerDecoder, TransformerDecoderLayer,
  TransformerEncoder, TransformerEncoderLayer, TransformerLM, type Tensor,
  RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell,
} from '../src/index.js';
import { registeredName } from '../src/nn/registry.js';
import { EACH_BACKEND, randomArray, withBackend } from './helpers.js';

interface Case {
  name: string;
  make: () => Module;
  /** The forward call on fresh inputs (created inside a tidy). */
  run: (m: Module) => Tensor;
}

const f32 = (shape: number[], s: number) => tensor(randomArray(shape.reduce((a, b) => a * b, 1), s), shape);
const ids = (shape: number[], vocab: number, s: number) =>
  tensor(Int32Array.from(randomArray(shape.reduce((a, b) => a * b, 1), s), (v) => Math.floor((v + 1) / 2 * vocab) % vocab), shape, { dtype: 'int32' });
const call1 = (shape: number[]) => (m: Module) => m.forward(f32(shape, 11));
// Modules whose forward takes more than one tensor (or options) are called through this view.
type Multi = { forward(...a: Tensor[]): Tensor };

const encLayerOptions = { dimFeedforward: 12, dropout: 0.2, activation: 'geluTanh' as const, normFirst: true, layerNormEps: 1e-4, bias: false };

const CASES: Case[] = [
  { name: 'Linear', make: () => new Linear(5, 3, { bias: false }), run: call1([2, 5]) },
  { name: 'Sequential', make: () => new Sequential(new Linear(4, 6), new ReLU(), new Linear(6, 2)), run: call1([3, 4]) },
  { name: 'Dropout', make: () => new Dropout(0.3), run: call1([2, 5]) },
  { name: 'ReLU', make: () => new ReLU(), run: call1([2, 5]) },
  { name: 'LeakyReLU', make: () => new LeakyReLU(0.2), run: call1([2, 5]) },
  { name: 'Sigmoid', make: () => new Sigmoid(), run: call1([2, 5]) },
  { name: 'Tanh', make: () => new Tanh(), run: call1([2, 5]) },
  { name: 'GELU', make: () => new GELU('tanh'), run: call1([2, 5]) },
  { name: 'SiLU', make: () => new SiLU(), run: call1([2, 5]) },
  { name: 'Softmax', make: () => new Softmax(0), run: call1([3, 4]) },
  { name: 'LogSoftmax', make: () => new LogSoftmax(1), run: call1([3, 4]) },
  { name: 'Flatten', make: () => new Flatten(1, 2), run: call1([2, 3, 4, 2]) },
  { name: 'Identity', make: () => new Identity(), run: call1([2, 3]) },
  {
    name: 'Conv2d',
    make: () => new Conv2d(3, 4, [3, 2], { stride: [2, 1], padding: 'same', dilation: [1, 2], bias: false }),
    run: call1([2, 7, 6, 3]),
  },
  { name: 'Conv1d', make: () => new Conv1d(3, 5, 3, { stride: 2, padding: 1, dilation: 2 }), run: call1([2, 9, 3]) },
  { name: 'MaxPool2d', make: () => new MaxPool2d(3, { stride: 2, padding: 1 }), run: call1([2, 7, 7, 3]) },
  {
    name: 'AvgPool2d',
    make: () => new AvgPool2d([2, 3], { stride: [2, 1], padding: [1, 1], countIncludePad: false }),
    run: call1([2, 6, 7, 3]),
  },
  { name: 'GlobalAvgPool2d', make: () => new GlobalAvgPool2d(true), run: call1([2, 4, 5, 3]) },
  { name: 'BatchNorm2d', make: () => new BatchNorm2d(3, { eps: 1e-3, momentum: 0.2 }), run: call1([2, 4, 4, 3]) },
  { name: 'BatchNorm1d', make: () => new BatchNorm1d(4, { affine: false, eps: 1e-4 }), run: call1([5, 4]) },
  { name: 'BatchNorm1d (no running stats)', make: () => new BatchNorm1d(4, { trackRunningStats: false }), run: call1([2, 3, 4]) },
  { name: 'LayerNorm', make: () => new LayerNorm([3, 4], { eps: 1e-3, bias: false }), run: call1([2, 3, 4]) },
  { name: 'LayerNorm (no affine)', make: () => new LayerNorm(4, { elementwiseAffine: false }), run: call1([2, 4]) },
  { name: 'RMSNorm', make: () => new RMSNorm(4, { eps: 1e-5 }), run: call1([3, 4]) },
  { name: 'Embedding', make: () => new Embedding(10, 4), run: (m) => m.forward(ids([2, 5], 10, 3)) },
  { name: 'SinusoidalPositionalEncoding', make: () => new SinusoidalPositionalEncoding(6, 20), run: call1([2, 7, 6]) },
  { name: 'LearnedPositionalEmbedding', make: () => new LearnedPositionalEmbedding(12, 6), run: call1([2, 7, 6]) },
  {
    name: 'MultiHeadAttention',
    make: () => new MultiHeadAttention(8, 2, { kdim: 6, vdim: 5, bias: false, dropout: 0.1 }),
    run: (m) => (m as unknown as Multi).forward(f32([2, 3, 8], 1), f32([2, 4, 6], 2), f32([2, 4, 5], 3)),
  },
  { name: 'MultiHeadAttention (self)', make: () => new MultiHeadAttention(8, 4), run: call1([2, 5, 8]) },
  {
    name: 'RNN',
    make: () => new RNN(3, 4, { numLayers: 2, nonlinearity: 'relu', bidirectional: true, returnSequences: false }),
    run: call1([2, 5, 3]),
  },
  { name: 'LSTM', make: () => new LSTM(3, 4, { numLayers: 2, dropout: 0.25, batchFirst: false, truncate: 2 }), run: call1([5, 2, 3]) },
  { name: 'GRU', make: () => new GRU(3, 4, { bias: false, bidirectional: true }), run: call1([2, 5, 3]) },
  { name: 'RNNCell', make: () => new RNNCell(3, 4, { nonlinearity: 'relu' }), run: call1([2, 3]) },
  { name: 'LSTMCell', make: () => new LSTMCell(3, 4), run: call1([2, 3]) },
  { name: 'GRUCell', make: () => new GRUCell(3, 4, { bias: false }), run: call1([2, 3]) },
  { name: 'TransformerEncoderLayer', make: () => new TransformerEncoderLayer(8, 2, encLayerOptions), run: call1([2, 5, 8]) },
  {
    name: 'TransformerDecoderLayer',
    make: () => new TransformerDecoderLayer(8, 2, { dimFeedforward: 12, activation: 'silu', layerNormEps: 1e-3 }),
    run: (m) => (m as unknown as Multi).forward(f32([2, 4, 8], 1), f32([2, 6, 8], 2)),
  },
  {
    name: 'TransformerDecoderLayer (no cross-attention)',
    make: () => new TransformerDecoderLayer(8, 2, { dimFeedforward: 12, crossAttention: false, normFirst: true, activation: 'gelu' }),
    run: call1([2, 4, 8]),
  },
  { name: 'TransformerEncoder', make: () => new TransformerEncoder(8, 2, 2, { dimFeedforward: 12, finalNorm: true }), run: call1([2, 5, 8]) },
  {
    name: 'TransformerEncoder (mixed layers)',
    make: () => {
      const e = new TransformerEncoder(8, 2, 3, { dimFeedforward: 12 });
      e.layers[1].dispose();
      e.layers[1] = new TransformerEncoderLayer(8, 4, { dimFeedforward: 20, activation: 'gelu', normFirst: true });
      return e;
    },
    run: call1([2, 5, 8]),
  },
  {
    name: 'TransformerDecoder',
    make: () => new TransformerDecoder(8, 2, 2, { dimFeedforward: 12, normFirst: true }),
    run: (m) => (m as unknown as Multi).forward(f32([2, 4, 8], 1), f32([2, 6, 8], 2)),
  },
  {
    name: 'Transformer',
    make: () => new Transformer({ dModel: 8, numHeads: 2, numEncoderLayers: 1, numDecoderLayers: 2, dimFeedforward: 12 }),
    run: (m) => (m as unknown as Multi).forward(f32([2, 5, 8], 1), f32([2, 4, 8], 2)),
  },
  {
    name: 'TransformerLM',
    make: () => new TransformerLM({ vocabSize: 11, dModel: 8, numHeads: 2, numLayers: 2, maxLen: 10, positional: 'sinusoidal', activation: 'gelu' }),
    run: (m) => m.forward(ids([2, 6], 11, 4)),
  },
  {
    name: 'Seq2SeqTransformer',
    make: () => new Seq2SeqTransformer({
      srcVocabSize: 9, tgtVocabSize: 7, dModel: 8, numHeads: 2, numEncoderLayers: 1, numDecoderLayers: 2, maxLen: 10,
      normFirst: true, dropout: 0.05,
    }),
    run: (m) => (m as unknown as Multi).forward(ids([2, 5], 9, 5), ids([2, 4], 7, 6)),
  },
  // Composed models.
  {
    name: 'CNN',
    make: () => new Sequential(
      new Conv2d(1, 4, 3, { padding: 1 }), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2),
      new Conv2d(4, 6, 3, { padding: 'same', stride: 2 }), new ReLU(), new AvgPool2d(2), new Flatten(), new Linear(6, 3),
    ),
    run: call1([2, 8, 8, 1]),
  },
  {
    name: 'transformer encoder classifier',
    make: () => new Sequential(
      new Embedding(20, 8), new LearnedPositionalEmbedding(6, 8),
      new TransformerEncoder(8, 2, 2, { dimFeedforward: 16, normFirst: true }), new Flatten(), new Linear(48, 3),
    ),
    run: (m) => m.forward(ids([3, 6], 20, 7)),
  },
  {
    name: 'TransformerLM (learned positions, post-norm)',
    make: () => new TransformerLM({ vocabSize: 13, dModel: 8, numHeads: 2, numLayers: 1, maxLen: 8, normFirst: false, dimFeedforward: 16 }),
    run: (m) => m.forward(ids([2, 8], 13, 8)),
  },
];

function bits(t: Tensor): number[] {
  return Array.from(new Uint32Array((t.data() as Float32Array).buffer));
}

/** Overwrites every parameter and buffer with random values (variances positive), so nothing equals its initial value. */
function randomize(m: Module, s: number): void {
  [...m.namedParameters(), ...m.namedBuffers()].forEach(([name, t], i) => {
    const v = randomArray(t.size, s * 100 + i);
    if (name.endsWith('runningVar')) for (let j = 0; j < v.length; j++) v[j] = Math.abs(v[j]) + 0.25;
    t.backend.heap.f32.set(v, t.ptr >>> 2);
  });
}

function tensorsOf(m: Module): [string, Tensor][] {
  return [...m.namedParameters(), ...m.namedBuffers()];
}

describe.each(EACH_BACKEND)('every layer type saves and loads on %s', (_name, be) => {
  test.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', (_n, c, i) => {
    withBackend(be, () => {
      seed(100 + i);
      const model = c.make();
      randomize(model, i + 1);
      const bytes = saveModel(model);
      const copy = loadModel(bytes);
      expect(copy.constructor).toBe(model.constructor);
      // The description reads back the whole configuration, and is what the file holds.
      expect(describeModule(copy)).toEqual(describeModule(model));
      expect(JSON.parse(loadTensors(bytes).metadata.model)).toEqual(describeModule(model));
      const a = tensorsOf(model), b = tensorsOf(copy);
      expect(b.map(([n, t]) => [n, t.shape])).toEqual(a.map(([n, t]) => [n, t.shape]));
      a.forEach(([n, t], j) => expect(bits(b[j][1]), n).toEqual(bits(t)));
      model.eval();
      copy.eval();
      tidy(() => {
        seed(7);
        const y1 = c.run(model);
        seed(7);
        const y2 = c.run(copy);
        expect(y2.shape).toEqual(y1.shape);
        expect(bits(y2)).toEqual(bits(y1));
      });
      expect(Array.from(saveModel(copy))).toEqual(Array.from(bytes));
      model.dispose();
      copy.dispose();
    });
  });
});

describe('registry coverage', () => {
  test('every registered layer type has a round-trip case above', () => {
    const covered = new Set<string>();
    const visit = (spec: { type: string; config: Record<string, unknown> }) => {
      covered.add(spec.type);
      for (const v of Object.values(spec.config)) {
        const children = Array.isArray(v) ? v : [v];
        for (const ch of children) if (ch && typeof ch === 'object' && typeof (ch as { type?: unknown }).type === 'string') visit(ch as never);
      }
    };
    for (const c of CASES) {
      const m = c.make();
      visit(describeModule(m));
      // A layer that is a direct case, not only a child of one.
      m.dispose();
    }
    const direct = new Set(CASES.map((c) => { const m = c.make(); const t = describeModule(m).type; m.dispose(); return t; }));
    expect(registeredModules().filter((n) => !direct.has(n))).toEqual([]);
    expect(registeredModules().filter((n) => !covered.has(n))).toEqual([]);
  });

  test('every Module class exported from src/index.ts is registered', () => {
    const classes = Object.entries(wg).filter(
      ([, v]) => typeof v === 'function' && v.prototype instanceof Module,
    ) as [string, abstract new (...args: never[]) => Module][];
    expect(classes.length).toBeGreaterThan(30);
    const missing = classes.filter(([, ctor]) => registeredName(ctor) === undefined).map(([n]) => n);
    expect(missing, `not registered with registerModule (src/nn/builtin.ts): ${missing.join(', ')}`).toEqual([]);
    // Registered under their own names.
    for (const [n, ctor] of classes) expect(registeredName(ctor)).toBe(n);
  });
});
