/**
 * Transformer layers and models (Vaswani et al. 2017; PyTorch's nn.Transformer*
 * names, in camelCase):
 *
 *   TransformerEncoderLayer   self-attention + feed-forward
 *   TransformerDecoderLayer   masked self-attention + cross-attention to the
 *                             encoder output + feed-forward (cross-attention
 *                             can be switched off: a GPT-style block)
 *   TransformerEncoder / TransformerDecoder   stacks, with an optional final LayerNorm
 *   Transformer               encoder–decoder on vectors [B, S, d] → [B, T, d]
 *   TransformerLM             decoder-only language model: token embedding +
 *                             positions → decoder blocks → LayerNorm → vocab logits
 *   Seq2SeqTransformer        token-to-token encoder–decoder (embeddings,
 *                             sinusoidal positions, Transformer, vocab logits)
 *
 * Each sublayer, with post-norm (the original, PyTorch's default) or pre-norm
 * (`normFirst: true`, GPT-2 style, easier to train deep):
 *
 *   post-norm:  x = norm(x + dropout(sublayer(x)))
 *   pre-norm:   x = x + dropout(sublayer(norm(x)))
 *   feed-forward(x) = linear2(dropout(activation(linear1(x))))    dModel → dimFeedforward → dModel
 *
 * Parameter names follow PyTorch: `selfAttn.wq`, `linear1.weight`,
 * `norm1.weight`, …; the decoder's cross-attention is `crossAttn` (PyTorch's
 * `multihead_attn`). All weights are [in, out] (see MultiHeadAttention for
 * the in_proj_weight mapping). Dropout is active in training mode only
 * (`model.eval()` turns it off); its masks come from the seeded generator.
 *
 * The decoder's self-attention is causal by default (`tgtIsCausal`), so
 * position t never sees tokens after t. Decoders take a KVCache for
 * incremental decoding (see generate.ts).
 */

import { noGrad } from '../autograd.js';
import { ConfigError, ShapeError, ValueError, fmtShape } from '../errors.js';
import { gelu, geluTanh, relu, silu } from '../ops/activations.js';
import { add, mul } from '../ops/arithmetic.js';
import { linearAdd, linearRelu } from '../ops/linear.js';
import { keep, type Tensor } from '../tensor.js';
import { AttentionCache, MultiHeadAttention, type MultiHeadAttentionCallOptions, type MultiHeadAttentionResult } from './attention.js';
import { Dropout } from './dropout.js';
import { checkTokenIds, Embedding, LearnedPositionalEmbedding, SinusoidalPositionalEncoding } from './embedding.js';
import { KVCache, type Decodable } from './generate.js';
import { LayerNorm } from './layernorm.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import { runsOwnForward } from './sequential.js';

export type TransformerActivation = 'relu' | 'gelu' | 'geluTanh' | 'silu';
const ACTIVATIONS: readonly TransformerActivation[] = ['relu', 'gelu', 'geluTanh', 'silu'];
const ACT_FN: Record<TransformerActivation, (x: Tensor) => Tensor> = { relu, gelu: (x) => gelu(x), geluTanh, silu };

export interface TransformerLayerOptions {
  /** Hidden size of the feed-forward block. Default 2048 (PyTorch's). */
  dimFeedforward?: number;
  /** Dropout after attention, inside and after the feed-forward block, and on attention weights. Default 0.1. */
  dropout?: number;
  /** Feed-forward activation. Default 'relu'. */
  activation?: TransformerActivation;
  /** Pre-norm (LayerNorm before each sublayer) instead of post-norm. Default false. */
  normFirst?: boolean;
  /** LayerNorm eps. Default 1e-5. */
  layerNormEps?: number;
  /** Biases in the linear layers and attention projections. Default true. */
  bias?: boolean;
  /** Seed of the initial weights (each sublayer derives its own). Default: the global generator. */
  seed?: number;
}

export const TRANSFORMER_LAYER_DEFAULTS = Object.freeze({
  dimFeedforward: 2048,
  dropout: 0.1,
  activation: 'relu' as TransformerActivation,
  normFirst: false,
  layerNormEps: 1e-5,
  bias: true,
});
const LAYER_KEYS = [...Object.keys(TRANSFORMER_LAYER_DEFAULTS), 'seed'];

type ResolvedLayer = typeof TRANSFORMER_LAYER_DEFAULTS & { seed?: number };

function resolveLayer(where: string, dModel: number, numHeads: number, options: object, extraKeys: readonly string[] = []): ResolvedLayer {
  for (const key of Object.keys(options)) {
    if (!LAYER_KEYS.includes(key) && !extraKeys.includes(key)) {
      throw new ConfigError(`${where}: unknown option '${key}'; valid: ${[...LAYER_KEYS, ...extraKeys].join(', ')}`);
    }
  }
  const o = { ...TRANSFORMER_LAYER_DEFAULTS, ...options } as ResolvedLayer;
  for (const [name, v] of [['dModel', dModel], ['numHeads', numHeads], ['dimFeedforward', o.dimFeedforward]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ConfigError(`${where}: ${name} must be a positive integer; got ${v}`);
  }
  if (dModel % numHeads !== 0) throw new ConfigError(`${where}: dModel ${dModel} is not divisible by numHeads ${numHeads}`);
  if (typeof o.dropout !== 'number' || !(o.dropout >= 0 && o.dropout < 1)) {
    throw new ConfigError(`${where}: dropout must be in [0, 1); got ${o.dropout}`);
  }
  if (!ACTIVATIONS.includes(o.activation)) {
    throw new ConfigError(`${where}: unknown activation '${String(o.activation)}'; valid: ${ACTIVATIONS.map((a) => `'${a}'`).join(', ')}`);
  }
  return o;
}

const sub = (seed: number | undefined, k: number) => (seed === undefined ? undefined : seed * 31 + k);

function checkInput(where: string, name: string, x: Tensor, dModel: number): void {
  if (x.rank !== 3 || x.shape[2] !== dModel) {
    throw new ShapeError(`${where}: ${name} must be [B, T, ${dModel}]; got ${fmtShape(x.shape)}`);
  }
}

/** Throws before any work when positions offset … offset+T−1 do not fit the positional table. */
function checkLength(where: string, T: number, offset: number, maxLen: number): void {
  if (offset + T > maxLen) {
    throw new ValueError(
      `${where}: sequence length ${T}` + (offset > 0 ? ` at offset ${offset} (positions up to ${offset + T - 1})` : '') +
        ` is longer than the positional table (maxLen ${maxLen})`,
    );
  }
}

/**
 * The feed-forward block shared by both layers. With relu, linear1 and the
 * activation run as one fused op (linearRelu: relu in the GEMM's tile
 * stores), unless linear1's forward is wrapped or overridden.
 */
function feedForward(
  l: { linear1: Linear; linear2: Linear; dropout: Dropout; act: (x: Tensor) => Tensor }, x: Tensor, residual?: Tensor,
): Tensor {
  const h = l.act === relu && runsOwnForward(l.linear1, Linear)
    ? linearRelu(x, l.linear1.weight, l.linear1.bias)
    : l.act(l.linear1.forward(x));
  const hd = l.dropout.forward(h);
  return residual ? linearAdd(hd, l.linear2.weight, l.linear2.bias, residual) : l.linear2.forward(hd);
}

/**
 * x + dropout(sublayer(…)), the skip connection around a sublayer. When the
 * dropout is the identity (eval mode or p = 0) and the sublayer ends in a
 * projection it can fuse the residual into (`fusable`: the layer's own
 * MultiHeadAttention or Linear, not wrapped or overridden), the sublayer is
 * called with x and adds it inside its last GEMM (linearAdd: same bits, one
 * pass over the activations fewer); otherwise it is called without and x is
 * added after.
 */
function skip(x: Tensor, dropout: Dropout, fusable: boolean, sublayer: (residual?: Tensor) => Tensor): Tensor {
  const identity = runsOwnForward(dropout, Dropout) && dropout.isIdentity;
  return fusable && identity ? sublayer(x) : add(x, dropout.forward(sublayer()));
}

/** The sublayer's attention call, with the residual fused when given (see skip). */
function attend(
  mha: MultiHeadAttention, x: Tensor, m: Tensor, call: MultiHeadAttentionCallOptions, collect: Tensor[] | undefined,
  residual: Tensor | undefined,
): Tensor {
  if (!collect) return residual ? mha.forwardResidual(residual, x, m, m, call) as Tensor : mha.forward(x, m, m, call);
  const withWeights = { ...call, needWeights: true as const };
  const r = (residual ? mha.forwardResidual(residual, x, m, m, withWeights) : mha.forward(x, m, m, withWeights)) as MultiHeadAttentionResult;
  collect.push(r.weights);
  return r.output;
}

// ─── encoder layer ──────────────────────────────────────────────────────────

export interface EncoderLayerCallOptions {
  /** Additive float mask broadcastable to [B, H, T, T]. */
  mask?: Tensor;
  /** [B, T], nonzero = padding. */
  keyPaddingMask?: Tensor;
  /** Causal self-attention. Default false. */
  causal?: boolean;
  /** If given, the layer pushes its self-attention weights [B, H, T, T] here (detached). */
  collectAttention?: Tensor[];
}

export class TransformerEncoderLayer extends Module {
  readonly selfAttn: MultiHeadAttention;
  readonly linear1: Linear;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly dropout: Dropout;
  readonly dropout1: Dropout;
  readonly dropout2: Dropout;
  readonly normFirst: boolean;
  /** The feed-forward activation's name (the constructor option). */
  readonly activation: TransformerActivation;
  /** @internal The feed-forward activation function. */
  readonly act: (x: Tensor) => Tensor;

  /** @example new TransformerEncoderLayer(64, 4, { dimFeedforward: 128, normFirst: true }) */
  constructor(
    readonly dModel: number,
    readonly numHeads: number,
    options: TransformerLayerOptions = {},
  ) {
    super();
    const o = resolveLayer('TransformerEncoderLayer', dModel, numHeads, options);
    this.selfAttn = new MultiHeadAttention(dModel, numHeads, { dropout: o.dropout, bias: o.bias, seed: sub(o.seed, 1) });
    this.linear1 = new Linear(dModel, o.dimFeedforward, { bias: o.bias, seed: sub(o.seed, 2) });
    this.linear2 = new Linear(o.dimFeedforward, dModel, { bias: o.bias, seed: sub(o.seed, 3) });
    this.norm1 = new LayerNorm(dModel, { eps: o.layerNormEps, bias: o.bias });
    this.norm2 = new LayerNorm(dModel, { eps: o.layerNormEps, bias: o.bias });
    this.dropout = new Dropout(o.dropout);
    this.dropout1 = new Dropout(o.dropout);
    this.dropout2 = new Dropout(o.dropout);
    this.normFirst = o.normFirst;
    this.activation = o.activation;
    this.act = ACT_FN[o.activation];
  }

  forward(src: Tensor): Tensor;
  forward(src: Tensor, options: EncoderLayerCallOptions): Tensor;
  /** src [B, T, dModel] → [B, T, dModel]. */
  forward(src: Tensor, options: EncoderLayerCallOptions = {}): Tensor {
    checkInput('TransformerEncoderLayer', 'src', src, this.dModel);
    const call = { mask: options.mask, keyPaddingMask: options.keyPaddingMask, causal: options.causal };
    const sa = (x: Tensor, r?: Tensor) => attend(this.selfAttn, x, x, call, options.collectAttention, r);
    const fuseSa = runsOwnForward(this.selfAttn, MultiHeadAttention), fuseFf = runsOwnForward(this.linear2, Linear);
    let x = src;
    if (this.normFirst) {
      const x0 = x;
      x = skip(x0, this.dropout1, fuseSa, (r) => sa(this.norm1.forward(x0), r));
      const x1 = x;
      x = skip(x1, this.dropout2, fuseFf, (r) => feedForward(this, this.norm2.forward(x1), r));
    } else {
      const x0 = x;
      x = this.norm1.forward(skip(x0, this.dropout1, fuseSa, (r) => sa(x0, r)));
      const x1 = x;
      x = this.norm2.forward(skip(x1, this.dropout2, fuseFf, (r) => feedForward(this, x1, r)));
    }
    return x;
  }
}

// ─── decoder layer ──────────────────────────────────────────────────────────

export interface DecoderLayerOptions extends TransformerLayerOptions {
  /** Include cross-attention to an encoder output. Default true; false gives a decoder-only (GPT) block. */
  crossAttention?: boolean;
}

export interface DecoderLayerCallOptions {
  /** Additive float mask for self-attention, broadcastable to [B, H, T, T]. */
  tgtMask?: Tensor;
  /** Additive float mask for cross-attention, broadcastable to [B, H, T, S]. */
  memoryMask?: Tensor;
  /** [B, T], nonzero = padding. */
  tgtKeyPaddingMask?: Tensor;
  /** [B, S], nonzero = padding in the memory. */
  memoryKeyPaddingMask?: Tensor;
  /** Causal self-attention (position t sees only ≤ t). Default true. */
  tgtIsCausal?: boolean;
  /** Per-layer key/value caches for incremental decoding (inference only). */
  cache?: { self: AttentionCache; cross?: AttentionCache };
  /** If given, the layer pushes its self-attention weights [B, H, T, T] here (detached). */
  collectAttention?: Tensor[];
  /** If given, the layer pushes its cross-attention weights [B, H, T, S] here (detached). */
  collectCrossAttention?: Tensor[];
}

export class TransformerDecoderLayer extends Module {
  readonly selfAttn: MultiHeadAttention;
  /** Cross-attention (PyTorch's multihead_attn), or undefined with crossAttention: false. */
  readonly crossAttn: MultiHeadAttention | undefined;
  readonly linear1: Linear;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly norm3: LayerNorm | undefined;
  readonly dropout: Dropout;
  readonly dropout1: Dropout;
  readonly dropout2: Dropout;
  readonly dropout3: Dropout | undefined;
  readonly normFirst: boolean;
  /** The feed-forward activation's name (the constructor option). */
  readonly activation: TransformerActivation;
  /** @internal The feed-forward activation function. */
  readonly act: (x: Tensor) => Tensor;

  constructor(
    readonly dModel: number,
    readonly numHeads: number,
    options: DecoderLayerOptions = {},
  ) {
    super();
    const o = resolveLayer('TransformerDecoderLayer', dModel, numHeads, options, ['crossAttention']);
    const cross = options.crossAttention !== false;
    this.selfAttn = new MultiHeadAttention(dModel, numHeads, { dropout: o.dropout, bias: o.bias, seed: sub(o.seed, 1) });
    this.crossAttn = cross ? new MultiHeadAttention(dModel, numHeads, { dropout: o.dropout, bias: o.bias, seed: sub(o.seed, 2) }) : undefined;
    this.linear1 = new Linear(dModel, o.dimFeedforward, { bias: o.bias, seed: sub(o.seed, 3) });
    this.linear2 = new Linear(o.dimFeedforward, dModel, { bias: o.bias, seed: sub(o.seed, 4) });
    this.norm1 = new LayerNorm(dModel, { eps: o.layerNormEps, bias: o.bias });
    this.norm2 = new LayerNorm(dModel, { eps: o.layerNormEps, bias: o.bias });
    this.norm3 = cross ? new LayerNorm(dModel, { eps: o.layerNormEps, bias: o.bias }) : undefined;
    this.dropout = new Dropout(o.dropout);
    this.dropout1 = new Dropout(o.dropout);
    this.dropout2 = new Dropout(o.dropout);
    this.dropout3 = cross ? new Dropout(o.dropout) : undefined;
    this.normFirst = o.normFirst;
    this.activation = o.activation;
    this.act = ACT_FN[o.activation];
  }

  forward(tgt: Tensor, memory?: Tensor): Tensor;
  forward(tgt: Tensor, memory: Tensor | undefined, options: DecoderLayerCallOptions): Tensor;
  /** tgt [B, T, dModel] and memory [B, S, dModel] (omitted without cross-attention) → [B, T, dModel]. */
  forward(tgt: Tensor, memory?: Tensor, options: DecoderLayerCallOptions = {}): Tensor {
    const where = 'TransformerDecoderLayer';
    checkInput(where, 'tgt', tgt, this.dModel);
    if (this.crossAttn) {
      if (memory === undefined && !(options.cache?.cross?.k)) {
        throw new ShapeError(`${where}: memory [B, S, ${this.dModel}] is required (the layer has cross-attention)`);
      }
      if (memory !== undefined) checkInput(where, 'memory', memory, this.dModel);
    }
    const saCall = {
      mask: options.tgtMask, keyPaddingMask: options.tgtKeyPaddingMask, causal: options.tgtIsCausal !== false,
      cache: options.cache?.self,
    };
    const caCall = { mask: options.memoryMask, keyPaddingMask: options.memoryKeyPaddingMask, cache: options.cache?.cross };
    const sa = (x: Tensor, r?: Tensor) => attend(this.selfAttn, x, x, saCall, options.collectAttention, r);
    // With a filled cross cache the memory is not read.
    const ca = (x: Tensor, r?: Tensor) => attend(this.crossAttn!, x, memory ?? x, caCall, options.collectCrossAttention, r);
    const fuseSa = runsOwnForward(this.selfAttn, MultiHeadAttention), fuseFf = runsOwnForward(this.linear2, Linear);
    const fuseCa = this.crossAttn !== undefined && runsOwnForward(this.crossAttn, MultiHeadAttention);
    const n = this.crossAttn ? this.norm3! : this.norm2;
    const d = this.crossAttn ? this.dropout3! : this.dropout2;
    let x = tgt;
    if (this.normFirst) {
      const x0 = x;
      x = skip(x0, this.dropout1, fuseSa, (r) => sa(this.norm1.forward(x0), r));
      if (this.crossAttn) {
        const x1 = x;
        x = skip(x1, this.dropout2, fuseCa, (r) => ca(this.norm2.forward(x1), r));
      }
      const x2 = x;
      x = skip(x2, d, fuseFf, (r) => feedForward(this, n.forward(x2), r));
    } else {
      const x0 = x;
      x = this.norm1.forward(skip(x0, this.dropout1, fuseSa, (r) => sa(x0, r)));
      if (this.crossAttn) {
        const x1 = x;
        x = this.norm2.forward(skip(x1, this.dropout2, fuseCa, (r) => ca(x1, r)));
      }
      const x2 = x;
      x = n.forward(skip(x2, d, fuseFf, (r) => feedForward(this, x2, r)));
    }
    return x;
  }
}

// ─── stacks ─────────────────────────────────────────────────────────────────

export interface TransformerStackOptions extends TransformerLayerOptions {
  /** A LayerNorm after the last layer. Default: normFirst (pre-norm stacks need one). */
  finalNorm?: boolean;
}

export class TransformerEncoder extends Module {
  readonly layers: TransformerEncoderLayer[];
  readonly norm: LayerNorm | undefined;

  /** @example new TransformerEncoder(64, 4, 2, { dimFeedforward: 128 }) */
  constructor(
    readonly dModel: number,
    readonly numHeads: number,
    readonly numLayers: number,
    options: TransformerStackOptions = {},
  ) {
    super();
    if (!Number.isInteger(numLayers) || numLayers < 1) throw new ConfigError(`TransformerEncoder: numLayers must be a positive integer; got ${numLayers}`);
    const { finalNorm, ...layer } = options;
    const o = resolveLayer('TransformerEncoder', dModel, numHeads, layer);
    this.layers = Array.from({ length: numLayers }, (_, i) => new TransformerEncoderLayer(dModel, numHeads, { ...layer, seed: sub(o.seed, 10 + i) }));
    this.norm = finalNorm ?? o.normFirst ? new LayerNorm(dModel, { eps: o.layerNormEps, bias: o.bias }) : undefined;
  }

  forward(src: Tensor): Tensor;
  forward(src: Tensor, options: EncoderLayerCallOptions): Tensor;
  forward(src: Tensor, options: EncoderLayerCallOptions = {}): Tensor {
    let x = src;
    for (const l of this.layers) x = l.forward(x, options);
    return this.norm ? this.norm.forward(x) : x;
  }
}

export interface DecoderCallOptions extends Omit<DecoderLayerCallOptions, 'cache'> {
  /** Caches of every layer (from a KVCache) for incremental decoding. */
  cache?: KVCache;
}

export class TransformerDecoder extends Module {
  readonly layers: TransformerDecoderLayer[];
  readonly norm: LayerNorm | undefined;

  constructor(
    readonly dModel: number,
    readonly numHeads: number,
    readonly numLayers: number,
    options: TransformerStackOptions & { crossAttention?: boolean } = {},
  ) {
    super();
    if (!Number.isInteger(numLayers) || numLayers < 1) throw new ConfigError(`TransformerDecoder: numLayers must be a positive integer; got ${numLayers}`);
    const { finalNorm, ...layer } = options;
    const o = resolveLayer('TransformerDecoder', dModel, numHeads, layer, ['crossAttention']);
    this.layers = Array.from({ length: numLayers }, (_, i) => new TransformerDecoderLayer(dModel, numHeads, { ...layer, seed: sub(o.seed, 20 + i) }));
    this.norm = finalNorm ?? o.normFirst ? new LayerNorm(dModel, { eps: o.layerNormEps, bias: o.bias }) : undefined;
  }

  forward(tgt: Tensor, memory?: Tensor): Tensor;
  forward(tgt: Tensor, memory: Tensor | undefined, options: DecoderCallOptions): Tensor;
  forward(tgt: Tensor, memory?: Tensor, options: DecoderCallOptions = {}): Tensor {
    const { cache, ...rest } = options;
    let x = tgt;
    this.layers.forEach((l, i) => {
      x = l.forward(x, memory, { ...rest, ...(cache ? { cache: { self: cache.self[i], cross: cache.cross?.[i] } } : {}) });
    });
    return this.norm ? this.norm.forward(x) : x;
  }
}

export interface TransformerOptions extends TransformerLayerOptions {
  /** Default 512. */
  dModel?: number;
  /** Default 8. */
  numHeads?: number;
  /** Default 6. */
  numEncoderLayers?: number;
  /** Default 6. */
  numDecoderLayers?: number;
}

export interface TransformerCallOptions {
  srcMask?: Tensor;
  tgtMask?: Tensor;
  memoryMask?: Tensor;
  srcKeyPaddingMask?: Tensor;
  tgtKeyPaddingMask?: Tensor;
  memoryKeyPaddingMask?: Tensor;
  /** Default true. */
  tgtIsCausal?: boolean;
}

/**
 * Encoder–decoder on vectors (PyTorch's nn.Transformer): src [B, S, dModel],
 * tgt [B, T, dModel] → [B, T, dModel]. Both stacks end with a LayerNorm, as in PyTorch.
 */
export class Transformer extends Module {
  readonly encoder: TransformerEncoder;
  readonly decoder: TransformerDecoder;
  readonly dModel: number;

  constructor(options: TransformerOptions = {}) {
    super();
    const { dModel = 512, numHeads = 8, numEncoderLayers = 6, numDecoderLayers = 6, ...layer } = options;
    resolveLayer('Transformer', dModel, numHeads, layer);
    this.dModel = dModel;
    this.encoder = new TransformerEncoder(dModel, numHeads, numEncoderLayers, { ...layer, finalNorm: true, seed: sub(layer.seed, 1) });
    this.decoder = new TransformerDecoder(dModel, numHeads, numDecoderLayers, { ...layer, finalNorm: true, seed: sub(layer.seed, 2) });
  }

  forward(src: Tensor, tgt: Tensor): Tensor;
  forward(src: Tensor, tgt: Tensor, options: TransformerCallOptions): Tensor;
  forward(src: Tensor, tgt: Tensor, options: TransformerCallOptions = {}): Tensor {
    const memory = this.encoder.forward(src, { mask: options.srcMask, keyPaddingMask: options.srcKeyPaddingMask });
    return this.decoder.forward(tgt, memory, {
      tgtMask: options.tgtMask, memoryMask: options.memoryMask, tgtKeyPaddingMask: options.tgtKeyPaddingMask,
      memoryKeyPaddingMask: options.memoryKeyPaddingMask ?? options.srcKeyPaddingMask, tgtIsCausal: options.tgtIsCausal,
    });
  }
}

// ─── token models ───────────────────────────────────────────────────────────

export interface TransformerLMOptions extends TransformerLayerOptions {
  vocabSize: number;
  dModel: number;
  numHeads: number;
  numLayers: number;
  /** Longest sequence (the positional table). */
  maxLen: number;
  /** 'learned' (GPT-2 style, default) or 'sinusoidal'. */
  positional?: 'learned' | 'sinusoidal';
}

/**
 * Decoder-only language model: ids [B, T] → logits [B, T, vocabSize], every
 * position predicting the next token from itself and the ones before it.
 * Pre-norm by default (normFirst: true), with a final LayerNorm.
 */
export class TransformerLM extends Module implements Decodable {
  readonly tokenEmbedding: Embedding;
  readonly positional: LearnedPositionalEmbedding | SinusoidalPositionalEncoding;
  readonly layers: TransformerDecoderLayer[];
  readonly norm: LayerNorm | undefined;
  readonly head: Linear;
  readonly vocabSize: number;
  readonly maxLen: number;
  readonly dModel: number;

  constructor(options: TransformerLMOptions) {
    super();
    const { vocabSize, dModel, numHeads, numLayers, maxLen, positional = 'learned', ...layer } = options;
    const o = resolveLayer('TransformerLM', dModel, numHeads, { normFirst: true, ...layer });
    for (const [name, v] of [['vocabSize', vocabSize], ['numLayers', numLayers], ['maxLen', maxLen]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ConfigError(`TransformerLM: ${name} must be a positive integer; got ${v}`);
    }
    if (positional !== 'learned' && positional !== 'sinusoidal') {
      throw new ConfigError(`TransformerLM: unknown positional '${String(positional)}'; valid: 'learned', 'sinusoidal'`);
    }
    this.vocabSize = vocabSize;
    this.maxLen = maxLen;
    this.dModel = dModel;
    this.tokenEmbedding = new Embedding(vocabSize, dModel, { std: 0.02, seed: sub(o.seed, 1) });
    this.positional = positional === 'learned'
      ? new LearnedPositionalEmbedding(maxLen, dModel, { seed: sub(o.seed, 2) })
      : new SinusoidalPositionalEncoding(dModel, maxLen);
    this.layers = Array.from({ length: numLayers }, (_, i) =>
      new TransformerDecoderLayer(dModel, numHeads, { ...o, crossAttention: false, seed: sub(o.seed, 10 + i) }),
    );
    this.norm = o.normFirst ? new LayerNorm(dModel, { eps: o.layerNormEps, bias: o.bias }) : undefined;
    this.head = new Linear(dModel, vocabSize, { seed: sub(o.seed, 3) });
  }

  forward(ids: Tensor): Tensor;
  forward(ids: Tensor, options: { keyPaddingMask?: Tensor; collectAttention?: Tensor[]; cache?: KVCache }): Tensor;
  /** ids int32 [B, T] → logits [B, T, vocabSize]. */
  forward(ids: Tensor, options: { keyPaddingMask?: Tensor; collectAttention?: Tensor[]; cache?: KVCache } = {}): Tensor {
    const where = 'TransformerLM';
    if (ids.rank !== 2) throw new ShapeError(`${where}: ids must be [B, T]; got ${fmtShape(ids.shape)}`);
    checkTokenIds(where, ids, this.vocabSize);
    const cache = options.cache;
    const offset = cache?.length ?? 0;
    checkLength(where, ids.shape[1], offset, this.maxLen);
    let x = this.positional.forward(this.tokenEmbedding.forward(ids), offset);
    this.layers.forEach((l, i) => {
      x = l.forward(x, undefined, {
        tgtKeyPaddingMask: options.keyPaddingMask, collectAttention: options.collectAttention,
        ...(cache ? { cache: { self: cache.self[i] } } : {}),
      });
    });
    if (cache) cache.length += ids.shape[1];
    if (this.norm) x = this.norm.forward(x);
    return this.head.forward(x);
  }

  logits(ids: Tensor): Tensor {
    return this.forward(ids);
  }

  createCache(batch: number, capacity: number): KVCache {
    return new KVCache(batch, capacity, this.layers.length);
  }

  forwardCached(ids: Tensor, cache: KVCache): Tensor {
    return noGrad(() => this.forward(ids, { cache }));
  }

  /** Self-attention weights of every layer for ids [B, T]: an array of [B, H, T, T] (no autograd). */
  attentionWeights(ids: Tensor): Tensor[] {
    const out: Tensor[] = [];
    noGrad(() => this.forward(ids, { collectAttention: out })).dispose();
    return out;
  }
}

export interface Seq2SeqTransformerOptions extends TransformerLayerOptions {
  srcVocabSize: number;
  tgtVocabSize: number;
  dModel: number;
  numHeads: number;
  numEncoderLayers: number;
  numDecoderLayers: number;
  /** Longest source or target sequence (the sinusoidal table). */
  maxLen: number;
}

export interface Seq2SeqCallOptions {
  srcKeyPaddingMask?: Tensor;
  tgtKeyPaddingMask?: Tensor;
}

/**
 * Token-to-token encoder–decoder: src ids [B, S] and target ids [B, T] (the
 * shifted-right target: start token, y0, y1, …) → logits [B, T, tgtVocabSize].
 * Embeddings are scaled by √dModel and get sinusoidal positions (Vaswani et al.).
 */
export class Seq2SeqTransformer extends Module implements Decodable {
  readonly srcEmbedding: Embedding;
  readonly tgtEmbedding: Embedding;
  readonly positional: SinusoidalPositionalEncoding;
  readonly transformer: Transformer;
  readonly head: Linear;
  readonly vocabSize: number;
  readonly srcVocabSize: number;
  readonly maxLen: number;
  readonly dModel: number;

  constructor(options: Seq2SeqTransformerOptions) {
    super();
    const { srcVocabSize, tgtVocabSize, dModel, numHeads, numEncoderLayers, numDecoderLayers, maxLen, ...layer } = options;
    const o = resolveLayer('Seq2SeqTransformer', dModel, numHeads, layer);
    for (const [name, v] of [['srcVocabSize', srcVocabSize], ['tgtVocabSize', tgtVocabSize], ['maxLen', maxLen]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ConfigError(`Seq2SeqTransformer: ${name} must be a positive integer; got ${v}`);
    }
    this.vocabSize = tgtVocabSize;
    this.srcVocabSize = srcVocabSize;
    this.maxLen = maxLen;
    this.dModel = dModel;
    this.srcEmbedding = new Embedding(srcVocabSize, dModel, { seed: sub(o.seed, 1) });
    this.tgtEmbedding = new Embedding(tgtVocabSize, dModel, { seed: sub(o.seed, 2) });
    this.positional = new SinusoidalPositionalEncoding(dModel, maxLen);
    this.transformer = new Transformer({ dModel, numHeads, numEncoderLayers, numDecoderLayers, ...layer, seed: sub(o.seed, 3) });
    this.head = new Linear(dModel, tgtVocabSize, { seed: sub(o.seed, 4) });
  }

  private embed(e: Embedding, ids: Tensor, name: string, offset = 0): Tensor {
    if (ids.rank !== 2) throw new ShapeError(`Seq2SeqTransformer: ${name} ids must be [B, T]; got ${fmtShape(ids.shape)}`);
    checkTokenIds(`Seq2SeqTransformer (${name})`, ids, e.numEmbeddings);
    checkLength(`Seq2SeqTransformer (${name})`, ids.shape[1], offset, this.maxLen);
    return this.positional.forward(mul(e.forward(ids), Math.sqrt(this.dModel)), offset);
  }

  /** src ids [B, S] → memory [B, S, dModel]. */
  encode(src: Tensor, options: Seq2SeqCallOptions = {}): Tensor {
    return this.transformer.encoder.forward(this.embed(this.srcEmbedding, src, 'source'), { keyPaddingMask: options.srcKeyPaddingMask });
  }

  /** tgt ids [B, T] and memory → logits [B, T, tgtVocabSize] (causal over the target). */
  decode(tgt: Tensor, memory: Tensor, options: Seq2SeqCallOptions & { cache?: KVCache; collectAttention?: Tensor[]; collectCrossAttention?: Tensor[] } = {}): Tensor {
    const offset = options.cache?.length ?? 0;
    const x = this.transformer.decoder.forward(this.embed(this.tgtEmbedding, tgt, 'target', offset), memory, {
      tgtKeyPaddingMask: options.tgtKeyPaddingMask, memoryKeyPaddingMask: options.srcKeyPaddingMask,
      cache: options.cache, collectAttention: options.collectAttention, collectCrossAttention: options.collectCrossAttention,
    });
    if (options.cache) options.cache.length += tgt.shape[1];
    return this.head.forward(x);
  }

  forward(src: Tensor, tgt: Tensor): Tensor;
  forward(src: Tensor, tgt: Tensor, options: Seq2SeqCallOptions): Tensor;
  forward(src: Tensor, tgt: Tensor, options: Seq2SeqCallOptions = {}): Tensor {
    return this.decode(tgt, this.encode(src, options), options);
  }

  logits(ids: Tensor, source?: Tensor): Tensor {
    if (source === undefined) throw new ShapeError('Seq2SeqTransformer: logits needs the source ids');
    return this.forward(source, ids);
  }

  createCache(batch: number, capacity: number, source?: Tensor): KVCache {
    if (source === undefined) throw new ShapeError('Seq2SeqTransformer: createCache needs the source ids (generate(..., { source }))');
    const cache = new KVCache(batch, capacity, this.transformer.decoder.layers.length, true);
    cache.memory = keep(noGrad(() => this.encode(source)));
    return cache;
  }

  forwardCached(ids: Tensor, cache: KVCache): Tensor {
    return noGrad(() => this.decode(ids, cache.memory!, { cache }));
  }

  /** Attention weights for one batch (no autograd): encoder self, decoder self and cross, per layer. */
  attentionWeights(src: Tensor, tgt: Tensor): { encoder: Tensor[]; decoder: Tensor[]; cross: Tensor[] } {
    const encoder: Tensor[] = [], decoder: Tensor[] = [], cross: Tensor[] = [];
    noGrad(() => {
      const memory = this.transformer.encoder.forward(this.embed(this.srcEmbedding, src, 'source'), { collectAttention: encoder });
      this.decode(tgt, memory, { collectAttention: decoder, collectCrossAttention: cross }).dispose();
      memory.dispose();
    });
    return { encoder, decoder, cross };
  }
}
