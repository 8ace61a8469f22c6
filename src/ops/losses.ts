/**
 * Losses: softmax cross-entropy from logits, binary cross-entropy from
 * logits, mean squared error. Each returns a scalar (reduction 'mean' or
 * 'sum') or the per-sample / per-element losses ('none').
 *
 *   crossEntropy                   ℓ_i = −Σ_j t_ij log softmax(x_i)_j,   t = (1 − ε)·onehot(y_i) + ε/C
 *                                  dx_i = (softmax(x_i) − t_i)·g_i   (one fused kernel each way;
 *                                  the forward keeps the probabilities for the backward)
 *   binaryCrossEntropyWithLogits   ℓ = max(x, 0) − x·t + log(1 + e^{−|x|})
 *                                  dx = (σ(x) − t)·g,  dt = −x·g
 *   mseLoss                        ℓ = (p − t)²
 *                                  dp = 2(p − t)·g,  dt = −dp
 *
 * g is the upstream gradient, times 1/count for 'mean'. A mean over zero
 * elements is NaN (as in PyTorch).
 * Kernels: cross_entropy_* in assembly/softmax.ts (it shares the softmax row
 * passes), bce_logits_* and mse_* in assembly/losses.ts; js mirrors in
 * src/backend/js/.
 */

import { defineOp, record } from '../autograd.js';
import { ConfigError, DTypeError, ShapeError, ValueError, fmtShape } from '../errors.js';
import { empty, type Tensor } from '../tensor.js';
import { checkBackends, checkFloat, sameShape } from './checks.js';

export type Reduction = 'mean' | 'sum' | 'none';

export interface LossOptions {
  /** 'mean' (default): the average, a scalar; 'sum': the total, a scalar; 'none': one loss per sample/element. */
  reduction?: Reduction;
}

export interface CrossEntropyOptions extends LossOptions {
  /** ε in [0, 1]: the target puts 1 − ε on the label and ε/C on every class. Default 0. */
  labelSmoothing?: number;
}

const LOSS_DEFAULTS: Readonly<Required<LossOptions>> = Object.freeze({ reduction: 'mean' });
const CROSS_ENTROPY_DEFAULTS: Readonly<Required<CrossEntropyOptions>> = Object.freeze({ reduction: 'mean', labelSmoothing: 0 });
const REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none'];

function checkOptions<T extends object>(op: string, options: Partial<T>, defaults: Readonly<T>): T {
  for (const key of Object.keys(options)) {
    if (!(key in defaults)) {
      throw new ConfigError(`${op}: unknown option '${key}'; valid: ${Object.keys(defaults).join(', ')}`);
    }
  }
  const o = { ...defaults, ...options } as T & LossOptions;
  if (!REDUCTIONS.includes(o.reduction!)) {
    throw new ConfigError(`${op}: unknown reduction '${String(o.reduction)}'; valid: ${REDUCTIONS.map((r) => `'${r}'`).join(', ')}`);
  }
  return o;
}

interface Reduce {
  /** 1 when the kernel sums to a scalar, 0 for per-element output. */
  reduce: number;
  /** 1/count for 'mean', 1 for 'sum' (and unused for 'none'). */
  scale: number;
}

function reduction(r: Reduction, count: number): Reduce {
  return { reduce: r === 'none' ? 0 : 1, scale: r === 'mean' ? 1 / count : 1 };
}

// ─── crossEntropy ──────────────────────────────────────────────────────────

interface CrossEntropySaved extends Reduce {
  probs: Tensor;
  n: number;
  c: number;
  smoothing: number;
}

const crossEntropyOp = defineOp<CrossEntropySaved>({
  name: 'cross_entropy',
  backward: (gy, { inputs: [logits, labels], saved: s }) => {
    const dx = empty(logits.shape, { backend: gy.backend });
    gy.backend.k.cross_entropy_bwd(dx.ptr, s.probs.ptr, labels.ptr, gy.ptr, s.n, s.c, s.reduce, s.scale, s.smoothing);
    return [dx, null]; // labels are integers: no gradient
  },
});

/**
 * Softmax cross-entropy between logits [N, C] and int32 class labels [N]
 * (PyTorch's `cross_entropy`), fused and stable for any logits.
 *
 * @example
 * const loss = crossEntropy(logits, tensor([2, 0, 1], undefined, { dtype: 'int32' }));
 * crossEntropy(logits, labels, { reduction: 'sum', labelSmoothing: 0.1 });
 */
export function crossEntropy(logits: Tensor, labels: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  const o = checkOptions(op, options, CROSS_ENTROPY_DEFAULTS);
  checkBackends(op, logits, labels);
  if (logits.dtype !== 'float32') throw new DTypeError(`${op}: logits must be float32; got ${logits.describe()}`);
  if (labels.dtype !== 'int32') {
    throw new DTypeError(
      `${op}: labels must be int32 class indices; got ${labels.describe()}; ` +
        `hint: tensor(labels, undefined, { dtype: 'int32' })`,
    );
  }
  if (logits.rank !== 2) throw new ShapeError(`${op}: logits must be [N,C]; got ${fmtShape(logits.shape)}`);
  const [n, c] = logits.shape;
  if (labels.rank !== 1 || labels.shape[0] !== n) {
    throw new ShapeError(`${op}: labels must be [N] = [${n}] for logits ${fmtShape(logits.shape)}; got ${fmtShape(labels.shape)}`);
  }
  const eps = o.labelSmoothing;
  if (typeof eps !== 'number' || !(eps >= 0 && eps <= 1)) {
    throw new ValueError(`${op}: labelSmoothing must be a number in [0, 1]; got ${eps}`);
  }
  const heap = labels.backend.heap.i32;
  const p = labels.ptr >>> 2;
  for (let i = 0; i < n; i++) {
    const y = heap[p + i];
    if (y < 0 || y >= c) {
      throw new ValueError(`${op}: label ${y} at index ${i} is out of range for ${c} classes (valid: 0 to ${c - 1})`);
    }
  }
  const r = reduction(o.reduction, n);
  const loss = empty(r.reduce ? [] : [n], { backend: logits.backend });
  const probs = empty([n, c], { backend: logits.backend });
  logits.backend.k.cross_entropy_fwd(loss.ptr, probs.ptr, logits.ptr, labels.ptr, n, c, r.reduce, r.scale, eps);
  // Fields spelled out: V8 copies an object spread with added keys on a slow
  // path here (~6 µs a call, measured — more than the rest of the op).
  return record(crossEntropyOp, loss, [logits, labels], { reduce: r.reduce, scale: r.scale, probs, n, c, smoothing: eps }, [probs]);
}

// ─── binaryCrossEntropyWithLogits ──────────────────────────────────────────

function checkPair(op: string, a: Tensor, b: Tensor, an: string, bn: string): void {
  checkBackends(op, a, b);
  checkFloat(op, a, b);
  if (!sameShape(a.shape, b.shape)) {
    throw new ShapeError(`${op}: shapes differ: ${an} is ${fmtShape(a.shape)}, ${bn} is ${fmtShape(b.shape)}`);
  }
}

/** dt = −x·g for a reduced (g = gy·scale) or per-element (g = gy) upstream gradient. */
function negTimesUpstream(x: Tensor, gy: Tensor, r: Reduce): Tensor {
  const dt = empty(x.shape, { backend: x.backend });
  const k = x.backend.k;
  if (r.reduce) {
    k.muls_f32(dt.ptr, x.ptr, x.size, -gy.item() * r.scale);
  } else {
    k.mul_f32(dt.ptr, x.ptr, gy.ptr, x.size);
    k.muls_f32(dt.ptr, dt.ptr, x.size, -1);
  }
  return dt;
}

const bceOp = defineOp<Reduce>({
  name: 'binary_cross_entropy_with_logits',
  backward: (gy, { inputs: [x, t], saved: r }, needs) => {
    let dx: Tensor | null = null;
    if (needs[0]) {
      dx = empty(x.shape, { backend: gy.backend });
      gy.backend.k.bce_logits_bwd(dx.ptr, x.ptr, t.ptr, gy.ptr, x.size, r.reduce, r.scale);
    }
    return [dx, needs[1] ? negTimesUpstream(x, gy, r) : null];
  },
});

/**
 * Binary cross-entropy between logits and targets of the same shape (targets
 * in [0, 1]; soft targets are fine, and not checked), in the stable form
 * max(x, 0) − x·t + log(1 + e^{−|x|}) (PyTorch's
 * `binary_cross_entropy_with_logits`). The mean is over every element.
 */
export function binaryCrossEntropyWithLogits(logits: Tensor, targets: Tensor, options: LossOptions = {}): Tensor {
  const op = 'binaryCrossEntropyWithLogits';
  const o = checkOptions(op, options, LOSS_DEFAULTS);
  checkPair(op, logits, targets, 'logits', 'targets');
  const r = reduction(o.reduction, logits.size);
  const out = empty(r.reduce ? [] : logits.shape, { backend: logits.backend });
  logits.backend.k.bce_logits_fwd(out.ptr, logits.ptr, targets.ptr, logits.size, r.reduce, r.scale);
  return record(bceOp, out, [logits, targets], r);
}

// ─── mseLoss ───────────────────────────────────────────────────────────────

const mseOp = defineOp<Reduce>({
  name: 'mse_loss',
  backward: (gy, { inputs: [p, t], saved: r }, needs) => {
    const k = gy.backend.k;
    const dp = empty(p.shape, { backend: gy.backend });
    k.mse_bwd(dp.ptr, p.ptr, t.ptr, gy.ptr, p.size, r.reduce, r.scale);
    let dt: Tensor | null = null;
    if (needs[1]) {
      dt = empty(t.shape, { backend: gy.backend });
      k.neg_fwd(dt.ptr, dp.ptr, dp.size);
    }
    if (!needs[0]) dp.dispose();
    return [needs[0] ? dp : null, dt];
  },
});

/**
 * Squared error (pred − target)², averaged over every element by default
 * (PyTorch's `mse_loss`). pred and target must have the same shape.
 */
export function mseLoss(pred: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  const op = 'mseLoss';
  const o = checkOptions(op, options, LOSS_DEFAULTS);
  checkPair(op, pred, target, 'pred', 'target');
  const r = reduction(o.reduction, pred.size);
  const out = empty(r.reduce ? [] : pred.shape, { backend: pred.backend });
  pred.backend.k.mse_fwd(out.ptr, pred.ptr, target.ptr, pred.size, r.reduce, r.scale);
  return record(mseOp, out, [pred, target], r);
}
