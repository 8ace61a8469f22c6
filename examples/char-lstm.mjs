// A character-level LSTM that learns to spell English-looking words, trained
// on the ~275,000 words shipped in the npm package `an-array-of-english-words`.
//
// Each word is a sequence: '.' (start), its letters, '.' (end). The model
// reads one-hot characters [N, T, 27] and predicts the next character at
// every step: LSTM(27 → 128) → Linear(128 → 27), softmax cross-entropy over
// the valid steps only — a batch of words of different lengths runs as one
// padded batch with `lengths`, and the loss gathers each word's own steps.
// Adam (lr 3e-3), batch 128, gradients clipped to norm 5. Every 250 steps it
// prints the loss on 2,000 held-out words (bits per character) and words
// sampled from the model (seeded, temperature 0.8), one character at a time
// with the state carried between calls.
//
//   node examples/char-lstm.mjs [--steps 2000] [--hidden 128] [--backend js]
import { createRequire } from 'node:module';
import {
  Adam, availableBackends, backward, clipGradNorm, crossEntropy, Linear, loadBackend, LSTM, Module, noGrad, reshape,
  seed, setBackend, softmax, take, tensor, tidy, keep,
} from 'wasmgrad';
import { arg, rng } from './lib/cli.mjs';

const STEPS = Number(arg('steps', 2000));
const HIDDEN = Number(arg('hidden', 128));
const BATCH = 128;
const MAX_LEN = 10;
const T = MAX_LEN + 1; // '.' + up to 10 letters in; up to 10 letters + '.' out
const V = 27; // '.' and a–z
const backendName = arg('backend', availableBackends()[0]);

const code = (ch) => (ch === '.' ? 0 : ch.charCodeAt(0) - 96);
const char = (c) => (c === 0 ? '.' : String.fromCharCode(96 + c));

// Words of 3–10 letters a–z, shuffled (seeded); 2,000 held out.
const all = createRequire(import.meta.url)('an-array-of-english-words').filter((w) => /^[a-z]{3,10}$/.test(w));
const shuffle = rng(7);
for (let i = all.length - 1; i > 0; i--) {
  const j = Math.floor(shuffle() * (i + 1));
  [all[i], all[j]] = [all[j], all[i]];
}
const heldOutWords = all.slice(0, 2000);
const trainWords = all.slice(2000);

/** One padded batch: one-hot inputs, lengths, and the targets of the valid steps (with their row indices). */
function encode(words) {
  const n = words.length;
  const x = new Float32Array(n * T * V);
  const lengths = new Int32Array(n);
  const rows = [];
  const targets = [];
  words.forEach((w, i) => {
    const seq = '.' + w + '.';
    lengths[i] = w.length + 1;
    for (let t = 0; t < lengths[i]; t++) {
      x[(i * T + t) * V + code(seq[t])] = 1;
      rows.push(i * T + t);
      targets.push(code(seq[t + 1]));
    }
  });
  return {
    x: tensor(x, [n, T, V]),
    lengths,
    rows: tensor(Int32Array.from(rows), [rows.length], { dtype: 'int32' }),
    y: tensor(Int32Array.from(targets), [targets.length], { dtype: 'int32' }),
  };
}

class Speller extends Module {
  lstm = new LSTM(V, HIDDEN);
  head = new Linear(HIDDEN, V);
  /** Next-character logits at the valid steps of a padded batch. */
  forward(x, lengths, rows) {
    const h = this.lstm.run(x, { lengths }).output; // [N, T, H], zeros past each word
    return this.head.forward(take(reshape(h, [-1, HIDDEN]), rows)); // [valid steps, 27]
  }
}

/** Mean loss per character on the held-out words, in bits. */
function heldOutBits(model) {
  return noGrad(() =>
    tidy(() => {
      const b = encode(heldOutWords);
      return crossEntropy(model.forward(b.x, b.lengths, b.rows), b.y).item() / Math.LN2;
    }),
  );
}

/** `count` words sampled one character at a time, carrying (h, c) from call to call. */
function sample(model, count, rand, temperature = 0.8) {
  const words = Array.from({ length: count }, () => '');
  const done = new Array(count).fill(false);
  let state = null;
  let prev = new Array(count).fill(0);
  noGrad(() => {
    for (let t = 0; t < 20 && !done.every(Boolean); t++) {
      const next = tidy(() => {
        const x = new Float32Array(count * V);
        prev.forEach((c, i) => (x[i * V + c] = 1));
        const r = model.lstm.run(tensor(x, [count, 1, V]), state ? { h0: state.h, c0: state.c } : {});
        const logits = model.head.forward(reshape(r.output, [count, HIDDEN]));
        const probs = softmax(logits, -1);
        if (state) {
          state.h.dispose();
          state.c.dispose();
        }
        state = { h: keep(r.h), c: keep(r.c) };
        return probs.data();
      });
      prev = prev.map((_, i) => {
        // temperature: p^(1/τ), renormalised
        let total = 0;
        const p = new Float64Array(V);
        for (let c = 0; c < V; c++) total += p[c] = Math.pow(next[i * V + c], 1 / temperature);
        let u = rand() * total;
        let c = 0;
        while (c < V - 1 && (u -= p[c]) > 0) c++;
        return c;
      });
      prev.forEach((c, i) => {
        if (done[i]) return;
        if (c === 0) done[i] = true;
        else words[i] += char(c);
      });
    }
  });
  state?.h.dispose();
  state?.c.dispose();
  return words;
}

await loadBackend(backendName);
setBackend(backendName);
seed(3);
const model = new Speller();
const opt = new Adam(model.parameters(), { lr: 3e-3 });
const pick = rng(11);
const sampler = rng(5);
console.log(
  `char-level LSTM(${V} → ${HIDDEN}) + Linear(${HIDDEN} → ${V}) on ${backendName}: ${trainWords.length.toLocaleString('en')} ` +
    `training words (3–10 letters) from an-array-of-english-words, ${heldOutWords.length} held out`,
);
console.log(`uniform guessing: ${Math.log2(V).toFixed(2)} bits/char\n`);
console.log(`step     0  held-out ${heldOutBits(model).toFixed(3)} bits/char  samples: ${sample(model, 8, sampler).join(' ')}`);
const t0 = performance.now();
let avg = 0;
for (let step = 1; step <= STEPS; step++) {
  const loss = tidy(() => {
    const words = Array.from({ length: BATCH }, () => trainWords[Math.floor(pick() * trainWords.length)]);
    const b = encode(words);
    const l = crossEntropy(model.forward(b.x, b.lengths, b.rows), b.y);
    opt.zeroGrad();
    backward(l);
    clipGradNorm(model, 5);
    opt.step();
    return l.item();
  });
  avg = step === 1 ? loss : 0.95 * avg + 0.05 * loss;
  if (step % 250 === 0 || step === STEPS) {
    const s = (performance.now() - t0) / 1000;
    console.log(
      `step ${String(step).padStart(5)}  train ${(avg / Math.LN2).toFixed(3)}  held-out ${heldOutBits(model).toFixed(3)} bits/char  ` +
        `(${((step * BATCH) / s).toFixed(0)} words/s)  samples: ${sample(model, 8, sampler).join(' ')}`,
    );
  }
}
console.log(`\nmore samples: ${sample(model, 24, sampler).join(' ')}`);
model.dispose();
opt.dispose();
