/**
 * Recurrent layers as single ops: one autograd op runs a whole sequence
 * through one layer in one direction, and its backward runs backpropagation
 * through time itself. Weights are shared across steps, so their gradients
 * are sums over steps — computed here as single GEMMs over all steps at once.
 *
 *   lstmLayer  gates = x_t·W_ih + b_ih + h_{t−1}·W_hh + b_hh   [N, 4H] = i | f | g | o
 *              i, f, o = σ(·), g = tanh(·),  c_t = f⊙c_{t−1} + i⊙g,  h_t = o⊙tanh(c_t)
 *   gruLayer   [N, 3H] = r | z | n
 *              r = σ(x·W_ir + b_ir + h·W_hr + b_hr),  z = σ(x·W_iz + b_iz + h·W_hz + b_hz)
 *              n = tanh(x·W_in + b_in + r⊙(h·W_hn + b_hn)),  h_t = (1 − z)⊙n + z⊙h_{t−1}
 *   rnnLayer   h_t = tanh(x_t·W_ih + b_ih + h_{t−1}·W_hh + b_hh)   (or relu)
 *
 * These are PyTorch's equations and gate orders (torch.nn.LSTM / GRU / RNN).
 * Weights are stored [in, out] as everywhere in wasmgrad: W_ih is [I, G·H]
 * and W_hh is [H, G·H] with the gates in column blocks (G = 4, 3, 1); PyTorch's
 * weight_ih_l0 is the transpose, [G·H, I].
 *
 * Forward (T steps, N sequences, time-major scratch):
 *   Xt  [T, N, I]   = x permuted (batch-first input)  — one copy
 *   P   [T, N, G·H] = Xt·W_ih                          — ONE product for all steps
 *   W_hh packed once into panels (rnn_pack_weights), then per step t:
 *     P[t] += h_{t−1}·W_hh                             — rnn_matmul_packed (beta = 1)
 *     fused cell kernel (lstm/gru/rnn_cell_fwd)        — biases, gates, c_t, h_t, output row
 * Backward, steps in reverse (W_hhᵀ packed once):
 *   fused cell-backward kernel → dP[t];  dh_{t−1} += dP[t]·W_hhᵀ (rnn_matmul_packed)
 *   then, over all steps at once:  dW_ih = Xtᵀ·dP,  dW_hh = Hprevᵀ·dP (products
 *   over T·N rows in chunks of KC rows, each chunk of dP packed once for both),
 *   db = Σ dP, dx = dP·W_ihᵀ (gemm()).
 * So a layer costs about 2T + 4 kernel calls forward and 2T + 2T·N/KC + 4
 * backward, whatever its size; the JS side only walks the steps.
 *
 * Every product but dx runs on rnn_matmul_packed (B packed into 8-column
 * panels, A packed per call, a 4×8 register tile): on the benchmark's LSTM it
 * measured ~5–10% faster end to end than gemm() for the input projection and
 * the weight gradients, and ~30% faster per step than a gemm() call that
 * re-packs W_hh every step.
 *
 * Hidden states are kept time-major in Hs [T+1, N, H], laid out so that the
 * state entering each time step t is one contiguous block for both directions:
 *
 *   forward:  Hs[0] = h0, Hs[t+1] = h_t          state entering t = Hs[t]
 *   reverse:  Hs[T] = h0, Hs[t]   = h_t          state entering t = Hs[t+1]
 *
 * so Hprev = Hs[0:T] (forward) or Hs[1:T+1] (reverse) and dW_hh is one GEMM.
 *
 * The op's single output packs [output | h_n | c_n] in one block; `output`,
 * `h` and `c` are views of it (slice + reshape), so gradients reaching any of
 * them flow into the one backward.
 *
 * Variable lengths: steps past a sequence's length (or where `mask` is 0)
 * leave its state unchanged and output zeros; the reverse direction starts at
 * each sequence's last valid step (PyTorch's packed-sequence semantics).
 *
 * Truncated BPTT (`truncate: k`): the state entering steps k, 2k, … (counted
 * in processing order) is treated as a constant, so gradients flow back at
 * most k steps. The other way — running a long sequence in chunks and
 * carrying the state between them — uses `detach`.
 */

import { defineOp, record } from '../autograd.js';
import { ConfigError, DTypeError, ShapeError, ValueError, fmtShape } from '../errors.js';
import { empty, Tensor, tensor, view } from '../tensor.js';
import { checkBackends } from './checks.js';
import { reshape, slice } from './shape.js';

export type RecurrentMode = 'lstm' | 'gru' | 'rnn';

/** Valid steps per sequence: an int32 tensor [N], an Int32Array or a number[]; each in 1..T. */
export type Lengths = Tensor | Int32Array | readonly number[];

export interface RecurrentLayerOptions {
  /** Run from the last step to the first (the reverse half of a bidirectional layer). Default false. */
  reverse?: boolean;
  /** x and output are [N, T, ·] (true) or time-major [T, N, ·] (false). Default true. */
  batchFirst?: boolean;
  /** Valid steps of each sequence (1..T); later steps are padding. Default: every step is valid. */
  lengths?: Lengths;
  /** Alternative to `lengths`: [N, T] (batch-first) or [T, N], nonzero where a step is valid. Default: none. */
  mask?: Tensor;
  /** Truncated BPTT: cut the gradient through the state every `truncate` steps (0 = full BPTT). Default 0. */
  truncate?: number;
  /** rnnLayer only: 'tanh' or 'relu'. Default 'tanh'. */
  nonlinearity?: 'tanh' | 'relu';
  /** @internal Name used in error messages (the layer: 'LSTM'). Default: the op's name. */
  where?: string;
}

export const RECURRENT_LAYER_DEFAULTS = Object.freeze({
  reverse: false,
  batchFirst: true,
  truncate: 0,
  nonlinearity: 'tanh' as 'tanh' | 'relu',
});

const OPTION_KEYS = ['reverse', 'batchFirst', 'lengths', 'mask', 'truncate', 'nonlinearity', 'where'];

export interface RecurrentLayerResult {
  /** Every step's output: [N, T, H] (batch-first) or [T, N, H]. Zeros at padded steps. */
  output: Tensor;
  /** The final hidden state [N, H] (for each sequence, after its last valid step). */
  h: Tensor;
  /** lstmLayer only: the final cell state [N, H]. */
  c?: Tensor;
}

// ─── masks ─────────────────────────────────────────────────────────────────

/** @internal Per-step validity, time-major, plus each sequence's last valid step. */
export interface StepMask {
  /** int32 [T·N], time-major: valid[t·N + n]; null when every step is valid. */
  valid: Int32Array | null;
  /** Last valid time index of each sequence (T − 1 when all valid). */
  last: Int32Array;
}

/**
 * @internal Validates `lengths` or `mask` for a batch of N sequences of T
 * steps and turns them into time-major validity. Throws naming `where` and
 * the input's shape.
 */
export function resolveStepMask(
  where: string, xShape: readonly number[], N: number, T: number, batchFirst: boolean,
  lengths: Lengths | undefined, mask: Tensor | undefined,
): StepMask {
  const last = new Int32Array(N).fill(T - 1);
  if (lengths !== undefined && mask !== undefined) {
    throw new ConfigError(`${where}: pass either lengths or mask, not both`);
  }
  if (lengths !== undefined) {
    let L: ArrayLike<number>;
    if (Array.isArray(lengths) || lengths instanceof Int32Array) L = lengths as ArrayLike<number>;
    else if (lengths instanceof Tensor) {
      const t = lengths;
      if (t.dtype !== 'int32') throw new DTypeError(`${where}: lengths must be int32; got ${t.describe()}`);
      if (t.rank !== 1) throw new ShapeError(`${where}: lengths must be [${N}] (one per sequence); got ${fmtShape(t.shape)}`);
      L = t.data();
    } else {
      throw new ValueError(`${where}: lengths must be an int32 tensor, an Int32Array or an array of numbers`);
    }
    if (L.length !== N) {
      throw new ShapeError(`${where}: lengths has ${L.length} entries but the batch has ${N} sequences (input ${fmtShape(xShape)})`);
    }
    let full = true;
    for (let n = 0; n < N; n++) {
      const l = L[n];
      if (!Number.isInteger(l) || l < 1 || l > T) {
        throw new ValueError(
          `${where}: lengths[${n}] = ${l} ${l > T ? `exceeds the sequence length ${T}` : 'must be an integer ≥ 1'} ` +
            `(input ${fmtShape(xShape)})`,
        );
      }
      if (l !== T) full = false;
      last[n] = l - 1;
    }
    if (full) return { valid: null, last };
    const valid = new Int32Array(T * N);
    for (let n = 0; n < N; n++) for (let t = 0; t < L[n]; t++) valid[t * N + n] = 1;
    return { valid, last };
  }
  if (mask !== undefined) {
    const want = batchFirst ? [N, T] : [T, N];
    if (mask.rank !== 2 || mask.shape[0] !== want[0] || mask.shape[1] !== want[1]) {
      throw new ShapeError(
        `${where}: mask must be ${fmtShape(want)} (${batchFirst ? 'batch, time' : 'time, batch'}) for input ` +
          `${fmtShape(xShape)}; got ${fmtShape(mask.shape)}`,
      );
    }
    const m = mask.data();
    const valid = new Int32Array(T * N);
    let full = true;
    for (let n = 0; n < N; n++) {
      let lastN = -1;
      for (let t = 0; t < T; t++) {
        const v = m[batchFirst ? n * T + t : t * N + n] !== 0 ? 1 : 0;
        valid[t * N + n] = v;
        if (v) lastN = t;
        else full = false;
      }
      if (lastN < 0) {
        throw new ValueError(`${where}: mask row ${n} has no valid step (every sequence needs at least one)`);
      }
      last[n] = lastN;
    }
    return { valid: full ? null : valid, last };
  }
  return { valid: null, last };
}

// ─── the op ────────────────────────────────────────────────────────────────

interface Saved {
  mode: RecurrentMode;
  N: number;
  T: number;
  I: number;
  H: number;
  /** Gate width: 4H, 3H or H. */
  GH: number;
  reverse: boolean;
  batchFirst: boolean;
  truncate: number;
  relu: boolean;
  /** Input positions in node.inputs (−1 when absent). */
  ix: { x: number; h0: number; c0: number; wIh: number; wHh: number; bIh: number; bHh: number };
  xt: Tensor;
  /** LSTM: activations [T,N,4H]; GRU: r|z|n|hn [T,N,4H]; RNN: unused. */
  act: Tensor | null;
  hs: Tensor;
  cs: Tensor | null;
  /** LSTM: tanh(c_t) [T, N, H]. */
  tcs: Tensor | null;
  mask: Tensor | null;
}

const GATES: Record<RecurrentMode, number> = { lstm: 4, gru: 3, rnn: 1 };
const OP_NAMES: Record<RecurrentMode, string> = { lstm: 'lstmLayer', gru: 'gruLayer', rnn: 'rnnLayer' };

function makeOp(mode: RecurrentMode) {
  return defineOp<Saved>({ name: OP_NAMES[mode], backward: (gy, node, needs) => recurrentBackward(gy, node.inputs, node.saved, needs) });
}
const OPS = { lstm: makeOp('lstm'), gru: makeOp('gru'), rnn: makeOp('rnn') };

/**
 * op(W_hh) packed once for every step's product (rnn_pack_weights): k rows, n
 * columns, transposed for the backward's dgates·W_hhᵀ.
 */
function packWeights(w: Tensor, k: number, n: number, trans: boolean): Tensor {
  const p = empty([Math.ceil(n / 8) * 8 * k], { backend: w.backend });
  w.backend.k.rnn_pack_weights(p.ptr, w.ptr, k, n, w.shape[1], trans ? 1 : 0);
  return p;
}

/**
 * Scratch for rnn_matmul_packed's packed A block ([m, k], rows padded to 4:
 * its mix of 5- and 4-row panels never pads more than that).
 */
function stepWorkspace(be: Tensor['backend'], m: number, k: number): Tensor {
  return empty([Math.ceil(m / 4) * 4 * k], { backend: be });
}

/** Rows of a weight-gradient product packed per call (a chunk of B is KC·8 floats per panel: 8 KiB, L1-resident). */
const KC = 256;

/** One weight gradient C [m, n] = Σ_{lo ≤ r < hi} A[r]ᵀ·B[r] (A rows of m floats at byte pointer a). */
interface WeightGradTarget {
  c: Tensor;
  a: number;
  m: number;
  lo: number;
  hi: number;
}

/**
 * Weight gradients summed over every time step: for each target, C = Aᵀ·B
 * over its rows of B [rows, n] (time-major dgates, byte pointer b). Runs on
 * the recurrent kernel in chunks of up to KC rows: each chunk of B is packed
 * into panels once and multiplied by every target whose rows cover it (dW_ih
 * and dW_hh share the packing), Aᵀ packed by the kernel, accumulating into C.
 */
function weightGrads(b: number, n: number, rows: number, targets: WeightGradTarget[]): void {
  if (targets.length === 0) return;
  const be = targets[0].c.backend, k = be.k;
  const cuts = [...new Set([0, rows, ...targets.flatMap((t) => [t.lo, t.hi])])].sort((x, y) => x - y);
  const kc = Math.max(1, Math.min(KC, rows));
  const bp = empty([Math.ceil(n / 8) * 8 * kc], { backend: be });
  const ws = empty([Math.ceil(Math.max(...targets.map((t) => t.m)) / 4) * 4 * kc], { backend: be });
  const started = targets.map(() => false);
  for (let s = 0; s + 1 < cuts.length; s++) {
    for (let r0 = cuts[s]; r0 < cuts[s + 1]; r0 += kc) {
      const len = Math.min(kc, cuts[s + 1] - r0);
      const active = targets.filter((t) => t.lo <= r0 && r0 + len <= t.hi);
      if (active.length === 0) continue;
      k.rnn_pack_weights(bp.ptr, b + 4 * r0 * n, len, n, n, 0);
      for (const t of active) {
        const i = targets.indexOf(t);
        k.rnn_matmul_packed(t.c.ptr, t.a + 4 * r0 * t.m, bp.ptr, ws.ptr, t.m, n, len, t.m, n, 1, started[i] ? 1 : 0);
        started[i] = true;
      }
    }
  }
  targets.forEach((t, i) => started[i] || k.fill_f32(t.c.ptr, t.m * n, 0));
  bp.dispose();
  ws.dispose();
}

/** Byte pointer of time step t's block in a time-major [·, N, W] buffer. */
const at = (t: Tensor, step: number, rowElems: number) => t.ptr + 4 * step * rowElems;

function recurrentForward(
  mode: RecurrentMode, x: Tensor, h0: Tensor | undefined, c0: Tensor | undefined,
  wIh: Tensor, wHh: Tensor, bIh: Tensor | undefined, bHh: Tensor | undefined,
  o: { reverse: boolean; batchFirst: boolean; truncate: number; relu: boolean }, stepMask: StepMask,
): RecurrentLayerResult {
  const be = x.backend, k = be.k;
  const [d0, d1, I] = x.shape;
  const [N, T] = o.batchFirst ? [d0, d1] : [d1, d0];
  const H = wHh.shape[0];
  const GH = GATES[mode] * H;
  const NH = N * H;
  const owned: Tensor[] = [];

  // Xt [T, N, I]: time-major input.
  let xt = x;
  if (o.batchFirst && T > 1 && N > 1) {
    xt = empty([T, N, I], { backend: be });
    k.copy_strided(xt.ptr, x.ptr, 1, T, N, I, 0, N * I, I, 1, 0, I, T * I, 1);
    owned.push(xt);
  }
  // P [T, N, GH] = Xt·W_ih; the cell kernels add the biases (b_ih + b_hh
  // combined for LSTM and RNN, separately for GRU, where b_hn sits inside r⊙(·)).
  const pre = empty([T, N, GH], { backend: be });
  {
    // One product for every step, on the recurrent kernel (W_ih packed once).
    const wpi = packWeights(wIh, I, GH, false);
    const xws = stepWorkspace(be, T * N, I);
    k.rnn_matmul_packed(pre.ptr, xt.ptr, wpi.ptr, xws.ptr, T * N, GH, I, I, GH, 0, 0);
    wpi.dispose();
    xws.dispose();
  }
  let bias: Tensor | undefined;
  if (mode !== 'gru' && bIh && bHh) {
    bias = empty([GH], { backend: be });
    k.add_f32(bias.ptr, bIh.ptr, bHh.ptr, GH);
  } else if (mode !== 'gru') bias = bIh ?? bHh;
  const biasPtr = bias ? bias.ptr : 0;

  const hs = empty([T + 1, N, H], { backend: be });
  const cs = mode === 'lstm' ? empty([T + 1, N, H], { backend: be }) : null;
  const tcs = mode === 'lstm' ? empty([T, N, H], { backend: be }) : null; // tanh(c_t), for the backward
  const h0Slot = o.reverse ? T : 0;
  const finalSlot = o.reverse ? 0 : T;
  if (h0) k.copy_f32(at(hs, h0Slot, NH), h0.ptr, NH);
  else k.fill_f32(at(hs, h0Slot, NH), NH, 0);
  if (cs) {
    if (c0) k.copy_f32(at(cs, h0Slot, NH), c0.ptr, NH);
    else k.fill_f32(at(cs, h0Slot, NH), NH, 0);
  }
  let mask: Tensor | null = null;
  if (stepMask.valid) {
    mask = tensor(stepMask.valid, [T, N], { dtype: 'int32', backend: be });
    owned.push(mask);
  }
  const maskAt = (t: number) => (mask ? mask.ptr + 4 * t * N : 0);

  const extra = mode === 'lstm' ? 2 : 1;
  const out = empty([N * T * H + extra * NH], { backend: be });
  const ldy = o.batchFirst ? T * H : H;
  const yAt = (t: number) => out.ptr + 4 * (o.batchFirst ? t * H : t * NH);

  // Per step: the recurrent product on W_hh packed once; skipped at the first
  // step when h0 is zeros.
  const wp = packWeights(wHh, H, GH, false);
  const aws = stepWorkspace(be, N, H);
  const zeroStart = h0 === undefined;
  let act: Tensor | null = null;
  if (mode === 'lstm') {
    act = pre; // activations overwrite the pre-activations in place
    for (let s = 0; s < T; s++) {
      const t = o.reverse ? T - 1 - s : s;
      const prev = o.reverse ? t + 1 : t, next = o.reverse ? t : t + 1;
      const g = at(pre, t, N * GH);
      if (s > 0 || !zeroStart) k.rnn_matmul_packed(g, at(hs, prev, NH), wp.ptr, aws.ptr, N, GH, H, H, GH, 0, 1);
      k.lstm_cell_fwd(
        at(hs, next, NH), at(cs!, next, NH), at(tcs!, t, NH), yAt(t), g, g, biasPtr, at(hs, prev, NH), at(cs!, prev, NH),
        maskAt(t), N, H, ldy,
      );
    }
  } else if (mode === 'gru') {
    act = empty([T, N, 4 * H], { backend: be });
    const gh = empty([N, GH], { backend: be });
    for (let s = 0; s < T; s++) {
      const t = o.reverse ? T - 1 - s : s;
      const prev = o.reverse ? t + 1 : t, next = o.reverse ? t : t + 1;
      if (s > 0 || !zeroStart) k.rnn_matmul_packed(gh.ptr, at(hs, prev, NH), wp.ptr, aws.ptr, N, GH, H, H, GH, 0, 0);
      else k.fill_f32(gh.ptr, N * GH, 0);
      k.gru_cell_fwd(
        at(hs, next, NH), yAt(t), at(act, t, N * 4 * H), at(pre, t, N * GH), gh.ptr, bIh ? bIh.ptr : 0,
        bHh ? bHh.ptr : 0, at(hs, prev, NH), maskAt(t), N, H, ldy,
      );
    }
    gh.dispose();
    pre.dispose();
  } else {
    for (let s = 0; s < T; s++) {
      const t = o.reverse ? T - 1 - s : s;
      const prev = o.reverse ? t + 1 : t, next = o.reverse ? t : t + 1;
      const p = at(pre, t, NH);
      if (s > 0 || !zeroStart) k.rnn_matmul_packed(p, at(hs, prev, NH), wp.ptr, aws.ptr, N, H, H, H, H, 0, 1);
      k.rnn_cell_fwd(at(hs, next, NH), yAt(t), p, biasPtr, at(hs, prev, NH), maskAt(t), N, H, ldy, o.relu ? 1 : 0);
    }
    pre.dispose();
  }
  wp.dispose();
  aws.dispose();
  if (bias && bias !== bIh && bias !== bHh) bias.dispose();
  k.copy_f32(out.ptr + 4 * N * T * H, at(hs, finalSlot, NH), NH);
  if (cs) k.copy_f32(out.ptr + 4 * (N * T * H + NH), at(cs, finalSlot, NH), NH);

  const inputs: Tensor[] = [x];
  const ix = { x: 0, h0: -1, c0: -1, wIh: -1, wHh: -1, bIh: -1, bHh: -1 };
  const push = (t: Tensor | undefined, key: keyof typeof ix) => {
    if (t) {
      ix[key] = inputs.length;
      inputs.push(t);
    }
  };
  push(h0, 'h0');
  push(c0, 'c0');
  push(wIh, 'wIh');
  push(wHh, 'wHh');
  push(bIh, 'bIh');
  push(bHh, 'bHh');
  if (act) owned.push(act);
  owned.push(hs);
  if (cs) owned.push(cs, tcs!);
  const saved: Saved = {
    mode, N, T, I, H, GH, reverse: o.reverse, batchFirst: o.batchFirst, truncate: o.truncate, relu: o.relu,
    ix, xt, act, hs, cs, tcs, mask,
  };
  const packed = record(OPS[mode], out, inputs, saved, owned);

  const NTH = N * T * H;
  const result: RecurrentLayerResult = {
    output: reshape(slice(packed, 0, 0, NTH), o.batchFirst ? [N, T, H] : [T, N, H]),
    h: reshape(slice(packed, 0, NTH, NTH + NH), [N, H]),
  };
  if (cs) result.c = reshape(slice(packed, 0, NTH + NH, NTH + 2 * NH), [N, H]);
  return result;
}

function recurrentBackward(gy: Tensor, inputs: readonly Tensor[], S: Saved, needs: readonly boolean[]): (Tensor | null)[] {
  const be = gy.backend, k = be.k, ws = be.gemmWs;
  const { mode, N, T, I, H, GH, ix } = S;
  const NH = N * H;
  const NTH = N * T * H;
  const need = (i: number) => i >= 0 && needs[i];
  const wIh = inputs[ix.wIh], wHh = inputs[ix.wHh];
  const maskAt = (t: number) => (S.mask ? S.mask.ptr + 4 * t * N : 0);
  const ldy = S.batchFirst ? T * H : H;
  const dyAt = (t: number) => gy.ptr + 4 * (S.batchFirst ? t * H : t * NH);

  // Running gradients of the state entering the current step.
  const dh = empty([N, H], { backend: be });
  k.copy_f32(dh.ptr, gy.ptr + 4 * NTH, NH);
  const dc = mode === 'lstm' ? empty([N, H], { backend: be }) : null;
  if (dc) k.copy_f32(dc.ptr, gy.ptr + 4 * (NTH + NH), NH);

  // dP [T, N, GH]: gradients of the pre-activations. GRU has two: of x·W_ih + b_ih
  // (dP) and of h·W_hh + b_hh (dPh); they differ in the n block (r⊙ in between).
  const dP = empty([T, N, GH], { backend: be });
  const dPh = mode === 'gru' ? empty([T, N, GH], { backend: be }) : dP;
  const needH0 = need(ix.h0);
  const wpT = packWeights(wHh, GH, H, true);
  const aws = stepWorkspace(be, N, GH);
  for (let s = T - 1; s >= 0; s--) {
    const t = S.reverse ? T - 1 - s : s;
    const prev = S.reverse ? t + 1 : t, next = S.reverse ? t : t + 1;
    if (mode === 'lstm') {
      k.lstm_cell_bwd(
        at(dP, t, N * GH), dh.ptr, dc!.ptr, dyAt(t), at(S.act!, t, N * GH), at(S.tcs!, t, NH), at(S.cs!, prev, NH),
        maskAt(t), N, H, ldy,
      );
    } else if (mode === 'gru') {
      k.gru_cell_bwd(
        at(dP, t, N * GH), at(dPh, t, N * GH), dh.ptr, dyAt(t), at(S.act!, t, N * 4 * H), at(S.hs, prev, NH),
        maskAt(t), N, H, ldy,
      );
    } else {
      k.rnn_cell_bwd(at(dP, t, NH), dh.ptr, dyAt(t), at(S.hs, next, NH), maskAt(t), N, H, ldy, S.relu ? 1 : 0);
    }
    // dh_{t−1} += dPh[t]·W_hhᵀ
    if (s > 0 || needH0) k.rnn_matmul_packed(dh.ptr, at(dPh, t, N * GH), wpT.ptr, aws.ptr, N, H, GH, GH, H, 0, 1);
    if (S.truncate > 0 && s > 0 && s % S.truncate === 0) {
      k.fill_f32(dh.ptr, NH, 0);
      if (dc) k.fill_f32(dc.ptr, NH, 0);
    }
  }

  wpT.dispose();
  aws.dispose();
  const grads: (Tensor | null)[] = inputs.map(() => null);
  const rows = T * N;
  if (need(ix.x)) {
    const dxt = empty([T, N, I], { backend: be });
    k.gemm(dxt.ptr, dP.ptr, wIh.ptr, ws, rows, I, GH, GH, GH, I, 0, 1, 1, 0);
    if (S.batchFirst && T > 1 && N > 1) {
      const dx = empty([N, T, I], { backend: be });
      k.copy_strided(dx.ptr, dxt.ptr, 1, N, T, I, 0, T * I, I, 1, 0, I, N * I, 1);
      dxt.dispose();
      grads[ix.x] = dx;
    } else {
      grads[ix.x] = view(dxt, inputs[ix.x].shape);
      dxt.dispose();
    }
  }
  if (need(ix.h0)) grads[ix.h0] = dh;
  else dh.dispose();
  if (dc) {
    if (need(ix.c0)) grads[ix.c0] = dc;
    else dc.dispose();
  }
  // dW_ih = Σ_t x_tᵀ·dP[t] and dW_hh = Σ_t h_{t−1}ᵀ·dPh[t], each over all steps
  // at once. Row r of dP pairs with row r of Xt and of Hprev (Hs from slot 0,
  // or slot 1 in reverse); with a zero h0 the step that starts from it
  // contributes nothing to dW_hh and is left out.
  const wIhGrad: WeightGradTarget[] = [];
  const wHhGrad: WeightGradTarget[] = [];
  if (need(ix.wIh)) {
    wIhGrad.push({ c: empty(wIh.shape, { backend: be }), a: S.xt.ptr, m: I, lo: 0, hi: rows });
    grads[ix.wIh] = wIhGrad[0].c;
  }
  if (need(ix.wHh)) {
    const zeroStart = ix.h0 < 0;
    const lo = zeroStart && !S.reverse ? N : 0;
    const hi = zeroStart && S.reverse ? rows - N : rows;
    wHhGrad.push({ c: empty(wHh.shape, { backend: be }), a: at(S.hs, S.reverse ? 1 : 0, NH), m: H, lo, hi });
    grads[ix.wHh] = wHhGrad[0].c;
  }
  if (dPh === dP) weightGrads(dP.ptr, GH, rows, [...wIhGrad, ...wHhGrad]);
  else {
    weightGrads(dP.ptr, GH, rows, wIhGrad);
    weightGrads(dPh.ptr, GH, rows, wHhGrad);
  }
  // Bias gradients: Σ over every row; LSTM and RNN's two biases share one sum.
  let dbIh: Tensor | null = null;
  if (need(ix.bIh)) {
    dbIh = empty([GH], { backend: be });
    k.sum_axis(dbIh.ptr, dP.ptr, 1, rows, GH);
    grads[ix.bIh] = dbIh;
  }
  if (need(ix.bHh)) {
    const g = empty([GH], { backend: be });
    if (dbIh && dPh === dP) k.copy_f32(g.ptr, dbIh.ptr, GH);
    else k.sum_axis(g.ptr, dPh.ptr, 1, rows, GH);
    grads[ix.bHh] = g;
  }
  dP.dispose();
  if (dPh !== dP) dPh.dispose();
  return grads;
}

// ─── validation and the public functions ───────────────────────────────────

function checkOptions(where: string, options: RecurrentLayerOptions): void {
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) {
      throw new ConfigError(`${where}: unknown option '${key}'; valid: ${OPTION_KEYS.filter((k) => k !== 'where').join(', ')}`);
    }
  }
  const tr = options.truncate ?? 0;
  if (!Number.isInteger(tr) || tr < 0) throw new ValueError(`${where}: truncate must be an integer ≥ 0 (0 = full BPTT); got ${tr}`);
  const nl = options.nonlinearity ?? 'tanh';
  if (nl !== 'tanh' && nl !== 'relu') throw new ConfigError(`${where}: unknown nonlinearity '${String(nl)}'; valid: 'tanh', 'relu'`);
}

/** @internal Checks the weight shapes of one layer/direction; returns (inputSize, hidden). */
export function checkRecurrentWeights(
  where: string, mode: RecurrentMode, wIh: Tensor, wHh: Tensor, bIh: Tensor | undefined, bHh: Tensor | undefined,
): { I: number; H: number } {
  const G = GATES[mode];
  if (wHh.rank !== 2 || wHh.shape[1] !== G * wHh.shape[0]) {
    throw new ShapeError(`${where}: weight_hh must be [hidden, ${G}·hidden]; got ${fmtShape(wHh.shape)}`);
  }
  const H = wHh.shape[0];
  if (wIh.rank !== 2 || wIh.shape[1] !== G * H) {
    throw new ShapeError(`${where}: weight_ih must be [inputSize, ${G * H}] for hidden ${H}; got ${fmtShape(wIh.shape)}`);
  }
  for (const [name, b] of [['bias_ih', bIh], ['bias_hh', bHh]] as const) {
    if (b && (b.rank !== 1 || b.shape[0] !== G * H)) {
      throw new ShapeError(`${where}: ${name} must be [${G * H}]; got ${fmtShape(b.shape)}`);
    }
  }
  return { I: wIh.shape[0], H };
}

/**
 * @internal Checks every tensor of one layer/direction and returns (N, T).
 * Messages name the layer and the shapes, e.g.
 * `LSTM: input feature size 12 differs from the layer's inputSize 16 (input [4,10,12])`.
 */
export function checkRecurrentInputs(
  where: string, mode: RecurrentMode, x: Tensor, h0: Tensor | undefined, c0: Tensor | undefined,
  wIh: Tensor, wHh: Tensor, bIh: Tensor | undefined, bHh: Tensor | undefined, batchFirst: boolean,
): { N: number; T: number } {
  const ts = [x, wIh, wHh, ...[h0, c0, bIh, bHh].filter((t): t is Tensor => t !== undefined)];
  checkBackends(where, ...ts);
  for (const t of ts) {
    if (t.dtype !== 'float32') throw new DTypeError(`${where}: expected float32 tensors; got ${t.describe()}`);
  }
  const { I, H } = checkRecurrentWeights(where, mode, wIh, wHh, bIh, bHh);
  if (x.rank !== 3) {
    throw new ShapeError(
      `${where}: input must be 3-D ${batchFirst ? '[batch, time, features]' : '[time, batch, features]'}; got ${fmtShape(x.shape)}`,
    );
  }
  if (x.shape[2] !== I) {
    throw new ShapeError(`${where}: input feature size ${x.shape[2]} differs from the layer's inputSize ${I} (input ${fmtShape(x.shape)})`);
  }
  const [N, T] = batchFirst ? [x.shape[0], x.shape[1]] : [x.shape[1], x.shape[0]];
  for (const [name, s] of [['h0', h0], ['c0', c0]] as const) {
    if (s && (s.rank !== 2 || s.shape[0] !== N || s.shape[1] !== H)) {
      throw new ShapeError(
        `${where}: initial state ${name} must be [${N},${H}] (batch, hidden) for input ${fmtShape(x.shape)}; got ${fmtShape(s.shape)}`,
      );
    }
  }
  return { N, T };
}

/**
 * @internal One layer, one direction: validates, then runs the op. `stepMask`
 * (already resolved by a caller that runs several layers) replaces
 * options.lengths / options.mask.
 */
export function recurrentLayer(
  mode: RecurrentMode, x: Tensor, h0: Tensor | undefined, c0: Tensor | undefined,
  wIh: Tensor, wHh: Tensor, bIh: Tensor | undefined, bHh: Tensor | undefined, options: RecurrentLayerOptions,
  stepMask?: StepMask,
): RecurrentLayerResult {
  const where = options.where ?? OP_NAMES[mode];
  checkOptions(where, options);
  const o = { ...RECURRENT_LAYER_DEFAULTS, ...options };
  const { N, T } = checkRecurrentInputs(where, mode, x, h0, c0, wIh, wHh, bIh, bHh, o.batchFirst);
  const sm = stepMask ?? resolveStepMask(where, x.shape, N, T, o.batchFirst, options.lengths, options.mask);
  return recurrentForward(
    mode, x, h0, c0, wIh, wHh, bIh, bHh,
    { reverse: o.reverse, batchFirst: o.batchFirst, truncate: o.truncate, relu: o.nonlinearity === 'relu' }, sm,
  );
}

/**
 * One LSTM layer in one direction over a whole sequence, as one op (PyTorch's
 * equations; gates i, f, g, o in column blocks of the weights).
 *
 * @param x    [N, T, I] (or [T, N, I] with `batchFirst: false`)
 * @param h0   [N, H] initial hidden state (default zeros)
 * @param c0   [N, H] initial cell state (default zeros)
 * @param wIh  [I, 4H]   (PyTorch's weight_ih_l0 transposed)
 * @param wHh  [H, 4H]
 * @param bIh  [4H] or undefined
 * @param bHh  [4H] or undefined
 * @returns `{ output [N, T, H], h [N, H], c [N, H] }`
 *
 * @example
 * const { output, h, c } = lstmLayer(x, undefined, undefined, wIh, wHh, bIh, bHh);
 * // Truncated BPTT over a long sequence: gradients flow back at most 20 steps.
 * const r = lstmLayer(x, h0, c0, wIh, wHh, bIh, bHh, { truncate: 20 });
 */
export function lstmLayer(
  x: Tensor, h0: Tensor | undefined, c0: Tensor | undefined, wIh: Tensor, wHh: Tensor,
  bIh?: Tensor, bHh?: Tensor, options: RecurrentLayerOptions = {},
): Required<RecurrentLayerResult> {
  return recurrentLayer('lstm', x, h0, c0, wIh, wHh, bIh, bHh, options) as Required<RecurrentLayerResult>;
}

/**
 * One GRU layer in one direction over a whole sequence, as one op (PyTorch's
 * equations; gates r, z, n in column blocks; b_hn sits inside r⊙(·)).
 * Shapes as `lstmLayer` with 3H gate columns; returns `{ output, h }`.
 */
export function gruLayer(
  x: Tensor, h0: Tensor | undefined, wIh: Tensor, wHh: Tensor, bIh?: Tensor, bHh?: Tensor,
  options: RecurrentLayerOptions = {},
): RecurrentLayerResult {
  return recurrentLayer('gru', x, h0, undefined, wIh, wHh, bIh, bHh, options);
}

/**
 * One Elman RNN layer (h_t = tanh or relu of x_t·W_ih + b_ih + h_{t−1}·W_hh +
 * b_hh) in one direction over a whole sequence, as one op. W_ih [I, H],
 * W_hh [H, H]; returns `{ output, h }`.
 */
export function rnnLayer(
  x: Tensor, h0: Tensor | undefined, wIh: Tensor, wHh: Tensor, bIh?: Tensor, bHh?: Tensor,
  options: RecurrentLayerOptions = {},
): RecurrentLayerResult {
  return recurrentLayer('rnn', x, h0, undefined, wIh, wHh, bIh, bHh, options);
}

/**
 * The same values, cut from the graph: no gradient flows through the result.
 * (A view, no copy.) Carries a recurrent state from one chunk of a long
 * sequence to the next without backpropagating into the previous chunk.
 *
 * @example
 * let state;
 * for (const chunk of chunks) tidy(() => {
 *   const r = lstm.run(chunk, state && { h0: state.h, c0: state.c });
 *   backward(lossOf(r.output)); opt.step(); opt.zeroGrad();
 *   state?.h.dispose(); state?.c.dispose();
 *   state = { h: keep(detach(r.h)), c: keep(detach(r.c)) };
 * });
 */
export function detach(x: Tensor): Tensor {
  checkBackends('detach', x);
  return view(x, x.shape);
}
