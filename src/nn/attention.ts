/**
 * MultiHeadAttention(dModel, numHeads): learned query, key, value and output
 * projections around the fused scaled-dot-product-attention kernel.
 *
 *   Q = query·wq + bq,   K = key·wk + bk,   V = value·wv + bv          [B, T, dModel]
 *   head h uses columns h·dHead … (h+1)·dHead of Q, K, V   (dHead = dModel / numHeads)
 *   O_h = softmax(Q_h·K_hᵀ/√dHead + mask)·V_h,   O = [O_0 … O_{H−1}]       [B, Tq, dModel]
 *   y = O·wo + bo
 *
 * Weights, all [in, out] like Linear (y = x·W):
 *
 *   wq [dModel, dModel]   wk [kdim, dModel]   wv [vdim, dModel]   wo [dModel, dModel]
 *   bq, bk, bv, bo [dModel]
 *
 * Per head h: wq[:, h·dHead:(h+1)·dHead] (likewise wk, wv, bq, bk, bv) and the
 * rows wo[h·dHead:(h+1)·dHead, :]; `headWeights(h)` returns them.
 *
 * From PyTorch's nn.MultiheadAttention (weights stored [out, in]):
 *
 *   wq = in_proj_weight[0:d].T      bq = in_proj_bias[0:d]
 *   wk = in_proj_weight[d:2d].T     bk = in_proj_bias[d:2d]
 *   wv = in_proj_weight[2d:3d].T    bv = in_proj_bias[2d:3d]
 *   wo = out_proj.weight.T          bo = out_proj.bias
 *   (with kdim/vdim ≠ d: wq = q_proj_weight.T, wk = k_proj_weight.T, wv = v_proj_weight.T)
 *
 * Default init is PyTorch's: wq, wk, wv Xavier-uniform (over the stacked
 * [3d, d] in_proj_weight when kdim = vdim = d, i.e. bound √(6/(4d))), wo
 * uniform ±1/√d (its Linear default), every bias zero.
 *
 * Layout: Q, K, V stay [B, T, dModel] and are read by the kernel as
 * [B, T, H, dHead] views, so no permute copies happen around attention. In
 * self-attention (key = value = query) the three projections run as one GEMM
 * over [wq | wk | wv] into a [B, T, 3·dModel] buffer that the kernel reads in
 * place; the backward is one GEMM for dX and one for the stacked dW.
 *
 * Self-attention: forward(x). Cross-attention: forward(query, memory) with
 * key = value = memory of another length. Masks (mask, keyPaddingMask,
 * causal) as in scaledDotProductAttention. `needWeights` returns the
 * per-head weights [B, H, Tq, Tk] (or their mean over heads) for inspection.
 *
 * Incremental decoding: pass an `AttentionCache` and the new keys/values are
 * appended to it (self-attention) or computed once from the memory
 * (cross-attention), so a new token costs O(Tk), not O(Tk²). Cached calls are
 * for inference: they are not recorded for autograd.
 */

import { noGrad } from '../autograd.js';
import { ConfigError, ShapeError, ValueError, fmtShape } from '../errors.js';
import { getInitializer } from '../init.js';
import {
  attentionForwardRaw, attentionImpl, attentionPackedImpl, checkAttentionMasks, qkvProjection, resolveAttentionOptions,
  type AttentionResult,
} from '../ops/attention.js';
import { zeros } from '../ops/creation.js';
import { linear, linearAdd } from '../ops/linear.js';
import { mean } from '../ops/reduce.js';
import { sameShape } from '../ops/checks.js';
import { reshape, slice } from '../ops/shape.js';
import { empty, keep, type Tensor } from '../tensor.js';
import { Module, parameter } from './module.js';

export interface MultiHeadAttentionOptions {
  /** Learn bq, bk, bv, bo. Default true. */
  bias?: boolean;
  /** Dropout on the attention weights while training. Default 0. */
  dropout?: number;
  /** Features of the key input. Default dModel. */
  kdim?: number;
  /** Features of the value input. Default dModel. */
  vdim?: number;
  /** Seed of the initial weights. Default: the global generator. */
  seed?: number;
}

export const MULTI_HEAD_ATTENTION_DEFAULTS = Object.freeze({ bias: true, dropout: 0 });
const MHA_KEYS = ['bias', 'dropout', 'kdim', 'vdim', 'seed'];

export interface MultiHeadAttentionCallOptions {
  /** Additive float mask broadcastable to [B, H, Tq, Tk] (0 keeps, −Infinity blocks). */
  mask?: Tensor;
  /** [B, Tk] int32 or float32, nonzero = padding key. */
  keyPaddingMask?: Tensor;
  /** Each query sees only keys up to its own position. Default false. */
  causal?: boolean;
  /** Return { output, weights } with the attention weights. Default false. */
  needWeights?: boolean;
  /** With needWeights: average the weights over heads ([B, Tq, Tk]) instead of per head ([B, H, Tq, Tk]). Default false. */
  averageWeights?: boolean;
  /** Key/value cache for incremental decoding (inference only). */
  cache?: AttentionCache;
}

/**
 * Keys and values of one attention layer kept across decoding steps.
 * A self-attention cache appends each call's new keys and values (up to
 * `capacity` positions); a cross-attention cache (`capacity` = null) is
 * filled once from the encoder memory and reused.
 */
export class AttentionCache {
  /** [B, capacity, dModel] (or [B, Tk, dModel] for a cross-attention cache), once filled. */
  k: Tensor | null = null;
  v: Tensor | null = null;
  /** Positions filled so far. */
  length = 0;

  constructor(readonly capacity: number | null) {}

  /** Frees the cached keys and values. */
  dispose(): void {
    this.k?.dispose();
    this.v?.dispose();
    this.k = this.v = null;
    this.length = 0;
  }
}

export type MultiHeadAttentionResult = AttentionResult;

export class MultiHeadAttention extends Module {
  readonly headDim: number;
  readonly kdim: number;
  readonly vdim: number;
  readonly dropout: number;
  /** [dModel, dModel] */
  readonly wq: Tensor;
  /** [dModel] or undefined */
  readonly bq: Tensor | undefined;
  /** [kdim, dModel] */
  readonly wk: Tensor;
  readonly bk: Tensor | undefined;
  /** [vdim, dModel] */
  readonly wv: Tensor;
  readonly bv: Tensor | undefined;
  /** [dModel, dModel] */
  readonly wo: Tensor;
  readonly bo: Tensor | undefined;

  /** @example new MultiHeadAttention(64, 4)   // 4 heads of 16 */
  constructor(
    readonly dModel: number,
    readonly numHeads: number,
    options: MultiHeadAttentionOptions = {},
  ) {
    super();
    for (const key of Object.keys(options)) {
      if (!MHA_KEYS.includes(key)) throw new ConfigError(`MultiHeadAttention: unknown option '${key}'; valid: ${MHA_KEYS.join(', ')}`);
    }
    for (const [name, v] of [['dModel', dModel], ['numHeads', numHeads]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ConfigError(`MultiHeadAttention: ${name} must be a positive integer; got ${v}`);
    }
    if (dModel % numHeads !== 0) {
      throw new ConfigError(`MultiHeadAttention: dModel ${dModel} is not divisible by numHeads ${numHeads}`);
    }
    const o = { ...MULTI_HEAD_ATTENTION_DEFAULTS, ...options };
    this.kdim = o.kdim ?? dModel;
    this.vdim = o.vdim ?? dModel;
    for (const [name, v] of [['kdim', this.kdim], ['vdim', this.vdim]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ConfigError(`MultiHeadAttention: ${name} must be a positive integer; got ${v}`);
    }
    if (typeof o.dropout !== 'number' || !(o.dropout >= 0 && o.dropout < 1)) {
      throw new ConfigError(`MultiHeadAttention: dropout must be in [0, 1); got ${o.dropout}`);
    }
    this.dropout = o.dropout;
    this.headDim = dModel / numHeads;
    const seed = o.seed;
    const sd = (k: number) => (seed === undefined ? undefined : seed + k);
    const xavier = getInitializer('xavierUniform');
    const same = this.kdim === dModel && this.vdim === dModel;
    // PyTorch initialises the stacked [3d, d] in_proj_weight at once: fanIn d, fanOut 3d.
    const proj = (inF: number, k: number) =>
      xavier([inF, dModel], same ? { fanIn: dModel, fanOut: 3 * dModel, seed: sd(k) } : { seed: sd(k) });
    const bias = () => (o.bias ? parameter(zeros([dModel])) : undefined);
    this.wq = parameter(proj(dModel, 0));
    this.bq = bias();
    this.wk = parameter(proj(this.kdim, 1));
    this.bk = bias();
    this.wv = parameter(proj(this.vdim, 2));
    this.bv = bias();
    const bound = 1 / Math.sqrt(dModel);
    this.wo = parameter(getInitializer('uniform')([dModel, dModel], { low: -bound, high: bound, seed: sd(3) }));
    this.bo = bias();
  }

  forward(query: Tensor, key?: Tensor, value?: Tensor): Tensor;
  forward(
    query: Tensor, key: Tensor | undefined, value: Tensor | undefined,
    options: MultiHeadAttentionCallOptions & { needWeights: true },
  ): MultiHeadAttentionResult;
  forward(query: Tensor, key: Tensor | undefined, value: Tensor | undefined, options: MultiHeadAttentionCallOptions): Tensor;
  /**
   * query [B, Tq, dModel], key [B, Tk, kdim] and value [B, Tk, vdim] (default:
   * key = query, value = key) → [B, Tq, dModel].
   */
  forward(query: Tensor, key?: Tensor, value?: Tensor, options: MultiHeadAttentionCallOptions = {}): Tensor | MultiHeadAttentionResult {
    return this.run(query, key, value, options, undefined);
  }

  /**
   * @internal residual + forward(query, key, value, options), the residual
   * added inside the output projection's GEMM (linearAdd): a transformer
   * layer's skip connection around this block when no dropout sits between.
   * Same bits as add(residual, forward(…)).
   */
  forwardResidual(
    residual: Tensor, query: Tensor, key: Tensor | undefined, value: Tensor | undefined, options: MultiHeadAttentionCallOptions,
  ): Tensor | MultiHeadAttentionResult {
    return this.run(query, key, value, options, residual);
  }

  private run(
    query: Tensor, key: Tensor | undefined, value: Tensor | undefined, options: MultiHeadAttentionCallOptions,
    residual: Tensor | undefined,
  ): Tensor | MultiHeadAttentionResult {
    const where = 'MultiHeadAttention';
    const valid = ['mask', 'keyPaddingMask', 'causal', 'needWeights', 'averageWeights', 'cache'];
    for (const k of Object.keys(options)) {
      if (!valid.includes(k)) throw new ConfigError(`${where}: unknown option '${k}'; valid: ${valid.join(', ')}`);
    }
    key ??= query;
    value ??= key;
    const { dModel, numHeads: H } = this;
    const cache = options.cache;
    const staticCache = cache !== undefined && cache.capacity === null && cache.k !== null;
    // Validate everything before any allocation.
    const check3 = (name: string, t: Tensor, features: number) => {
      if (t.rank !== 3 || t.shape[2] !== features) {
        throw new ShapeError(`${where}: ${name} must be [B, T, ${features}]; got ${fmtShape(t.shape)}`);
      }
    };
    check3('query', query, dModel);
    if (residual !== undefined && !sameShape(residual.shape, query.shape)) {
      throw new ShapeError(`${where}: residual must have the query's shape ${fmtShape(query.shape)}; got ${fmtShape(residual.shape)}`);
    }
    if (!staticCache) {
      check3('key', key, this.kdim);
      check3('value', value, this.vdim);
    }
    const B = query.shape[0], Tq = query.shape[1];
    if (!staticCache) {
      if (key.shape[0] !== B || value.shape[0] !== B) {
        throw new ShapeError(
          `${where}: batch sizes differ: query ${fmtShape(query.shape)}, key ${fmtShape(key.shape)}, value ${fmtShape(value.shape)}`,
        );
      }
      if (key.shape[1] !== value.shape[1]) {
        throw new ShapeError(`${where}: key and value lengths differ: key ${fmtShape(key.shape)}, value ${fmtShape(value.shape)}`);
      }
    }
    let Tk: number;
    if (cache === undefined) Tk = key.shape[1];
    else if (cache.capacity === null) Tk = staticCache ? cache.length : key.shape[1];
    else {
      Tk = cache.length + Tq;
      if (Tk > cache.capacity) {
        throw new ValueError(
          `${where}: the key/value cache holds ${cache.capacity} positions; ${Tk} are needed (${cache.length} cached + ${Tq} new)`,
        );
      }
      if (cache.k !== null && cache.k.shape[0] !== B) {
        throw new ShapeError(`${where}: the cache was made for batch ${cache.k.shape[0]}; got a query of batch ${B}`);
      }
    }
    checkAttentionMasks(where, B, H, Tq, Tk, options.mask, options.keyPaddingMask);
    const o = resolveAttentionOptions(where, {
      causal: options.causal, dropout: this.training && cache === undefined ? this.dropout : 0,
      returnWeights: options.needWeights === true,
    }, this.headDim);

    let out: Tensor;
    let weights: Tensor | null = null;
    const attnOptions = {
      mask: options.mask, keyPaddingMask: options.keyPaddingMask, causal: o.causal, dropout: o.dropout,
      ...(o.dropout > 0 ? { seed: o.seed } : {}), returnWeights: o.returnWeights,
    };
    const split = (r: Tensor | AttentionResult) => {
      if (o.returnWeights) {
        const rr = r as AttentionResult;
        weights = rr.weights;
        return rr.output;
      }
      return r as Tensor;
    };
    if (cache === undefined && key === query && value === query && this.kdim === dModel && this.vdim === dModel) {
      // Self-attention: Q, K and V from one GEMM over [wq | wk | wv], read in place by the kernel.
      const qkv = qkvProjection(query, this.wq, this.wk, this.wv, this.bq, this.bk, this.bv);
      out = split(attentionPackedImpl(where, qkv, H, attnOptions));
    } else if (cache === undefined) {
      const q = reshape(linear(query, this.wq, this.bq), [B, Tq, H, this.headDim]);
      const k = reshape(linear(key, this.wk, this.bk), [B, Tk, H, this.headDim]);
      const v = reshape(linear(value, this.wv, this.bv), [B, Tk, H, this.headDim]);
      out = reshape(split(attentionImpl(where, q, k, v, attnOptions)), [B, Tq, dModel]);
    } else {
      ({ out, weights } = noGrad(() => this.cachedAttention(query, key!, value!, cache, Tk, o, options)));
    }
    const y = residual ? linearAdd(out, this.wo, this.bo, residual) : linear(out, this.wo, this.bo);
    if (!options.needWeights) return y;
    const w = options.averageWeights ? noGrad(() => mean(weights!, 1)) : weights!;
    return { output: y, weights: w };
  }

  /** Attention against the cache (no autograd): appends or fills K/V, then one kernel call. */
  private cachedAttention(
    query: Tensor, key: Tensor, value: Tensor, cache: AttentionCache, Tk: number,
    o: ReturnType<typeof resolveAttentionOptions>, options: MultiHeadAttentionCallOptions,
  ): { out: Tensor; weights: Tensor | null } {
    const { dModel: d, numHeads: H, headDim: D } = this;
    const B = query.shape[0], Tq = query.shape[1];
    const be = query.backend;
    const q = linear(query, this.wq, this.bq);
    let ldkv: number, skvB: number;
    if (cache.capacity === null) {
      if (cache.k === null) {
        cache.k = keep(linear(key, this.wk, this.bk));
        cache.v = keep(linear(value, this.wv, this.bv));
        cache.length = key.shape[1];
      }
      ldkv = d;
      skvB = cache.length * d;
    } else {
      if (cache.k === null) {
        cache.k = keep(empty([B, cache.capacity, d], { backend: be }));
        cache.v = keep(empty([B, cache.capacity, d], { backend: be }));
      }
      const kNew = linear(key, this.wk, this.bk);
      const vNew = linear(value, this.wv, this.bv);
      // Rows [length, length + Tq) of every batch entry's cache.
      const at = 4 * cache.length * d;
      const cap = cache.capacity;
      be.k.copy_strided(cache.k.ptr + at, kNew.ptr, 1, B, Tq, d, 0, cap * d, d, 1, 0, Tq * d, d, 1);
      be.k.copy_strided(cache.v!.ptr + at, vNew.ptr, 1, B, Tq, d, 0, cap * d, d, 1, 0, Tq * d, d, 1);
      kNew.dispose();
      vNew.dispose();
      cache.length += Tq;
      ldkv = d;
      skvB = cap * d;
    }
    const r = attentionForwardRaw(
      be, q.ptr, cache.k.ptr, cache.v!.ptr, { B, H, Tq, Tk, D, ldq: d, sqB: Tq * d, ldkv, skvB }, o,
      options.mask, options.keyPaddingMask,
    );
    q.dispose();
    return { out: r.output, weights: r.weights };
  }

  /**
   * The slices of the weights that belong to head h: wq, wk, wv [in, dHead]
   * (columns h·dHead … (h+1)·dHead), wo [dHead, dModel] (rows), and the bias
   * slices [dHead]. Differentiable (slices of the parameters).
   */
  headWeights(h: number): { wq: Tensor; wk: Tensor; wv: Tensor; wo: Tensor; bq?: Tensor; bk?: Tensor; bv?: Tensor } {
    if (!Number.isInteger(h) || h < 0 || h >= this.numHeads) {
      throw new ValueError(`MultiHeadAttention: head ${h} is out of range for ${this.numHeads} heads`);
    }
    const a = h * this.headDim, b = a + this.headDim;
    const r: { wq: Tensor; wk: Tensor; wv: Tensor; wo: Tensor; bq?: Tensor; bk?: Tensor; bv?: Tensor } = {
      wq: slice(this.wq, 1, a, b), wk: slice(this.wk, 1, a, b), wv: slice(this.wv, 1, a, b), wo: slice(this.wo, 0, a, b),
    };
    if (this.bq) r.bq = slice(this.bq, 0, a, b);
    if (this.bk) r.bk = slice(this.bk, 0, a, b);
    if (this.bv) r.bv = slice(this.bv, 0, a, b);
    return r;
  }
}
