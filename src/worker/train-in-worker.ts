/**
 * Training in a Web Worker, from the page's side: `trainInWorker` sends a
 * model (as `saveModel` bytes), data and fit settings to a worker running
 * `serveTraining()`, streams progress and weight snapshots back, can pause,
 * resume and stop, and resolves with the trained weights (also copied into
 * the page's model). The page's thread only receives messages, so it stays
 * responsive however long training takes.
 *
 * @example
 * // worker.js:  import { serveTraining } from 'wasmgrad'; serveTraining();
 * const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
 * const job = trainInWorker(worker, model, { x, y }, {
 *   optimizer: { type: 'Adam', lr: 1e-3 }, epochs: 3, batchSize: 64,
 *   onProgress: (p) => chart.add(p.step, p.loss),
 *   onWeights: (s) => heatmap.draw(s.weights['0.weight'], s.shapes['0.weight']),
 * });
 * pauseButton.onclick = () => job.pause();
 * const { history } = await job.done;   // model now holds the trained weights
 */

import type { BackendName, BackendWarning } from '../backend/index.js';
import * as errors from '../errors.js';
import { ConfigError } from '../errors.js';
import { loadWeights, saveModel } from '../io/model.js';
import { loadTensors } from '../io/tensors.js';
import type { Module } from '../nn/module.js';
import { Tensor } from '../tensor.js';
import type { EpochLogs } from '../train/fit.js';
import {
  buffersOf, checkWorkerFitOptions, isMessage, listen, OPTIMIZER_NAMES, type DataRef, type FromWorker, type TensorData, type ToWorker, type WeightSnapshot,
  type WorkerFitOptions, type WorkerHistory, type WorkerLike, type WorkerProgress,
} from './protocol.js';

export type { DataPair, OptimizerSpec, TensorData, WeightSnapshot, WorkerFitOptions, WorkerHistory, WorkerLike, WorkerProgress } from './protocol.js';

/** Training data for the worker: tensors or plain arrays (`{ data, shape }`), or the name of a dataset the worker loads itself. */
export type WorkerData = { x: Tensor | TensorData; y: Tensor | TensorData } | string;

export interface TrainInWorkerOptions extends WorkerFitOptions {
  /** Held-out data evaluated after every epoch (`valLoss`, `valAccuracy` in the epoch logs). */
  validation?: WorkerData;
  /** Streamed progress (see `progressEveryMs`). */
  onProgress?(p: WorkerProgress): void;
  /** After every epoch, with validation results. */
  onEpochEnd?(logs: EpochLogs): void;
  /** Weight snapshots (see `weightsEveryMs`, `weights`); the arrays are the page's to keep. */
  onWeights?(s: WeightSnapshot): void;
  /** The worker's backend, once loaded. */
  onReady?(info: { backend: BackendName }): void;
  /** The worker fell back to a slower backend (e.g. a CSP blocked WebAssembly). */
  onWarning?(w: BackendWarning): void;
  /** Copy the trained weights into `model` when done. Default true. */
  updateModel?: boolean;
  /** Send plain typed arrays without copying them first (they become unusable here). Default false. */
  transfer?: boolean;
  /** Terminate the worker when the job ends. Default: true when `trainInWorker` created it from a URL. */
  terminate?: boolean;
  /** Aborting stops training (as `stop()`). */
  signal?: AbortSignal;
}

export interface WorkerTrainResult {
  history: WorkerHistory;
  /** The backend the worker trained on. */
  backend: BackendName;
  /** Every parameter after training, by dotted name. */
  weights: Record<string, Float32Array>;
  shapes: Record<string, number[]>;
  /** The trained model as `saveModel` bytes (`loadModel(bytes)` rebuilds it). */
  model: Uint8Array;
}

export type JobState = 'starting' | 'running' | 'paused' | 'stopping' | 'done' | 'failed';

export interface TrainingJob {
  /** Resolves when training ends (all epochs, or stopped) with the trained weights; rejects on errors. */
  readonly done: Promise<WorkerTrainResult>;
  readonly state: JobState;
  /** Pauses after the current slice of steps; resolves with the step it paused at. */
  pause(): Promise<number>;
  resume(): void;
  /** Ends training after the current slice; `done` then resolves with the weights so far. */
  stop(): void;
}

const OPTION_KEYS = [
  'optimizer', 'loss', 'epochs', 'batchSize', 'shuffle', 'seed', 'metrics', 'backend', 'wasm', 'sliceMs', 'progressEveryMs',
  'weightsEveryMs', 'weights', 'validation', 'onProgress', 'onEpochEnd', 'onWeights', 'onReady', 'onWarning', 'updateModel',
  'transfer', 'terminate', 'signal',
];
const WIRE_KEYS = [
  'optimizer', 'loss', 'epochs', 'batchSize', 'shuffle', 'seed', 'metrics', 'backend', 'wasm', 'sliceMs', 'progressEveryMs',
  'weightsEveryMs', 'weights',
] as const;

let nextId = 1;

function tensorData(t: Tensor | TensorData, where: string, transfer: boolean): TensorData {
  if (t instanceof Tensor) return { data: t.data(), shape: [...t.shape] };
  if (!t || !(t.data instanceof Float32Array || t.data instanceof Int32Array) || !Array.isArray(t.shape)) {
    throw new ConfigError(`trainInWorker: ${where} must be a Tensor or { data: Float32Array | Int32Array, shape: number[] }`);
  }
  const size = t.shape.reduce((a, b) => a * b, 1);
  if (size !== t.data.length) {
    throw new errors.ShapeError(`trainInWorker: ${where} has ${t.data.length} elements but shape [${t.shape}] needs ${size}`);
  }
  return { data: transfer ? t.data : t.data.slice(), shape: [...t.shape] };
}

function dataRef(d: WorkerData, where: string, transfer: boolean): DataRef {
  if (typeof d === 'string') return { name: d };
  if (!d || typeof d !== 'object') throw new ConfigError(`trainInWorker: ${where} must be { x, y } or a dataset name`);
  return { x: tensorData(d.x, `${where}.x`, transfer), y: tensorData(d.y, `${where}.y`, transfer) };
}

function rebuildError(name: string, message: string, stack?: string): Error {
  const Ctor = (errors as unknown as Record<string, new (m: string) => Error>)[name];
  const e = typeof Ctor === 'function' && name.endsWith('Error') ? new Ctor(message) : new Error(message);
  if (!(typeof Ctor === 'function')) e.name = name;
  if (stack) e.stack = `${e.name}: ${message}\n    (in the training worker)\n${stack.split('\n').slice(1).join('\n')}`;
  return e;
}

/**
 * Trains `model` in `worker` (a Worker running `serveTraining()`, or the URL
 * of a module worker script to start). Returns at once with a job handle.
 */
export function trainInWorker(worker: WorkerLike | string | URL, model: Module, data: WorkerData, options: TrainInWorkerOptions = {}): TrainingJob {
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) throw new ConfigError(`trainInWorker: unknown option '${key}'; valid: ${OPTION_KEYS.join(', ')}`);
  }
  checkWorkerFitOptions(options);
  if (options.optimizer !== undefined && !OPTIMIZER_NAMES.includes(options.optimizer?.type as never)) {
    throw new ConfigError(`trainInWorker: unknown optimizer '${String(options.optimizer?.type)}'; valid: ${OPTIMIZER_NAMES.join(', ')}`);
  }
  let w: WorkerLike;
  let ownWorker = false;
  if (typeof worker === 'string' || worker instanceof URL) {
    if (typeof Worker !== 'function') throw new ConfigError('trainInWorker: this runtime has no Worker; pass a worker_threads Worker in Node');
    w = new Worker(worker, { type: 'module' }) as unknown as WorkerLike;
    ownWorker = true;
  } else {
    w = worker;
    if (!w || typeof w.postMessage !== 'function') throw new ConfigError('trainInWorker: worker must be a Worker (or a URL of a worker script)');
  }
  const terminate = options.terminate ?? ownWorker;
  const transfer = options.transfer === true;

  const id = nextId++;
  const wire: WorkerFitOptions = {};
  for (const k of WIRE_KEYS) if (options[k] !== undefined) (wire as Record<string, unknown>)[k] = options[k];
  const bytes = saveModel(model);
  const train: ToWorker = {
    wasmgrad: 1, type: 'train', id, model: bytes, data: dataRef(data, 'data', transfer), options: wire,
  };
  if (options.validation !== undefined) train.validation = dataRef(options.validation, 'validation', transfer);

  let state: JobState = 'starting';
  let pauseWaiters: ((step: number) => void)[] = [];
  const cleanups: (() => void)[] = [];
  const finish = () => {
    for (const c of cleanups.splice(0)) c();
    if (terminate) w.terminate?.();
    for (const r of pauseWaiters.splice(0)) r(-1);
  };

  const done = new Promise<WorkerTrainResult>((resolve, reject) => {
    const fail = (e: Error) => {
      state = 'failed';
      finish();
      reject(e);
    };
    cleanups.push(
      listen(w, 'message', (m) => {
        if (!isMessage(m) || m.id !== id) return;
        const msg = m as FromWorker;
        try {
          switch (msg.type) {
            case 'ready':
              if (state === 'starting') state = 'running';
              options.onReady?.({ backend: msg.backend });
              break;
            case 'warning':
              options.onWarning?.(msg.warning);
              break;
            case 'progress':
              options.onProgress?.(msg.progress);
              break;
            case 'weights':
              options.onWeights?.(msg.snapshot);
              break;
            case 'epoch':
              options.onEpochEnd?.(msg.logs);
              break;
            case 'paused':
              if (state !== 'stopping') state = 'paused';
              for (const r of pauseWaiters.splice(0)) r(msg.step);
              break;
            case 'resumed':
              if (state === 'paused') state = 'running';
              break;
            case 'error':
              fail(rebuildError(msg.name, msg.message, msg.stack));
              break;
            case 'done': {
              if (options.updateModel !== false) copyInto(model, msg.model);
              state = 'done';
              finish();
              resolve({ history: msg.history, backend: msg.backend, weights: msg.weights, shapes: msg.shapes, model: msg.model });
              break;
            }
          }
        } catch (e) {
          fail(e as Error);
        }
      }),
    );
    const onError = (e: unknown) => {
      const ev = e as { message?: string; filename?: string; preventDefault?: () => void };
      ev?.preventDefault?.();
      const detail = ev instanceof Error ? ev.message : ev?.message || (ev?.filename ? `in ${ev.filename}` : 'it failed to load or threw');
      fail(new errors.WasmgradError(`trainInWorker: the training worker failed: ${detail} (hint: is the worker script's URL right, and is it a module worker running serveTraining()?)`));
    };
    cleanups.push(listen(w, 'error', onError));
    cleanups.push(listen(w, 'messageerror', () => fail(new errors.WasmgradError('trainInWorker: a message from the worker could not be deserialised'))));
  });

  const job: TrainingJob = {
    done,
    get state() {
      return state;
    },
    pause() {
      if (state === 'done' || state === 'failed') return Promise.resolve(-1);
      const p = new Promise<number>((r) => pauseWaiters.push(r));
      w.postMessage({ wasmgrad: 1, type: 'pause', id } satisfies ToWorker);
      return p;
    },
    resume() {
      if (state === 'done' || state === 'failed') return;
      w.postMessage({ wasmgrad: 1, type: 'resume', id } satisfies ToWorker);
    },
    stop() {
      if (state === 'done' || state === 'failed') return;
      state = 'stopping';
      w.postMessage({ wasmgrad: 1, type: 'stop', id } satisfies ToWorker);
    },
  };
  if (options.signal) {
    if (options.signal.aborted) job.stop();
    else {
      const onAbort = () => job.stop();
      options.signal.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => options.signal!.removeEventListener('abort', onAbort));
    }
  }
  // Attach a no-op handler so an unobserved failure is not an unhandled rejection before the caller awaits `done`.
  done.catch(() => {});

  const arrays: ArrayBufferView[] = [bytes];
  for (const ref of [train.data, train.validation]) if (ref && 'x' in ref) arrays.push(ref.x.data, ref.y.data);
  // Tensor data and copies are ours to transfer; user arrays only with { transfer: true } (then they were not copied).
  w.postMessage(train, buffersOf(...arrays));
  return job;
}

/** @internal Writes the parameters and buffers of `saveModel` bytes into `model`, in place (names that match; others ignored). */
export function copyInto(model: Module, modelBytes: Uint8Array): void {
  const { tensors } = loadTensors(modelBytes);
  try {
    const own = new Set([...model.namedParameters(), ...model.namedBuffers()].map(([n]) => n));
    loadWeights(model, new Map(Object.entries(tensors).filter(([n]) => own.has(n))), { strict: false });
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
}
