// npm run example:transformer-sort — an encoder–decoder transformer learns to
// sort (or reverse) sequences of digits, then decodes held-out sequences
// greedily with a key/value cache and prints the exact-sequence accuracy and
// the cross-attention map of one example.
//
//   node examples/transformer-sort.mjs [--task sort|reverse] [--len 8] [--steps 2000] [--backend js]
//
// Data: random digit sequences drawn from the seeded generator. 1,000 of them
// are held out before training starts, and training batches never contain a
// held-out sequence, so the reported accuracy is on sequences the model has
// never seen. Model: Seq2SeqTransformer, dModel 64, 4 heads, 2 encoder and 2
// decoder layers, FFN 128, pre-norm; the target is fed shifted right behind a
// start token (teacher forcing); Adam with warm-up and cosine decay.
import {
  Adam, availableBackends, backward, CosineAnnealingLR, crossEntropy, generate, Generator, LinearWarmup, loadBackend,
  reshape, seed, Seq2SeqTransformer, setBackend, tensor, tidy,
} from 'wasmgrad';
import { arg } from './lib/cli.mjs';

const TASK = arg('task', 'sort');
const L = Number(arg('len', 8));
const STEPS = Number(arg('steps', 2000));
const BATCH = 64;
const TEST = 1000;
const START = 10; // the decoder's start token; digits are 0–9
if (TASK !== 'sort' && TASK !== 'reverse') throw new Error(`--task must be sort or reverse; got ${TASK}`);

const backendName = arg('backend', availableBackends()[0]);
setBackend(await loadBackend(backendName));
seed(1);
const g = new Generator(7);

const solve = (s) => (TASK === 'sort' ? [...s].sort((a, b) => a - b) : [...s].reverse());
const randomSeq = () => Array.from({ length: L }, () => g.int(10));
const key = (s) => s.join('');

const heldOut = new Map();
while (heldOut.size < TEST) {
  const s = randomSeq();
  heldOut.set(key(s), s);
}
const test = [...heldOut.values()];

function batch() {
  const src = [], dec = [], out = [];
  while (src.length < BATCH * L) {
    const s = randomSeq();
    if (heldOut.has(key(s))) continue;
    const y = solve(s);
    src.push(...s);
    dec.push(START, ...y.slice(0, L - 1));
    out.push(...y);
  }
  return {
    src: tensor(src, [BATCH, L], { dtype: 'int32' }),
    dec: tensor(dec, [BATCH, L], { dtype: 'int32' }),
    out: tensor(out, [BATCH * L], { dtype: 'int32' }),
  };
}

const model = new Seq2SeqTransformer({
  srcVocabSize: 10, tgtVocabSize: 11, dModel: 64, numHeads: 4, numEncoderLayers: 2, numDecoderLayers: 2,
  dimFeedforward: 128, dropout: 0, normFirst: true, maxLen: 32,
});
const opt = new Adam(model.parameters(), { lr: 1e-3 });
const warm = Math.min(200, Math.floor(STEPS / 10)); // a tenth of a short run
const sched = new LinearWarmup(opt, { warmupSteps: warm, after: new CosineAnnealingLR(opt, { tMax: STEPS - warm, etaMin: 5e-5 }) });

/** Greedy decoding with the KV cache; returns exact-sequence accuracy on `seqs` (and the predictions). */
function evaluate(seqs) {
  model.eval();
  const preds = [];
  for (let i = 0; i < seqs.length; i += 250) {
    const chunk = seqs.slice(i, i + 250);
    tidy(() => {
      const src = tensor(chunk.flat(), [chunk.length, L], { dtype: 'int32' });
      const outIds = generate(model, chunk.map(() => [START]), { maxNewTokens: L, greedy: true, source: src });
      const d = outIds.data();
      for (let b = 0; b < chunk.length; b++) preds.push(Array.from(d.subarray(b * (L + 1) + 1, (b + 1) * (L + 1))));
    });
  }
  model.train();
  let right = 0;
  seqs.forEach((s, i) => (right += key(solve(s)) === key(preds[i]) ? 1 : 0));
  return { accuracy: right / seqs.length, preds };
}

console.log(`${TASK} ${L} digits — Seq2SeqTransformer (${model.numParameters().toLocaleString('en')} parameters) on ${backendName}`);
console.log(`training batches of ${BATCH}; ${TEST} held-out sequences never seen in training\n`);
const t0 = performance.now();
let avg = 0;
for (let step = 1; step <= STEPS; step++) {
  const loss = tidy(() => {
    const { src, dec, out } = batch();
    const logits = model.forward(src, dec); // [B, L, 11]
    const l = crossEntropy(reshape(logits, [BATCH * L, 11]), out);
    opt.zeroGrad();
    backward(l);
    opt.step();
    return l.item();
  });
  sched.step();
  avg = step === 1 ? loss : 0.98 * avg + 0.02 * loss;
  if (step % 250 === 0 || step === STEPS) {
    const { accuracy } = evaluate(test.slice(0, 500));
    const secs = (performance.now() - t0) / 1000;
    console.log(`step ${String(step).padStart(5)}  loss ${avg.toFixed(4)}  held-out accuracy (500) ${(accuracy * 100).toFixed(1)}%  ${secs.toFixed(0)} s`);
    if (accuracy === 1 && step >= STEPS / 2) break; // 500 of 500 right: stop early, then test on all 1,000
  }
}

const { accuracy, preds } = evaluate(test);
console.log(`\nexact-sequence accuracy on all ${TEST} held-out sequences: ${(accuracy * 100).toFixed(2)}%`);
const wrong = test.map((s, i) => [s, preds[i]]).filter(([s, p]) => key(solve(s)) !== key(p));
for (const [s, p] of wrong.slice(0, 3)) console.log(`  miss: ${key(s)} → ${key(p)} (want ${key(solve(s))})`);

// Cross-attention of each decoder layer for one held-out example, averaged over heads.
const ex = test[0];
const want = solve(ex);
tidy(() => {
  const src = tensor(ex, [1, L], { dtype: 'int32' });
  const dec = tensor([START, ...want.slice(0, L - 1)], [1, L], { dtype: 'int32' });
  model.eval();
  const { cross } = model.attentionWeights(src, dec);
  const H = 4;
  const shades = ' .:-=+*#%@';
  console.log(`\ncross-attention for input ${key(ex)} → output ${key(preds[0])} (mean of ${H} heads):`);
  console.log(`rows = output position (the digit it emits), columns = input digits; shade ' .:-=+*#%@' from 0 to 1`);
  cross.forEach((t, layer) => {
    const w = t.data(); // [1, H, L, L]
    console.log(`\n  decoder layer ${layer + 1}`);
    console.log('           ' + ex.map((d) => ` ${d}`).join(''));
    for (let i = 0; i < L; i++) {
      let row = '';
      for (let j = 0; j < L; j++) {
        let v = 0;
        for (let h = 0; h < H; h++) v += w[(h * L + i) * L + j] / H;
        row += ` ${shades[Math.min(shades.length - 1, Math.floor(v * shades.length))]}`;
      }
      console.log(`    emits ${preds[0][i]} ${row}`);
    }
  });
});
model.dispose();
opt.dispose();
