// The adding problem (Hochreiter & Schmidhuber 1997; Le, Jaitly & Hinton
// 2015): each sequence has T steps of two inputs — a random number in [0, 1)
// and a marker that is 1 at exactly two steps (one in each half) and 0
// elsewhere. The target is the sum of the two marked numbers. Always
// answering the mean (1.0) scores an MSE of 1/6 ≈ 0.167; solving the task
// needs remembering a value across up to T steps while ignoring the rest.
//
// An LSTM (hidden 64) reads the sequence and a Linear layer reads its last
// step; Adam (lr 2e-3), batch 64, fresh random batches every step, gradients
// clipped to norm 1. Training stops when the MSE on 1,000 held-out sequences
// falls below 0.01 — the task counts as solved — or after --max-steps.
//
//   node examples/sequence-adding.mjs [--steps T=50] [--hidden 64] [--max-steps 4000] [--backend js]
import {
  Adam, availableBackends, backward, clipGradNorm, Linear, loadBackend, LSTM, Module, mseLoss, noGrad, seed, setBackend,
  tensor, tidy,
} from 'wasmgrad';
import { arg, rng } from './lib/cli.mjs';

const T = Number(arg('steps', 50));
const HIDDEN = Number(arg('hidden', 64));
const MAX_STEPS = Number(arg('max-steps', 4000));
const BATCH = 64;
const THRESHOLD = 0.01;
const backendName = arg('backend', availableBackends()[0]);

function batch(n, rand) {
  const x = new Float32Array(n * T * 2);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const a = Math.floor(rand() * (T / 2));
    const b = Math.floor(T / 2 + rand() * (T / 2));
    for (let t = 0; t < T; t++) {
      const v = rand();
      x[(i * T + t) * 2] = v;
      if (t === a || t === b) {
        x[(i * T + t) * 2 + 1] = 1;
        y[i] += v;
      }
    }
  }
  return { x: tensor(x, [n, T, 2]), y: tensor(y, [n, 1]) };
}

class Adder extends Module {
  lstm = new LSTM(2, HIDDEN, { returnSequences: false });
  head = new Linear(HIDDEN, 1);
  forward(x) {
    return this.head.forward(this.lstm.forward(x)); // [N, T, 2] → last step [N, H] → [N, 1]
  }
}

await loadBackend(backendName);
setBackend(backendName);
seed(1);
const model = new Adder();
const opt = new Adam(model.parameters(), { lr: 2e-3 });
const test = batch(1000, rng(12345));
const rand = rng(1);
const heldOut = () => noGrad(() => tidy(() => mseLoss(model.forward(test.x), test.y).item()));

console.log(`adding problem, T = ${T}: LSTM(2 → ${HIDDEN}) + Linear(${HIDDEN} → 1) on ${backendName}, batch ${BATCH}, Adam 2e-3`);
console.log(`baseline (always 1.0): MSE ${(1 / 6).toFixed(3)}; solved when held-out MSE < ${THRESHOLD}\n`);
let mse = heldOut();
let solvedAt = -1;
const t0 = performance.now();
let avg = 0;
for (let step = 1; step <= MAX_STEPS; step++) {
  const loss = tidy(() => {
    const { x, y } = batch(BATCH, rand);
    const l = mseLoss(model.forward(x), y);
    opt.zeroGrad();
    backward(l);
    clipGradNorm(model, 1.0);
    opt.step();
    return l.item();
  });
  avg = step === 1 ? loss : 0.98 * avg + 0.02 * loss;
  if (step % 100 === 0) {
    mse = heldOut();
    const s = (performance.now() - t0) / 1000;
    console.log(
      `step ${String(step).padStart(5)}  train MSE ${avg.toFixed(4)}  held-out MSE ${mse.toFixed(4)}  ` +
        `(${((step * BATCH) / s).toFixed(0)} sequences/s)`,
    );
    if (mse < THRESHOLD) {
      solvedAt = step;
      break;
    }
  }
}
const secs = ((performance.now() - t0) / 1000).toFixed(1);
if (solvedAt > 0) {
  console.log(`\nsolved: held-out MSE ${mse.toFixed(4)} < ${THRESHOLD} after ${solvedAt} steps (${solvedAt * BATCH} sequences, ${secs} s)`);
} else {
  console.log(`\nnot solved in ${MAX_STEPS} steps: held-out MSE ${mse.toFixed(4)} (threshold ${THRESHOLD}, ${secs} s)`);
  process.exitCode = 1;
}
model.dispose();
opt.dispose();
test.x.dispose();
test.y.dispose();
