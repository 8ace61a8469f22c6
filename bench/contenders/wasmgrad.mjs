// wasmgrad contenders: one per backend this runtime can run —
// `wasmgrad-wasm-relaxed-simd`, `wasmgrad-wasm-simd`, `wasmgrad-js` — all from
// dist/wasmgrad.node.js (run `npm run build` first; the suite does).
//
// Training rows use the public training API (Sequential, Linear, Conv2d,
// LSTM, TransformerEncoderLayer, Adam, crossEntropy, backward, tidy, …). Each
// model lists the exports it needs; if one is missing from the bundle the row
// reports "pending: needs X, Y" instead of failing.
//
// Memory: every wasmgrad backend owns one heap; `heap.peakBytes` after
// `heap.resetPeak()` is the peak of live bytes during one step, and
// `heap.liveBytes` read before and after every timed batch shows whether a
// training loop leaks.
import { glorotUniform, makeBatch } from '../cases/train.mjs';
import { randomMatrix } from '../cases/matmul.mjs';

export async function loadWasmgrad() {
  const wg = await import('../../dist/wasmgrad.node.js');
  const names = wg.availableBackends();
  const backends = new Map();
  for (const n of names) backends.set(n, await wg.loadBackend(n));
  const liveBytesAtLoad = Object.fromEntries([...backends].map(([n, b]) => [n, b.heap.liveBytes]));
  // The reference for ratios: the build init() would pick here (the best wasm build).
  const reference = names.find((n) => n !== 'js');
  return { wg, backends, names, reference, liveBytesAtLoad };
}

export const contenderName = (backend) => `wasmgrad-${backend}`;

export function wasmgradMatmul({ wg, backends }, backendName, spec) {
  const be = backends.get(backendName);
  const a = wg.tensor(randomMatrix(spec.m * spec.k, 1), [spec.m, spec.k], { backend: be });
  const b = wg.tensor(randomMatrix(spec.k * spec.n, 2), [spec.k, spec.n], { backend: be });
  const step = () => wg.tidy(() => { wg.matmul(a, b); });
  return {
    name: contenderName(backendName), status: 'ok', workPerStep: spec.workPerStep,
    step,
    peakBytes: () => {
      be.heap.resetPeak();
      step();
      return be.heap.peakBytes;
    },
    liveBytes: () => be.heap.liveBytes,
    dispose: () => { a.dispose(); b.dispose(); },
  };
}

// ---------------------------------------------------------------- training

/** Exports each training model needs from wasmgrad (besides setBackend, tensor, tidy, backward). */
export const TRAIN_API = {
  mlp: ['Sequential', 'Linear', 'ReLU', 'Adam', 'crossEntropy'],
  cnn: ['Sequential', 'Linear', 'ReLU', 'Adam', 'crossEntropy', 'Conv2d', 'MaxPool2d', 'Flatten'],
  lstm: ['Module', 'Linear', 'Adam', 'crossEntropy', 'LSTM'],
  transformer: ['Module', 'parameter', 'Linear', 'TransformerEncoderLayer', 'Adam', 'crossEntropy', 'add', 'mean'],
};
const CORE_API = ['setBackend', 'tensor', 'tidy', 'backward'];

export function missingTrainApi(wg, model) {
  return [...CORE_API, ...TRAIN_API[model]].filter((n) => typeof wg[n] !== 'function');
}

/**
 * The models in wasmgrad's layouts: Linear weights [in, out] (y = x·W + b),
 * Conv2d on NHWC images with HWIO filters [kh, kw, in, out], LSTM on
 * batch-first input [B, T, I], the encoder as one pre-norm
 * TransformerEncoderLayer (ReLU FFN, no dropout) — the same architectures as
 * the other contenders.
 */
function buildModel(wg, spec) {
  const { classes: C, batch: B } = spec;
  if (spec.model === 'mlp') {
    return new wg.Sequential(new wg.Linear(784, 256), new wg.ReLU(), new wg.Linear(256, C));
  }
  if (spec.model === 'cnn') {
    return new wg.Sequential(
      new wg.Conv2d(1, 16, 3, { padding: 'same' }), new wg.ReLU(), new wg.MaxPool2d(2),
      new wg.Conv2d(16, 32, 3, { padding: 'same' }), new wg.ReLU(), new wg.MaxPool2d(2),
      new wg.Flatten(), new wg.Linear(7 * 7 * 32, C),
    );
  }
  if (spec.model === 'lstm') {
    const [, I] = spec.sampleShape;
    const H = spec.hidden;
    class LstmClassifier extends wg.Module {
      constructor() {
        super();
        this.lstm = new wg.LSTM(I, H, { batchFirst: true, returnSequences: false });
        this.head = new wg.Linear(H, C);
      }
      forward(x) {                                                     // x [B, T, I]
        return this.head.forward(this.lstm.forward(x));                // h_T [B, H] → [B, C]
      }
    }
    return new LstmClassifier();
  }
  if (spec.model === 'transformer') {
    const [T, I] = spec.sampleShape;
    const D = spec.dModel;
    class EncoderClassifier extends wg.Module {
      constructor() {
        super();
        this.inp = new wg.Linear(I, D);
        this.pos = wg.parameter(wg.tensor(glorotUniform(T * D, T, D, 77), [T, D]));
        this.layer = new wg.TransformerEncoderLayer(D, spec.heads, {
          dimFeedforward: spec.ffn, dropout: 0, normFirst: true, activation: 'relu',
        });
        this.head = new wg.Linear(D, C);
      }
      forward(x) {                                                              // x [B, T, I]
        const h = this.layer.forward(wg.add(this.inp.forward(x), this.pos));   // [B, T, D]
        return this.head.forward(wg.mean(h, 1));                                // [B, C]
      }
    }
    return new EncoderClassifier();
  }
  throw new Error(`no wasmgrad model for ${spec.model}`);
}

/** Glorot fans for wasmgrad layouts: [in, out] matrices, HWIO [kh, kw, in, out] conv filters. */
function fans(shape) {
  if (shape.length === 2) return [shape[0], shape[1]];
  const rf = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return [shape[shape.length - 2] * rf, shape[shape.length - 1] * rf];
}

/**
 * Same init scheme as every contender: Glorot-uniform matrices/kernels (seed
 * 1000 + parameter index), zero biases — every rank-1 parameter except
 * LayerNorm's γ (`….weight`, left at its default 1): `bias`, the LSTM's
 * `bias_ih_l0`/`bias_hh_l0`, attention's `bq`…`bo` — written into the heap.
 * (contenders/pytorch.mjs draws the same values in the same order.)
 */
function initGlorot(model) {
  model.namedParameters().forEach(([name, p], i) => {
    if (p.dtype !== 'float32') return;
    const base = p.ptr >>> 2;
    const f32 = p.backend.heap.f32;
    if (p.shape.length >= 2) f32.set(glorotUniform(p.size, ...fans(p.shape), 1000 + i), base);
    else if (!/(^|\.)weight$/.test(name)) f32.fill(0, base, base + p.size);
  });
}

export function wasmgradTrain({ wg, backends }, backendName, spec, { maxStepMs = Infinity } = {}) {
  const name = contenderName(backendName);
  const missing = missingTrainApi(wg, spec.model);
  if (missing.length) return { name, status: 'pending', reason: `needs wasmgrad export${missing.length > 1 ? 's' : ''} ${missing.join(', ')}` };
  const be = backends.get(backendName);
  wg.setBackend(be);
  if (typeof wg.seed === 'function') wg.seed(1);
  const model = buildModel(wg, spec);
  initGlorot(model);
  const opt = new wg.Adam(model.parameters(), { lr: 1e-3 });
  const data = makeBatch(spec);
  const x = wg.tensor(data.x, [spec.batch, ...spec.sampleShape], { backend: be }); // images NHWC
  const y = wg.tensor(data.labels, [spec.batch], { dtype: 'int32', backend: be });
  const step = () => {
    wg.tidy(() => {
      const loss = wg.crossEntropy(model.forward(x), y);
      opt.zeroGrad();
      wg.backward(loss);
      opt.step();
    });
  };
  const dispose = () => {
    model.dispose();
    opt.dispose?.();
    x.dispose();
    y.dispose();
  };
  // Loss on the batch, forward only: the suite reads it before the first step
  // and after the last, to show every contender really trains.
  const lossNow = () => {
    wg.setBackend(be);
    const run = () => wg.tidy(() => wg.crossEntropy(model.forward(x), y).item());
    return typeof wg.noGrad === 'function' ? wg.noGrad(run) : run();
  };
  const lossBefore = lossNow();
  // First step (untimed by the harness): creates the Adam moments.
  const t0 = performance.now();
  step();
  let setupStepMs = performance.now() - t0;
  if (setupStepMs > maxStepMs) {
    // The first step carries one-time costs: a second one decides.
    const t1 = performance.now();
    step();
    setupStepMs = performance.now() - t1;
  }
  if (setupStepMs > maxStepMs) {
    dispose();
    return { name, status: 'skipped', reason: `quick mode: a step took ${(setupStepMs / 1000).toFixed(1)} s (limit ${(maxStepMs / 1000).toFixed(1)} s); npm run bench measures it` };
  }
  return {
    name, status: 'ok', workPerStep: spec.workPerStep,
    setupStepMs,
    lossBefore,
    loss: lossNow,
    note: 'tidy(forward, crossEntropy, zeroGrad, backward, Adam.step)',
    prepare: () => wg.setBackend(be),
    step,
    peakBytes: () => {
      wg.setBackend(be);
      be.heap.resetPeak();
      step();
      return be.heap.peakBytes;
    },
    liveBytes: () => be.heap.liveBytes,
    dispose,
  };
}
