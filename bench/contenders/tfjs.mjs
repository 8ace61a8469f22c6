// TensorFlow.js contenders: `tfjs-wasm` (@tensorflow/tfjs-backend-wasm, XNNPACK,
// single thread, SIMD binary) and `tfjs-cpu` (the plain-JS backend bundled in
// @tensorflow/tfjs).
//
// TF.js has one global engine with one active backend. Each contender's
// tensors and models are created while its backend is active and only used
// while it is active (`prepare()` switches before every timed batch), so no
// data migrates between backends during a run.
//
// Which .wasm is loaded is not taken on faith: fs.readFileSync is observed
// while the wasm backend initialises, and the path, size and SHA-256 of every
// .wasm read are reported, with the engine's SIMD/threads flags.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { glorotUniform, makeBatch } from '../cases/train.mjs';
import { randomMatrix } from '../cases/matmul.mjs';

const require = createRequire(import.meta.url);

/** Observes .wasm files read through fs while `fn` runs. */
export async function watchWasmReads(fn) {
  const reads = [];
  const orig = fs.readFileSync;
  fs.readFileSync = function (p, ...rest) {
    const out = orig.call(this, p, ...rest);
    const s = String(p instanceof URL ? p.pathname : p);
    if (s.endsWith('.wasm')) {
      reads.push({
        file: s.replace(/^file:\/\//, ''),
        bytes: out.length,
        sha256: crypto.createHash('sha256').update(out).digest('hex').slice(0, 16),
      });
    }
    return out;
  };
  try {
    await fn();
  } finally {
    fs.readFileSync = orig;
  }
  return reads;
}

export async function loadTfjs() {
  // tfjs prints a hint about tfjs-node on first use in Node; it is not a contender here.
  const warn = console.warn;
  console.warn = (...a) => (String(a[0]).includes('tfjs-node') ? undefined : warn(...a));
  const tf = await import('@tensorflow/tfjs');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
  wasm.setWasmPaths(dir);
  wasm.setThreadsCount(1);
  const info = { version: tf.version.tfjs, wasmDir: dir };
  try {
    info.wasmReads = await watchWasmReads(async () => {
      if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") returned false');
      await tf.ready();
    });
    info.wasm = {
      ok: true,
      simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
      multithreadSupport: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
      threads: wasm.getThreadsCount(),
      file: info.wasmReads.map((r) => path.basename(r.file)).join(', ') || 'unknown',
    };
  } catch (e) {
    info.wasm = { ok: false, reason: String(e?.message ?? e) };
  }
  await tf.setBackend('cpu');
  await tf.ready();
  console.warn = warn;
  return { tf, info };
}

export const TFJS_BACKENDS = [
  ['tfjs-wasm', 'wasm'],
  ['tfjs-cpu', 'cpu'],
];

async function use(tf, backend) {
  if (tf.getBackend() !== backend) await tf.setBackend(backend);
}

export async function tfjsMatmul({ tf, info }, name, backend, spec) {
  if (backend === 'wasm' && !info.wasm.ok) return { name, status: 'unsupported', reason: info.wasm.reason };
  await use(tf, backend);
  const a = tf.tensor2d(randomMatrix(spec.m * spec.k, 1), [spec.m, spec.k]);
  const b = tf.tensor2d(randomMatrix(spec.k * spec.n, 2), [spec.k, spec.n]);
  const step = () => tf.matMul(a, b).dispose();
  return {
    name, status: 'ok', workPerStep: spec.workPerStep,
    prepare: () => use(tf, backend),
    step,
    peakBytes: async () => {
      await use(tf, backend);
      const before = tf.memory().numBytes;
      const p = await tf.profile(step);
      return 4 * (spec.m * spec.k + spec.k * spec.n) + (p.peakBytes - before);
    },
    liveBytes: () => tf.memory().numBytes,
    dispose: () => { a.dispose(); b.dispose(); },
  };
}

// ---------------------------------------------------------------- training

/** Glorot fans for TF.js layouts: dense/LSTM kernels [in, out]; conv kernels [kh, kw, in, out]. */
function fans(shape) {
  if (shape.length === 2) return [shape[0], shape[1]];
  const rf = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return [rf * shape[shape.length - 2], rf * shape[shape.length - 1]];
}

/** Initial values for a variable: Glorot-uniform for rank ≥ 2, zeros for biases, ones for LayerNorm γ. */
function initialValue(tf, name, shape, seed) {
  const size = shape.reduce((a, b) => a * b, 1);
  if (shape.length >= 2) return tf.tensor(glorotUniform(size, ...fans(shape), seed), shape);
  return /gamma/.test(name) ? tf.ones(shape) : tf.zeros(shape);
}

function layersModel(tf, spec) {
  const L = tf.layers;
  const init = { kernelInitializer: 'zeros', biasInitializer: 'zeros' }; // overwritten by setGlorot()
  const m = tf.sequential();
  if (spec.model === 'mlp') {
    m.add(L.dense({ inputShape: spec.sampleShape, units: 256, activation: 'relu', ...init }));
    m.add(L.dense({ units: spec.classes, ...init }));
  } else if (spec.model === 'cnn') {
    m.add(L.conv2d({ inputShape: spec.sampleShape, filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', ...init }));
    m.add(L.maxPooling2d({ poolSize: 2 }));
    m.add(L.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', ...init }));
    m.add(L.maxPooling2d({ poolSize: 2 }));
    m.add(L.flatten());
    m.add(L.dense({ units: spec.classes, ...init }));
  } else if (spec.model === 'lstm') {
    m.add(L.lstm({
      inputShape: spec.sampleShape, units: spec.hidden, returnSequences: false,
      recurrentInitializer: 'zeros', unitForgetBias: false, ...init,
    }));
    m.add(L.dense({ units: spec.classes, ...init }));
  } else {
    throw new Error(`no layers model for ${spec.model}`);
  }
  const values = m.weights.map((w, i) => initialValue(tf, w.name, w.shape, 1000 + i));
  m.setWeights(values);
  values.forEach((t) => t.dispose());
  return m;
}

/**
 * The transformer encoder classifier from tf ops: tfjs-layers 4.x has no
 * MultiHeadAttention (nor LayerNormalization usable inside a custom graph
 * without a custom layer), so the whole model is variables + ops, trained with
 * optimizer.minimize.
 */
function transformerModel(tf, spec) {
  const [T, I] = spec.sampleShape;
  const D = spec.dModel, H = spec.heads, HS = D / H, F = spec.ffn;
  const shapes = {
    inW: [I, D], inB: [D], pos: [T, D],
    ln1_gamma: [D], ln1_beta: [D],
    wq: [D, D], bq: [D], wk: [D, D], bk: [D], wv: [D, D], bv: [D], wo: [D, D], bo: [D],
    ln2_gamma: [D], ln2_beta: [D],
    w1: [D, F], b1: [F], w2: [F, D], b2: [D],
    outW: [D, spec.classes], outB: [spec.classes],
  };
  const v = {};
  Object.entries(shapes).forEach(([name, shape], i) => {
    const t = initialValue(tf, name, shape, 1000 + i);
    v[name] = tf.variable(t, true, `tfm_${name}_${Math.random().toString(36).slice(2)}`);
    t.dispose();
  });
  const B = spec.batch;
  const dense = (x, w, b) => tf.add(tf.matMul(x, w), b);                     // x [N, in]
  const layerNorm = (x, g, b) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
  };
  const heads = (x) => tf.transpose(tf.reshape(x, [B, T, H, HS]), [0, 2, 1, 3]); // [B*T, D] → [B, H, T, HS]
  const forward = (x) => {
    let h = tf.add(tf.reshape(dense(tf.reshape(x, [B * T, I]), v.inW, v.inB), [B, T, D]), v.pos); // [B, T, D]
    h = tf.reshape(h, [B * T, D]);
    const a = layerNorm(h, v.ln1_gamma, v.ln1_beta);
    const q = heads(dense(a, v.wq, v.bq)), k = heads(dense(a, v.wk, v.bk)), vv = heads(dense(a, v.wv, v.bv));
    const att = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(HS)));         // [B, H, T, T]
    const y = tf.reshape(tf.transpose(tf.matMul(att, vv), [0, 2, 1, 3]), [B * T, D]);          // [B*T, D]
    h = tf.add(h, dense(y, v.wo, v.bo));
    const f = dense(tf.relu(dense(layerNorm(h, v.ln2_gamma, v.ln2_beta), v.w1, v.b1)), v.w2, v.b2);
    h = tf.add(h, f);
    const pooled = tf.mean(tf.reshape(h, [B, T, D]), 1);                                      // [B, D]
    return dense(pooled, v.outW, v.outB);                                                      // [B, classes]
  };
  return { forward, variables: Object.values(v), dispose: () => Object.values(v).forEach((t) => t.dispose()) };
}

const adam = (tf) => tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
const bytesOf = (ts) => ts.reduce((n, t) => n + t.size * 4, 0);

/** Kernels a model's backward needs that a backend lacks (TF.js throws at the first step otherwise). */
function missingKernels(tf, spec, backend) {
  const need = { cnn: ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'MaxPool', 'MaxPoolGrad'] }[spec.model] ?? [];
  return need.filter((k) => !tf.getKernel(k, backend));
}

/**
 * Options (from the suite's mode):
 *   quick        compare no loop variants (optimizer.minimize only)
 *   skipModels   models this mode leaves out for TF.js (quick mode: the ones
 *                TF.js needs seconds per step for)
 *   maxStepMs    a first step slower than this skips the contender (quick mode)
 *   slowMs       a first step slower than this is not compared against trainOnBatch
 *   selectMs, selectMin  how long / how many steps each to time the two loops
 */
export async function tfjsTrain({ tf, info }, name, backend, spec, opts = {}) {
  const { quick = false, skipModels = [], maxStepMs = Infinity, slowMs = Infinity, selectMs = 600, selectMin = 3, log = () => {} } = opts;
  if (backend === 'wasm' && !info.wasm.ok) return { name, status: 'unsupported', reason: info.wasm.reason };
  await use(tf, backend);
  const missing = missingKernels(tf, spec, backend);
  if (missing.length) {
    return {
      name, status: 'unsupported',
      reason: `tfjs-backend-${backend} ${tf.version.tfjs} registers no ${missing.join(', ')} kernel (needed for the conv weight gradient)`,
    };
  }
  if (skipModels.includes(spec.model)) {
    return { name, status: 'skipped', reason: 'quick mode leaves this model out for TF.js (seconds per step here); npm run bench measures it' };
  }
  const data = makeBatch(spec);
  const x = tf.tensor(data.x, [spec.batch, ...spec.sampleShape]);
  const y = tf.tensor2d(data.oneHot, [spec.batch, spec.classes]);

  // Loop variants. (a) manual: optimizer.minimize over the trainable
  // variables; (b) tfjs-layers: compile + trainOnBatch (async; reads the loss
  // back every step). The transformer is built from ops, so only (a).
  const makeMinimize = () => {
    if (spec.model === 'transformer') {
      const m = transformerModel(tf, spec);
      const opt = adam(tf);
      return {
        variant: 'optimizer.minimize (model from tf ops)',
        step: () => tf.tidy(() => { opt.minimize(() => tf.losses.softmaxCrossEntropy(y, m.forward(x)), false, m.variables); }),
        forward: () => m.forward(x),
        own: async () => bytesOf(m.variables) + bytesOf((await opt.getWeights()).map((w) => w.tensor)),
        dispose: () => { m.dispose(); opt.dispose(); },
      };
    }
    const m = layersModel(tf, spec);
    const opt = adam(tf);
    return {
      variant: 'optimizer.minimize',
      step: () => tf.tidy(() => {
        opt.minimize(() => tf.losses.softmaxCrossEntropy(y, m.apply(x, { training: true })), false);
      }),
      forward: () => m.apply(x),
      own: async () => bytesOf(m.weights.map((w) => w.read())) + bytesOf((await opt.getWeights()).map((w) => w.tensor)),
      dispose: () => { m.dispose(); opt.dispose(); },
    };
  };
  const makeTrainOnBatch = () => {
    const m = layersModel(tf, spec);
    const opt = adam(tf);
    m.compile({ optimizer: opt, loss: (yt, yp) => tf.losses.softmaxCrossEntropy(yt, yp) });
    return {
      variant: 'model.trainOnBatch',
      step: () => m.trainOnBatch(x, y),
      forward: () => m.apply(x),
      own: async () => bytesOf(m.weights.map((w) => w.read())) + bytesOf((await opt.getWeights()).map((w) => w.tensor)),
      dispose: () => { m.dispose(); opt.dispose(); },
    };
  };

  // The first step of a variant builds the optimizer slots, and surfaces
  // missing kernels as a reason instead of a crash.
  const variants = [];
  const fail = (e) => {
    variants.forEach((w) => w.dispose());
    x.dispose();
    y.dispose();
    return { name, status: 'unsupported', reason: `TF.js ${backend} failed a training step: ${String(e?.message ?? e).split('\n')[0]}` };
  };
  const firstStep = async (v) => {
    variants.push(v);
    const t0 = performance.now();
    await v.step();
    return performance.now() - t0;
  };
  // setupStepMs: how long a step takes, decided at setup. The first step runs
  // under tf.profile: its peak is the memory reading of contenders too slow
  // for one more profiled step later (live bytes = own variables, no
  // optimizer slots yet + batch + the step's transient peak, which includes
  // the slots it creates). It also carries one-time costs (graph building,
  // XNNPACK operators, profiling), so when it looks slow a second, plain step
  // decides.
  let setupStepMs, setupPeak, lossBefore;
  const lossOf = (v) => tf.tidy(() => tf.losses.softmaxCrossEntropy(y, v.forward()).dataSync()[0]);
  try {
    const v = makeMinimize();
    lossBefore = lossOf(v);
    const own0 = await v.own();
    const before = tf.memory().numBytes;
    let profile;
    setupStepMs = await firstStep({ ...v, step: async () => { profile = await tf.profile(v.step); } });
    variants[0] = v;
    setupPeak = own0 + 4 * (x.size + y.size) + (profile.peakBytes - before);
    if (setupStepMs > Math.min(slowMs, maxStepMs)) {
      const t0 = performance.now();
      await v.step();
      setupStepMs = performance.now() - t0;
    }
  } catch (e) {
    return fail(e);
  }
  if (setupStepMs > maxStepMs) {
    fail(null);
    return { name, status: 'skipped', reason: `quick mode: a step took ${(setupStepMs / 1000).toFixed(1)} s (limit ${(maxStepMs / 1000).toFixed(1)} s); npm run bench measures it` };
  }
  let note = variants[0].variant;
  const choice = {};
  if (spec.model !== 'transformer') {
    if (quick) note += ' (quick mode: trainOnBatch not compared)';
    else if (setupStepMs > slowMs) note += ` (trainOnBatch not compared: ${(setupStepMs / 1000).toFixed(1)} s per step)`;
    else {
      try {
        await firstStep(makeTrainOnBatch());
      } catch (e) {
        return fail(e);
      }
    }
  }

  // Pick the faster variant: alternate timed steps, compare medians.
  let chosen = variants[0];
  if (variants.length > 1) {
    const samples = variants.map(() => []);
    const t0 = performance.now();
    while (performance.now() - t0 < selectMs || samples[0].length < selectMin) {
      for (let i = 0; i < variants.length; i++) {
        const s = performance.now();
        await variants[i].step();
        samples[i].push(performance.now() - s);
      }
    }
    const med = samples.map((s) => [...s].sort((a, b) => a - b)[s.length >> 1]);
    chosen = variants[med.indexOf(Math.min(...med))];
    note = chosen.variant;
    variants.forEach((v, i) => (choice[v.variant] = `${med[i].toFixed(1)} ms/step`));
    log(`    ${name}: ${variants.map((v, i) => `${v.variant} ${med[i].toFixed(1)} ms/step`).join(', ')} → ${chosen.variant}`);
    for (const v of variants) if (v !== chosen) v.dispose();
  }
  return {
    name, status: 'ok', workPerStep: spec.workPerStep,
    note,
    variantTimes: choice,
    setupStepMs,
    setupStepConfirmed: true,
    // (a trainOnBatch variant starts from the same weights as minimize's)
    lossBefore,
    loss: async () => {
      await use(tf, backend);
      return lossOf(chosen);
    },
    prepare: () => use(tf, backend),
    step: chosen.step,
    peakBytes: async () => {
      await use(tf, backend);
      const before = tf.memory().numBytes;
      const p = await tf.profile(chosen.step);
      return (await chosen.own()) + 4 * (x.size + y.size) + (p.peakBytes - before);
    },
    setupPeakBytes: chosen === variants[0] ? setupPeak : undefined,
    liveBytes: () => tf.memory().numBytes,
    dispose: () => { chosen.dispose(); x.dispose(); y.dispose(); },
  };
}
