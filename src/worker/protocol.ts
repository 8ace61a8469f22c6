/**
 * The messages between `trainInWorker` (the page) and `serveTraining` (the
 * worker), and the small adapters that let both run on browser Workers and
 * on Node's worker_threads.
 *
 *   page                                   worker
 *   ── train {model bytes, data, options} ──▶  init(backend); loadModel; build optimizer
 *   ◀── ready {backend}                        ┐
 *   ◀── progress {step, loss, losses, …}       │ fit() in slices of ≤ sliceMs,
 *   ◀── weights {step, arrays} (transferred)   │ yielding to the event loop between
 *   ◀── epoch {EpochLogs}                      │ slices to read pause / resume / stop
 *   ── pause / resume / stop ──────────────▶   ┘
 *   ◀── done {history, weights, model bytes}   (or error {name, message})
 *
 * Every message carries `wasmgrad: 1` and the job id, so a worker can serve
 * other messages of its own beside these.
 */

import type { BackendName, BackendWarning } from '../backend/index.js';
import { ValueError } from '../errors.js';
import type { EpochLogs, MetricName } from '../train/fit.js';
import type { LossName } from '../train/losses.js';

/** A tensor as plain data (what crosses to the worker). */
export interface TensorData {
  data: Float32Array | Int32Array;
  shape: number[];
}

/** Inputs and targets as plain data. */
export interface DataPair {
  x: TensorData;
  y: TensorData;
}

/** The optimizers a worker can build by name. */
export const OPTIMIZER_NAMES = ['SGD', 'Adam', 'AdamW', 'RMSprop', 'Adagrad'] as const;

/** Optimizer by name with its constructor options: `{ type: 'Adam', lr: 1e-3 }`. */
export interface OptimizerSpec {
  type: (typeof OPTIMIZER_NAMES)[number];
  [option: string]: unknown;
}

/** The training settings that travel to the worker (plain, structured-cloneable). */
export interface WorkerFitOptions {
  /** Default `{ type: 'Adam', lr: 1e-3 }`. */
  optimizer?: OptimizerSpec;
  /** Default as `fit`: 'crossEntropy' for int32 targets, else 'mse'. */
  loss?: LossName;
  /** Default 1. */
  epochs?: number;
  /** Default 32. */
  batchSize?: number;
  /** Shuffle the rows every epoch. Default true. */
  shuffle?: boolean;
  /** Seed of the worker's global generator (initial dropout masks) and of the shuffles. Default 42. */
  seed?: number;
  /** Default as `fit`: ['accuracy'] for classification losses. */
  metrics?: MetricName[];
  /** The worker's backend. Default 'auto' (falls back to js with a warning when wasm cannot load). */
  backend?: 'auto' | 'wasm' | BackendName;
  /** URLs of the .wasm files, for the external-asset build (`init({ wasm })` in the worker). */
  wasm?: { simd?: string; relaxed?: string };
  /** Longest stretch of training (ms) before the worker looks at pause/stop messages. Default 50. */
  sliceMs?: number;
  /** Progress messages at most this often (ms); one always follows each epoch. Default 100. */
  progressEveryMs?: number;
  /** Weight snapshots at most this often (ms); 0 disables them. Default 250. */
  weightsEveryMs?: number;
  /** Which parameters the snapshots hold (dotted names). Default: all. */
  weights?: string[];
}

/** Throws a ValueError for a settings value out of range (both sides call it: early on the page, again in the worker). */
export function checkWorkerFitOptions(o: WorkerFitOptions): void {
  const int = (k: 'epochs' | 'batchSize') => {
    const v = o[k];
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new ValueError(`trainInWorker: ${k} must be a positive integer; got ${v}`);
  };
  const ms = (k: 'sliceMs' | 'progressEveryMs' | 'weightsEveryMs') => {
    const v = o[k];
    if (v !== undefined && !(typeof v === 'number' && v >= 0 && Number.isFinite(v))) {
      throw new ValueError(`trainInWorker: ${k} must be a number of milliseconds ≥ 0; got ${v}`);
    }
  };
  int('epochs');
  int('batchSize');
  ms('sliceMs');
  ms('progressEveryMs');
  ms('weightsEveryMs');
  if (o.weights !== undefined && !(Array.isArray(o.weights) && o.weights.every((w) => typeof w === 'string'))) {
    throw new ValueError('trainInWorker: weights must be an array of parameter names');
  }
}

/** A stream of progress while training runs. */
export interface WorkerProgress {
  /** Optimizer steps so far (1-based). */
  step: number;
  epoch: number;
  epochs: number;
  /** Batches done in this epoch, and how many it has. */
  batch: number;
  batches: number;
  /** Loss of the last batch. */
  loss: number;
  /** The loss of every batch since the previous progress message, in order. */
  losses: number[];
  /** Mean loss over this epoch so far. */
  epochLoss: number;
  /** Mean accuracy over this epoch so far (when the accuracy metric is on). */
  accuracy?: number;
  samplesPerSec: number;
  /** Training time so far (pauses excluded). */
  elapsedMs: number;
}

/** Parameters copied out of the worker while it trains. */
export interface WeightSnapshot {
  step: number;
  epoch: number;
  weights: Record<string, Float32Array>;
  shapes: Record<string, number[]>;
}

export interface WorkerHistory {
  epochs: EpochLogs[];
  /** True when `stop()` ended training before the last epoch. */
  stopped: boolean;
  steps: number;
}

// ─── wire format ───────────────────────────────────────────────────────────

export type DataRef = DataPair | { name: string };

export type ToWorker =
  | {
      wasmgrad: 1; type: 'train'; id: number; model: Uint8Array; data: DataRef;
      validation?: DataRef; options: WorkerFitOptions;
    }
  | { wasmgrad: 1; type: 'pause' | 'resume' | 'stop'; id: number };

export type FromWorker =
  | { wasmgrad: 1; type: 'ready'; id: number; backend: BackendName }
  | { wasmgrad: 1; type: 'warning'; id: number; warning: BackendWarning }
  | { wasmgrad: 1; type: 'progress'; id: number; progress: WorkerProgress }
  | { wasmgrad: 1; type: 'weights'; id: number; snapshot: WeightSnapshot }
  | { wasmgrad: 1; type: 'epoch'; id: number; logs: EpochLogs }
  | { wasmgrad: 1; type: 'paused'; id: number; step: number }
  | { wasmgrad: 1; type: 'resumed'; id: number; step: number }
  | {
      wasmgrad: 1; type: 'done'; id: number; history: WorkerHistory; backend: BackendName;
      weights: Record<string, Float32Array>; shapes: Record<string, number[]>; model: Uint8Array;
    }
  | { wasmgrad: 1; type: 'error'; id: number; name: string; message: string; stack?: string };

// ─── endpoints: browser Worker / DedicatedWorkerGlobalScope, Node Worker / parentPort ───

/** What `trainInWorker` needs from a worker: a browser `Worker` or Node's `worker_threads.Worker`. */
export interface WorkerLike {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener?(type: string, listener: (e: { data?: unknown; message?: string }) => void): void;
  removeEventListener?(type: string, listener: (e: { data?: unknown; message?: string }) => void): void;
  on?(event: string, listener: (value: unknown) => void): unknown;
  off?(event: string, listener: (value: unknown) => void): unknown;
  terminate?(): unknown;
}

/** Subscribes to `type` ('message', 'error', 'messageerror') on either kind of endpoint; returns the unsubscribe. */
export function listen(port: WorkerLike, type: string, fn: (value: unknown) => void): () => void {
  // Node's Worker is an EventEmitter whose 'message' passes the value itself; browser endpoints (and Node's
  // MessagePort) are EventTargets whose listener gets an event.
  if (typeof port.on === 'function' && typeof port.addEventListener !== 'function') {
    port.on(type, fn);
    return () => port.off?.(type, fn);
  }
  if (typeof port.addEventListener !== 'function') {
    throw new TypeError('wasmgrad worker: expected a Worker (browser) or worker_threads Worker/MessagePort (Node)');
  }
  const h = (e: { data?: unknown; message?: string }) => fn(type === 'message' ? e.data : e);
  port.addEventListener(type, h);
  // Node's MessagePort (parentPort) only delivers messages while started; EventTarget ports start on addEventListener
  // in browsers but not always in Node.
  (port as { start?: () => void }).start?.();
  return () => port.removeEventListener?.(type, h);
}

export function isMessage(v: unknown): v is { wasmgrad: 1; type: string; id: number } {
  return typeof v === 'object' && v !== null && (v as { wasmgrad?: unknown }).wasmgrad === 1;
}

/** The buffers of typed arrays inside `value` (one level of records), for a zero-copy postMessage. */
export function buffersOf(...arrays: (ArrayBufferView | undefined)[]): Transferable[] {
  const out = new Set<ArrayBuffer>();
  for (const a of arrays) if (a && a.buffer instanceof ArrayBuffer && a.buffer.byteLength > 0) out.add(a.buffer);
  return [...out];
}
