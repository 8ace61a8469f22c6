/**
 * Autoregressive generation with a key/value cache: greedy or sampled
 * (temperature, top-k) decoding for decoder-only and encoder–decoder models.
 *
 *   const out = generate(lm, prompt, { maxNewTokens: 20, temperature: 0.8, topK: 5, seed: 1 });
 *
 * Each step feeds only the newest token: every attention layer appends that
 * token's key and value to its cache and attends over the cached prefix, so
 * a new token costs O(seq) (not O(seq²) as recomputing the whole prefix would).
 * Cross-attention keys and values (encoder–decoder) are computed once from
 * the encoder output. The prompt is processed in one call (its keys and values
 * fill the cache), then one token per step.
 *
 * Sampling draws from a seeded generator (`seed`, or the global one — see
 * `seed()` in random.ts), so a run is reproducible and identical on every
 * backend up to logits rounding.
 */

import { noGrad } from '../autograd.js';
import { ConfigError, DTypeError, ShapeError, ValueError, fmtShape } from '../errors.js';
import { Generator, getGenerator } from '../random.js';
import { tensor, tidy, type Tensor } from '../tensor.js';
import { AttentionCache } from './attention.js';

/**
 * Keys and values of every attention layer of a decoder for a batch of
 * sequences: `self[i]` appends (up to `capacity` positions), `cross[i]` holds
 * the encoder memory's keys and values (encoder–decoder models), and `memory`
 * the encoder output. `length` counts the positions already processed.
 */
export class KVCache {
  /** Positions processed so far (the next token's position). */
  length = 0;
  readonly self: AttentionCache[];
  readonly cross: AttentionCache[] | null;
  /** The encoder output [B, S, dModel] (encoder–decoder models), kept until dispose(). */
  memory: Tensor | null = null;
  /** Padding mask of the source [B, S] (encoder–decoder models), if any. */
  memoryKeyPaddingMask: Tensor | null = null;

  constructor(
    readonly batch: number,
    readonly capacity: number,
    numLayers: number,
    crossAttention = false,
  ) {
    this.self = Array.from({ length: numLayers }, () => new AttentionCache(capacity));
    this.cross = crossAttention ? Array.from({ length: numLayers }, () => new AttentionCache(null)) : null;
  }

  /** Frees every cached tensor. */
  dispose(): void {
    for (const c of this.self) c.dispose();
    for (const c of this.cross ?? []) c.dispose();
    this.memory?.dispose();
    this.memoryKeyPaddingMask?.dispose();
    this.memory = this.memoryKeyPaddingMask = null;
    this.length = 0;
  }
}

/** What `generate` needs from a model (TransformerLM and Seq2SeqTransformer implement it). */
export interface Decodable {
  readonly vocabSize: number;
  /** Longest sequence the model can take (its positional table). */
  readonly maxLen: number;
  /** A cache for `batch` sequences of up to `capacity` positions (`source`: the encoder input, if any). */
  createCache(batch: number, capacity: number, source?: Tensor): KVCache;
  /** Logits [B, t, vocab] for the tokens [B, t] at positions cache.length …, appending to the cache. */
  forwardCached(ids: Tensor, cache: KVCache): Tensor;
  /** Logits [B, T, vocab] for whole sequences without a cache (`source` for encoder–decoder). */
  logits(ids: Tensor, source?: Tensor): Tensor;
}

export interface GenerateOptions {
  /** Tokens to add after the prompt (required). */
  maxNewTokens: number;
  /** Always take the most likely token. Default false (sample). */
  greedy?: boolean;
  /** Divides the logits before sampling (< 1 sharper, > 1 flatter). Default 1. */
  temperature?: number;
  /** Sample only among the k most likely tokens (0 = all). Default 0. */
  topK?: number;
  /** Seed of the sampling. Default: the global generator. */
  seed?: number;
  /** A sequence that produces this token stops; its later positions repeat it. Default none. */
  stopToken?: number;
  /** Encoder input [B, S] (int32) for encoder–decoder models. */
  source?: Tensor;
  /** Use the key/value cache (default true); false recomputes the whole prefix each step (for checking). */
  useCache?: boolean;
}

export const GENERATE_DEFAULTS = Object.freeze({ greedy: false, temperature: 1, topK: 0, useCache: true });
const GENERATE_KEYS = ['maxNewTokens', 'greedy', 'temperature', 'topK', 'seed', 'stopToken', 'source', 'useCache'];

/** Picks a token from one row of logits. */
function pick(logits: Float32Array, off: number, V: number, greedy: boolean, temperature: number, topK: number, g: Generator): number {
  let best = 0;
  for (let j = 1; j < V; j++) if (logits[off + j] > logits[off + best]) best = j;
  if (greedy) return best;
  const k = topK > 0 ? Math.min(topK, V) : V;
  let cand: number[];
  if (k < V) {
    cand = Array.from({ length: V }, (_, j) => j).sort((a, b) => logits[off + b] - logits[off + a] || a - b).slice(0, k);
  } else {
    cand = Array.from({ length: V }, (_, j) => j);
  }
  const m = logits[off + best];
  const w = cand.map((j) => Math.exp((logits[off + j] - m) / temperature));
  let total = 0;
  for (const x of w) total += x;
  let u = g.uniform() * total;
  for (let i = 0; i < cand.length; i++) {
    u -= w[i];
    if (u < 0) return cand[i];
  }
  return cand[cand.length - 1];
}

/**
 * Extends each prompt row by up to `maxNewTokens` tokens. `prompt` is int32
 * [B, P] (or number[][] / number[] for one row, P ≥ 1); returns int32
 * [B, P + maxNewTokens]. Runs without autograd.
 */
export function generate(model: Decodable, prompt: Tensor | number[] | number[][], options: GenerateOptions): Tensor {
  for (const key of Object.keys(options ?? {})) {
    if (!GENERATE_KEYS.includes(key)) throw new ConfigError(`generate: unknown option '${key}'; valid: ${GENERATE_KEYS.join(', ')}`);
  }
  const o = { ...GENERATE_DEFAULTS, ...options };
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 0) {
    throw new ValueError(`generate: maxNewTokens must be a non-negative integer; got ${o.maxNewTokens}`);
  }
  if (!(o.temperature > 0) || !Number.isFinite(o.temperature)) throw new ValueError(`generate: temperature must be > 0; got ${o.temperature}`);
  if (!Number.isInteger(o.topK) || o.topK < 0) throw new ValueError(`generate: topK must be a non-negative integer; got ${o.topK}`);
  let rows: number[][];
  if (Array.isArray(prompt)) {
    rows = (prompt.length > 0 && Array.isArray(prompt[0]) ? prompt : [prompt]) as number[][];
  } else {
    if (prompt.dtype !== 'int32') throw new DTypeError(`generate: the prompt must be int32 token ids; got ${prompt.describe()}`);
    if (prompt.rank !== 2) throw new ShapeError(`generate: the prompt must be [B, P]; got ${fmtShape(prompt.shape)}`);
    const d = prompt.data();
    const [B, P] = prompt.shape;
    rows = Array.from({ length: B }, (_, b) => Array.from(d.subarray(b * P, (b + 1) * P)));
  }
  const B = rows.length;
  const P = rows[0]?.length ?? 0;
  if (B === 0 || P === 0 || rows.some((r) => r.length !== P)) {
    throw new ShapeError(`generate: the prompt must be B ≥ 1 rows of the same length P ≥ 1`);
  }
  for (const r of rows) {
    for (const [i, id] of r.entries()) {
      if (!Number.isInteger(id) || id < 0 || id >= model.vocabSize) {
        throw new ValueError(`generate: token id ${id} at position ${i} is out of range for a vocabulary of ${model.vocabSize}`);
      }
    }
  }
  const total = P + o.maxNewTokens;
  if (total > model.maxLen) {
    throw new ValueError(
      `generate: prompt ${P} + maxNewTokens ${o.maxNewTokens} = ${total} positions is longer than the model's positional table (maxLen ${model.maxLen})`,
    );
  }
  if (o.source !== undefined && o.source.shape[0] !== B) {
    throw new ShapeError(`generate: source has batch ${o.source.shape[0]}, the prompt ${B}`);
  }
  const g = o.seed === undefined ? getGenerator() : new Generator(o.seed);
  const seqs = rows.map((r) => r.slice());
  const done = new Array<boolean>(B).fill(false);
  const V = model.vocabSize;
  // Token tensors live where the model's parameters live.
  const backend = o.source?.backend ?? (model as Partial<{ parameters(): Tensor[] }>).parameters?.()[0]?.backend;
  const idsTensor = (data: number[], t: number) => tensor(Int32Array.from(data), [B, t], { dtype: 'int32', ...(backend ? { backend } : {}) });

  noGrad(() => {
    const cache = o.useCache ? model.createCache(B, total, o.source) : null;
    try {
      let fed = 0; // tokens already in the cache
      for (let step = 0; step < o.maxNewTokens; step++) {
        const len = seqs[0].length;
        const logits = tidy(() => {
          let out: Tensor;
          if (cache) {
            const t = len - fed;
            const flat: number[] = [];
            for (const s of seqs) flat.push(...s.slice(fed));
            out = model.forwardCached(idsTensor(flat, t), cache);
            fed = len;
          } else {
            out = model.logits(idsTensor(seqs.flat(), len), o.source);
          }
          // Only the last position's logits: [B, V].
          const T = out.shape[1];
          const d = out.data() as Float32Array;
          const last = new Float32Array(B * V);
          for (let b = 0; b < B; b++) last.set(d.subarray((b * T + T - 1) * V, (b * T + T) * V), b * V);
          return last;
        });
        for (let b = 0; b < B; b++) {
          const next = done[b] ? o.stopToken! : pick(logits, b * V, V, o.greedy, o.temperature, o.topK, g);
          seqs[b].push(next);
          if (o.stopToken !== undefined && next === o.stopToken) done[b] = true;
        }
        if (done.every(Boolean)) {
          for (const s of seqs) while (s.length < total) s.push(o.stopToken!);
          break;
        }
      }
    } finally {
      cache?.dispose();
    }
  });
  return idsTensor(seqs.flat(), total);
}
