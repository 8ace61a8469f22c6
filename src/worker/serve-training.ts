/**
 * The worker side of training in a Web Worker: `serveTraining()` answers the
 * messages `trainInWorker` sends (see protocol.ts for the exchange).
 *
 * `fit` is synchronous, and a worker busy in it cannot read messages. So the
 * worker trains in slices: each epoch's rows are shuffled once into a copy,
 * and `fit` runs over views of the rows still to do, with `onBatchEnd`
 * stopping it after `sliceMs`; between slices the worker yields to its event
 * loop, where pause, resume and stop arrive. The optimizer (and its moments)
 * persists across slices, so the steps taken are exactly those of one `fit`
 * call with the same shuffles.
 *
 *   // my-worker.js (a module worker)
 *   import { serveTraining } from 'wasmgrad';
 *   serveTraining();                                   // in a browser worker
 *   serveTraining({ scope: parentPort });              // in a Node worker_threads worker
 *   serveTraining({ datasets: { digits: loadDigits } }); // data the worker loads itself
 */

import { getBackend, init, onWarning, type BackendWarning } from '../backend/index.js';
import { ConfigError } from '../errors.js';
import { loadModel, saveModel } from '../io/model.js';
import type { Module } from '../nn/module.js';
import { take } from '../ops/gather.js';
import { slice } from '../ops/shape.js';
import { Adagrad } from '../optim/adagrad.js';
import { Adam, AdamW } from '../optim/adam.js';
import { RMSprop } from '../optim/rmsprop.js';
import { SGD } from '../optim/sgd.js';
import { Generator, seed as seedGlobal } from '../random.js';
import { Tensor, tensor } from '../tensor.js';
import { evaluate, fit, type Dataset, type EpochLogs } from '../train/fit.js';
import {
  buffersOf, checkWorkerFitOptions, isMessage, listen, type DataPair, type DataRef, type FromWorker, type OptimizerSpec, type TensorData,
  type ToWorker, type WorkerFitOptions, type WorkerHistory, type WorkerLike, type WorkerProgress,
} from './protocol.js';

/** Data a worker can load itself: plain arrays or tensors, optionally with a validation split. */
export interface WorkerDatasetSource {
  x: TensorData | Tensor;
  y: TensorData | Tensor;
  validation?: { x: TensorData | Tensor; y: TensorData | Tensor };
}

export interface ServeTrainingOptions {
  /**
   * Where messages come from and go to. Default: the worker's global scope
   * (`self`); in Node pass `parentPort` from 'node:worker_threads'.
   */
  scope?: WorkerLike;
  /**
   * Datasets by name, loaded (once, lazily) inside the worker, so big data
   * never crosses the page's thread: `trainInWorker(worker, model, 'digits', …)`.
   */
  datasets?: Record<string, () => WorkerDatasetSource | Promise<WorkerDatasetSource>>;
}

export const OPTIMIZERS = { SGD, Adam, AdamW, RMSprop, Adagrad } as const;

const SERVE_DEFAULTS = Object.freeze({ sliceMs: 50, progressEveryMs: 100, weightsEveryMs: 250, seed: 42, epochs: 1, batchSize: 32 });

/**
 * Serves training jobs from `trainInWorker` on this worker. Returns a function
 * that stops listening. One job runs at a time; a new job waits for the last.
 */
export function serveTraining(options: ServeTrainingOptions = {}): () => void {
  const scope = options.scope ?? (globalThis as unknown as WorkerLike);
  if (typeof scope?.postMessage !== 'function') {
    throw new ConfigError('serveTraining: no worker scope here; hint: call it inside a Worker, or pass { scope: parentPort } in Node');
  }
  const loaders = options.datasets ?? {};
  const cache = new Map<string, Promise<WorkerDatasetSource>>();
  const controls = new Map<number, JobControl>();
  let queue: Promise<void> = Promise.resolve();
  let currentId = -1;

  const post = (msg: FromWorker, transfer: Transferable[] = []) => scope.postMessage(msg, transfer);
  const unwarn = onWarning((warning: BackendWarning) => post({ wasmgrad: 1, type: 'warning', id: currentId, warning }));

  const unlisten = listen(scope, 'message', (m) => {
    if (!isMessage(m)) return;
    const msg = m as ToWorker;
    if (msg.type === 'train') {
      const control = new JobControl();
      controls.set(msg.id, control);
      queue = queue.then(async () => {
        currentId = msg.id;
        try {
          await runJob(msg, control, post, (name) => loadDataset(name, loaders, cache));
        } catch (e) {
          const err = e as Error;
          post({ wasmgrad: 1, type: 'error', id: msg.id, name: err?.name ?? 'Error', message: err?.message ?? String(e), stack: err?.stack });
        } finally {
          controls.delete(msg.id);
        }
      });
    } else {
      const c = controls.get(msg.id);
      if (!c) return;
      if (msg.type === 'pause') c.paused = true;
      else if (msg.type === 'resume') c.resume();
      else if (msg.type === 'stop') c.stop();
    }
  });
  return () => {
    unlisten();
    unwarn();
  };
}

class JobControl {
  paused = false;
  stopped = false;
  private wake: (() => void) | null = null;

  resume(): void {
    this.paused = false;
    this.wake?.();
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  /** Resolves when resumed or stopped. */
  waitWhilePaused(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = null;
        resolve();
      };
      if (!this.paused || this.stopped) this.wake();
    });
  }
}

function loadDataset(
  name: string, loaders: ServeTrainingOptions['datasets'] & object, cache: Map<string, Promise<WorkerDatasetSource>>,
): Promise<WorkerDatasetSource> {
  let p = cache.get(name);
  if (!p) {
    const loader = loaders[name];
    if (typeof loader !== 'function') {
      const known = Object.keys(loaders);
      throw new ConfigError(
        `trainInWorker: the worker has no dataset '${name}'; ${known.length ? `known: ${known.join(', ')}` : 'it registered none'} ` +
          `(hint: serveTraining({ datasets: { ${name}: () => ({ x, y }) } }))`,
      );
    }
    p = Promise.resolve().then(loader);
    cache.set(name, p);
    p.catch(() => cache.delete(name));
  }
  return p;
}

/** Yields to the event loop (a macrotask, so messages are delivered) without setTimeout's 4 ms clamp. */
function yieldToEventLoop(): Promise<void> {
  if (typeof MessageChannel === 'function') {
    return new Promise((resolve) => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => {
        ch.port1.close();
        resolve();
      };
      ch.port2.postMessage(0);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function toTensor(t: TensorData | Tensor, where: string): Tensor {
  if (t instanceof Tensor) return tensor(t.data(), t.shape, { dtype: t.dtype });
  if (!t || !(t.data instanceof Float32Array || t.data instanceof Int32Array) || !Array.isArray(t.shape)) {
    throw new ConfigError(`trainInWorker: ${where} must be a Tensor or { data: Float32Array | Int32Array, shape }`);
  }
  return tensor(t.data, t.shape, { dtype: t.data instanceof Int32Array ? 'int32' : 'float32' });
}

function toDataset(d: { x: TensorData | Tensor; y: TensorData | Tensor }, where: string): Dataset {
  return { x: toTensor(d.x, `${where}.x`), y: toTensor(d.y, `${where}.y`) };
}

async function resolveData(
  ref: DataRef, load: (name: string) => Promise<WorkerDatasetSource>, where: string,
): Promise<{ data: Dataset; validation?: Dataset }> {
  if ('name' in ref) {
    const src = await load(ref.name);
    return { data: toDataset(src, where), validation: src.validation ? toDataset(src.validation, `${where}.validation`) : undefined };
  }
  return { data: toDataset(ref as DataPair, where) };
}

function makeOptimizer(model: Module, spec: OptimizerSpec | undefined) {
  const { type = 'Adam', ...opts } = spec ?? { type: 'Adam', lr: 1e-3 };
  const Ctor = OPTIMIZERS[type as keyof typeof OPTIMIZERS];
  if (!Ctor) {
    throw new ConfigError(`trainInWorker: unknown optimizer '${String(type)}'; valid: ${Object.keys(OPTIMIZERS).join(', ')}`);
  }
  return new Ctor(model.parameters(), opts as never);
}

async function runJob(
  msg: Extract<ToWorker, { type: 'train' }>,
  control: JobControl,
  post: (m: FromWorker, transfer?: Transferable[]) => void,
  load: (name: string) => Promise<WorkerDatasetSource>,
): Promise<void> {
  const id = msg.id;
  checkWorkerFitOptions(msg.options);
  const o = { ...SERVE_DEFAULTS, ...msg.options };
  await init({ backend: o.backend ?? 'auto', ...(o.wasm ? { wasm: o.wasm } : {}) });
  const backend = getBackend();
  post({ wasmgrad: 1, type: 'ready', id, backend });
  seedGlobal(o.seed);

  const owned: Tensor[] = [];
  let model: Module | null = null;
  let optimizer: ReturnType<typeof makeOptimizer> | null = null;
  try {
    model = loadModel(msg.model);
    optimizer = makeOptimizer(model, o.optimizer);
    const { data, validation: fromLoader } = await resolveData(msg.data, load, 'data');
    owned.push(data.x, data.y);
    if (fromLoader) owned.push(fromLoader.x, fromLoader.y);
    let validation = fromLoader;
    if (msg.validation) {
      validation = (await resolveData(msg.validation, load, 'validation')).data;
      owned.push(validation.x, validation.y);
    }

    const named = model.namedParameters();
    const streamed = o.weights ? named.filter(([n]) => o.weights!.includes(n)) : named;
    if (o.weights) {
      const missing = o.weights.filter((w) => !named.some(([n]) => n === w));
      if (missing.length) {
        throw new ConfigError(`trainInWorker: options.weights names unknown parameters: ${missing.join(', ')}; the model has ${named.map(([n]) => n).join(', ')}`);
      }
    }
    const snapshot = (params: [string, Tensor][]) => {
      const weights: Record<string, Float32Array> = {};
      const shapes: Record<string, number[]> = {};
      for (const [n, p] of params) {
        weights[n] = p.data() as Float32Array;
        shapes[n] = [...p.shape];
      }
      return { weights, shapes };
    };

    const n = data.x.shape[0];
    const batches = Math.ceil(n / o.batchSize);
    const gen = new Generator(o.seed);
    const history: WorkerHistory = { epochs: [], stopped: false, steps: 0 };
    let step = 0;
    let trainMs = 0;
    let lastProgress = -Infinity;
    let lastWeights = -Infinity;
    let pendingLosses: number[] = [];

    const sendWeights = (epoch: number) => {
      const s = snapshot(streamed);
      post({ wasmgrad: 1, type: 'weights', id, snapshot: { step, epoch, ...s } }, buffersOf(...Object.values(s.weights)));
      lastWeights = performance.now();
    };
    if (o.weightsEveryMs > 0) sendWeights(0); // the initial weights, before any step

    for (let epoch = 1; epoch <= o.epochs && !control.stopped; epoch++) {
      // This epoch's rows, shuffled once into a copy; slices of it are views.
      let ex = data.x, ey = data.y;
      if (o.shuffle !== false) {
        const order = Int32Array.from({ length: n }, (_, i) => i);
        gen.shuffle(order);
        const idx = tensor(order, [n], { dtype: 'int32' });
        ex = take(data.x, idx);
        ey = take(data.y, idx);
        idx.dispose();
      }
      let done = 0; // rows done this epoch
      let lossSum = 0, accSum = 0, accSeen = 0;
      let wantAcc = false;
      const epochStart = trainMs;
      try {
        while (done < n && !control.stopped) {
          if (control.paused) {
            post({ wasmgrad: 1, type: 'paused', id, step });
            await control.waitWhilePaused();
            if (control.stopped) break;
            post({ wasmgrad: 1, type: 'resumed', id, step });
          }
          const xs = slice(ex, 0, done, n);
          const ys = slice(ey, 0, done, n);
          const t0 = performance.now();
          let rows = 0;
          const h = fit(model, { x: xs, y: ys }, {
            optimizer, loss: o.loss, epochs: 1, batchSize: o.batchSize, shuffle: false, seed: 0, metrics: o.metrics, verbose: false,
            callbacks: {
              onBatchEnd: (b) => {
                rows += b.size;
                step++;
                pendingLosses.push(b.loss);
                return performance.now() - t0 < o.sliceMs;
              },
            },
          });
          xs.dispose();
          ys.dispose();
          trainMs += performance.now() - t0;
          const logs = h.epochs[0];
          done += rows;
          lossSum += logs.loss * rows;
          if (logs.accuracy !== undefined) {
            wantAcc = true;
            accSum += logs.accuracy * rows;
            accSeen += rows;
          }
          await yieldToEventLoop(); // pause / resume / stop arrive here
          const now = performance.now();
          if (now - lastProgress >= o.progressEveryMs || done >= n || control.stopped || control.paused) {
            const progress: WorkerProgress = {
              step, epoch, epochs: o.epochs, batch: Math.ceil(done / o.batchSize), batches,
              loss: pendingLosses[pendingLosses.length - 1], losses: pendingLosses, epochLoss: lossSum / done,
              samplesPerSec: (done / Math.max(1e-9, trainMs - epochStart)) * 1000, elapsedMs: trainMs,
            };
            if (wantAcc) progress.accuracy = accSum / accSeen;
            post({ wasmgrad: 1, type: 'progress', id, progress });
            pendingLosses = [];
            lastProgress = now;
          }
          if (o.weightsEveryMs > 0 && (now - lastWeights >= o.weightsEveryMs || control.paused)) sendWeights(epoch);
        }
      } finally {
        if (ex !== data.x) {
          ex.dispose();
          ey.dispose();
        }
      }
      if (done < n) break; // stopped mid-epoch: no partial epoch in the history
      const logs: EpochLogs = {
        epoch, loss: lossSum / n, timeMs: trainMs - epochStart, samplesPerSec: (n / Math.max(1e-9, trainMs - epochStart)) * 1000,
      };
      if (wantAcc) logs.accuracy = accSum / accSeen;
      if (validation) {
        const v = evaluate(model, validation, { loss: o.loss, batchSize: Math.max(o.batchSize, 256), metrics: o.metrics });
        logs.valLoss = v.loss;
        if (v.accuracy !== undefined) logs.valAccuracy = v.accuracy;
      }
      history.epochs.push(logs);
      post({ wasmgrad: 1, type: 'epoch', id, logs });
    }
    history.stopped = control.stopped && history.epochs.length < o.epochs;
    history.steps = step;
    const final = snapshot(named);
    const bytes = saveModel(model);
    post(
      { wasmgrad: 1, type: 'done', id, history, backend, model: bytes, ...final },
      buffersOf(bytes, ...Object.values(final.weights)),
    );
  } finally {
    optimizer?.dispose();
    model?.dispose();
    for (const t of owned) t.dispose();
  }
}
