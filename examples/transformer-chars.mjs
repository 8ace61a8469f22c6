// npm run example:transformer-chars — a small character-level decoder-only
// transformer (GPT-style) learns English spelling from the ~275,000 words of
// the npm package `an-array-of-english-words` (no downloads), prints the
// training and held-out loss as they fall, samples new words with the
// key/value cache (temperature and top-k), and prints the self-attention map
// of one word.
//
//   node examples/transformer-chars.mjs [--steps 1500] [--backend js]
//
// Text: the words in a seeded random order, 95% for training and 5% held out,
// each followed by a newline; training windows of 32 characters are cut at
// random from the training text. Model: TransformerLM, vocabulary 27
// (newline + a–z), dModel 64, 4 heads, 3 layers, FFN 128, pre-norm, learned
// positions; Adam with warm-up and cosine decay.
import { createRequire } from 'node:module';
import {
  Adam, availableBackends, backward, CosineAnnealingLR, crossEntropy, generate, Generator, LinearWarmup, loadBackend,
  noGrad, reshape, seed, setBackend, tensor, tidy, TransformerLM,
} from 'wasmgrad';
import { arg } from './lib/cli.mjs';

const STEPS = Number(arg('steps', 1500));
const T = 32;
const BATCH = 32;

const backendName = arg('backend', availableBackends()[0]);
setBackend(await loadBackend(backendName));
seed(3);
const g = new Generator(11);

const words = createRequire(import.meta.url)('an-array-of-english-words').filter((w) => /^[a-z]+$/.test(w));
const wordSet = new Set(words);
g.shuffle(words);
const split = Math.floor(words.length * 0.95);
const encode = (s) => Array.from(s, (c) => (c === '\n' ? 0 : c.charCodeAt(0) - 96));
const decode = (ids) => ids.map((i) => (i === 0 ? '\n' : String.fromCharCode(96 + i))).join('');
const trainText = Int32Array.from(encode('\n' + words.slice(0, split).join('\n') + '\n'));
const heldText = Int32Array.from(encode('\n' + words.slice(split).join('\n') + '\n'));

function windows(text, n, rng) {
  const x = new Int32Array(n * T), y = new Int32Array(n * T);
  for (let b = 0; b < n; b++) {
    const at = rng.int(text.length - T - 1);
    x.set(text.subarray(at, at + T), b * T);
    y.set(text.subarray(at + 1, at + T + 1), b * T);
  }
  return { x: tensor(x, [n, T], { dtype: 'int32' }), y: tensor(y, [n * T], { dtype: 'int32' }) };
}

const model = new TransformerLM({
  vocabSize: 27, dModel: 64, numHeads: 4, numLayers: 3, dimFeedforward: 128, maxLen: T, dropout: 0, normFirst: true,
});
const opt = new Adam(model.parameters(), { lr: 2e-3 });
const warm = Math.min(100, Math.floor(STEPS / 10)); // a tenth of a short run
const sched = new LinearWarmup(opt, { warmupSteps: warm, after: new CosineAnnealingLR(opt, { tMax: STEPS - warm, etaMin: 1e-4 }) });

const heldRng = new Generator(5);
const held = Array.from({ length: 8 }, () => windows(heldText, 32, heldRng));
const heldLoss = () => {
  model.eval();
  const l = noGrad(() => held.reduce((s, { x, y }) => s + tidy(() => crossEntropy(reshape(model.forward(x), [32 * T, 27]), y).item()), 0));
  model.train();
  return l / held.length;
};

console.log(`character-level TransformerLM (${model.numParameters().toLocaleString('en')} parameters) on ${backendName}`);
console.log(`${split.toLocaleString('en')} training words, ${(words.length - split).toLocaleString('en')} held out; windows of ${T} characters, batch ${BATCH}`);
console.log(`(a uniform guess over 27 characters has loss ln 27 = ${Math.log(27).toFixed(2)} nats)\n`);
const t0 = performance.now();
let avg = 0;
for (let step = 1; step <= STEPS; step++) {
  const loss = tidy(() => {
    const { x, y } = windows(trainText, BATCH, g);
    const l = crossEntropy(reshape(model.forward(x), [BATCH * T, 27]), y);
    opt.zeroGrad();
    backward(l);
    opt.step();
    return l.item();
  });
  sched.step();
  avg = step === 1 ? loss : 0.95 * avg + 0.05 * loss;
  if (step % 100 === 0 || step === 1) {
    const secs = (performance.now() - t0) / 1000;
    console.log(`step ${String(step).padStart(5)}  train loss ${avg.toFixed(3)}  held-out loss ${heldLoss().toFixed(3)}  ${secs.toFixed(0)} s`);
  }
}

// Samples: start from a newline and let the model spell; the key/value cache
// makes each new character cost one position's work.
model.eval();
console.log('\nsampled words (temperature 0.8, top-k 8); * = not in the word list:');
const out = generate(model, Array.from({ length: 4 }, () => [0]), { maxNewTokens: T - 1, temperature: 0.8, topK: 8, seed: 2 });
const d = out.data();
const sampled = [];
for (let b = 0; b < 4; b++) sampled.push(...decode(Array.from(d.subarray(b * T + 1, (b + 1) * T))).split('\n').slice(0, -1).filter(Boolean));
console.log('  ' + sampled.map((w) => (wordSet.has(w) ? w : `${w}*`)).join('  '));
const novel = sampled.filter((w) => !wordSet.has(w)).length;
console.log(`  ${sampled.length - novel} of ${sampled.length} are real English words, ${novel} invented`);
out.dispose();

console.log('\ngreedy completions:');
for (const prefix of ['un', 'trans', 'photo', 'quick']) {
  const greedy = generate(model, [encode('\n' + prefix)], { maxNewTokens: 12, greedy: true });
  const word = decode(Array.from(greedy.data())).split('\n')[1];
  console.log(`  ${prefix.padEnd(6)} → ${word}${wordSet.has(word) ? '' : '*'}`);
  greedy.dispose();
}

// What the key/value cache buys: the same 31 greedy tokens for 8 sequences,
// with the cache (one new position per step) and by recomputing the prefix.
const timeIt = (useCache) => {
  const t = performance.now();
  generate(model, Array.from({ length: 8 }, () => [0]), { maxNewTokens: T - 1, greedy: true, useCache }).dispose();
  return performance.now() - t;
};
timeIt(true);
const withCache = Math.min(timeIt(true), timeIt(true));
const without = Math.min(timeIt(false), timeIt(false));
console.log(`\ngenerating ${T - 1} tokens × 8 sequences: ${withCache.toFixed(0)} ms with the key/value cache, ${without.toFixed(0)} ms recomputing every prefix (${(without / withCache).toFixed(1)}×)`);

// Self-attention of the last layer over one word, averaged over heads.
const word = '\nattention\n';
tidy(() => {
  const ids = tensor(encode(word), [1, word.length], { dtype: 'int32' });
  const maps = model.attentionWeights(ids);
  const w = maps[maps.length - 1].data(); // [1, H, n, n]
  const n = word.length, H = 4;
  const label = (c) => (c === '\n' ? '⏎' : c);
  const shades = ' .:-=+*#%@';
  console.log(`\nself-attention of the last layer (mean of ${H} heads) over "${word.trim()}": row = position predicting the next character`);
  console.log('     ' + Array.from(word, (c) => ` ${label(c)}`).join(''));
  for (let i = 0; i < n; i++) {
    let row = '';
    for (let j = 0; j < n; j++) {
      let v = 0;
      for (let h = 0; h < H; h++) v += w[(h * n + i) * n + j] / H;
      row += ` ${j > i ? ' ' : shades[Math.min(9, Math.floor(v * 10))]}`;
    }
    console.log(`   ${label(word[i])} ${row}`);
  }
  console.log(`\n  (shade ' .:-=+*#%@' from 0 to 1; the upper triangle is masked: no position sees the future)`);
});
for (const { x, y } of held) {
  x.dispose();
  y.dispose();
}
model.dispose();
opt.dispose();
