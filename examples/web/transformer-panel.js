// The tiny-transformer panel, built from wasmgrad's own layers:
//
//   token ids [B, T] → Embedding(16, 16) + SinusoidalPositionalEncoding
//     → MultiHeadAttention(16, H) (self-attention) → Linear(16, 16) → logits [B, T, 16]
//
// It shows, for a sentence typed into the panel (words → 16 token ids by a hash):
//   - the attention map of every head: forward(x, x, x, { needWeights: true })
//     returns { output, weights [B, H, Tq, Tk] }; with averageWeights the layer
//     averages the heads itself ([B, Tq, Tk]);
//   - the projections wq, wk, wv, wo ([dModel, dModel], [in, out], like Linear)
//     as heatmaps, with the head boundaries marked;
//   - each head's slices of them (headWeights(h): wq, wk, wv [dModel, dHead],
//     wo [dHead, dModel]) and the head's bilinear form wq_h·wk_hᵀ, the matrix
//     that scores a query embedding against a key embedding.
//
// "Train" teaches it to look one token back: on random sequences, position t
// must predict the token at t − 1 (position 0 predicts itself). Only attention
// can fetch another position's token, so the maps change from a blur into a
// sharp line below the diagonal. Adam and crossEntropy, on the page's thread
// in slices of ~12 ms per animation frame (the model is tiny).
//
// mountTransformerPanel(element, wasmgrad) → { state, destroy() }
//   state: { heads, steps, loss, losses, previousToken (per map, on the sentence), renders, backend }
import { diverging, robustScale, sequential } from './heatmap.js';

const D_MODEL = 16;
const VOCAB = 16;
const MAX_WORDS = 12;
const TRAIN_T = 12; // training sequences as long as the longest sentence shown
const BATCH = 16;
const STEPS_PER_CLICK = 300;
const LR = 0.01;
const TRAIN_LABEL = 'Train it to look one token back';

export function mountTransformerPanel(root, wg) {
  root.textContent = '';
  if (typeof wg.MultiHeadAttention !== 'function') {
    const note = el('div', 'coming');
    note.dataset.state = 'coming';
    note.innerHTML =
      '<strong>This build of wasmgrad has no <code>MultiHeadAttention</code>.</strong> This panel shows its ' +
      'attention map for a sentence, one map per head, and its W<sub>Q</sub>, W<sub>K</sub>, W<sub>V</sub> matrices learning as it trains.';
    root.append(note);
    return { state: { coming: true }, destroy() {} };
  }

  // ── controls ──
  const controls = el('div', 'tf-controls');
  const input = el('input');
  input.type = 'text';
  input.value = 'the cat sat on the warm mat';
  input.setAttribute('aria-label', 'input sentence');
  const headsSel = el('select');
  headsSel.setAttribute('aria-label', 'attention heads');
  for (const h of [1, 2, 4]) headsSel.append(new Option(`${h} head${h > 1 ? 's' : ''}`, String(h), h === 2, h === 2));
  const modeSel = el('select');
  modeSel.setAttribute('aria-label', 'attention maps');
  modeSel.append(new Option('a map per head', 'heads', true, true), new Option('averaged over heads', 'average'));
  const trainBtn = el('button', 'tf-train', TRAIN_LABEL);
  const resetBtn = el('button', 'tf-reset', 'New weights');
  controls.append(input, headsSel, modeSel, trainBtn, resetBtn);
  const statusRow = el('div', 'tf-status');
  const status = el('span', 'caption tf-status-text');
  const spark = el('canvas', 'tf-loss');
  spark.width = 220;
  spark.height = 36;
  spark.setAttribute('aria-label', 'training loss');
  statusRow.append(spark, status);

  const mapsTitle = el('h3', '', 'Attention weights: each row is a query word, each column the key word it reads (rows sum to 1)');
  const mapsRow = el('div', 'tf-row tf-maps');
  const matsTitle = el('h3');
  const matsRow = el('div', 'tf-row tf-mats');
  const slicesTitle = el('h3');
  const slicesRow = el('div', 'tf-heads');
  const legend = el('div', 'legend');
  legend.innerHTML = '<span class="swatch neg"></span> negative <span class="swatch zero"></span> 0 <span class="swatch pos"></span> positive';
  root.append(controls, statusRow, mapsTitle, mapsRow, matsTitle, matsRow, slicesTitle, slicesRow, legend);

  // ── the model ──
  const state = { heads: 0, steps: 0, loss: NaN, losses: [], previousToken: [], renders: 0, backend: null };
  let model = null, optimizer = null, rng = mulberry32(7), training = false, destroyed = false;

  const build = () => {
    optimizer?.dispose();
    model?.dispose();
    model = new (tinyTransformer(wg))(Number(headsSel.value));
    optimizer = new wg.Adam(model.parameters(), { lr: LR });
    rng = mulberry32(7);
    Object.assign(state, { heads: model.attn.numHeads, steps: 0, loss: NaN, losses: [], backend: wg.getBackend() });
    status.textContent = `untrained · ${model.numParameters().toLocaleString('en')} parameters`;
  };

  // The page's backend switch (the playground's menu) moves this model too: same weights, fresh optimizer.
  const followBackend = () => {
    if (wg.getBackend() === state.backend) return;
    const old = model;
    model = new (tinyTransformer(wg))(old.attn.numHeads);
    wg.loadWeights(model, new Map([...old.namedParameters(), ...old.namedBuffers()]));
    optimizer.dispose();
    old.dispose();
    optimizer = new wg.Adam(model.parameters(), { lr: LR });
    state.backend = wg.getBackend();
  };

  const words = () => input.value.trim().split(/\s+/).filter(Boolean).slice(0, MAX_WORDS);
  const idTensor = (seqs) => wg.tensor(Int32Array.from(seqs.flat()), [seqs.length, seqs[0].length], { dtype: 'int32' });

  // One step of the look-back task on a fresh random batch.
  const trainStep = () => {
    const seqs = Array.from({ length: BATCH }, () => Array.from({ length: TRAIN_T }, () => Math.floor(rng() * VOCAB)));
    const target = Int32Array.from(seqs.flatMap((s) => s.map((_, t) => s[Math.max(0, t - 1)])));
    return wg.tidy(() => {
      const logits = model.forward(idTensor(seqs)); // [B, T, VOCAB]
      const loss = wg.crossEntropy(wg.reshape(logits, [BATCH * TRAIN_T, VOCAB]), wg.tensor(target, [BATCH * TRAIN_T], { dtype: 'int32' }));
      optimizer.zeroGrad();
      wg.backward(loss);
      optimizer.step();
      return loss.item();
    });
  };

  // ── drawing ──
  let layout = '';
  let figs = null;
  const render = () => {
    followBackend();
    const ws = words();
    const T = ws.length;
    const H = model.attn.numHeads;
    const average = modeSel.value === 'average';
    const maps = average ? 1 : H;
    const key = `${H}|${average}|${ws.join(' ')}`;
    if (key !== layout) {
      layout = key;
      figs = buildFigures(ws, H, average);
    }
    if (T > 0) {
      // [1, H, T, T] per head, or [1, T, T] averaged by the layer.
      const att = wg.tidy(() => {
        const ids = idTensor([ws.map((w) => hash(w) % VOCAB)]);
        return model.attention(ids, average).data();
      });
      state.previousToken = [];
      for (let m = 0; m < maps; m++) {
        const w = att.subarray(m * T * T, (m + 1) * T * T);
        drawAttention(figs.maps[m].canvas, w, ws);
        let prev = 0;
        for (let t = 1; t < T; t++) prev += w[t * T + t - 1];
        const share = T > 1 ? prev / (T - 1) : NaN;
        state.previousToken.push(share);
        figs.maps[m].caption.textContent = `${average ? `all ${H} heads, averaged` : `head ${m + 1}`}` +
          (T > 1 ? ` · ${(share * 100).toFixed(0)}% on the previous word` : '');
      }
    }
    // The projections (all four on one colour scale) and each head's slices of them.
    const mats = wg.tidy(() => {
      const a = model.attn;
      const full = { wq: a.wq.data(), wk: a.wk.data(), wv: a.wv.data(), wo: a.wo.data() };
      const heads = [];
      for (let h = 0; h < H; h++) {
        const s = a.headWeights(h);
        heads.push({ wq: s.wq.data(), wk: s.wk.data(), wv: s.wv.data(), qk: wg.matmul(s.wq, s.wk, { transposeB: true }).data() });
      }
      return { full, heads };
    });
    const scale = robustScale(Float32Array.from([...mats.full.wq, ...mats.full.wk, ...mats.full.wv, ...mats.full.wo]));
    const dh = D_MODEL / H;
    for (const name of ['wq', 'wk', 'wv', 'wo']) {
      drawMatrix(figs.mats[name], mats.full[name], D_MODEL, D_MODEL, scale, name === 'wo' ? { rowsEvery: dh } : { colsEvery: dh });
    }
    matsTitle.innerHTML = `Projections W<sub>Q</sub>, W<sub>K</sub>, W<sub>V</sub>, W<sub>O</sub> (${D_MODEL}×${D_MODEL}, [in, out]; ` +
      `colour scale ±${scale.toFixed(2)})` + (H > 1 ? ` — dashed lines split the ${H} heads' ${dh} columns (rows of W<sub>O</sub>)` : '');
    mats.heads.forEach((s, h) => {
      drawMatrix(figs.heads[h].wq, s.wq, D_MODEL, dh, scale);
      drawMatrix(figs.heads[h].wk, s.wk, D_MODEL, dh, scale);
      drawMatrix(figs.heads[h].wv, s.wv, D_MODEL, dh, scale);
      drawMatrix(figs.heads[h].qk, s.qk, D_MODEL, D_MODEL, robustScale(s.qk));
    });
    drawLoss(spark, state.losses);
    state.renders++;
    root.dataset.rendered = String(state.renders);
    root.dataset.steps = String(state.steps);
  };

  const buildFigures = (ws, H, average) => {
    const f = { maps: [], mats: {}, heads: [] };
    mapsRow.textContent = '';
    if (ws.length === 0) mapsRow.append(el('div', 'caption', 'Type a sentence to see where each word attends.'));
    else {
      for (let m = 0; m < (average ? 1 : H); m++) {
        const canvas = el('canvas', 'tf-attention');
        canvas.setAttribute('aria-label', average ? 'attention averaged over heads' : `attention of head ${m + 1}`);
        const caption = el('figcaption');
        mapsRow.append(fig(canvas, caption));
        f.maps.push({ canvas, caption });
      }
    }
    matsRow.textContent = '';
    for (const name of ['wq', 'wk', 'wv', 'wo']) {
      const canvas = el('canvas', 'tf-matrix');
      canvas.setAttribute('aria-label', name);
      matsRow.append(fig(canvas, html('figcaption', `W<sub>${name[1].toUpperCase()}</sub>`)));
      f.mats[name] = canvas;
    }
    const dh = D_MODEL / H;
    slicesTitle.innerHTML = `Each head's slices (<code>headWeights(h)</code>: W<sub>Q,h</sub>, W<sub>K,h</sub>, W<sub>V,h</sub>, ${D_MODEL}×${dh}) ` +
      `and its query·key form W<sub>Q,h</sub>W<sub>K,h</sub><sup>T</sup> (${D_MODEL}×${D_MODEL}): how strongly a query embedding matches a key embedding`;
    slicesRow.textContent = '';
    for (let h = 0; h < H; h++) {
      const group = el('div', 'tf-head');
      group.append(el('div', 'tf-head-name', `head ${h + 1}`));
      const row = el('div', 'tf-row');
      const c = {};
      const n = h + 1;
      for (const [k, label] of [['wq', `W<sub>Q,${n}</sub>`], ['wk', `W<sub>K,${n}</sub>`], ['wv', `W<sub>V,${n}</sub>`], ['qk', `W<sub>Q,${n}</sub>W<sub>K,${n}</sub><sup>T</sup>`]]) {
        c[k] = el('canvas', 'tf-slice');
        c[k].setAttribute('aria-label', `head ${n} ${k}`);
        row.append(fig(c[k], html('figcaption', label)));
      }
      group.append(row);
      slicesRow.append(group);
      f.heads.push(c);
    }
    return f;
  };

  // ── training loop: a few steps per animation frame, then a redraw ──
  const stopTraining = () => {
    training = false;
    trainBtn.textContent = TRAIN_LABEL;
    root.dataset.training = 'false';
  };
  const train = () => {
    if (training) {
      stopTraining();
      return;
    }
    followBackend();
    training = true;
    root.dataset.training = 'true';
    trainBtn.textContent = 'Stop';
    const target = state.steps + STEPS_PER_CLICK;
    const tick = () => {
      if (destroyed || !training) return;
      try {
        const t0 = performance.now();
        while (state.steps < target && performance.now() - t0 < 12) {
          state.loss = trainStep();
          state.losses.push(state.loss);
          state.steps++;
        }
        status.textContent = `step ${state.steps} · loss ${state.loss.toFixed(3)} (ln ${VOCAB} = ${Math.log(VOCAB).toFixed(2)} is guessing) · Adam ${LR} · on ${state.backend}`;
        render();
      } catch (e) {
        status.textContent = `training failed: ${e.message}`;
        stopTraining();
        throw e;
      }
      if (state.steps < target) requestAnimationFrame(tick);
      else stopTraining();
    };
    requestAnimationFrame(tick);
  };

  trainBtn.addEventListener('click', train);
  resetBtn.addEventListener('click', () => {
    stopTraining();
    build();
    render();
  });
  input.addEventListener('input', render);
  modeSel.addEventListener('change', render);
  headsSel.addEventListener('change', () => {
    stopTraining();
    build();
    render();
  });
  build();
  render();
  root.dataset.state = 'ready';
  return {
    state,
    destroy() {
      destroyed = true;
      optimizer?.dispose();
      model?.dispose();
    },
  };
}

/** The panel's model as a wasmgrad Module (a class per call: it extends this wasmgrad's Module). */
function tinyTransformer(wg) {
  return class TinyTransformer extends wg.Module {
    constructor(heads) {
      super();
      // Seeded layers: the same initial weights every time, without touching the page's global generator.
      this.embed = new wg.Embedding(VOCAB, D_MODEL, { seed: 11 });
      this.pos = new wg.SinusoidalPositionalEncoding(D_MODEL, 64);
      this.attn = new wg.MultiHeadAttention(D_MODEL, heads, { seed: 12 });
      this.out = new wg.Linear(D_MODEL, VOCAB, { seed: 13 });
    }

    /** ids int32 [B, T] → [B, T, dModel] */
    embedAt(ids) {
      return this.pos.forward(this.embed.forward(ids));
    }

    /** ids [B, T] → logits [B, T, VOCAB] */
    forward(ids) {
      return this.out.forward(this.attn.forward(this.embedAt(ids)));
    }

    /** The attention weights for ids: [B, H, T, T], or [B, T, T] averaged over heads. */
    attention(ids, average = false) {
      return wg.noGrad(() => {
        const x = this.embedAt(ids);
        return this.attn.forward(x, x, x, { needWeights: true, averageWeights: average }).weights;
      });
    }
  };
}

// ── canvases ──

function drawAttention(c, w, words) {
  const T = words.length;
  const cell = Math.max(14, Math.min(26, Math.floor(200 / T)));
  const label = 58;
  const size = label + T * cell;
  if (c.width !== size || c.height !== size) c.width = c.height = size;
  const ctx = c.getContext('2d');
  ctx.clearRect(0, 0, size, size);
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
}

/** A [rows, cols] row-major matrix, `cell` px per entry; optional dashed separators every n columns / rows. */
function drawMatrix(c, m, rows, cols, scale, { colsEvery = 0, rowsEvery = 0, cell = rows > 16 || cols > 16 ? 5 : 7 } = {}) {
  if (c.width !== cols * cell || c.height !== rows * cell) {
    c.width = cols * cell;
    c.height = rows * cell;
  }
  const ctx = c.getContext('2d');
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const [r, g, b] = diverging(m[i * cols + j], scale);
      ctx.fillStyle = `rgb(${r | 0},${g | 0},${b | 0})`;
      ctx.fillRect(j * cell, i * cell, cell, cell);
    }
  }
  ctx.strokeStyle = '#1d2330';
  ctx.setLineDash([3, 2]);
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let j = colsEvery; colsEvery > 0 && j < cols; j += colsEvery) {
    ctx.moveTo(j * cell + 0.5, 0);
    ctx.lineTo(j * cell + 0.5, rows * cell);
  }
  for (let i = rowsEvery; rowsEvery > 0 && i < rows; i += rowsEvery) {
    ctx.moveTo(0, i * cell + 0.5);
    ctx.lineTo(cols * cell, i * cell + 0.5);
  }
  ctx.stroke();
  ctx.setLineDash([]);
}

function drawLoss(c, losses) {
  const ctx = c.getContext('2d');
  const { width, height } = c;
  ctx.clearRect(0, 0, width, height);
  ctx.strokeStyle = '#e3e6eb';
  ctx.strokeRect(0.5, 0.5, width - 1, height - 1);
  if (losses.length < 2) return;
  const top = Math.max(Math.log(VOCAB), ...losses);
  ctx.strokeStyle = '#2f6fde';
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  losses.forEach((l, i) => ctx.lineTo(2 + (i / (losses.length - 1)) * (width - 4), height - 2 - (l / top) * (height - 4)));
  ctx.stroke();
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

function fig(canvas, caption) {
  const f = el('figure');
  f.append(canvas, caption);
  return f;
}

function html(tag, markup) {
  const e = document.createElement(tag);
  e.innerHTML = markup;
  return e;
}

function el(tag, cls = '', text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
