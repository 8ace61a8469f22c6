// The playground's page: loads wasmgrad, trains in a worker (trainInWorker),
// and draws what streams back — loss and accuracy, the weight matrices as
// heatmaps (an MLP's first-layer units as 28×28 tiles, a CNN's first-layer
// filters as 3×3 tiles), predictions for a drawn digit — plus the
// transformer panel and the in-page benchmark. Nothing heavy runs on this
// thread (the tiny transformer trains here in slices of ~12 ms).
//
// State for tests and the curious: window.playground.
import { drawBars, drawBenchmark, TrainingChart } from './charts.js';
import { drawPreview, mountDrawing } from './draw-panel.js';
import { drawHistogram, drawMatrix, drawTiles, stats } from './heatmap.js';

const $ = (id) => document.getElementById(id);
const LIB_URL = new URL('../../dist/wasmgrad.browser.js', import.meta.url);
const BACKEND_LABEL = { 'wasm-relaxed-simd': 'wasm relaxed SIMD', 'wasm-simd': 'wasm SIMD', js: 'plain JS' };
const BACKEND_COLOR = { 'wasm-relaxed-simd': '#6f3bd6', 'wasm-simd': '#2f6fde', js: '#a15c00' };

// The models of the model menu: how to build one, what it eats, and which of the worker's datasets feeds it.
const mlp = (sizes) => ({
  label: `${sizes.join('-')} network`,
  input: [784],
  dataset: 'digits',
  build(wg) {
    const layers = [];
    for (let i = 0; i < sizes.length - 1; i++) {
      if (i > 0) layers.push(new wg.ReLU());
      layers.push(new wg.Linear(sizes[i], sizes[i + 1]));
    }
    return new wg.Sequential(...layers);
  },
});
const MODELS = {
  mlp32: mlp([784, 32, 10]),
  mlp128: mlp([784, 128, 10]),
  mlp256: mlp([784, 256, 10]),
  // x [N,28,28,1] → conv 3×3·8 same → ReLU → pool 2 → conv 3×3·16 same → ReLU → pool 2 → flatten 7·7·16 → dense 10
  cnn: {
    label: 'CNN (conv 3×3·8 → pool → conv 3×3·16 → pool → dense 10)',
    input: [28, 28, 1],
    dataset: 'digits-nhwc',
    featureLayer: '1', // the first ReLU: what the first convolution's filters pick out of a drawn digit
    build: (wg) => new wg.Sequential(
      new wg.Conv2d(1, 8, 3, { padding: 'same' }), new wg.ReLU(), new wg.MaxPool2d(2),
      new wg.Conv2d(8, 16, 3, { padding: 'same' }), new wg.ReLU(), new wg.MaxPool2d(2),
      new wg.Flatten(), new wg.Linear(7 * 7 * 16, 10),
    ),
  },
};

const state = (window.playground = {
  ready: false,
  pageBackend: null,
  workerBackend: null,
  training: false,
  paused: false,
  step: 0,
  losses: [],
  epochs: [],
  snapshots: 0,
  warnings: [],
  prediction: null,
  heartbeat: { ticks: 0, maxGapMs: 0, gaps: [] },
  work: {}, // main-thread time per kind of work: { name: { calls, totalMs, maxMs } }
  errors: [],
});

// ─── banners ───────────────────────────────────────────────────────────────

function banner(html, { fatal = false } = {}) {
  const b = $('banner');
  b.hidden = false;
  if (fatal) b.classList.add('fatal');
  const p = document.createElement('p');
  p.innerHTML = html;
  b.append(p);
}

function fatal(html) {
  $('boot').hidden = true;
  banner(html, { fatal: true });
}

const escapeHtml = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

function showWarning(w, where) {
  if (state.warnings.some((s) => s.where === where && s.message === w.message)) return; // e.g. the worker's next training run
  state.warnings.push({ ...w, where });
  const place = where === 'worker' ? 'in the training worker' : 'on this page';
  const cause = /Content.Security.Policy/i.test(w.message)
    ? `WebAssembly is blocked ${place} by its Content-Security-Policy (it lacks <code>'wasm-unsafe-eval'</code>)`
    : w.code === 'wasm-unsupported' ? 'This browser has no WebAssembly SIMD' : `WebAssembly could not be loaded ${place}`;
  const on = w.backend === 'js' ? 'its plain-JavaScript backend (slower)' : `the ${escapeHtml(w.backend)} backend`;
  banner(`<strong>${cause}, so wasmgrad runs ${where === 'worker' ? 'training' : 'the page'} on ${on}.</strong> ` +
    `<details><summary>details</summary><code>${escapeHtml(w.message)}</code></details>`);
}

window.addEventListener('error', (e) => state.errors.push(String(e.message)));
window.addEventListener('unhandledrejection', (e) => state.errors.push(String(e.reason?.message ?? e.reason)));

/** Runs fn, adding its time to state.work[name] (what the page's own thread spends on training's updates). */
function timed(name, fn) {
  const t0 = performance.now();
  try {
    return fn();
  } finally {
    const ms = performance.now() - t0;
    const w = (state.work[name] ??= { calls: 0, totalMs: 0, maxMs: 0 });
    w.calls++;
    w.totalMs += ms;
    w.maxMs = Math.max(w.maxMs, ms);
  }
}

// ─── the page's heartbeat: a timer that keeps firing while training runs ───

(function heartbeat() {
  const hb = state.heartbeat;
  let last = performance.now();
  let frames = 0;
  let fps = 0;
  let fpsT = last;
  setInterval(() => {
    const now = performance.now();
    const gap = now - last;
    last = now;
    hb.ticks++;
    hb.gaps.push(gap);
    if (hb.gaps.length > 200) hb.gaps.shift();
    hb.maxGapMs = Math.max(hb.maxGapMs, gap);
  }, 50);
  const frame = (t) => {
    frames++;
    if (t - fpsT >= 1000) {
      fps = Math.round((frames * 1000) / (t - fpsT));
      frames = 0;
      fpsT = t;
      const recent = Math.max(...hb.gaps.slice(-20));
      const el = $('heartbeat');
      el.textContent = `UI ● ${fps} fps · timer gap ${Math.round(recent)} ms`;
      el.classList.toggle('stalled', recent > 250);
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
})();

// ─── boot ──────────────────────────────────────────────────────────────────

async function boot() {
  if (typeof Worker !== 'function') {
    fatal('<strong>This browser cannot run the playground:</strong> it has no Web Workers. Use a current Chrome, Edge, Firefox or Safari.');
    return;
  }
  let wg;
  try {
    wg = await import(LIB_URL.href);
  } catch (e) {
    fatal(`<strong>Could not load wasmgrad</strong> from <code>${escapeHtml(LIB_URL.pathname)}</code>: ${escapeHtml(e.message)}. ` +
      'Run <code>npm run build</code>, then <code>npm run demo:web</code>.');
    return;
  }
  wg.onWarning((w) => showWarning(w, 'page'));
  const pageBackend = await wg.init();
  state.pageBackend = pageBackend;
  setBadge($('page-backend'), pageBackend);
  if (typeof WebAssembly !== 'object') {
    banner('<strong>This browser has no WebAssembly.</strong> Everything runs on wasmgrad\'s plain-JavaScript backend, which is much slower.');
  }

  let trainWorker;
  try {
    trainWorker = new Worker(new URL('./train-worker.js', import.meta.url), { type: 'module' });
  } catch (e) {
    fatal(`<strong>This browser cannot start module Web Workers</strong> (${escapeHtml(e.message)}), which the playground trains in. ` +
      'Chrome or Edge 80+, Firefox 114+ and Safari 15+ can.');
    return;
  }
  $('boot').hidden = true;
  $('app').hidden = false;
  const csp = location.pathname.includes('/csp/');
  const footerLink = document.querySelector('footer a');
  if (csp && footerLink) {
    footerLink.href = '../';
    footerLink.textContent = 'This page without the strict CSP';
  }

  const app = new Playground(wg, trainWorker);
  app.start();
  // The transformer panel is independent of the rest: if it fails, it says so in its own card.
  try {
    const { mountTransformerPanel } = await import('./transformer-panel.js');
    state.transformer = mountTransformerPanel($('transformer-root'), wg).state;
  } catch (e) {
    state.errors.push(`transformer panel: ${e.message}`);
    const note = document.createElement('div');
    note.className = 'coming';
    note.dataset.state = 'failed';
    note.innerHTML = `<strong>The transformer panel failed to start:</strong> <code>${escapeHtml(e.message)}</code>`;
    $('transformer-root').replaceChildren(note);
  }
  state.ready = true;
}

function setBadge(el, name) {
  el.dataset.backend = name ?? '';
  el.textContent = name ? BACKEND_LABEL[name] ?? name : '…';
}

// ─── the playground ────────────────────────────────────────────────────────

class Playground {
  constructor(wg, worker) {
    this.wg = wg;
    this.worker = worker;
    this.chart = new TrainingChart($('chart'));
    this.job = null;
    this.snapshot = null; // latest weights (name → Float32Array) and shapes
    this.initial = null; // the weights when training started (for Δ and the histogram outline)
    this.renderQueued = false;
    this.stepOffset = 0; // steps of earlier runs, so the chart continues
    this.seed = 42;
  }

  start() {
    const { wg } = this;
    // The backend switch: which backend the worker trains on (and the page predicts with).
    const sel = $('backend-select');
    for (const opt of sel.options) {
      if (opt.value !== 'auto' && !wg.isBackendSupported(opt.value)) {
        opt.disabled = true;
        opt.textContent += ' (not supported here)';
      }
    }
    sel.addEventListener('change', () => this.switchBackend(sel.value));
    setBadge($('backend-badge'), null);
    $('backend-badge').textContent = 'idle';

    $('train-btn').addEventListener('click', () => this.train());
    $('pause-btn').addEventListener('click', () => this.togglePause());
    $('stop-btn').addEventListener('click', () => this.job?.stop());
    $('reset-btn').addEventListener('click', () => this.newModel(this.seed + 1));
    $('model-select').addEventListener('change', () => this.newModel(this.seed));
    $('delta-check').addEventListener('change', () => this.queueRender());
    $('matrix-select').addEventListener('change', () => this.queueRender());
    $('bench-btn').addEventListener('click', () => this.bench());

    this.drawing = mountDrawing($('draw'), $('draw-preview'), (x) => this.predict(x));
    $('clear-btn').addEventListener('click', () => this.drawing.clear());
    drawPreview($('draw-preview'), null);
    drawBenchmark($('bench-chart'), [], BACKEND_COLOR);
    this.predict(null);
    this.newModel(this.seed);
  }

  newModel(seed) {
    if (this.job) return;
    const { wg } = this;
    this.seed = seed;
    this.model?.dispose();
    wg.seed(seed);
    this.spec = MODELS[$('model-select').value] ?? MODELS.mlp128;
    this.model = this.spec.build(wg);
    state.model = $('model-select').value;
    this.snapshot = this.readModel();
    this.initial = this.snapshot;
    const sel = $('matrix-select');
    const prev = sel.value;
    sel.textContent = '';
    for (const [name, shape] of Object.entries(this.snapshot.shapes)) {
      if (shape.length === 2) sel.append(new Option(`${name} [${shape.join('×')}]`, name));
      if (shape.length === 4) sel.append(new Option(`${name} [${shape.join('×')}] filters`, name)); // conv HWIO
    }
    const names = [...sel.options].map((o) => o.value);
    sel.value = names.includes(prev) ? prev : names[names.length - 1];
    this.chart.clear();
    this.stepOffset = 0;
    state.step = 0;
    state.losses = [];
    state.epochs = [];
    $('epoch-log').textContent = '';
    $('status').textContent = `New ${this.spec.label} (seed ${seed}). Press Train.`;
    $('features-box').hidden = !this.spec.featureLayer;
    this.queueRender();
    this.predict(this.drawing.input());
  }

  readModel() {
    const weights = {}, shapes = {};
    for (const [name, p] of this.model.namedParameters()) {
      weights[name] = p.data();
      shapes[name] = [...p.shape];
    }
    return { weights, shapes };
  }

  train(resume = false) {
    if (this.job) return;
    const { wg } = this;
    const backend = $('backend-select').value;
    const epochs = Number($('epochs-select').value);
    const batchSize = Number($('batch-select').value);
    const lr = Number($('lr-select').value);
    if (!resume) this.initial = this.readModel();
    state.training = true;
    state.paused = false;
    this.setButtons();
    $('status').textContent = 'Starting the worker and loading 10,000 digits in it…';
    const t0 = performance.now();
    const job = wg.trainInWorker(this.worker, this.model, this.spec.dataset, {
      backend, epochs, batchSize, optimizer: { type: 'Adam', lr }, seed: this.seed,
      progressEveryMs: 100, weightsEveryMs: 200,
      onReady: ({ backend: b }) => {
        state.workerBackend = b;
        setBadge($('backend-badge'), b);
      },
      onWarning: (w) => showWarning(w, 'worker'),
      onProgress: (p) => timed('progress', () => this.onProgress(p, t0)),
      onWeights: (s) => timed('weights', () => this.onWeights(s)),
      onEpochEnd: (l) => this.onEpoch(l),
    });
    this.job = job;
    job.done.then(
      (r) => {
        const h = r.history;
        const last = h.epochs[h.epochs.length - 1];
        $('status').textContent = `${h.stopped ? 'Stopped' : 'Done'} after ${this.stepOffset + h.steps} steps on ${r.backend}` +
          (last?.valAccuracy !== undefined ? ` — validation accuracy ${(last.valAccuracy * 100).toFixed(1)}%` : '') + '.';
        this.stepOffset += h.steps;
        this.snapshot = { weights: r.weights, shapes: r.shapes };
        this.queueRender();
      },
      (e) => {
        $('status').textContent = `Training failed: ${e.message}`;
        state.errors.push(e.message);
      },
    ).finally(() => {
      this.job = null;
      state.training = false;
      state.paused = false;
      this.setButtons();
      if (this.restartWith) {
        this.restartWith = null;
        this.train(true);
      }
      this.predict(this.drawing.input());
    });
  }

  async switchBackend(name) {
    const { wg } = this;
    // The page predicts on the chosen backend too (loading it if needed).
    try {
      const before = wg.getBackend();
      if (name === 'auto') await wg.init();
      else {
        await wg.loadBackend(name);
        wg.setBackend(name);
      }
      if (wg.getBackend() !== before) {
        const fresh = this.model;
        // Move the page's model to the new backend: rebuild it from its own bytes.
        this.model = wg.loadModel(wg.saveModel(fresh));
        fresh.dispose();
      }
      state.pageBackend = wg.getBackend();
      setBadge($('page-backend'), state.pageBackend);
    } catch (e) {
      banner(`Could not switch the page to ${escapeHtml(name)}: ${escapeHtml(e.message)}`);
    }
    // A running job continues from its current weights on the new backend.
    if (this.job) {
      this.restartWith = name;
      this.job.stop();
    }
  }

  async togglePause() {
    if (!this.job) return;
    if (state.paused) {
      this.job.resume();
      state.paused = false;
    } else {
      $('pause-btn').disabled = true;
      const step = await this.job.pause();
      state.paused = true;
      $('status').textContent = `Paused at step ${this.stepOffset + step}.`;
    }
    this.setButtons();
  }

  setButtons() {
    $('train-btn').disabled = state.training;
    $('pause-btn').disabled = !state.training;
    $('pause-btn').textContent = state.paused ? 'Resume' : 'Pause';
    $('stop-btn').disabled = !state.training;
    $('reset-btn').disabled = state.training;
    $('model-select').disabled = state.training;
    $('bench-btn').disabled = state.training || this.benchRunning;
  }

  onProgress(p, t0) {
    const first = this.stepOffset + p.step - p.losses.length + 1;
    this.chart.addLosses(first, p.losses);
    if (p.accuracy !== undefined) this.chart.addAccuracy(this.stepOffset + p.step, p.accuracy);
    state.step = this.stepOffset + p.step;
    state.losses.push(...p.losses);
    const status = $('status');
    status.dataset.step = String(state.step);
    status.dataset.loss = String(p.loss);
    status.textContent =
      `epoch ${p.epoch}/${p.epochs} · batch ${p.batch}/${p.batches} · step ${state.step} · loss ${p.epochLoss.toFixed(4)}` +
      (p.accuracy !== undefined ? ` · accuracy ${(p.accuracy * 100).toFixed(1)}%` : '') +
      ` · ${Math.round(p.samplesPerSec).toLocaleString('en')} samples/s on ${BACKEND_LABEL[state.workerBackend] ?? '…'}` +
      ` · ${((performance.now() - t0) / 1000).toFixed(1)} s`;
    this.queueRender(false);
  }

  onEpoch(l) {
    state.epochs.push(l);
    if (l.valAccuracy !== undefined) this.chart.addValidation(state.step, l.valAccuracy);
    const line = `epoch ${l.epoch}: loss ${l.loss.toFixed(4)}  acc ${(l.accuracy * 100).toFixed(2)}%` +
      (l.valAccuracy !== undefined ? `  val_loss ${l.valLoss.toFixed(4)}  val_acc ${(l.valAccuracy * 100).toFixed(2)}%` : '') +
      `  ${(l.timeMs / 1000).toFixed(2)} s  ${Math.round(l.samplesPerSec).toLocaleString('en')} samples/s`;
    $('epoch-log').textContent += `${line}\n`;
    this.queueRender(false);
  }

  onWeights(s) {
    state.snapshots++;
    this.snapshot = s;
    // The page's copy of the model follows, so drawn digits are classified with the current weights.
    this.wg.tidy(() => {
      const map = new Map(Object.entries(s.weights).map(([n, w]) => [n, this.wg.tensor(w, s.shapes[n])]));
      this.wg.loadWeights(this.model, map, { strict: false });
    });
    this.predictSoon();
    this.queueRender();
  }

  /** Redraws on the next frame: the chart always, the weights only when `weights` (a new snapshot or a view change). */
  queueRender(weights = true) {
    this.weightsDirty ||= weights;
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => {
      this.renderQueued = false;
      timed('chart', () => this.chart.draw());
      if (this.weightsDirty) {
        this.weightsDirty = false;
        timed('heatmaps', () => this.render());
      }
    });
  }

  render() {
    const s = this.snapshot;
    if (!s) return;
    const delta = $('delta-check').checked;
    const value = (name) => {
      const w = s.weights[name];
      const w0 = this.initial?.weights[name];
      if (!delta || !w0 || w0.length !== w.length) return w;
      const d = new Float32Array(w.length);
      for (let i = 0; i < w.length; i++) d[i] = w[i] - w0[i];
      return d;
    };
    // The first layer as tiles: an MLP's Linear(784, n) weight [784, n] → n tiles of 28×28 (column j is unit j);
    // a CNN's Conv2d(1, n, k) weight [k, k, 1, n] (HWIO) → n tiles of k×k (filter o is weight[:, :, 0, o]).
    // Both are [side·side, n] in memory, which is what drawTiles reads.
    const shapes = Object.entries(s.shapes);
    const firstConv = shapes.find(([, sh]) => sh.length === 4 && sh[0] === sh[1] && sh[2] === 1);
    const firstDense = shapes.find(([, sh]) => sh.length === 2 && sh[0] === 784);
    const tiles = $('tiles');
    // A second conv layer [k, k, C, O]: tile (c, o) = weight[:, :, c, o]. In memory that is [k·k, C·O] with
    // unit c·O + o, so drawTiles with O columns puts input channel c on row c and filter o in column o.
    const secondConv = firstConv && shapes.find(([n, sh]) => n !== firstConv[0] && sh.length === 4 && sh[0] === sh[1]);
    $('tiles2-box').hidden = !secondConv;
    if (firstConv && firstConv[0] === shapes[0][0]) {
      const [name, [k, , , units]] = firstConv;
      drawTiles(tiles, value(name), units, { side: k, cols: units });
      tiles.dataset.kind = 'filters';
      $('tiles-title').textContent = `First layer: each of the ${units} convolution filters (${k}×${k} weights) as a tile`;
      if (secondConv) {
        const [name2, [k2, , C, O]] = secondConv;
        drawTiles($('tiles2'), value(name2), C * O, { side: k2, cols: O });
        $('tiles2-title').textContent = `Second layer: each of its ${O} filters (a column) over each of the ${C} first-layer channels (a row), ${k2}×${k2} weights`;
      }
    } else if (firstDense) {
      const [name, [, units]] = firstDense;
      drawTiles(tiles, value(name), units, { cols: units > 128 ? 32 : 16 });
      tiles.dataset.kind = 'units';
      $('tiles-title').textContent = `First layer: each hidden unit's 784 input weights as a 28×28 tile`;
    }
    const name = $('matrix-select').value;
    if (name && s.weights[name]) {
      const shape = s.shapes[name];
      // A conv filter bank [kH, kW, C, O] is, in memory, the [kH·kW·C, O] matrix the convolution's GEMM uses.
      const conv = shape.length === 4;
      const rows = conv ? shape[0] * shape[1] * shape[2] : shape[0];
      const cols = conv ? shape[3] : shape[1];
      const m = value(name);
      const { transposed } = drawMatrix($('matrix'), m, rows, cols, { width: 560 });
      const what = conv ? `${shape.join('×')} filters (HWIO) as a ${rows}×${cols} matrix ([kH·kW·in, out])` : `${rows}×${cols} ([in, out])`;
      $('matrix-caption').textContent = `${name}: ${what}` +
        (transposed ? ` — shown transposed: one row per output ${conv ? 'channel' : 'unit'} (${cols}), one column per input (${rows})` : '') +
        (delta ? ' — change since the start of training' : '');
      drawHistogram($('histogram'), s.weights[name], { ghost: this.initial?.weights[name] ?? null });
      const st = stats(s.weights[name]);
      $('matrix-stats').textContent = `mean ${st.mean.toFixed(4)} · std ${st.std.toFixed(4)} · min ${st.min.toFixed(3)} · max ${st.max.toFixed(3)}` +
        (state.step ? ` · step ${state.step}` : '');
    }
  }

  predictSoon() {
    if (this.predictQueued) return;
    this.predictQueued = true;
    setTimeout(() => {
      this.predictQueued = false;
      this.predict(this.drawing.input());
    }, 100);
  }

  predict(x) {
    timed('predict', () => this.predictNow(x));
  }

  predictNow(x) {
    const labels = Array.from({ length: 10 }, (_, i) => String(i));
    const out = $('prediction');
    if (!x || !this.model) {
      out.textContent = '–';
      out.dataset.digit = '';
      state.prediction = null;
      drawBars($('probs'), new Array(10).fill(0), labels);
      if (this.spec?.featureLayer) drawTiles($('features'), new Float32Array(784 * 8), 8, { cols: 8, scale: 1 });
      return;
    }
    const { wg } = this;
    const input = [1, ...this.spec.input];
    const probs = wg.tidy(() => wg.softmax(wg.predict(this.model, wg.tensor(x, input)), -1).data());
    if (this.spec.featureLayer) {
      // What the first convolution (after its ReLU) makes of the drawing: one 28×28 map per filter.
      const maps = wg.tidy(() => wg.captureFeatures(this.model, wg.tensor(x, input), [this.spec.featureLayer]).get(this.spec.featureLayer).data());
      const channels = maps.length / 784;
      drawTiles($('features'), maps, channels, { cols: channels });
    }
    let best = 0;
    for (let i = 1; i < 10; i++) if (probs[i] > probs[best]) best = i;
    out.textContent = String(best);
    out.dataset.digit = String(best);
    state.prediction = { digit: best, probs: Array.from(probs), model: state.model };
    drawBars($('probs'), Array.from(probs), labels, { highlight: best });
  }

  bench() {
    if (this.benchRunning) return;
    this.benchRunning = true;
    this.setButtons();
    const rows = [];
    const status = $('bench-status');
    status.textContent = 'running in a worker…';
    const w = new Worker(new URL('./bench-worker.js', import.meta.url), { type: 'module' });
    const done = () => {
      this.benchRunning = false;
      this.setButtons();
      w.terminate();
    };
    w.onmessage = (e) => {
      if (e.data.type === 'result') {
        rows.push(e.data.row);
        drawBenchmark($('bench-chart'), rows, BACKEND_COLOR);
        state.bench = rows;
      } else if (e.data.type === 'done') {
        status.textContent = 'done.';
        done();
      }
    };
    w.onerror = (e) => {
      status.textContent = `the benchmark worker failed: ${e.message ?? 'could not load'}`;
      done();
    };
    w.postMessage('run');
  }
}

boot().catch((e) => {
  state.errors.push(e.message);
  fatal(`<strong>The playground failed to start:</strong> ${escapeHtml(e.message)}`);
});
