/**
 * The worker helper (trainInWorker / serveTraining) on both kinds of worker:
 * Node's worker_threads (fast, exact checks: the steps taken equal one fit()
 * call, pause/resume/stop, errors) and a browser Web Worker running the
 * shipped dist/wasmgrad.worker.js (started from a URL, terminated after).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Browser } from 'playwright';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launch, root, serve, watchConsole, type Server } from './helpers.js';

// The built package, as users get it (npm test builds first).
const dist = path.join(root, 'dist', 'wasmgrad.node.js');
type Wg = typeof import('../../src/index.js');
let wg: Wg;

const WORKER_SOURCE = `
import { parentPort } from 'node:worker_threads';
import { serveTraining } from ${JSON.stringify(dist)};
serveTraining({
  scope: parentPort,
  datasets: {
    xor: () => ({
      x: { data: new Float32Array([0, 0, 0, 1, 1, 0, 1, 1]), shape: [4, 2] },
      y: { data: new Int32Array([0, 1, 1, 0]), shape: [4] },
      validation: { x: { data: new Float32Array([0, 1]), shape: [1, 2] }, y: { data: new Int32Array([1]), shape: [1] } },
    }),
    broken: () => { throw new Error('no data today'); },
  },
});
`;
let workerFile: string;
const workers: Worker[] = [];
const newWorker = () => {
  const w = new Worker(workerFile);
  workers.push(w);
  return w;
};

beforeAll(async () => {
  wg = (await import(dist)) as Wg;
  fs.mkdirSync(path.join(root, 'test-output', 'e2e'), { recursive: true });
  workerFile = path.join(root, 'test-output', 'e2e', 'node-training-worker.mjs');
  fs.writeFileSync(workerFile, WORKER_SOURCE);
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.terminate()));
});

/** Rows of a small seeded classification problem: two noisy blobs per class in 4-D. */
function blobs(n: number, seed: number) {
  let s = seed >>> 0;
  const r = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const x = new Float32Array(n * 4);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let d = 0; d < 4; d++) x[i * 4 + d] = (d === y[i] ? 1.5 : 0) + (r() - 0.5);
  }
  return { x: { data: x, shape: [n, 4] }, y: { data: y, shape: [n] } };
}

const mlp = () => new wg.Sequential(new wg.Linear(4, 16), new wg.ReLU(), new wg.Linear(16, 3));

describe('trainInWorker on Node worker_threads', () => {
  test('takes exactly the steps of one fit() call with the same seed, and copies the weights back', async () => {
    await wg.init({ backend: 'wasm-simd' });
    const data = blobs(203, 1); // 203 rows: a short last batch every epoch
    const options = { epochs: 4, batchSize: 16, seed: 7 };

    wg.seed(3);
    const inPage = mlp();
    const bytes = wg.saveModel(inPage);
    const x = wg.tensor(data.x.data, data.x.shape);
    const y = wg.tensor(data.y.data, data.y.shape, { dtype: 'int32' });
    const history = wg.fit(inPage, { x, y }, { ...options, optimizer: new wg.Adam(inPage.parameters(), { lr: 0.01 }), verbose: false });

    const remote = wg.loadModel(bytes);
    const progress: { step: number; losses: number[] }[] = [];
    const epochs: number[] = [];
    let snapshots = 0;
    const job = wg.trainInWorker(newWorker(), remote, data, {
      ...options, optimizer: { type: 'Adam', lr: 0.01 }, backend: 'wasm-simd', progressEveryMs: 0, weightsEveryMs: 0,
      onProgress: (p) => progress.push(p), onEpochEnd: (l) => epochs.push(l.loss), onWeights: () => snapshots++,
    });
    const r = await job.done;
    expect(job.state).toBe('done');
    expect(r.backend).toBe('wasm-simd');
    expect(r.history.steps).toBe(4 * 13);
    expect(r.history.stopped).toBe(false);
    expect(snapshots).toBe(0);
    // Every batch's loss was streamed, in order.
    expect(progress.flatMap((p) => p.losses)).toHaveLength(52);
    expect(progress[progress.length - 1].step).toBe(52);
    // Same shuffles, same batches, same kernels: the same epoch losses and the same weights, bit for bit.
    expect(epochs).toEqual(history.epochs.map((l) => l.loss));
    for (const [name, p] of inPage.namedParameters()) {
      expect(Array.from(r.weights[name]), name).toEqual(Array.from(p.data()));
    }
    // updateModel (default): the page's model now holds them too.
    for (const [name, p] of remote.namedParameters()) expect(Array.from(p.data()), name).toEqual(Array.from(r.weights[name]));
    // And the returned model bytes rebuild the same model.
    const rebuilt = wg.loadModel(r.model);
    expect(Array.from(rebuilt.namedParameters()[0][1].data())).toEqual(Array.from(r.weights['0.weight']));
  });

  test('a dataset loaded in the worker, validation, weight snapshots of chosen parameters', async () => {
    const model = new wg.Sequential(new wg.Linear(2, 16), new wg.ReLU(), new wg.Linear(16, 2));
    const snaps: string[][] = [];
    const logs: { valAccuracy?: number }[] = [];
    const r = await wg.trainInWorker(newWorker(), model, 'xor', {
      epochs: 300, batchSize: 4, optimizer: { type: 'Adam', lr: 0.05 }, weightsEveryMs: 1, weights: ['0.weight'],
      onWeights: (s) => snaps.push(Object.keys(s.weights)), onEpochEnd: (l) => logs.push(l),
    }).done;
    expect(snaps.length).toBeGreaterThan(1);
    expect(snaps.every((k) => k.length === 1 && k[0] === '0.weight')).toBe(true);
    expect(r.history.epochs).toHaveLength(300);
    expect(r.history.epochs[299].loss).toBeLessThan(r.history.epochs[0].loss / 5);
    expect(logs[299].valAccuracy).toBe(1);
    expect(Object.keys(r.weights)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
  });

  test('pause holds the step count, resume continues, stop returns the weights so far', async () => {
    const data = blobs(512, 2);
    let lastStep = 0;
    const job = wg.trainInWorker(newWorker(), mlp(), data, {
      epochs: 10_000, batchSize: 8, sliceMs: 5, progressEveryMs: 0, onProgress: (p) => (lastStep = p.step),
    });
    await expect.poll(() => lastStep, { timeout: 30_000 }).toBeGreaterThan(10);
    const at = await job.pause();
    expect(job.state).toBe('paused');
    expect(at).toBeGreaterThan(10);
    await new Promise((r) => setTimeout(r, 300));
    expect(lastStep).toBe(at);
    job.resume();
    await expect.poll(() => lastStep, { timeout: 30_000 }).toBeGreaterThan(at);
    job.stop();
    const r = await job.done;
    expect(r.history.stopped).toBe(true);
    expect(r.history.steps).toBeGreaterThanOrEqual(lastStep);
    expect(r.history.steps).toBeLessThan(10_000 * 64);
    expect(r.weights['0.weight']).toHaveLength(64);
  });

  test('stop while paused, and an AbortSignal, end the job', async () => {
    const job = wg.trainInWorker(newWorker(), mlp(), blobs(64, 3), { epochs: 100_000, batchSize: 8, sliceMs: 5 });
    await job.pause();
    job.stop();
    expect((await job.done).history.stopped).toBe(true);

    const ac = new AbortController();
    const job2 = wg.trainInWorker(newWorker(), mlp(), blobs(64, 3), { epochs: 100_000, batchSize: 8, sliceMs: 5, signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    expect((await job2.done).history.stopped).toBe(true);
  });

  test('errors: unknown options and optimizers at once; worker-side errors keep their class and message', async () => {
    const w = newWorker();
    expect(() => wg.trainInWorker(w, mlp(), blobs(8, 1), { epoch: 3 } as never)).toThrow(
      /trainInWorker: unknown option 'epoch'; valid: optimizer, loss, epochs/,
    );
    expect(() => wg.trainInWorker(w, mlp(), blobs(8, 1), { optimizer: { type: 'Adamm' as never } })).toThrow(
      "trainInWorker: unknown optimizer 'Adamm'; valid: SGD, Adam, AdamW, RMSprop, Adagrad",
    );
    expect(() => wg.trainInWorker(w, mlp(), blobs(8, 1), { epochs: 0 })).toThrow('trainInWorker: epochs must be a positive integer; got 0');
    expect(() => wg.trainInWorker(w, mlp(), blobs(8, 1), { batchSize: 2.5 })).toThrow(wg.ValueError);
    expect(() => wg.trainInWorker(w, mlp(), blobs(8, 1), { sliceMs: -1 })).toThrow('trainInWorker: sliceMs must be a number of milliseconds ≥ 0; got -1');
    expect(() => wg.trainInWorker(w, mlp(), { x: { data: new Float32Array(3), shape: [2, 2] }, y: blobs(2, 1).y })).toThrow(
      'trainInWorker: data.x has 3 elements but shape [2,2] needs 4',
    );
    await expect(wg.trainInWorker(w, mlp(), 'nope').done).rejects.toThrow(
      "trainInWorker: the worker has no dataset 'nope'; known: xor, broken",
    );
    await expect(wg.trainInWorker(w, mlp(), 'broken').done).rejects.toThrow('no data today');
    // A shape mismatch inside fit: the worker's ShapeError arrives as a ShapeError.
    const bad = wg.trainInWorker(w, mlp(), { x: { data: new Float32Array(10), shape: [2, 5] }, y: blobs(2, 1).y });
    const err = await bad.done.catch((e) => e);
    expect(err).toBeInstanceOf(wg.ShapeError);
    expect(err.message).toMatch(/linear|matmul/);
    expect(err.stack).toMatch(/in the training worker/);
    // The worker survives its jobs' errors.
    const ok = await wg.trainInWorker(w, mlp(), blobs(16, 1), { epochs: 1, batchSize: 8 }).done;
    expect(ok.history.steps).toBe(2);
  });
});

describe('trainInWorker in Chromium with dist/wasmgrad.worker.js', () => {
  let browser: Browser;
  let server: Server;
  beforeAll(async () => {
    server = await serve();
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  test('a worker started from a URL trains, streams progress and weights, returns the weights; a bad URL is a clear error', async () => {
    const page = await browser.newPage();
    const log = watchConsole(page);
    try {
      await page.goto(server.url);
      // A string, so vitest does not rewrite the dynamic import.
      const result = await page.evaluate(`(async () => {
        const wg = await import('/dist/wasmgrad.browser.js');
        await wg.init();
        wg.seed(1);
        const model = new wg.Sequential(new wg.Linear(2, 16), new wg.ReLU(), new wg.Linear(16, 2));
        const x = wg.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
        const y = wg.tensor([0, 1, 1, 0], [4], { dtype: 'int32' });
        const before = wg.evaluate(model, { x, y }).loss;
        let progress = 0, snapshots = 0, ready = null;
        const r = await wg.trainInWorker(new URL('/dist/wasmgrad.worker.js', location.href), model, { x, y }, {
          epochs: 300, batchSize: 4, optimizer: { type: 'Adam', lr: 0.05 }, weightsEveryMs: 20,
          onProgress: () => progress++, onWeights: () => snapshots++, onReady: (i) => (ready = i.backend),
        }).done;
        const after = wg.evaluate(model, { x, y });
        let error = null;
        try {
          await wg.trainInWorker(new URL('/dist/no-such-worker.js', location.href), model, { x, y }).done;
        } catch (e) {
          error = e.message;
        }
        return { ready, backend: r.backend, steps: r.history.steps, before, after, progress, snapshots, error };
      })()`);
      const r = result as {
        ready: string; backend: string; steps: number; before: number; after: { loss: number; accuracy: number };
        progress: number; snapshots: number; error: string;
      };
      expect(r.ready).toMatch(/^wasm-/);
      expect(r.backend).toBe(r.ready);
      expect(r.steps).toBe(300);
      expect(r.after.accuracy).toBe(1);
      expect(r.after.loss).toBeLessThan(r.before / 5);
      expect(r.progress).toBeGreaterThan(0);
      expect(r.snapshots).toBeGreaterThan(0);
      expect(r.error).toMatch(/trainInWorker: the training worker failed/);
      expect(log.errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
