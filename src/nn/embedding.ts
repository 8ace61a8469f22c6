/**
 * Embedding (token id → learned vector) and positional encodings.
 *
 *   Embedding(numEmbeddings, embeddingDim):  weight [numEmbeddings, embeddingDim]
 *       forward(ids int32 [...]) → weight rows [..., embeddingDim]
 *     The forward is `take` (a row gather); its backward scatter-adds the
 *     output gradient into the rows, so a token that appears several times in
 *     a batch accumulates all of its gradients (assembly/gather.ts).
 *     Default init N(0, 1), as PyTorch's nn.Embedding.
 *
 *   SinusoidalPositionalEncoding(dModel, maxLen):  a fixed buffer pe [maxLen, dModel]
 *       pe[pos, 2i] = sin(pos / 10000^(2i/dModel)),  pe[pos, 2i+1] = cos(…)
 *     (Vaswani et al. 2017, §3.5), forward(x [B, T, dModel], offset) = x + pe[offset … offset+T)
 *
 *   LearnedPositionalEmbedding(maxLen, dModel):  a parameter weight [maxLen, dModel]
 *       forward(x, offset) = x + weight[offset … offset+T)   (GPT-2 style, init N(0, 0.02²))
 *
 * `offset` is the position of x's first element: cached decoding feeds one
 * token at a time at positions 0, 1, 2, …
 */

import { ConfigError, DTypeError, ShapeError, ValueError, fmtShape } from '../errors.js';
import { getInitializer, type InitializerName } from '../init.js';
import { add } from '../ops/arithmetic.js';
import { take } from '../ops/gather.js';
import { slice } from '../ops/shape.js';
import { tensor, type Tensor } from '../tensor.js';
import { buffer, Module, parameter } from './module.js';

export interface EmbeddingOptions {
  /** Initializer of the weight. Default 'normal' (N(0, 1), as PyTorch). */
  init?: InitializerName;
  /** Standard deviation for the 'normal' init. Default 1. */
  std?: number;
  /** Seed of the initial weight. Default: the global generator. */
  seed?: number;
}

function positiveInt(where: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new ConfigError(`${where}: ${name} must be a positive integer; got ${v}`);
}

function checkOptionKeys(where: string, options: object, valid: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!valid.includes(key)) throw new ConfigError(`${where}: unknown option '${key}'; valid: ${valid.join(', ')}`);
  }
}

/** "[1,3]" for a multi-dimensional index, "3" for a flat one. */
function positionOf(shape: readonly number[], flat: number): string {
  if (shape.length <= 1) return String(flat);
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(flat % shape[d]);
    flat = Math.floor(flat / shape[d]);
  }
  return fmtShape(idx);
}

export class Embedding extends Module {
  /** [numEmbeddings, embeddingDim] */
  readonly weight: Tensor;

  /** @example new Embedding(vocabSize, 64).forward(ids)   // ids int32 [B, T] → [B, T, 64] */
  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    options: EmbeddingOptions = {},
  ) {
    super();
    checkOptionKeys('Embedding', options, ['init', 'std', 'seed']);
    positiveInt('Embedding', 'numEmbeddings', numEmbeddings);
    positiveInt('Embedding', 'embeddingDim', embeddingDim);
    const shape = [numEmbeddings, embeddingDim];
    const init = options.init ?? 'normal';
    this.weight = parameter(
      init === 'normal'
        ? getInitializer('normal')(shape, { std: options.std ?? 1, seed: options.seed })
        : getInitializer(init)(shape, { seed: options.seed }),
    );
  }

  /** ids: int32 of any shape, each in [0, numEmbeddings). Returns [...ids.shape, embeddingDim]. */
  forward(ids: Tensor): Tensor {
    checkTokenIds('Embedding', ids, this.numEmbeddings);
    return take(this.weight, ids);
  }
}

/** @internal Throws `<where>: token id 57 at position 3 is out of range for a vocabulary of 50`. */
export function checkTokenIds(where: string, ids: Tensor, vocab: number): void {
  if (ids.dtype !== 'int32') {
    throw new DTypeError(`${where}: token ids must be int32; got ${ids.describe()}; hint: tensor(ids, shape, { dtype: 'int32' })`);
  }
  const I = ids.backend.heap.i32;
  const p = ids.ptr >>> 2;
  for (let i = 0; i < ids.size; i++) {
    const v = I[p + i];
    if (v < 0 || v >= vocab) {
      throw new ValueError(
        `${where}: token id ${v} at position ${positionOf(ids.shape, i)} is out of range for a vocabulary of ${vocab}`,
      );
    }
  }
}

/** x + table[offset … offset+T) for x [..., T, dModel], with the layer named in errors. */
function addPositions(where: string, x: Tensor, table: Tensor, offset: number): Tensor {
  const [maxLen, dModel] = table.shape;
  if (x.rank < 2 || x.shape[x.rank - 1] !== dModel) {
    throw new ShapeError(`${where}: input must be [..., T, ${dModel}]; got ${fmtShape(x.shape)}`);
  }
  if (!Number.isInteger(offset) || offset < 0) throw new ValueError(`${where}: offset must be a non-negative integer; got ${offset}`);
  const T = x.shape[x.rank - 2];
  if (offset + T > maxLen) {
    throw new ValueError(
      `${where}: sequence length ${T}` + (offset > 0 ? ` at offset ${offset} (positions up to ${offset + T - 1})` : '') +
        ` is longer than the positional table (maxLen ${maxLen})`,
    );
  }
  return add(x, slice(table, 0, offset, offset + T));
}

export class SinusoidalPositionalEncoding extends Module {
  /** [maxLen, dModel], a buffer (not trained). */
  readonly pe: Tensor;

  /** @param maxLen  Longest sequence (plus offset) it can encode. Default 5000. */
  constructor(
    readonly dModel: number,
    readonly maxLen = 5000,
  ) {
    super();
    positiveInt('SinusoidalPositionalEncoding', 'dModel', dModel);
    positiveInt('SinusoidalPositionalEncoding', 'maxLen', maxLen);
    const pe = new Float32Array(maxLen * dModel);
    for (let pos = 0; pos < maxLen; pos++) {
      for (let i = 0; i < dModel; i += 2) {
        const angle = pos / Math.pow(10000, i / dModel);
        pe[pos * dModel + i] = Math.sin(angle);
        if (i + 1 < dModel) pe[pos * dModel + i + 1] = Math.cos(angle);
      }
    }
    this.pe = buffer(tensor(pe, [maxLen, dModel]));
  }

  forward(x: Tensor): Tensor;
  forward(x: Tensor, offset: number): Tensor;
  /** x [..., T, dModel] + pe[offset … offset+T). */
  forward(x: Tensor, offset = 0): Tensor {
    return addPositions('SinusoidalPositionalEncoding', x, this.pe, offset);
  }
}

export interface LearnedPositionalEmbeddingOptions {
  /** Standard deviation of the normal init. Default 0.02. */
  std?: number;
  /** Seed of the initial weight. Default: the global generator. */
  seed?: number;
}

export class LearnedPositionalEmbedding extends Module {
  /** [maxLen, dModel] */
  readonly weight: Tensor;

  constructor(
    readonly maxLen: number,
    readonly dModel: number,
    options: LearnedPositionalEmbeddingOptions = {},
  ) {
    super();
    checkOptionKeys('LearnedPositionalEmbedding', options, ['std', 'seed']);
    positiveInt('LearnedPositionalEmbedding', 'maxLen', maxLen);
    positiveInt('LearnedPositionalEmbedding', 'dModel', dModel);
    this.weight = parameter(getInitializer('normal')([maxLen, dModel], { std: options.std ?? 0.02, seed: options.seed }));
  }

  forward(x: Tensor): Tensor;
  forward(x: Tensor, offset: number): Tensor;
  /** x [..., T, dModel] + weight[offset … offset+T). */
  forward(x: Tensor, offset = 0): Tensor {
    return addPositions('LearnedPositionalEmbedding', x, this.weight, offset);
  }
}
