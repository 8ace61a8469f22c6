// The tiny-transformer panel: one multi-head self-attention layer, its
// attention map per head for an input sentence, and its WQ/WK/WV matrices.
// "Train" teaches it to look one token back (each position must predict the
// previous token, which only attention can fetch), and the maps change live.
//
// Self-contained on purpose (the attention layers live on another branch):
// it feature-detects wasmgrad.MultiHeadAttention and says the feature is
// coming when it is absent. The API it expects:
//
//   const mha = new MultiHeadAttention(dModel, numHeads);
//   mha.wq, mha.wk, mha.wv, mha.wo        parameters [dModel, dModel], layout [in, out]
//                                          (a Linear-like { weight } is accepted too)
//   mha.forward(x, x, x, { returnWeights: true })  →  { output [B,T,D], weights [B,H,Tq,Tk] }
//   mha.parameters()                       (a Module, for the optimizer)
//
// mountTransformerPanel(element, wasmgrad) → { destroy() }
import { diverging, robustScale, sequential } from './heatmap.js';

const D_MODEL = 16;
const VOCAB = 16;
const TRAIN_T = 8;

export function mountTransformerPanel(root, wg, { MultiHeadAttention = wg.MultiHeadAttention } = {}) {
  root.textContent = '';
  if (typeof MultiHeadAttention !== 'function') {
    const note = el('div', 'coming');
    note.dataset.state = 'coming';
    note.innerHTML =
      '<strong>Coming with the attention layers.</strong> This panel shows a <code>MultiHeadAttention</code> layer\'s ' +
      'attention map for a sentence, one map per head, and its W<sub>Q</sub>, W<sub>K</sub>, W<sub>V</sub> matrices ' +
      'learning as it trains. This build of wasmgrad does not have that layer yet.';
    root.append(note);
    return { destroy() {} };
  }

  const controls = el('div', 'tf-controls');
  const input = el('input');
  input.type = 'text';
  input.value = 'the cat sat on the warm mat';
  input.setAttribute('aria-label', 'input sentence');
  const heads = el('select');
  for (const h of [1, 2, 4]) heads.append(new Option(`${h} head${h > 1 ? 's' : ''}`, String(h), h === 2, h === 2));
  const trainBtn = el('button');
  trainBtn.textContent = 'Train it to look one token back';
  const status = el('span', 'caption');
  controls.append(input, heads, trainBtn, status);
  const mapsRow = el('div', 'tf-row');
  const mats = el('div', 'tf-row');
  root.append(controls, mapsRow, el('h3', '', 'Projection matrices (dModel × dModel, [in, out])'), mats);
  root.dataset.state = 'ready';

  let rng = mulberry32(7);
  const embed = randomTable(VOCAB, D_MODEL, mulberry32(11)); // fixed token embeddings
  let mha, head, optimizer, steps = 0, training = false, destroyed = false;

  const build = () => {
    mha?.dispose?.();
    head?.dispose?.();
    optimizer?.dispose?.();
    wg.seed(1);
    mha = new MultiHeadAttention(D_MODEL, Number(heads.value));
    head = new wg.Linear(D_MODEL, VOCAB);
    optimizer = new wg.Adam([...mha.parameters(), ...head.parameters()], { lr: 0.01 });
    steps = 0;
    status.textContent = '';
  };

  const tokens = () => input.value.trim().split(/\s+/).filter(Boolean).slice(0, 12);
  const ids = (words) => words.map((w) => hash(w) % VOCAB);
  const inputTensor = (batchIds) => {
    const B = batchIds.length, T = batchIds[0].length;
    const x = new Float32Array(B * T * D_MODEL);
    batchIds.forEach((seq, b) => seq.forEach((id, t) => {
      for (let d = 0; d < D_MODEL; d++) x[(b * T + t) * D_MODEL + d] = embed[id * D_MODEL + d] + position(t, d);
    }));
    return wg.tensor(x, [B, T, D_MODEL]);
  };

  const render = () => {
    const words = tokens();
    if (words.length === 0) return;
    const H = Number(heads.value);
    const weights = wg.tidy(() => {
      const r = mha.forward(...Array(3).fill(inputTensor([ids(words)])), { returnWeights: true });
      return r?.weights ? r.weights.data() : null;
    });
    mapsRow.textContent = '';
    if (!weights) {
      mapsRow.append(el('div', 'coming', 'This MultiHeadAttention does not return attention weights (forward(q, k, v, { returnWeights: true })).'));
      return;
    }
    const T = words.length;
    const maps = Math.floor(weights.length / (T * T)); // H for [1,H,T,T]; 1 if a layer averages its heads
    for (let h = 0; h < maps; h++) {
      const fig = el('figure');
      const label = maps === H ? `head ${h + 1}` : `all ${H} heads (averaged by the layer)`;
      fig.append(attentionCanvas(weights.subarray(h * T * T, (h + 1) * T * T), words), el('figcaption', '', label));
      mapsRow.append(fig);
    }
    mats.textContent = '';
    for (const name of ['wq', 'wk', 'wv']) {
      const p = mha[name]?.weight ?? mha[name];
      if (!p?.data) continue;
      const fig = el('figure');
      fig.append(matrixCanvas(p.data(), D_MODEL), el('figcaption', '', `W${name[1].toUpperCase()}`));
      mats.append(fig);
    }
    root.dataset.rendered = String(Number(root.dataset.rendered ?? 0) + 1);
  };

  // One step of the look-back task on a random batch: position t predicts token t-1 (position 0 predicts itself).
  const trainStep = () => {
    const B = 16;
    const seqs = Array.from({ length: B }, () => Array.from({ length: TRAIN_T }, () => Math.floor(rng() * VOCAB)));
    const target = new Int32Array(B * TRAIN_T);
    seqs.forEach((s, b) => s.forEach((_, t) => (target[b * TRAIN_T + t] = s[Math.max(0, t - 1)])));
    return wg.tidy(() => {
      const x = inputTensor(seqs);
      const r = mha.forward(x, x, x, { returnWeights: true });
      const out = r.output ?? r;
      const logits = head.forward(wg.reshape(out, [B * TRAIN_T, D_MODEL]));
      const loss = wg.crossEntropy(logits, wg.tensor(target, [B * TRAIN_T], { dtype: 'int32' }));
      optimizer.zeroGrad();
      wg.backward(loss);
      optimizer.step();
      return loss.item();
    });
  };

  const train = () => {
    if (training) {
      training = false;
      return;
    }
    training = true;
    trainBtn.textContent = 'Stop';
    const target = steps + 300;
    const tick = () => {
      if (destroyed) return;
      let loss = NaN;
      const t0 = performance.now();
      while (training && steps < target && performance.now() - t0 < 12) {
        loss = trainStep();
        steps++;
      }
      status.textContent = `step ${steps}  loss ${Number.isFinite(loss) ? loss.toFixed(3) : '…'}`;
      render();
      if (training && steps < target) requestAnimationFrame(tick);
      else {
        training = false;
        trainBtn.textContent = 'Train it to look one token back';
      }
    };
    requestAnimationFrame(tick);
  };

  trainBtn.addEventListener('click', train);
  input.addEventListener('input', render);
  heads.addEventListener('change', () => {
    training = false;
    rng = mulberry32(7);
    build();
    render();
  });
  build();
  render();
  return {
    destroy() {
      destroyed = true;
      mha?.dispose?.();
      head?.dispose?.();
      optimizer?.dispose?.();
    },
  };
}

function attentionCanvas(w, words) {
  const T = words.length;
  const cell = Math.max(14, Math.min(26, Math.floor(200 / T)));
  const label = 58;
  const c = el('canvas');
  c.width = label + T * cell;
  c.height = label + T * cell;
  const ctx = c.getContext('2d');
  ctx.font = '11px system-ui, sans-serif';
  for (let q = 0; q < T; q++) {
    for (let k = 0; k < T; k++) {
      const [r, g, b] = sequential(w[q * T + k]);
      ctx.fillStyle = `rgb(${r | 0},${g | 0},${b | 0})`;
      ctx.fillRect(label + k * cell, label + q * cell, cell - 1, cell - 1);
    }
  }
  ctx.fillStyle = '#3b4457';
  ctx.textAlign = 'right';
  words.forEach((wd, i) => ctx.fillText(wd.slice(0, 8), label - 4, label + i * cell + cell / 2 + 4)); // queries
  words.forEach((wd, i) => {
    ctx.save();
    ctx.translate(label + i * cell + cell / 2 + 4, label - 4);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = 'left';
    ctx.fillText(wd.slice(0, 8), 0, 0); // keys
    ctx.restore();
  });
  return c;
}

function matrixCanvas(m, n) {
  const cell = 8;
  const c = el('canvas');
  c.width = c.height = n * cell;
  const ctx = c.getContext('2d');
  const scale = robustScale(m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const [r, g, b] = diverging(m[i * n + j], scale);
      ctx.fillStyle = `rgb(${r | 0},${g | 0},${b | 0})`;
      ctx.fillRect(j * cell, i * cell, cell, cell);
    }
  }
  return c;
}

const position = (t, d) => (d % 2 === 0 ? Math.sin : Math.cos)(t / 10000 ** ((d - (d % 2)) / D_MODEL));

function randomTable(rows, cols, rng) {
  const a = new Float32Array(rows * cols);
  for (let i = 0; i < a.length; i++) a[i] = (rng() * 2 - 1) * 1.2;
  return a;
}

function hash(s) {
  let h = 2166136261;
  for (const ch of s.toLowerCase()) h = Math.imul(h ^ ch.codePointAt(0), 16777619);
  return h >>> 0;
}

function mulberry32(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function el(tag, cls = '', text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
