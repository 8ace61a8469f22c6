/**
 * The training loop: fit, evaluate, predict.
 *
 * Each step runs inside `tidy`, so every temporary of the forward and
 * backward pass (activations, intermediate gradients, the batch) is freed
 * when the step ends; parameters, their gradients and optimizer state live in
 * the optimizer's slab and are updated in place. Heap use is therefore flat
 * across steps.
 *
 *   for epoch:
 *     order ← seeded shuffle of the training rows (or 0..N-1)
 *     for batch of order:  xb, yb ← take(x, idx), take(y, idx)   (views when not shuffled)
 *                          loss ← lossFn(model.forward(xb), yb)
 *                          zeroGrad; backward(loss); optimizer.step()
 *     validation, callbacks, early stopping, progress bar
 */

import { backward, noGrad } from '../autograd.js';
import { ConfigError, ShapeError, ValueError, fmtShape } from '../errors.js';
import type { Module } from '../nn/module.js';
import { take } from '../ops/gather.js';
import { slice } from '../ops/shape.js';
import { concat } from '../ops/shape.js';
import { Generator, globalGenerator } from '../random.js';
import { Tensor, tensor, tidy } from '../tensor.js';
import { resolveLoss, type LossFn, type LossName } from './losses.js';
import { ProgressBar } from './progress.js';

/** Inputs and targets with the same number of rows (first dimension). */
export interface Dataset {
  x: Tensor;
  y: Tensor;
}

/** What fit needs from an optimizer (every wasmgrad optimizer has these). */
export interface OptimizerLike {
  step(): void;
  zeroGrad(): void;
}

/** Anything that changes the learning rate when stepped (StepLR, CosineAnnealingLR, …). */
export interface SchedulerLike {
  step(): void;
}

export type MetricName = 'accuracy';
export type Monitor = 'loss' | 'valLoss' | 'accuracy' | 'valAccuracy';

/** One row of the training history. */
export interface EpochLogs {
  epoch: number;
  loss: number;
  accuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  /** Wall time of the training part of the epoch (validation excluded). */
  timeMs: number;
  samplesPerSec: number;
}

export interface BatchLogs {
  epoch: number;
  batch: number;
  batches: number;
  /** Optimizer steps taken so far (1-based). */
  step: number;
  loss: number;
  size: number;
}

export interface Callbacks {
  onTrainBegin?(): void;
  onEpochBegin?(epoch: number): void;
  /** Return `false` to stop training after this batch. */
  onBatchEnd?(logs: BatchLogs): void | boolean;
  /** Return `false` to stop training after this epoch. */
  onEpochEnd?(logs: EpochLogs): void | boolean;
  onTrainEnd?(history: History): void;
}

export interface EarlyStoppingOptions {
  /** Default 'valLoss' when there is validation data, else 'loss'. */
  monitor?: Monitor;
  /** Epochs without improvement before stopping. Default 5. */
  patience?: number;
  /** Smallest change that counts as an improvement. Default 0. */
  minDelta?: number;
  /** Put back the parameters of the best epoch when stopping. Default true. */
  restoreBestWeights?: boolean;
}

export interface FitOptions {
  /** The optimizer that updates `model`'s parameters (required). */
  optimizer: OptimizerLike;
  /** Loss: a name or a function (prediction, target) → scalar tensor. Default 'crossEntropy' for int32 targets, else 'mse'. */
  loss?: LossName | LossFn;
  /** Default 1. */
  epochs?: number;
  /** Default 32. */
  batchSize?: number;
  /** Shuffle the training rows every epoch. Default true. */
  shuffle?: boolean;
  /** Seed of the shuffles. Default: drawn from the global generator (see `seed()`). */
  seed?: number;
  /** Metrics besides the loss. Default ['accuracy'] when the loss is a classification loss, else []. */
  metrics?: MetricName[];
  /** Held-out data evaluated after every epoch. */
  validation?: Dataset;
  /** Or hold out this fraction of the (seed-shuffled) training rows. Default 0. */
  validationSplit?: number;
  callbacks?: Callbacks;
  earlyStopping?: EarlyStoppingOptions | boolean;
  /** Stepped after every epoch (or every batch with schedulerStep: 'batch'). */
  scheduler?: SchedulerLike;
  /** Default 'epoch'. */
  schedulerStep?: 'epoch' | 'batch';
  /** Progress bar: 'auto' (default) draws only in a Node terminal; false never. */
  verbose?: boolean | 'auto';
}

const FIT_DEFAULTS = Object.freeze({
  epochs: 1,
  batchSize: 32,
  shuffle: true,
  validationSplit: 0,
  schedulerStep: 'epoch' as const,
  verbose: 'auto' as const,
});
const FIT_KEYS = [
  'optimizer', 'loss', 'epochs', 'batchSize', 'shuffle', 'seed', 'metrics', 'validation', 'validationSplit',
  'callbacks', 'earlyStopping', 'scheduler', 'schedulerStep', 'verbose',
];

export interface History {
  epochs: EpochLogs[];
  /** True when early stopping (or a callback) ended training before `epochs`. */
  stoppedEarly: boolean;
  /** With early stopping: the epoch whose weights were kept. */
  bestEpoch?: number;
}

function checkDataset(where: string, d: Dataset): number {
  if (!(d?.x instanceof Tensor) || !(d?.y instanceof Tensor)) {
    throw new ValueError(`${where}: data must be { x: Tensor, y: Tensor }`);
  }
  if (d.x.rank === 0 || d.y.rank === 0 || d.x.shape[0] !== d.y.shape[0]) {
    throw new ShapeError(
      `${where}: x and y must have the same number of rows; got x ${fmtShape(d.x.shape)}, y ${fmtShape(d.y.shape)}`,
    );
  }
  return d.x.shape[0];
}

function positiveInt(where: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new ValueError(`${where}: ${name} must be a positive integer; got ${v}`);
}

function isClassification(loss: LossName | LossFn, y: Tensor): boolean {
  return loss === 'crossEntropy' || loss === 'binaryCrossEntropyWithLogits' || (typeof loss === 'function' && y.dtype === 'int32');
}

/** Fraction of rows whose prediction matches the target (argmax for multi-class, sign of the logit for one output). */
export function accuracyOf(pred: Tensor, target: Tensor): number {
  const p = pred.data();
  const t = target.data();
  const rows = pred.shape[0];
  if (rows === 0) return NaN;
  const classes = pred.size / rows;
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    let guess: number;
    if (classes === 1) guess = p[r] > 0 ? 1 : 0;
    else {
      guess = 0;
      for (let c = 1; c < classes; c++) if (p[r * classes + c] > p[r * classes + guess]) guess = c;
    }
    const truth = target.size === rows ? t[r] : argmaxRow(t, r, classes);
    if (guess === Math.round(truth)) correct++;
  }
  return correct / rows;
}

function argmaxRow(a: ArrayLike<number>, r: number, n: number): number {
  let best = 0;
  for (let c = 1; c < n; c++) if (a[r * n + c] > a[r * n + best]) best = c;
  return best;
}

/** Rows `order[from..to)` of x and y: views when the rows are consecutive, else gathered. */
function batchOf(d: Dataset, order: Int32Array | null, from: number, to: number): [Tensor, Tensor] {
  if (order === null) return [slice(d.x, 0, from, to), slice(d.y, 0, from, to)];
  const idx = tensor(order.subarray(from, to), [to - from], { dtype: 'int32', backend: d.x.backend });
  return [take(d.x, idx), take(d.y, idx)];
}

/**
 * Trains `model` on `data` and returns the history (loss and metrics per epoch).
 *
 * @example
 * const opt = new Adam(model.parameters(), { lr: 1e-3 });
 * const history = fit(model, { x, y }, { optimizer: opt, loss: 'crossEntropy', epochs: 8, batchSize: 64,
 *                                       validation: { x: xTest, y: yTest } });
 */
export function fit(model: Module, data: Dataset, options: FitOptions): History {
  if (options === null || typeof options !== 'object') throw new ConfigError('fit: options are required ({ optimizer, … })');
  for (const key of Object.keys(options)) {
    if (!FIT_KEYS.includes(key)) throw new ConfigError(`fit: unknown option '${key}'; valid: ${FIT_KEYS.join(', ')}`);
  }
  const o = { ...FIT_DEFAULTS, ...options };
  if (!o.optimizer || typeof o.optimizer.step !== 'function') {
    throw new ConfigError('fit: options.optimizer is required (e.g. new Adam(model.parameters(), { lr: 1e-3 }))');
  }
  let n = checkDataset('fit', data);
  positiveInt('fit', 'epochs', o.epochs);
  positiveInt('fit', 'batchSize', o.batchSize);
  if (!(o.validationSplit >= 0 && o.validationSplit < 1)) {
    throw new ValueError(`fit: validationSplit must be in [0, 1); got ${o.validationSplit}`);
  }
  if (o.schedulerStep !== 'epoch' && o.schedulerStep !== 'batch') {
    throw new ConfigError(`fit: schedulerStep must be 'epoch' or 'batch'; got '${String(o.schedulerStep)}'`);
  }
  const lossSpec: LossName | LossFn = o.loss ?? (data.y.dtype === 'int32' ? 'crossEntropy' : 'mse');
  const lossFn = resolveLoss(lossSpec, 'fit');
  const metrics = o.metrics ?? (isClassification(lossSpec, data.y) ? ['accuracy'] : []);
  for (const m of metrics) if (m !== 'accuracy') throw new ConfigError(`fit: unknown metric '${m}'; valid: 'accuracy'`);
  const wantAcc = metrics.includes('accuracy');
  const gen = o.seed !== undefined ? new Generator(o.seed) : new Generator(globalGenerator().nextSeed());

  // Validation data: given, or split off the training rows.
  let train = data;
  let validation = o.validation;
  const owned: Tensor[] = [];
  if (validation) checkDataset('fit (validation)', validation);
  else if (o.validationSplit > 0) {
    const nVal = Math.max(1, Math.floor(n * o.validationSplit));
    const order = Int32Array.from({ length: n }, (_, i) => i);
    gen.shuffle(order);
    const pick = (from: number, to: number) => {
      const idx = tensor(order.subarray(from, to), [to - from], { dtype: 'int32', backend: data.x.backend });
      const r = { x: take(data.x, idx), y: take(data.y, idx) };
      idx.dispose();
      owned.push(r.x, r.y);
      return r;
    };
    validation = noGrad(() => pick(n - nVal, n));
    train = noGrad(() => pick(0, n - nVal));
    n -= nVal;
  }

  const es = o.earlyStopping === true ? {} : o.earlyStopping || null;
  const monitor: Monitor = es?.monitor ?? (validation ? 'valLoss' : 'loss');
  if (es && !['loss', 'valLoss', 'accuracy', 'valAccuracy'].includes(monitor)) {
    throw new ConfigError(`fit: earlyStopping.monitor must be 'loss', 'valLoss', 'accuracy' or 'valAccuracy'; got '${monitor}'`);
  }
  if (es && monitor.startsWith('val') && !validation) {
    throw new ConfigError(`fit: earlyStopping monitors '${monitor}' but there is no validation data`);
  }
  const patience = es?.patience ?? 5;
  const minDelta = es?.minDelta ?? 0;
  const higherIsBetter = monitor.endsWith('ccuracy');
  let best = higherIsBetter ? -Infinity : Infinity;
  let bestWeights: Float32Array[] | null = null;
  let sinceBest = 0;

  const params = model.parameters();
  const bar = new ProgressBar(o.verbose === false ? false : 'auto');
  const history: History = { epochs: [], stoppedEarly: false };
  const cb = o.callbacks ?? {};
  const batches = Math.ceil(n / o.batchSize);
  let step = 0;
  let stop = false;
  cb.onTrainBegin?.();
  try {
    for (let epoch = 1; epoch <= o.epochs && !stop; epoch++) {
      model.train();
      cb.onEpochBegin?.(epoch);
      let order: Int32Array | null = null;
      if (o.shuffle) {
        order = Int32Array.from({ length: n }, (_, i) => i);
        gen.shuffle(order);
      }
      let lossSum = 0, accSum = 0, seen = 0;
      const t0 = performance.now();
      for (let b = 0; b < batches && !stop; b++) {
        const from = b * o.batchSize;
        const to = Math.min(n, from + o.batchSize);
        const [lossValue, acc] = tidy(() => {
          const [xb, yb] = batchOf(train, order, from, to);
          const pred = model.forward(xb);
          const loss = lossFn(pred, yb);
          if (loss.size !== 1) {
            throw new ShapeError(`fit: the loss must be a scalar; got ${fmtShape(loss.shape)} (hint: reduce it with mean())`);
          }
          o.optimizer.zeroGrad();
          backward(loss);
          o.optimizer.step();
          return [loss.item(), wantAcc ? accuracyOf(pred, yb) : NaN] as const;
        });
        step++;
        const size = to - from;
        lossSum += lossValue * size;
        accSum += acc * size;
        seen += size;
        if (o.scheduler && o.schedulerStep === 'batch') o.scheduler.step();
        if (cb.onBatchEnd?.({ epoch, batch: b + 1, batches, step, loss: lossValue, size }) === false) stop = true;
        if (bar.active) {
          const rate = (seen / (performance.now() - t0)) * 1000;
          bar.update(
            `epoch ${epoch}/${o.epochs}`, b + 1, batches,
            `loss ${(lossSum / seen).toFixed(4)}${wantAcc ? ` acc ${(accSum / seen).toFixed(4)}` : ''} ${Math.round(rate).toLocaleString('en')} samples/s`,
          );
        }
      }
      const timeMs = performance.now() - t0;
      const logs: EpochLogs = { epoch, loss: lossSum / seen, timeMs, samplesPerSec: (seen / timeMs) * 1000 };
      if (wantAcc) logs.accuracy = accSum / seen;
      if (validation) {
        const v = evaluate(model, validation, { loss: lossSpec, batchSize: Math.max(o.batchSize, 256), metrics });
        logs.valLoss = v.loss;
        if (wantAcc) logs.valAccuracy = v.accuracy;
      }
      if (o.scheduler && o.schedulerStep === 'epoch') o.scheduler.step();
      history.epochs.push(logs);
      bar.finish(formatEpoch(logs, o.epochs));
      if (cb.onEpochEnd?.(logs) === false) stop = true;

      if (es) {
        const value = logs[monitor] as number;
        const improved = higherIsBetter ? value > best + minDelta : value < best - minDelta;
        if (improved) {
          best = value;
          sinceBest = 0;
          history.bestEpoch = epoch;
          if (es.restoreBestWeights !== false) bestWeights = params.map((p) => p.data() as Float32Array);
        } else if (++sinceBest >= patience) {
          stop = true;
        }
      }
    }
    history.stoppedEarly = stop && history.epochs.length < o.epochs;
    if (bestWeights && history.stoppedEarly) {
      params.forEach((p, i) => p.backend.heap.f32.set(bestWeights![i], p.ptr >>> 2));
    }
  } finally {
    for (const t of owned) t.dispose();
  }
  cb.onTrainEnd?.(history);
  return history;
}

/** `epoch 3/8  loss 0.1234  acc 0.9650  val_loss 0.1502  val_acc 0.9555  1.24 s  8,061 samples/s` */
export function formatEpoch(l: EpochLogs, epochs?: number): string {
  const parts = [`epoch ${l.epoch}${epochs ? `/${epochs}` : ''}`, `loss ${l.loss.toFixed(4)}`];
  if (l.accuracy !== undefined) parts.push(`acc ${l.accuracy.toFixed(4)}`);
  if (l.valLoss !== undefined) parts.push(`val_loss ${l.valLoss.toFixed(4)}`);
  if (l.valAccuracy !== undefined) parts.push(`val_acc ${l.valAccuracy.toFixed(4)}`);
  parts.push(`${(l.timeMs / 1000).toFixed(2)} s`, `${Math.round(l.samplesPerSec).toLocaleString('en')} samples/s`);
  return parts.join('  ');
}

export interface EvaluateOptions {
  loss?: LossName | LossFn;
  /** Default 256. */
  batchSize?: number;
  metrics?: MetricName[];
}

/** Loss (and accuracy) of `model` on `data`, in eval mode, without recording gradients. */
export function evaluate(model: Module, data: Dataset, options: EvaluateOptions = {}): { loss: number; accuracy?: number } {
  const n = checkDataset('evaluate', data);
  const spec = options.loss ?? (data.y.dtype === 'int32' ? 'crossEntropy' : 'mse');
  const lossFn = resolveLoss(spec, 'evaluate');
  const batchSize = options.batchSize ?? 256;
  positiveInt('evaluate', 'batchSize', batchSize);
  const wantAcc = (options.metrics ?? (isClassification(spec, data.y) ? ['accuracy'] : [])).includes('accuracy');
  const wasTraining = model.training;
  model.eval();
  let lossSum = 0, accSum = 0;
  try {
    noGrad(() => {
      for (let from = 0; from < n; from += batchSize) {
        const to = Math.min(n, from + batchSize);
        tidy(() => {
          const [xb, yb] = batchOf(data, null, from, to);
          const pred = model.forward(xb);
          lossSum += lossFn(pred, yb).item() * (to - from);
          if (wantAcc) accSum += accuracyOf(pred, yb) * (to - from);
        });
      }
    });
  } finally {
    model.train(wasTraining);
  }
  const out: { loss: number; accuracy?: number } = { loss: lossSum / n };
  if (wantAcc) out.accuracy = accSum / n;
  return out;
}

/** The model's outputs for `x`, computed in batches in eval mode without gradients. */
export function predict(model: Module, x: Tensor, options: { batchSize?: number } = {}): Tensor {
  const batchSize = options.batchSize ?? 256;
  positiveInt('predict', 'batchSize', batchSize);
  if (x.rank === 0) throw new ShapeError(`predict: x must have a batch dimension; got ${fmtShape(x.shape)}`);
  const wasTraining = model.training;
  model.eval();
  try {
    return noGrad(() =>
      tidy(() => {
        const parts: Tensor[] = [];
        for (let from = 0; from < x.shape[0]; from += batchSize) {
          parts.push(model.forward(slice(x, 0, from, Math.min(x.shape[0], from + batchSize))));
        }
        return parts.length === 1 ? parts[0] : concat(parts, 0);
      }),
    );
  } finally {
    model.train(wasTraining);
  }
}
