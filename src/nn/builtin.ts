/**
 * Registers every built-in layer with the module registry (registry.ts), so
 * a saved model can be rebuilt. `describeModule`/`buildModule` call
 * `registerBuiltins()` first: an explicit call (not an import for its side
 * effects) keeps the registrations with the code that needs them, whatever a
 * bundler drops.
 *
 * Each codec reads back every constructor option that changes the
 * architecture or the numerics (sizes, strides, paddings, eps, momentum,
 * affine, heads, kdim/vdim, activation, normFirst, …). Options that only
 * change the *initial* values (seed, weightInit, init, std) are not kept:
 * loading overwrites the weights anyway.
 *
 * Containers describe their children: Sequential's config lists its layers'
 * specs, TransformerEncoder/TransformerDecoder list their layers' (and final
 * norm's) specs, Transformer holds its encoder's and decoder's specs. The
 * token models (TransformerLM, Seq2SeqTransformer) are described by their
 * constructor options, which determine every child.
 *
 * Invariant (tests/model-io.test.ts): describeModule(buildModule(spec))
 * deep-equals spec for every spec describeModule produced.
 */

import { ConfigError } from '../errors.js';
import type { Padding, Pair } from '../ops/conv.js';
import {
  Flatten, GELU, Identity, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Tanh,
} from './activations.js';
import { MultiHeadAttention } from './attention.js';
import { BatchNorm1d, BatchNorm2d } from './batchnorm.js';
import { Conv1d, Conv2d } from './conv.js';
import { Dropout } from './dropout.js';
import { Embedding, LearnedPositionalEmbedding, SinusoidalPositionalEncoding } from './embedding.js';
import { LayerNorm, RMSNorm } from './layernorm.js';
import { Linear } from './linear.js';
import { GRU, GRUCell, LSTM, LSTMCell, RNN, RNNCell, type RecurrentBase, type CellBase } from './rnn.js';
import type { Module } from './module.js';
import { AvgPool2d, GlobalAvgPool2d, MaxPool2d } from './pool.js';
import { buildModule, describeModule, registerModule, type ModuleSpec } from './registry.js';
import { Sequential } from './sequential.js';
import {
  Seq2SeqTransformer, Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer,
  TransformerLM, type TransformerActivation, type TransformerLayerOptions,
} from './transformer.js';

let registered = false;

/** Registers the built-in layers once. */
export function registerBuiltins(): void {
  if (registered) return;
  registered = true;
  registerAll();
}

type Config = Record<string, unknown>;

const num = (c: Config, k: string, dflt?: number): number => {
  const v = c[k] ?? dflt;
  if (typeof v !== 'number') throw new ConfigError(`config.${k} must be a number; got ${JSON.stringify(v)}`);
  return v;
};

const bool = (c: Config, k: string, dflt: boolean): boolean => {
  const v = c[k] ?? dflt;
  if (typeof v !== 'boolean') throw new ConfigError(`config.${k} must be true or false; got ${JSON.stringify(v)}`);
  return v;
};

const str = <T extends string>(c: Config, k: string, valid: readonly T[], dflt: T): T => {
  const v = c[k] ?? dflt;
  if (typeof v !== 'string' || !valid.includes(v as T)) {
    throw new ConfigError(`config.${k} must be one of ${valid.map((x) => `'${x}'`).join(', ')}; got ${JSON.stringify(v)}`);
  }
  return v as T;
};

const isPair = (v: unknown): v is [number, number] =>
  Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'number';

/** A number or [h, w] (copied: configs are plain JSON). */
const pair = (c: Config, k: string, dflt?: Pair): Pair => {
  const v = c[k] ?? dflt;
  if (typeof v === 'number') return v;
  if (isPair(v)) return [v[0], v[1]];
  throw new ConfigError(`config.${k} must be a number or [h, w]; got ${JSON.stringify(v)}`);
};

/** A number, [pH, pW], 'same' or 'valid'. */
const padding = (c: Config, k: string, dflt: Padding = 0): Padding => {
  const v = c[k] ?? dflt;
  if (v === 'same' || v === 'valid' || typeof v === 'number') return v;
  if (isPair(v)) return [v[0], v[1]];
  throw new ConfigError(`config.${k} must be a number, [pH, pW], 'same' or 'valid'; got ${JSON.stringify(v)}`);
};

const copyPadding = (p: Padding): Padding => (typeof p === 'object' ? [p[0], p[1]] : p);
const copyPair = (p: Pair): Pair => (typeof p === 'object' ? [p[0], p[1]] : p);

const spec = (c: Config, k: string): ModuleSpec => {
  const v = c[k];
  if (v === null || typeof v !== 'object' || typeof (v as ModuleSpec).type !== 'string') {
    throw new ConfigError(`config.${k} must be a module spec { type, config }; got ${JSON.stringify(v)?.slice(0, 80)}`);
  }
  return v as ModuleSpec;
};

const specs = (c: Config, k: string): ModuleSpec[] => {
  const v = c[k];
  if (!Array.isArray(v)) throw new ConfigError(`config.${k} must be an array of module specs; got ${JSON.stringify(v)?.slice(0, 80)}`);
  return v.map((_, i) => spec(v as unknown as Config, String(i)));
};

/** Pool options with only the keys that were given (so the description equals the constructor call). */
function poolOptions(options: object): Config {
  const o = options as { stride?: Pair; padding?: Padding; countIncludePad?: boolean };
  const out: Config = {};
  if (o.stride !== undefined) out.stride = copyPair(o.stride);
  if (o.padding !== undefined) out.padding = copyPadding(o.padding);
  if (o.countIncludePad !== undefined) out.countIncludePad = o.countIncludePad;
  return out;
}

function readPoolOptions(c: Config, avg: boolean): { stride?: Pair; padding?: Padding; countIncludePad?: boolean } {
  const o: { stride?: Pair; padding?: Padding; countIncludePad?: boolean } = {};
  if (c.stride !== undefined) o.stride = pair(c, 'stride');
  if (c.padding !== undefined) o.padding = padding(c, 'padding');
  if (avg && c.countIncludePad !== undefined) o.countIncludePad = bool(c, 'countIncludePad', true);
  return o;
}

// ─── transformer helpers ────────────────────────────────────────────────────

const ACTIVATIONS: readonly TransformerActivation[] = ['relu', 'gelu', 'geluTanh', 'silu'];

type LayerLike = TransformerEncoderLayer | TransformerDecoderLayer;

/** The per-layer constructor options of a transformer layer, read back from its sublayers. */
function layerOptions(l: LayerLike): Required<Omit<TransformerLayerOptions, 'seed'>> {
  return {
    dimFeedforward: l.linear1.outFeatures,
    dropout: l.dropout.p,
    activation: l.activation,
    normFirst: l.normFirst,
    layerNormEps: l.norm1.eps,
    bias: l.linear1.bias !== undefined,
  };
}

function readLayerOptions(c: Config): Required<Omit<TransformerLayerOptions, 'seed'>> {
  return {
    dimFeedforward: num(c, 'dimFeedforward', 2048),
    dropout: num(c, 'dropout', 0.1),
    activation: str(c, 'activation', ACTIVATIONS, 'relu'),
    normFirst: bool(c, 'normFirst', false),
    layerNormEps: num(c, 'layerNormEps', 1e-5),
    bias: bool(c, 'bias', true),
  };
}

const sameSpec = (a: ModuleSpec, b: ModuleSpec): boolean => JSON.stringify(a) === JSON.stringify(b);

/** `built` if it already matches `s`, else (disposing it) a module built from `s`. */
function reconcile<M extends Module>(built: M, s: ModuleSpec): M {
  if (sameSpec(describeModule(built), s)) return built;
  built.dispose();
  return buildModule(s) as M;
}

/** A stack's layers and final norm made to match their specs (a stack built from layer 0's options is usually right already). */
function reconcileStack(
  m: { layers: Module[]; norm: LayerNorm | undefined }, layerSpecs: ModuleSpec[], normSpec: ModuleSpec | null,
): void {
  m.layers.forEach((l, i) => (m.layers[i] = reconcile(l, layerSpecs[i])));
  const w = m as { norm: LayerNorm | undefined };
  if (normSpec === null) {
    w.norm?.dispose();
    w.norm = undefined;
  } else {
    w.norm = w.norm ? reconcile(w.norm, normSpec) : (buildModule(normSpec) as LayerNorm);
  }
}

/** The stack's constructor arguments from its first layer's spec. */
function stackArgs(where: string, layerSpecs: ModuleSpec[]): { dModel: number; numHeads: number; options: Config } {
  if (layerSpecs.length === 0) throw new ConfigError(`${where}: config.layers must hold at least one layer spec`);
  const first = layerSpecs[0].config ?? {};
  const { dModel, numHeads, ...options } = first;
  return { dModel: num({ dModel }, 'dModel'), numHeads: num({ numHeads }, 'numHeads'), options: { ...readLayerOptions(options), ...crossOf(options) } };
}

const crossOf = (c: Config): Config => (c.crossAttention === undefined ? {} : { crossAttention: bool(c, 'crossAttention', true) });

// ─── registrations ──────────────────────────────────────────────────────────

function registerAll(): void {
  registerModule('Linear', Linear, {
    config: (m) => ({ inFeatures: m.inFeatures, outFeatures: m.outFeatures, bias: m.bias !== undefined }),
    build: (c) => new Linear(num(c, 'inFeatures'), num(c, 'outFeatures'), { bias: c.bias !== false }),
  });
  registerModule('Sequential', Sequential, {
    config: (m) => ({ layers: m.layers.map(describeModule) }),
    build: (c) => new Sequential(...((c.layers as ModuleSpec[]) ?? []).map(buildModule)),
  });
  registerModule('Dropout', Dropout, { config: (m) => ({ p: m.p }), build: (c) => new Dropout(num(c, 'p', 0.5)) });
  registerModule('ReLU', ReLU, { config: () => ({}), build: () => new ReLU() });
  registerModule('LeakyReLU', LeakyReLU, {
    config: (m) => ({ negativeSlope: m.negativeSlope }),
    build: (c) => new LeakyReLU(num(c, 'negativeSlope', 0.01)),
  });
  registerModule('Sigmoid', Sigmoid, { config: () => ({}), build: () => new Sigmoid() });
  registerModule('Tanh', Tanh, { config: () => ({}), build: () => new Tanh() });
  registerModule('GELU', GELU, {
    config: (m) => ({ approximate: m.approximate }),
    build: (c) => new GELU(c.approximate === 'tanh' ? 'tanh' : 'none'),
  });
  registerModule('SiLU', SiLU, { config: () => ({}), build: () => new SiLU() });
  registerModule('Softmax', Softmax, { config: (m) => ({ axis: m.axis }), build: (c) => new Softmax(num(c, 'axis', -1)) });
  registerModule('LogSoftmax', LogSoftmax, { config: (m) => ({ axis: m.axis }), build: (c) => new LogSoftmax(num(c, 'axis', -1)) });
  registerModule('Flatten', Flatten, {
    config: (m) => ({ startDim: m.startDim, endDim: m.endDim }),
    build: (c) => new Flatten(num(c, 'startDim', 1), num(c, 'endDim', -1)),
  });
  registerModule('Identity', Identity, { config: () => ({}), build: () => new Identity() });

  // Convolutions and pooling (NHWC).
  registerModule('Conv2d', Conv2d, {
    config: (m) => ({
      inChannels: m.inChannels, outChannels: m.outChannels, kernelSize: [...m.kernelSize],
      stride: [...m.stride], padding: copyPadding(m.padding), dilation: [...m.dilation], bias: m.bias !== undefined,
    }),
    build: (c) => new Conv2d(num(c, 'inChannels'), num(c, 'outChannels'), pair(c, 'kernelSize'), {
      stride: pair(c, 'stride', 1), padding: padding(c, 'padding'), dilation: pair(c, 'dilation', 1), bias: bool(c, 'bias', true),
    }),
  });
  registerModule('Conv1d', Conv1d, {
    config: (m) => ({
      inChannels: m.inChannels, outChannels: m.outChannels, kernelSize: m.kernelSize,
      stride: m.stride, padding: m.padding, dilation: m.dilation, bias: m.bias !== undefined,
    }),
    build: (c) => {
      const p = c.padding ?? 0;
      if (p !== 'same' && p !== 'valid' && typeof p !== 'number') {
        throw new ConfigError(`config.padding must be a number, 'same' or 'valid'; got ${JSON.stringify(p)}`);
      }
      return new Conv1d(num(c, 'inChannels'), num(c, 'outChannels'), num(c, 'kernelSize'), {
        stride: num(c, 'stride', 1), padding: p, dilation: num(c, 'dilation', 1), bias: bool(c, 'bias', true),
      });
    },
  });
  registerModule('MaxPool2d', MaxPool2d, {
    config: (m) => ({ kernelSize: [...m.kernelSize], ...poolOptions(m.options) }),
    build: (c) => new MaxPool2d(pair(c, 'kernelSize'), readPoolOptions(c, false)),
  });
  registerModule('AvgPool2d', AvgPool2d, {
    config: (m) => ({ kernelSize: [...m.kernelSize], ...poolOptions(m.options) }),
    build: (c) => new AvgPool2d(pair(c, 'kernelSize'), readPoolOptions(c, true)),
  });
  registerModule('GlobalAvgPool2d', GlobalAvgPool2d, {
    config: (m) => ({ keepDims: m.keepDims }),
    build: (c) => new GlobalAvgPool2d(bool(c, 'keepDims', false)),
  });

  // Normalisation.
  const bn = (m: BatchNorm1d | BatchNorm2d) => ({
    numFeatures: m.numFeatures, eps: m.eps, momentum: m.momentum,
    affine: m.weight !== undefined, trackRunningStats: m.runningMean !== undefined,
  });
  const bnOptions = (c: Config) => ({
    eps: num(c, 'eps', 1e-5), momentum: num(c, 'momentum', 0.1),
    affine: bool(c, 'affine', true), trackRunningStats: bool(c, 'trackRunningStats', true),
  });
  registerModule('BatchNorm2d', BatchNorm2d, { config: bn, build: (c) => new BatchNorm2d(num(c, 'numFeatures'), bnOptions(c)) });
  registerModule('BatchNorm1d', BatchNorm1d, { config: bn, build: (c) => new BatchNorm1d(num(c, 'numFeatures'), bnOptions(c)) });
  registerModule('LayerNorm', LayerNorm, {
    config: (m) => ({
      normalizedShape: [...m.normalizedShape], eps: m.eps,
      elementwiseAffine: m.weight !== undefined, bias: m.weight === undefined || m.bias !== undefined,
    }),
    build: (c) => new LayerNorm(shapeOf(c), {
      eps: num(c, 'eps', 1e-5), elementwiseAffine: bool(c, 'elementwiseAffine', true), bias: bool(c, 'bias', true),
    }),
  });
  registerModule('RMSNorm', RMSNorm, {
    config: (m) => ({ normalizedShape: [...m.normalizedShape], eps: m.eps, elementwiseAffine: m.weight !== undefined }),
    build: (c) => new RMSNorm(shapeOf(c), { eps: num(c, 'eps', 1e-6), elementwiseAffine: bool(c, 'elementwiseAffine', true) }),
  });

  // Embeddings and positions.
  registerModule('Embedding', Embedding, {
    config: (m) => ({ numEmbeddings: m.numEmbeddings, embeddingDim: m.embeddingDim }),
    build: (c) => new Embedding(num(c, 'numEmbeddings'), num(c, 'embeddingDim')),
  });
  registerModule('SinusoidalPositionalEncoding', SinusoidalPositionalEncoding, {
    config: (m) => ({ dModel: m.dModel, maxLen: m.maxLen }),
    build: (c) => new SinusoidalPositionalEncoding(num(c, 'dModel'), num(c, 'maxLen', 5000)),
  });
  registerModule('LearnedPositionalEmbedding', LearnedPositionalEmbedding, {
    config: (m) => ({ maxLen: m.maxLen, dModel: m.dModel }),
    build: (c) => new LearnedPositionalEmbedding(num(c, 'maxLen'), num(c, 'dModel')),
  });

  // Attention and transformers.
  registerModule('MultiHeadAttention', MultiHeadAttention, {
    config: (m) => ({
      dModel: m.dModel, numHeads: m.numHeads, bias: m.bq !== undefined, dropout: m.dropout, kdim: m.kdim, vdim: m.vdim,
    }),
    build: (c) => {
      const dModel = num(c, 'dModel');
      return new MultiHeadAttention(dModel, num(c, 'numHeads'), {
        bias: bool(c, 'bias', true), dropout: num(c, 'dropout', 0), kdim: num(c, 'kdim', dModel), vdim: num(c, 'vdim', dModel),
      });
    },
  });
  registerModule('TransformerEncoderLayer', TransformerEncoderLayer, {
    config: (m) => ({ dModel: m.dModel, numHeads: m.numHeads, ...layerOptions(m) }),
    build: (c) => new TransformerEncoderLayer(num(c, 'dModel'), num(c, 'numHeads'), readLayerOptions(c)),
  });
  registerModule('TransformerDecoderLayer', TransformerDecoderLayer, {
    config: (m) => ({ dModel: m.dModel, numHeads: m.numHeads, ...layerOptions(m), crossAttention: m.crossAttn !== undefined }),
    build: (c) => new TransformerDecoderLayer(num(c, 'dModel'), num(c, 'numHeads'), {
      ...readLayerOptions(c), crossAttention: bool(c, 'crossAttention', true),
    }),
  });
  const stackConfig = (m: TransformerEncoder | TransformerDecoder) => ({
    layers: m.layers.map(describeModule),
    norm: m.norm ? describeModule(m.norm) : null,
  });
  registerModule('TransformerEncoder', TransformerEncoder, {
    config: stackConfig,
    build: (c) => {
      const layers = specs(c, 'layers');
      const norm = c.norm === null || c.norm === undefined ? null : spec(c, 'norm');
      const { dModel, numHeads, options } = stackArgs('TransformerEncoder', layers);
      const m = new TransformerEncoder(dModel, numHeads, layers.length, { ...options, finalNorm: norm !== null });
      reconcileStack(m, layers, norm);
      return m;
    },
  });
  registerModule('TransformerDecoder', TransformerDecoder, {
    config: stackConfig,
    build: (c) => {
      const layers = specs(c, 'layers');
      const norm = c.norm === null || c.norm === undefined ? null : spec(c, 'norm');
      const { dModel, numHeads, options } = stackArgs('TransformerDecoder', layers);
      const m = new TransformerDecoder(dModel, numHeads, layers.length, { ...options, finalNorm: norm !== null });
      reconcileStack(m, layers, norm);
      return m;
    },
  });
  registerModule('Transformer', Transformer, {
    config: (m) => ({ encoder: describeModule(m.encoder), decoder: describeModule(m.decoder) }),
    build: (c) => {
      const enc = spec(c, 'encoder'), dec = spec(c, 'decoder');
      const encLayers = specs(enc.config ?? {}, 'layers');
      const decLayers = specs(dec.config ?? {}, 'layers');
      const { dModel, numHeads, options } = stackArgs('Transformer', encLayers);
      const m = new Transformer({ dModel, numHeads, numEncoderLayers: encLayers.length, numDecoderLayers: decLayers.length, ...options });
      const w = m as { encoder: TransformerEncoder; decoder: TransformerDecoder };
      w.encoder = reconcile(m.encoder, enc);
      w.decoder = reconcile(m.decoder, dec);
      return m;
    },
  });
  registerModule('TransformerLM', TransformerLM, {
    config: (m) => ({
      vocabSize: m.vocabSize, dModel: m.dModel, numHeads: m.layers[0].numHeads, numLayers: m.layers.length, maxLen: m.maxLen,
      positional: m.positional instanceof SinusoidalPositionalEncoding ? 'sinusoidal' : 'learned', ...layerOptions(m.layers[0]),
    }),
    build: (c) => new TransformerLM({
      vocabSize: num(c, 'vocabSize'), dModel: num(c, 'dModel'), numHeads: num(c, 'numHeads'), numLayers: num(c, 'numLayers'),
      maxLen: num(c, 'maxLen'), positional: str(c, 'positional', ['learned', 'sinusoidal'] as const, 'learned'),
      ...readLayerOptions({ normFirst: true, ...c }),
    }),
  });
  registerModule('Seq2SeqTransformer', Seq2SeqTransformer, {
    config: (m) => ({
      srcVocabSize: m.srcVocabSize, tgtVocabSize: m.vocabSize, dModel: m.dModel, numHeads: m.transformer.encoder.numHeads,
      numEncoderLayers: m.transformer.encoder.layers.length, numDecoderLayers: m.transformer.decoder.layers.length,
      maxLen: m.maxLen, ...layerOptions(m.transformer.encoder.layers[0]),
    }),
    build: (c) => new Seq2SeqTransformer({
      srcVocabSize: num(c, 'srcVocabSize'), tgtVocabSize: num(c, 'tgtVocabSize'), dModel: num(c, 'dModel'),
      numHeads: num(c, 'numHeads'), numEncoderLayers: num(c, 'numEncoderLayers'), numDecoderLayers: num(c, 'numDecoderLayers'),
      maxLen: num(c, 'maxLen'), ...readLayerOptions(c),
    }),
  });
  // Recurrent layers: the full configuration (numerics and architecture).
  const recurrent = (m: RecurrentBase) => ({
    inputSize: m.inputSize, hiddenSize: m.hiddenSize, numLayers: m.numLayers, bias: m.bias, batchFirst: m.batchFirst,
    dropout: m.dropout, bidirectional: m.bidirectional, returnSequences: m.returnSequences, truncate: m.truncate,
  });
  const recurrentOptions = (c: Record<string, unknown>) => ({
    numLayers: num(c, 'numLayers', 1), bias: c.bias !== false, batchFirst: c.batchFirst !== false, dropout: num(c, 'dropout', 0),
    bidirectional: c.bidirectional === true, returnSequences: c.returnSequences !== false, truncate: num(c, 'truncate', 0),
  });
  const nonlinearity = (c: Record<string, unknown>) => (c.nonlinearity === 'relu' ? 'relu' : 'tanh');
  registerModule('RNN', RNN, {
    config: (m) => ({ ...recurrent(m), nonlinearity: m.nonlinearity }),
    build: (c) => new RNN(num(c, 'inputSize'), num(c, 'hiddenSize'), { ...recurrentOptions(c), nonlinearity: nonlinearity(c) }),
  });
  registerModule('LSTM', LSTM, {
    config: recurrent,
    build: (c) => new LSTM(num(c, 'inputSize'), num(c, 'hiddenSize'), recurrentOptions(c)),
  });
  registerModule('GRU', GRU, {
    config: recurrent,
    build: (c) => new GRU(num(c, 'inputSize'), num(c, 'hiddenSize'), recurrentOptions(c)),
  });
  const cell = (m: CellBase) => ({ inputSize: m.inputSize, hiddenSize: m.hiddenSize, bias: m.bias_ih !== undefined });
  registerModule('RNNCell', RNNCell, {
    config: (m) => ({ ...cell(m), nonlinearity: m.nonlinearity }),
    build: (c) => new RNNCell(num(c, 'inputSize'), num(c, 'hiddenSize'), { bias: c.bias !== false, nonlinearity: nonlinearity(c) }),
  });
  registerModule('LSTMCell', LSTMCell, {
    config: cell,
    build: (c) => new LSTMCell(num(c, 'inputSize'), num(c, 'hiddenSize'), { bias: c.bias !== false }),
  });
  registerModule('GRUCell', GRUCell, {
    config: cell,
    build: (c) => new GRUCell(num(c, 'inputSize'), num(c, 'hiddenSize'), { bias: c.bias !== false }),
  });
}

function shapeOf(c: Config): number[] {
  const v = c.normalizedShape;
  if (typeof v === 'number') return [v];
  if (Array.isArray(v) && v.every((d) => typeof d === 'number')) return [...v] as number[];
  throw new ConfigError(`config.normalizedShape must be a number or an array of numbers; got ${JSON.stringify(v)}`);
}
