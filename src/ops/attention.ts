/**
 * scaledDotProductAttention: softmax(Q·Kᵀ·scale + mask)·V as one fused kernel
 * pair (forward and backward), with causal, key-padding and additive masks,
 * attention-weight dropout, and the weights returned on request.
 *
 *   q [B, Tq, H, D], k [B, Tk, H, D], v [B, Tk, H, D]   →   out [B, Tq, H, D]
 *   (or [B, T, D] for a single head)
 *
 * Layout: heads are the innermost-but-one dimension, [B, T, H, D], which is a
 * free view (reshape) of the [B, T, H·D] output of a projection — no permute
 * copy before or after attention. (PyTorch's F.scaled_dot_product_attention
 * takes [B, H, T, D]: permute(0, 2, 1, 3) converts.)
 *
 * Masks, all optional, combined:
 *   mask            additive float32 mask broadcastable to [B, H, Tq, Tk]
 *                   (0 keeps, −Infinity blocks, other values bias the score);
 *                   it may require grad (a learned bias): dmask = dS.
 *   keyPaddingMask  [B, Tk], int32 or float32: nonzero marks a padding key
 *                   that no query may attend to (PyTorch's key_padding_mask).
 *   causal          query i sees keys j ≤ i + (Tk − Tq): the usual
 *                   lower-triangular mask when Tq = Tk, aligned to the last
 *                   key otherwise (what cached decoding needs). Costs half the
 *                   work of an explicit mask: masked tiles are skipped.
 * A query whose keys are all masked gets an output of zeros (not NaN).
 *
 * Memory: the forward saves one float per query row (the log-sum-exp) and the
 * backward recomputes the scores tile by tile, so training never holds a
 * [B, H, Tq, Tk] matrix unless the weights are requested (`returnWeights`),
 * and those are detached (for inspection, not differentiated).
 *
 * Kernels: attention_fwd / attention_bwd (assembly/attention.ts,
 * src/backend/js/attention.ts).
 */

import { defineOp, isGradEnabled, record } from '../autograd.js';
import type { Backend } from '../backend/index.js';
import { ConfigError, DTypeError, ShapeError, ValueError, fmtShape } from '../errors.js';
import { getGenerator } from '../random.js';
import { empty, view, type Tensor } from '../tensor.js';
import { bcast } from './arithmetic.js';
import { checkBackends, checkFloat, sameShape } from './checks.js';
import { broadcastToRaw, sumTo } from './reduce.js';
import { broadcastShapes, broadcastStrides } from './strided.js';

export interface AttentionOptions {
  /** Additive float32 mask broadcastable to [B, H, Tq, Tk]. Default none. */
  mask?: Tensor;
  /** [B, Tk], int32 or float32; nonzero = padding key (ignored). Default none. */
  keyPaddingMask?: Tensor;
  /** Mask keys after each query (aligned to the last key). Default false. */
  causal?: boolean;
  /** Multiplies Q·Kᵀ. Default 1/√D. */
  scale?: number;
  /** Probability of dropping an attention weight, in [0, 1). Default 0. */
  dropout?: number;
  /** Seed of the dropout mask, an integer in [0, 2³²). Default: drawn from the global generator. */
  seed?: number;
  /** Also return the attention weights [B, H, Tq, Tk] (detached). Default false. */
  returnWeights?: boolean;
}

export const ATTENTION_DEFAULTS = Object.freeze({
  causal: false,
  dropout: 0,
  returnWeights: false,
});
const ATTENTION_KEYS = ['mask', 'keyPaddingMask', 'causal', 'scale', 'dropout', 'seed', 'returnWeights'];

export interface AttentionResult {
  /** [B, Tq, H, D] (or [B, Tq, D]) */
  output: Tensor;
  /** softmax weights [B, H, Tq, Tk] before dropout; detached. */
  weights: Tensor;
}

/** @internal The sizes and strides the kernels take (elements). */
export interface AttentionGeometry {
  B: number;
  H: number;
  Tq: number;
  Tk: number;
  D: number;
  ldq: number;
  sqB: number;
  ldkv: number;
  skvB: number;
}

/** @internal Bytes of scratch the wasm kernels need (the layout is in assembly/attention.ts). */
export function attentionWorkspaceBytes(Tk: number, D: number): number {
  const up8 = (x: number) => Math.ceil(x / 8) * 8;
  const TkP = up8(Tk), DP = up8(D);
  return 4 * (2 * D * TkP + 4 * TkP * DP + 3 * 16 * TkP + 3 * 16 * DP);
}

/** @internal Scratch for one kernel call: a heap block on wasm, nothing on js (its kernels keep typed arrays). */
export function attentionWorkspace(be: Backend, Tk: number, D: number): Tensor | null {
  if (be.name === 'js') return null;
  return empty([attentionWorkspaceBytes(Tk, D) / 4], { backend: be });
}

interface MaskPlan {
  /** The mask the kernel reads (the user's, a converted key-padding mask, or both added), or null. */
  used: Tensor | null;
  /** Element strides of `used` over [B, H, Tq] (its last dimension is contiguous over Tk). */
  mB: number;
  mH: number;
  mQ: number;
  /** Tensors made here (freed after the backward). */
  made: Tensor[];
}

/**
 * @internal Validates the masks against the score shape [B, H, Tq, Tk]
 * without allocating anything. `where` names the layer or op in messages.
 */
export function checkAttentionMasks(
  where: string, B: number, H: number, Tq: number, Tk: number, mask?: Tensor, keyPaddingMask?: Tensor,
): void {
  const scores = [B, H, Tq, Tk];
  if (mask !== undefined) {
    checkFloat(`${where} (mask)`, mask);
    let ok = mask.rank <= 4;
    if (ok) {
      try {
        ok = sameShape(broadcastShapes(where, mask.shape, scores), scores);
      } catch {
        ok = false;
      }
    }
    if (!ok) {
      throw new ShapeError(
        `${where}: mask ${fmtShape(mask.shape)} does not broadcast to the attention scores ` +
          `[B, H, Tq, Tk] = ${fmtShape(scores)}`,
      );
    }
  }
  if (keyPaddingMask !== undefined) {
    if (keyPaddingMask.rank !== 2 || keyPaddingMask.shape[0] !== B || keyPaddingMask.shape[1] !== Tk) {
      throw new ShapeError(
        `${where}: keyPaddingMask must be [B, Tk] = ${fmtShape([B, Tk])}; got ${fmtShape(keyPaddingMask.shape)}`,
      );
    }
  }
}

/** Builds the one additive mask the kernel reads (after checkAttentionMasks). */
function planMask(be: Backend, B: number, H: number, Tq: number, Tk: number, mask?: Tensor, kpm?: Tensor): MaskPlan {
  const made: Tensor[] = [];
  let used: Tensor | null = mask ?? null;
  if (kpm !== undefined) {
    // nonzero → −∞, as [B, 1, 1, Tk]
    const add = empty([B, 1, 1, Tk], { backend: be });
    const src = kpm.ptr >>> 2, dst = add.ptr >>> 2;
    const isInt = kpm.dtype === 'int32';
    const I = be.heap.i32, F = be.heap.f32;
    for (let i = 0; i < B * Tk; i++) F[dst + i] = (isInt ? I[src + i] : F[src + i]) !== 0 ? -Infinity : 0;
    if (used === null) {
      used = add;
      made.push(add);
    } else {
      const shape = broadcastShapes('attention', used.shape, add.shape);
      used = bcast(0, used, add, shape);
      add.dispose();
      made.push(used);
    }
  }
  if (used === null) return { used, mB: 0, mH: 0, mQ: 0, made };
  const full = [B, H, Tq, Tk];
  let s = broadcastStrides(used.shape, full);
  if (s[3] !== 1 && Tk > 1) {
    // Broadcast along the keys: materialise so the kernel can read rows contiguously.
    const m = broadcastToRaw(used, full);
    for (const t of made) t.dispose();
    made.length = 0;
    made.push(m);
    used = m;
    s = broadcastStrides(full, full);
  }
  return { used, mB: s[0], mH: s[1], mQ: s[2], made };
}

interface AttnSaved {
  g: AttentionGeometry;
  /** Q, K, V are the three column blocks of one [B, T, 3·H·D] input (self-attention's fused projection). */
  packed: boolean;
  lse: Tensor;
  out: Tensor;
  plan: MaskPlan;
  hasMask: boolean;
  causal: boolean;
  scale: number;
  dropout: number;
  seed: number;
  /** The forward's probabilities [B, H, Tq, Tk] when kept for the backward (Tk ≤ STORE_PROBS_MAX_TK), else null. */
  probs: Tensor | null;
  /** probs are the backward's alone (not the weights handed to the caller): the kernels may lay them out as they like. */
  probsPrivate: boolean;
}

/**
 * Up to this many keys the forward keeps the softmax probabilities for the
 * backward, which then skips recomputing Q·Kᵀ and the exponentials
 * (FlashAttention recomputes them to keep memory O(T); for short sequences
 * the B·H·Tq·Tk floats are fewer than Q, K and V's and the recomputation is
 * a third of the backward's work). Bench transformer (B32 H4 T32 D16):
 * backward −25%, forward +4% (writing P).
 */
const STORE_PROBS_MAX_TK = 64;

const attentionOp = defineOp<AttnSaved>({
  name: 'scaled_dot_product_attention',
  backward: (gy, { inputs, saved: s }, needs) => {
    const be = gy.backend;
    const { g, plan } = s;
    const nIn = s.packed ? 1 : 3;
    const grads: (Tensor | null)[] = inputs.slice(0, nIn).map((t) => empty(t.shape, { backend: be }));
    const wantMask = s.hasMask && needs[nIn];
    const dmaskFull = wantMask ? empty([g.B, g.H, g.Tq, g.Tk], { backend: be }) : null;
    const ws = attentionWorkspace(be, g.Tk, g.D);
    // Packed: dq, dk, dv are the column blocks of one [B, T, 3·H·D] gradient (every element is written).
    const hd4 = 4 * g.H * g.D;
    const [q, k, v] = s.packed ? [inputs[0].ptr, inputs[0].ptr + hd4, inputs[0].ptr + 2 * hd4] : inputs.slice(0, 3).map((t) => t.ptr);
    const [dq, dk, dv] = s.packed ? [grads[0]!.ptr, grads[0]!.ptr + hd4, grads[0]!.ptr + 2 * hd4] : grads.map((t) => t!.ptr);
    be.k.attention_bwd(
      dq, dk, dv, dmaskFull?.ptr ?? 0, q, k, v, s.out.ptr, gy.ptr, s.lse.ptr, s.probs?.ptr ?? 0, plan.used?.ptr ?? 0, ws?.ptr ?? 0,
      g.B, g.H, g.Tq, g.Tk, g.D, g.ldq, g.sqB, g.ldkv, g.skvB, plan.mB, plan.mH, plan.mQ,
      +s.causal, s.scale, s.dropout, s.seed | 0, +s.probsPrivate,
    );
    ws?.dispose();
    for (let i = 0; i < nIn; i++) {
      if (!needs[i]) {
        grads[i]!.dispose();
        grads[i] = null;
      }
    }
    if (s.hasMask) {
      let dm: Tensor | null = null;
      if (dmaskFull) {
        const mask = inputs[nIn];
        dm = sameShape(dmaskFull.shape, mask.shape) ? dmaskFull : sumTo(dmaskFull, mask.shape);
        if (dm !== dmaskFull) dmaskFull.dispose();
      }
      grads.push(dm);
    }
    return grads;
  },
});

/** @internal Validated options with defaults. */
export interface ResolvedAttention {
  causal: boolean;
  scale: number;
  dropout: number;
  seed: number;
  returnWeights: boolean;
}

/** @internal Checks the scalar options (names the op or layer in messages). */
export function resolveAttentionOptions(where: string, o: AttentionOptions, D: number): ResolvedAttention {
  for (const key of Object.keys(o)) {
    if (!ATTENTION_KEYS.includes(key)) throw new ConfigError(`${where}: unknown option '${key}'; valid: ${ATTENTION_KEYS.join(', ')}`);
  }
  const scale = o.scale ?? 1 / Math.sqrt(Math.max(D, 1));
  if (typeof scale !== 'number' || !Number.isFinite(scale)) throw new ValueError(`${where}: scale must be a finite number; got ${o.scale}`);
  const p = o.dropout ?? 0;
  if (typeof p !== 'number' || !(p >= 0 && Math.fround(p) < 1)) throw new ValueError(`${where}: dropout must be a number in [0, 1); got ${p}`);
  let seed = 0;
  if (p > 0) {
    if (o.seed === undefined) seed = getGenerator().nextUint32();
    else if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) {
      throw new ValueError(`${where}: seed must be an integer in [0, 2^32); got ${o.seed}`);
    } else seed = o.seed;
  }
  return { causal: o.causal === true, scale, dropout: p, seed: seed >>> 0, returnWeights: o.returnWeights === true };
}

/**
 * @internal The attention forward over raw (possibly strided) q, k, v
 * pointers with no autograd: used by cached decoding, where K and V live in a
 * larger [B, Tmax, H·D] cache. Returns the output [B, Tq, H·D] (contiguous)
 * and, when asked, the weights.
 */
export function attentionForwardRaw(
  be: Backend, q: number, k: number, v: number, g: AttentionGeometry, o: ResolvedAttention,
  mask?: Tensor, keyPaddingMask?: Tensor,
): { output: Tensor; weights: Tensor | null } {
  const plan = planMask(be, g.B, g.H, g.Tq, g.Tk, mask, keyPaddingMask);
  const out = empty([g.B, g.Tq, g.H * g.D], { backend: be });
  const lse = empty([g.B * g.H * g.Tq], { backend: be });
  const weights = o.returnWeights ? empty([g.B, g.H, g.Tq, g.Tk], { backend: be }) : null;
  const ws = attentionWorkspace(be, g.Tk, g.D);
  be.k.attention_fwd(
    out.ptr, lse.ptr, weights?.ptr ?? 0, q, k, v, plan.used?.ptr ?? 0, ws?.ptr ?? 0,
    g.B, g.H, g.Tq, g.Tk, g.D, g.ldq, g.sqB, g.ldkv, g.skvB, plan.mB, plan.mH, plan.mQ,
    +o.causal, o.scale, o.dropout, o.seed | 0, 0,
  );
  ws?.dispose();
  lse.dispose();
  for (const t of plan.made) t.dispose();
  return { output: out, weights };
}

/** @internal The shapes of q, k, v as [B, T, H, D] (rank 3 is one head); throws naming `where`. */
export function attentionGeometry(where: string, q: Tensor, k: Tensor, v: Tensor): AttentionGeometry {
  const ok = (t: Tensor) => t.rank === 3 || t.rank === 4;
  const shapes = `q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)}`;
  if (!ok(q) || !ok(k) || !ok(v) || q.rank !== k.rank || k.rank !== v.rank) {
    throw new ShapeError(`${where}: q, k and v must all be [B, T, H, D] (or [B, T, D] for one head); got ${shapes}`);
  }
  const four = (t: Tensor) => (t.rank === 4 ? t.shape : [t.shape[0], t.shape[1], 1, t.shape[2]]);
  const [B, Tq, H, D] = four(q);
  const [Bk, Tk, Hk, Dk] = four(k);
  if (!sameShape(k.shape, v.shape)) throw new ShapeError(`${where}: k and v must have the same shape; got ${shapes}`);
  if (Bk !== B) throw new ShapeError(`${where}: batch sizes differ (${B} vs ${Bk}); got ${shapes}`);
  if (Hk !== H) throw new ShapeError(`${where}: head counts differ (${H} vs ${Hk}); got ${shapes}`);
  if (Dk !== D) throw new ShapeError(`${where}: head sizes differ (${D} vs ${Dk}); got ${shapes}`);
  return { B, H, Tq, Tk, D, ldq: H * D, sqB: Tq * H * D, ldkv: H * D, skvB: Tk * H * D };
}

/** Runs the forward kernel and records the op (inputs already validated). */
function runAttention(
  where: string, inputs: Tensor[], ptrs: [number, number, number], g: AttentionGeometry, outShape: readonly number[],
  options: AttentionOptions, packed: boolean,
): AttentionResult | Tensor {
  const o = resolveAttentionOptions(where, options, g.D);
  checkAttentionMasks(where, g.B, g.H, g.Tq, g.Tk, options.mask, options.keyPaddingMask);
  const kpm = options.keyPaddingMask;
  if (kpm && kpm.dtype !== 'int32' && kpm.dtype !== 'float32') throw new DTypeError(`${where}: keyPaddingMask must be int32 or float32`);
  const be = inputs[0].backend;
  const plan = planMask(be, g.B, g.H, g.Tq, g.Tk, options.mask, kpm);
  const out = empty(outShape, { backend: be });
  const lse = empty([g.B * g.H * g.Tq], { backend: be });
  const hasMask = options.mask !== undefined;
  const recorded = hasMask ? [...inputs, options.mask!] : inputs;
  const weights = o.returnWeights ? empty([g.B, g.H, g.Tq, g.Tk], { backend: be }) : null;
  // Short key sequences: keep the probabilities for the backward (see STORE_PROBS_MAX_TK).
  const storeProbs = g.Tk <= STORE_PROBS_MAX_TK && isGradEnabled() && recorded.some((t) => t.requiresGrad);
  const probs = weights !== null ? weights : storeProbs ? empty([g.B, g.H, g.Tq, g.Tk], { backend: be }) : null;
  // Probabilities only the backward reads may be kept in the kernels' own (key-major) layout.
  const probsPrivate = storeProbs && weights === null;
  const ws = attentionWorkspace(be, g.Tk, g.D);
  be.k.attention_fwd(
    out.ptr, lse.ptr, probs?.ptr ?? 0, ptrs[0], ptrs[1], ptrs[2], plan.used?.ptr ?? 0, ws?.ptr ?? 0,
    g.B, g.H, g.Tq, g.Tk, g.D, g.ldq, g.sqB, g.ldkv, g.skvB, plan.mB, plan.mH, plan.mQ,
    +o.causal, o.scale, o.dropout, o.seed | 0, +probsPrivate,
  );
  ws?.dispose();
  // The backward's copy: the probabilities themselves, or a view of the weights handed to the caller (which the caller may dispose).
  const savedProbs = !storeProbs ? null : probs === weights ? view(weights!, weights!.shape) : probs;
  const saved: AttnSaved = {
    g, packed, lse, out, plan, hasMask, causal: o.causal, scale: o.scale, dropout: o.dropout, seed: o.seed, probs: savedProbs,
    probsPrivate,
  };
  const owned = savedProbs ? [lse, savedProbs, ...plan.made] : [lse, ...plan.made];
  const output = record(attentionOp, out, recorded, saved, owned);
  return weights ? { output, weights } : output;
}

/** @internal The op with a caller-chosen name for messages (MultiHeadAttention uses it). */
export function attentionImpl(where: string, q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions): AttentionResult | Tensor {
  const inputs = [q, k, v];
  checkBackends(where, ...inputs, ...(options.mask ? [options.mask] : []), ...(options.keyPaddingMask ? [options.keyPaddingMask] : []));
  checkFloat(where, ...inputs);
  const g = attentionGeometry(where, q, k, v);
  return runAttention(where, inputs, [q.ptr, k.ptr, v.ptr], g, q.shape, options, false);
}

/**
 * @internal Self-attention over a packed projection qkv [B, T, 3·H·D] (Q, K,
 * V as its three column blocks, heads inside each) → [B, T, H·D]. The kernels
 * read the blocks in place (row stride 3·H·D) and the backward writes one
 * [B, T, 3·H·D] gradient, so the three projections run as one GEMM each way.
 */
export function attentionPackedImpl(where: string, qkv: Tensor, H: number, options: AttentionOptions): AttentionResult | Tensor {
  checkBackends(where, qkv, ...(options.mask ? [options.mask] : []), ...(options.keyPaddingMask ? [options.keyPaddingMask] : []));
  checkFloat(where, qkv);
  if (qkv.rank !== 3 || qkv.shape[2] % (3 * H) !== 0) {
    throw new ShapeError(`${where}: the packed projection must be [B, T, 3·H·D] with H = ${H}; got ${fmtShape(qkv.shape)}`);
  }
  const [B, T, C] = qkv.shape;
  const HD = C / 3;
  const g: AttentionGeometry = { B, H, Tq: T, Tk: T, D: HD / H, ldq: C, sqB: T * C, ldkv: C, skvB: T * C };
  return runAttention(where, [qkv], [qkv.ptr, qkv.ptr + 4 * HD, qkv.ptr + 8 * HD], g, [B, T, HD], options, true);
}

interface QkvSaved {
  wcat: Tensor;
  inF: number;
  d: number;
  hasBias: boolean;
}

const qkvProjectionOp = defineOp<QkvSaved>({
  name: 'qkv_projection',
  backward: (gy, { inputs, saved: s }, needs) => {
    const be = gy.backend;
    const x = inputs[0];
    const { inF, d, wcat } = s;
    const C = 3 * d;
    const rows = x.size / inF;
    const grads: (Tensor | null)[] = [null, null, null, null];
    if (needs[0]) {
      const dx = empty(x.shape, { backend: be });
      be.k.gemm(dx.ptr, gy.ptr, wcat.ptr, be.gemmWs, rows, inF, C, C, C, inF, 0, 1, 1, 0); // dX = dY·Wcatᵀ
      grads[0] = dx;
    }
    const wantW = needs[1] || needs[2] || needs[3];
    const db = s.hasBias ? empty([C], { backend: be }) : null;
    if (wantW) {
      const dw = empty([inF, C], { backend: be });
      be.k.gemm_wgrad(dw.ptr, db?.ptr ?? 0, x.ptr, gy.ptr, be.gemmWs, inF, C, rows); // dWcat = Xᵀ·dY (and dbcat)
      for (let i = 0; i < 3; i++) {
        if (!needs[1 + i]) continue;
        const w = empty([inF, d], { backend: be });
        be.k.copy_strided(w.ptr, dw.ptr + 4 * i * d, 1, 1, inF, d, 0, 0, d, 1, 0, 0, C, 1);
        grads[1 + i] = w;
      }
      dw.dispose();
    }
    if (db) {
      if (!wantW) be.k.sum_axis(db.ptr, gy.ptr, 1, rows, C);
      for (let i = 0; i < 3; i++) {
        if (!needs[4 + i]) {
          grads.push(null);
          continue;
        }
        const b = empty([d], { backend: be });
        be.k.copy_f32(b.ptr, db.ptr + 4 * i * d, d);
        grads.push(b);
      }
      db.dispose();
    }
    return grads;
  },
});

/**
 * @internal x·[wq | wk | wv] + [bq | bk | bv] as one GEMM: x [..., in], each
 * w [in, d], each b [d] (all or none) → [..., 3·d]. The concatenated weight is
 * built per call (3·in·d floats, negligible next to the product) and kept for
 * the backward, which runs one GEMM for dX and one for the stacked dW.
 */
export function qkvProjection(x: Tensor, wq: Tensor, wk: Tensor, wv: Tensor, bq?: Tensor, bk?: Tensor, bv?: Tensor): Tensor {
  const be = x.backend;
  const [inF, d] = wq.shape;
  const C = 3 * d;
  const rows = x.size / inF;
  const wcat = empty([inF, C], { backend: be });
  [wq, wk, wv].forEach((w, i) => be.k.copy_strided(wcat.ptr + 4 * i * d, w.ptr, 1, 1, inF, d, 0, 0, C, 1, 0, 0, d, 1));
  const y = empty([...x.shape.slice(0, -1), C], { backend: be });
  const hasBias = bq !== undefined;
  const bcat = hasBias ? empty([C], { backend: be }) : null;
  if (bcat) [bq!, bk!, bv!].forEach((b, i) => be.k.copy_f32(bcat.ptr + 4 * i * d, b.ptr, d));
  be.k.gemm_bias_act(y.ptr, x.ptr, wcat.ptr, be.gemmWs, bcat?.ptr ?? 0, rows, C, inF, inF, C, C, 0, 0, 0, 0);
  bcat?.dispose();
  const inputs = hasBias ? [x, wq, wk, wv, bq!, bk!, bv!] : [x, wq, wk, wv];
  return record(qkvProjectionOp, y, inputs, { wcat, inF, d, hasBias }, [wcat]);
}

/**
 * Scaled dot-product attention, softmax(q·kᵀ·scale + mask)·v, per batch
 * entry and head, as one fused kernel (see the file header for layouts and
 * masks).
 *
 * @example
 * const y = scaledDotProductAttention(q, k, v, { causal: true });    // [B,T,H,D]
 * const { output, weights } = scaledDotProductAttention(q, k, v, { returnWeights: true });
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions & { returnWeights: true }): AttentionResult;
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options?: AttentionOptions): Tensor;
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): Tensor | AttentionResult {
  return attentionImpl('scaledDotProductAttention', q, k, v, options);
}
