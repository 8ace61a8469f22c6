/**
 * Recurrent layers: RNN (tanh or relu), LSTM and GRU — stacked, optionally
 * bidirectional, batch-first by default — and their single-step cells
 * RNNCell, LSTMCell and GRUCell.
 *
 * Each layer and direction runs as ONE op (src/ops/rnn.ts) whose backward is
 * backpropagation through time: the input projection of every step is one
 * GEMM, each step is one GEMM h·W_hh plus one fused gate kernel
 * (assembly/rnn.ts), and the shared weights' gradients — sums over the steps —
 * are one GEMM each.
 *
 * ## Weights, names and PyTorch exchange
 *
 * Parameters are named as in PyTorch, per layer l and direction:
 *
 *   weight_ih_l{l}[_reverse]  [inputSize (l = 0) or D·hidden, G·hidden]
 *   weight_hh_l{l}[_reverse]  [hidden, G·hidden]
 *   bias_ih_l{l}[_reverse]    [G·hidden]
 *   bias_hh_l{l}[_reverse]    [G·hidden]
 *
 * (cells: weight_ih, weight_hh, bias_ih, bias_hh), listed by
 * `namedParameters()` in PyTorch's order (layer, direction, then ih/hh
 * weights and biases). G is 4 for LSTM, 3 for GRU, 1 for RNN, and D is 2 when
 * bidirectional. The gates sit in column blocks in PyTorch's order:
 *
 *   LSTM  i | f | g | o      (input, forget, cell candidate, output)
 *   GRU   r | z | n          (reset, update, new)
 *
 * wasmgrad stores weights [in, out] (y = x·W): PyTorch's `weight_ih_l0` is
 * [G·hidden, inputSize], so exchange TRANSPOSES the weight matrices (biases are
 * the same). Gate blocks need no reordering.
 *
 * Default initialisation is PyTorch's: every weight and bias uniform in
 * ±1/√hidden.
 *
 * ## Shapes (batch-first; `batchFirst: false` swaps N and T)
 *
 *   x       [N, T, inputSize]
 *   output  [N, T, D·hidden]   (returnSequences, default)  or  [N, D·hidden] (last step)
 *   h0, h   [numLayers·D, N, hidden]   (index l·D + d; also [N, hidden] when numLayers·D = 1)
 *   c0, c   [numLayers·D, N, hidden]   (LSTM)
 *
 * ## Variable lengths
 *
 * `run(x, { lengths })` (or a `mask` [N, T]): steps past a sequence's length
 * leave its state unchanged and output zeros; the reverse direction starts at
 * each sequence's last valid step; the final states and the "last" output are
 * taken at each sequence's own last step.
 *
 * ## Truncated backpropagation through time
 *
 * `truncate: k` (constructor or `run`) cuts the gradient through the state
 * every k steps. Alternatively run a long sequence in chunks and carry the
 * state across them with `detach`, so each chunk is trained separately:
 *
 * @example
 * const lstm = new LSTM(16, 128, { numLayers: 2 });
 * const y = lstm.forward(x);                             // [N, T, 128]
 * const { output, h, c } = lstm.run(x, { lengths: [10, 7, 3] });
 *
 * // Chunked truncated BPTT: state carried, not differentiated.
 * let state = null;
 * for (const chunk of chunks) {
 *   tidy(() => {
 *     const r = lstm.run(chunk, state ? { h0: state.h, c0: state.c } : {});
 *     backward(mseLoss(head.forward(r.output), target(chunk)));
 *     opt.step(); opt.zeroGrad();
 *     if (state) { state.h.dispose(); state.c.dispose(); }
 *     state = { h: keep(detach(r.h)), c: keep(detach(r.c)) };
 *   });
 * }
 */

import { ConfigError, ShapeError, ValueError, fmtShape } from '../errors.js';
import { getInitializer } from '../init.js';
import { dropout as dropoutOp } from '../ops/dropout.js';
import { take } from '../ops/gather.js';
import { checkBackends, checkFloat } from '../ops/checks.js';
import {
  checkRecurrentWeights, recurrentLayer, resolveStepMask, type Lengths, type RecurrentMode, type StepMask,
} from '../ops/rnn.js';
import { concat, reshape, slice } from '../ops/shape.js';
import { getGenerator } from '../random.js';
import { tensor, type Tensor } from '../tensor.js';
import { Module, parameter } from './module.js';

export interface RecurrentOptions {
  /** Stacked layers; layer l > 0 reads layer l − 1's output. Default 1. */
  numLayers?: number;
  /** Learned biases b_ih and b_hh. Default true. */
  bias?: boolean;
  /** x and output are [N, T, ·] (true) or time-major [T, N, ·] (false). Default true. */
  batchFirst?: boolean;
  /** Dropout probability on every layer's output except the last, in training mode. Default 0. */
  dropout?: number;
  /** Run a second direction over the reversed sequence and concatenate the outputs. Default false. */
  bidirectional?: boolean;
  /** `forward` returns every step's output (true) or only each sequence's last step (false). Default true. */
  returnSequences?: boolean;
  /** Truncated BPTT: cut the gradient through the state every k steps (0 = full BPTT). Default 0. */
  truncate?: number;
  /** Seed for the initial weights (default: the global generator). */
  seed?: number;
}

export interface RNNOptions extends RecurrentOptions {
  /** 'tanh' or 'relu'. Default 'tanh'. */
  nonlinearity?: 'tanh' | 'relu';
}

export const RECURRENT_DEFAULTS = Object.freeze({
  numLayers: 1,
  bias: true,
  batchFirst: true,
  dropout: 0,
  bidirectional: false,
  returnSequences: true,
  truncate: 0,
  seed: undefined as number | undefined,
  nonlinearity: 'tanh' as 'tanh' | 'relu',
});

/** Per-call options of `run`. */
export interface RecurrentRunOptions {
  /** Initial hidden state [numLayers·D, N, hidden] (or [N, hidden] for one layer, one direction). Default zeros. */
  h0?: Tensor;
  /** LSTM: initial cell state, shaped like h0. Default zeros. */
  c0?: Tensor;
  /** Valid steps of each sequence, 1..T (int32 tensor [N], Int32Array or number[]). Default: all T. */
  lengths?: Lengths;
  /** Alternative to lengths: [N, T] (batch-first), nonzero at valid steps. Default: none. */
  mask?: Tensor;
  /** Override the layer's `returnSequences` for this call. */
  returnSequences?: boolean;
  /** Override the layer's `truncate` for this call. */
  truncate?: number;
}

export interface RecurrentRunResult {
  /** [N, T, D·hidden] (every step), or [N, D·hidden] (each sequence's last valid step). */
  output: Tensor;
  /** Final hidden states [numLayers·D, N, hidden] (for [N, hidden] states in: [N, hidden]). */
  h: Tensor;
  /** LSTM: final cell states, shaped like h. */
  c?: Tensor;
}

const LAYER_KEYS = Object.keys(RECURRENT_DEFAULTS);
const RUN_KEYS = ['h0', 'c0', 'lengths', 'mask', 'returnSequences', 'truncate'];
const GATES: Record<RecurrentMode, number> = { lstm: 4, gru: 3, rnn: 1 };

function checkPositiveInt(where: string, name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ConfigError(`${where}: ${name} must be a positive integer; got ${String(v)}`);
}

function checkKeys(where: string, options: object, valid: string[]): void {
  for (const key of Object.keys(options)) {
    if (!valid.includes(key)) throw new ConfigError(`${where}: unknown option '${key}'; valid: ${valid.join(', ')}`);
  }
}

function checkTruncate(where: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new ValueError(`${where}: truncate must be an integer ≥ 0 (0 = full BPTT); got ${String(v)}`);
  }
}

/** uniform ±1/√hidden tensors with an optional seed (offset per tensor). */
function initUniform(hidden: number, seed: number | undefined) {
  const bound = 1 / Math.sqrt(hidden);
  let offset = 0;
  return (shape: number[]) =>
    getInitializer('uniform')(shape, { low: -bound, high: bound, seed: seed === undefined ? undefined : seed + offset++ });
}

/** The shared implementation of RNN, LSTM and GRU. */
export abstract class RecurrentBase extends Module {
  /** Weights and biases by PyTorch name (see the file header). */
  [name: `weight_${string}`]: Tensor;
  [name: `bias_${string}`]: Tensor | undefined;

  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  readonly returnSequences: boolean;
  readonly truncate: number;
  readonly nonlinearity: 'tanh' | 'relu';
  /** 1, or 2 when bidirectional. */
  readonly numDirections: number;

  protected constructor(
    protected readonly mode: RecurrentMode,
    /** Layer name in error messages: 'LSTM', 'GRU', 'RNN'. */
    protected readonly layerName: string,
    readonly inputSize: number,
    readonly hiddenSize: number,
    options: RNNOptions,
  ) {
    super();
    const where = layerName;
    checkKeys(where, options, mode === 'rnn' ? LAYER_KEYS : LAYER_KEYS.filter((k) => k !== 'nonlinearity'));
    checkPositiveInt(where, 'inputSize', inputSize);
    checkPositiveInt(where, 'hiddenSize', hiddenSize);
    const o = { ...RECURRENT_DEFAULTS, ...options };
    checkPositiveInt(where, 'numLayers', o.numLayers);
    if (typeof o.dropout !== 'number' || !(o.dropout >= 0 && o.dropout < 1)) {
      throw new ValueError(`${where}: dropout must be in [0, 1); got ${String(o.dropout)}`);
    }
    checkTruncate(where, o.truncate);
    if (o.nonlinearity !== 'tanh' && o.nonlinearity !== 'relu') {
      throw new ConfigError(`${where}: unknown nonlinearity '${String(o.nonlinearity)}'; valid: 'tanh', 'relu'`);
    }
    this.numLayers = o.numLayers;
    this.bias = o.bias !== false;
    this.batchFirst = o.batchFirst !== false;
    this.dropout = o.dropout;
    this.bidirectional = o.bidirectional === true;
    this.returnSequences = o.returnSequences !== false;
    this.truncate = o.truncate;
    this.nonlinearity = o.nonlinearity;
    this.numDirections = this.bidirectional ? 2 : 1;

    const G = GATES[mode] * hiddenSize;
    const init = initUniform(hiddenSize, o.seed);
    for (let l = 0; l < this.numLayers; l++) {
      const inF = l === 0 ? inputSize : this.numDirections * hiddenSize;
      for (let d = 0; d < this.numDirections; d++) {
        const sfx = RecurrentBase.suffix(l, d);
        this[`weight_ih${sfx}`] = parameter(init([inF, G]));
        this[`weight_hh${sfx}`] = parameter(init([hiddenSize, G]));
        if (this.bias) {
          this[`bias_ih${sfx}`] = parameter(init([G]));
          this[`bias_hh${sfx}`] = parameter(init([G]));
        }
      }
    }
  }

  /** `_l0`, `_l1_reverse`, …: the PyTorch name suffix of layer l, direction d. */
  static suffix(layer: number, direction: number): string {
    return `_l${layer}${direction === 1 ? '_reverse' : ''}`;
  }

  /**
   * Runs the sequence and returns the output and the final states.
   * @param x  [N, T, inputSize] (batch-first) or [T, N, inputSize]
   */
  run(x: Tensor, options: RecurrentRunOptions = {}): RecurrentRunResult {
    return this.runInternal(x, options, true);
  }

  protected runInternal(x: Tensor, options: RecurrentRunOptions, withStates: boolean): RecurrentRunResult {
    const where = this.layerName;
    checkKeys(where, options, this.mode === 'lstm' ? RUN_KEYS : RUN_KEYS.filter((k) => k !== 'c0'));
    const truncate = options.truncate ?? this.truncate;
    checkTruncate(where, truncate);
    const returnSequences = options.returnSequences ?? this.returnSequences;
    const { mode, hiddenSize: H, numLayers: L, numDirections: D, batchFirst } = this;

    // Validate everything before any allocation (bad input leaves the heap unchanged).
    if (x.rank !== 3) {
      throw new ShapeError(
        `${where}: input must be 3-D ${batchFirst ? '[batch, time, features]' : '[time, batch, features]'}; got ${fmtShape(x.shape)}`,
      );
    }
    if (x.shape[2] !== this.inputSize) {
      throw new ShapeError(
        `${where}: input feature size ${x.shape[2]} differs from the layer's inputSize ${this.inputSize} (input ${fmtShape(x.shape)})`,
      );
    }
    const [N, T] = batchFirst ? [x.shape[0], x.shape[1]] : [x.shape[1], x.shape[0]];
    if (T === 0) throw new ShapeError(`${where}: input has no time steps (input ${fmtShape(x.shape)})`);
    const flatState = L * D === 1;
    for (const [name, s] of [['h0', options.h0], ['c0', options.c0]] as const) {
      if (s === undefined) continue;
      const ok = (s.rank === 3 && s.shape[0] === L * D && s.shape[1] === N && s.shape[2] === H) ||
        (flatState && s.rank === 2 && s.shape[0] === N && s.shape[1] === H);
      if (!ok) {
        throw new ShapeError(
          `${where}: initial state ${name} must be [${L * D},${N},${H}] (layers·directions, batch, hidden) for input ` +
            `${fmtShape(x.shape)}; got ${fmtShape(s.shape)}`,
        );
      }
    }
    const stepMask = resolveStepMask(where, x.shape, N, T, batchFirst, options.lengths, options.mask);
    // Every layer's weights (a user may have replaced one), dtypes and backends.
    const all: Tensor[] = [x, ...(options.h0 ? [options.h0] : []), ...(options.c0 ? [options.c0] : [])];
    for (let l = 0; l < L; l++) {
      for (let d = 0; d < D; d++) {
        const sfx = RecurrentBase.suffix(l, d);
        const w = [this[`weight_ih${sfx}`], this[`weight_hh${sfx}`], this[`bias_ih${sfx}`], this[`bias_hh${sfx}`]] as const;
        const { I, H: h } = checkRecurrentWeights(`${where} (layer ${l}${d ? ', reverse' : ''})`, mode, w[0], w[1], w[2], w[3]);
        const inF = l === 0 ? this.inputSize : D * H;
        if (I !== inF || h !== H) {
          throw new ShapeError(
            `${where}: weight_ih${sfx} must be [${inF},${GATES[mode] * H}] and weight_hh${sfx} [${H},${GATES[mode] * H}]; ` +
              `got ${fmtShape(w[0].shape)} and ${fmtShape(w[1].shape)}`,
          );
        }
        for (const t of w) if (t) all.push(t);
      }
    }
    checkBackends(where, ...all);
    checkFloat(where, ...all);

    const stateOf = (s: Tensor | undefined, idx: number): Tensor | undefined => {
      if (s === undefined) return undefined;
      if (s.rank === 2) return s;
      return reshape(slice(s, 0, idx, idx + 1), [N, H]);
    };
    let input = x;
    const hs: Tensor[] = [];
    const cs: Tensor[] = [];
    let topOutputs: Tensor[] = [];
    for (let l = 0; l < L; l++) {
      const outs: Tensor[] = [];
      for (let d = 0; d < D; d++) {
        const sfx = RecurrentBase.suffix(l, d);
        const idx = l * D + d;
        const r = recurrentLayer(
          mode, input, stateOf(options.h0, idx), stateOf(options.c0, idx),
          this[`weight_ih${sfx}`], this[`weight_hh${sfx}`], this[`bias_ih${sfx}`], this[`bias_hh${sfx}`],
          { reverse: d === 1, batchFirst, truncate, nonlinearity: this.nonlinearity, where }, stepMask,
        );
        outs.push(r.output);
        hs.push(r.h);
        if (r.c) cs.push(r.c);
      }
      let out = D === 2 ? concat(outs, 2) : outs[0];
      if (l < L - 1 && this.dropout > 0 && this.training) out = dropoutOp(out, this.dropout, getGenerator().nextUint32());
      input = out;
      topOutputs = outs;
    }

    let output: Tensor;
    if (returnSequences) output = input;
    else if (D === 1) output = hs[hs.length - 1];
    else output = concat([hs[hs.length - 2], lastSteps(topOutputs[1], stepMask, N, T, H, batchFirst)], 1);

    const result: RecurrentRunResult = { output, h: hs[0] };
    if (withStates) {
      const stack = (ts: Tensor[]) =>
        flatState && (options.h0 === undefined || options.h0.rank === 2) ? ts[0] : concat(ts.map((t) => reshape(t, [1, N, H])), 0);
      result.h = stack(hs);
      if (mode === 'lstm') result.c = stack(cs);
    }
    return result;
  }
}

/** Rows of y [N, T, H] (or [T, N, H]) at each sequence's last valid step: [N, H]. */
function lastSteps(y: Tensor, mask: StepMask, N: number, T: number, H: number, batchFirst: boolean): Tensor {
  const idx = new Int32Array(N);
  for (let n = 0; n < N; n++) idx[n] = batchFirst ? n * T + mask.last[n] : mask.last[n] * N + n;
  return take(reshape(y, [N * T, H]), tensor(idx, [N], { dtype: 'int32', backend: y.backend }));
}

/**
 * Elman RNN: h_t = tanh(x_t·W_ih + b_ih + h_{t−1}·W_hh + b_hh) (or relu),
 * as torch.nn.RNN. Weights `weight_ih_l0` [inputSize, hidden], `weight_hh_l0`
 * [hidden, hidden], … (see the file header).
 */
export class RNN extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    super('rnn', 'RNN', inputSize, hiddenSize, options);
  }

  /** Output only (see `run` for states, lengths and masks). h0: [numLayers·D, N, hidden]. */
  forward(x: Tensor, h0?: Tensor): Tensor {
    return this.runInternal(x, h0 ? { h0 } : {}, false).output;
  }
}

/**
 * LSTM, as torch.nn.LSTM: gates i, f, g, o (column blocks of the [in, 4·hidden]
 * weights), c_t = f⊙c_{t−1} + i⊙g, h_t = o⊙tanh(c_t).
 */
export class LSTM extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, options: RecurrentOptions = {}) {
    super('lstm', 'LSTM', inputSize, hiddenSize, options);
  }

  /** Output only (see `run` for states, lengths and masks). h0, c0: [numLayers·D, N, hidden]. */
  forward(x: Tensor, h0?: Tensor, c0?: Tensor): Tensor {
    const o: RecurrentRunOptions = {};
    if (h0) o.h0 = h0;
    if (c0) o.c0 = c0;
    return this.runInternal(x, o, false).output;
  }
}

/**
 * GRU, as torch.nn.GRU: gates r, z, n (column blocks of the [in, 3·hidden]
 * weights), n = tanh(x·W_in + b_in + r⊙(h·W_hn + b_hn)),
 * h_t = (1 − z)⊙n + z⊙h_{t−1}.
 */
export class GRU extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, options: RecurrentOptions = {}) {
    super('gru', 'GRU', inputSize, hiddenSize, options);
  }

  /** Output only (see `run` for states, lengths and masks). h0: [numLayers·D, N, hidden]. */
  forward(x: Tensor, h0?: Tensor): Tensor {
    return this.runInternal(x, h0 ? { h0 } : {}, false).output;
  }
}

// ─── cells ─────────────────────────────────────────────────────────────────

export interface CellOptions {
  /** Learned biases b_ih and b_hh. Default true. */
  bias?: boolean;
  /** Seed for the initial weights (default: the global generator). */
  seed?: number;
}

export interface RNNCellOptions extends CellOptions {
  /** 'tanh' or 'relu'. Default 'tanh'. */
  nonlinearity?: 'tanh' | 'relu';
}

/** One step's states: h (and c for LSTMCell), each [N, hidden]. */
export interface CellState {
  h: Tensor;
  c?: Tensor;
}

/** The shared implementation of the cells: one time step of the layer op. */
export abstract class CellBase extends Module {
  /** [inputSize, G·hidden] */
  readonly weight_ih: Tensor;
  /** [hidden, G·hidden] */
  readonly weight_hh: Tensor;
  /** [G·hidden] or undefined */
  readonly bias_ih: Tensor | undefined;
  /** [G·hidden] or undefined */
  readonly bias_hh: Tensor | undefined;
  readonly nonlinearity: 'tanh' | 'relu';

  protected constructor(
    protected readonly mode: RecurrentMode,
    protected readonly layerName: string,
    readonly inputSize: number,
    readonly hiddenSize: number,
    options: RNNCellOptions,
  ) {
    super();
    checkKeys(layerName, options, mode === 'rnn' ? ['bias', 'seed', 'nonlinearity'] : ['bias', 'seed']);
    checkPositiveInt(layerName, 'inputSize', inputSize);
    checkPositiveInt(layerName, 'hiddenSize', hiddenSize);
    const nl = options.nonlinearity ?? 'tanh';
    if (nl !== 'tanh' && nl !== 'relu') throw new ConfigError(`${layerName}: unknown nonlinearity '${String(nl)}'; valid: 'tanh', 'relu'`);
    this.nonlinearity = nl;
    const G = GATES[mode] * hiddenSize;
    const init = initUniform(hiddenSize, options.seed);
    this.weight_ih = parameter(init([inputSize, G]));
    this.weight_hh = parameter(init([hiddenSize, G]));
    const bias = options.bias !== false;
    this.bias_ih = bias ? parameter(init([G])) : undefined;
    this.bias_hh = bias ? parameter(init([G])) : undefined;
  }

  /**
   * One step: x [N, inputSize] and the previous state (default zeros) → the next state.
   */
  run(x: Tensor, state: Partial<CellState> = {}): CellState {
    const where = this.layerName;
    if (x.rank !== 2) throw new ShapeError(`${where}: input must be [batch, features]; got ${fmtShape(x.shape)}`);
    if (x.shape[1] !== this.inputSize) {
      throw new ShapeError(
        `${where}: input feature size ${x.shape[1]} differs from the layer's inputSize ${this.inputSize} (input ${fmtShape(x.shape)})`,
      );
    }
    const N = x.shape[0];
    for (const [name, s] of [['h', state.h], ['c', state.c]] as const) {
      if (s !== undefined && (s.rank !== 2 || s.shape[0] !== N || s.shape[1] !== this.hiddenSize)) {
        throw new ShapeError(
          `${where}: state ${name} must be [${N},${this.hiddenSize}] (batch, hidden) for input ${fmtShape(x.shape)}; got ${fmtShape(s.shape)}`,
        );
      }
    }
    const r = recurrentLayer(
      this.mode, reshape(x, [N, 1, this.inputSize]), state.h, this.mode === 'lstm' ? state.c : undefined,
      this.weight_ih, this.weight_hh, this.bias_ih, this.bias_hh,
      { batchFirst: true, nonlinearity: this.nonlinearity, where }, { valid: null, last: new Int32Array(N) },
    );
    return r.c ? { h: r.h, c: r.c } : { h: r.h };
  }
}

/** One step of an Elman RNN (torch.nn.RNNCell): h' = tanh(x·W_ih + b_ih + h·W_hh + b_hh). */
export class RNNCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, options: RNNCellOptions = {}) {
    super('rnn', 'RNNCell', inputSize, hiddenSize, options);
  }

  /** x [N, inputSize], h [N, hidden] (default zeros) → h' [N, hidden]. */
  forward(x: Tensor, h?: Tensor): Tensor {
    return this.run(x, h ? { h } : {}).h;
  }
}

/** One LSTM step (torch.nn.LSTMCell); `run` returns both h' and c'. */
export class LSTMCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, options: CellOptions = {}) {
    super('lstm', 'LSTMCell', inputSize, hiddenSize, options);
  }

  /** x [N, inputSize], h, c [N, hidden] (default zeros) → h' [N, hidden] (c' via `run`). */
  forward(x: Tensor, h?: Tensor, c?: Tensor): Tensor {
    const s: Partial<CellState> = {};
    if (h) s.h = h;
    if (c) s.c = c;
    return this.run(x, s).h;
  }
}

/** One GRU step (torch.nn.GRUCell). */
export class GRUCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, options: CellOptions = {}) {
    super('gru', 'GRUCell', inputSize, hiddenSize, options);
  }

  /** x [N, inputSize], h [N, hidden] (default zeros) → h' [N, hidden]. */
  forward(x: Tensor, h?: Tensor): Tensor {
    return this.run(x, h ? { h } : {}).h;
  }
}
