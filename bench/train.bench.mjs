// npm run bench:train — training throughput of wasmgrad on each backend,
// single thread. Each case is a file in bench/train/ exporting a classifier
//   { name, unit ('samples/s' | 'sequences/s'), batch, input (shape of one sample), classes, model() → Module }
// trained here with softmax cross-entropy and Adam (lr 1e-3) on one resident
// batch of synthetic data (throughput does not depend on the values).
// Backends run interleaved (A B C A B C …) after a warm-up; each cell is the
// median of several timed rounds. Heap bytes are checked flat across rounds
// (no leak). Prints a Markdown table; writes bench/results/train.json.
//
//   node -r ./scripts/relaxed-simd.cjs bench/train.bench.mjs [--quick] [case-name …]
import fs from 'node:fs';
import path from 'node:path';
import {
  Adam, availableBackends, backward, crossEntropy, loadBackend, seed, setBackend, tensor, tidy,
} from '../dist/wasmgrad.node.js';
import { environment, markdownTable, root, stats } from './common.mjs';

const quick = process.argv.includes('--quick');
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const ROUNDS = quick ? 3 : 5;
const ROUND_MS = quick ? 400 : 1000;

const dir = path.join(root, 'bench', 'train');
const cases = [];
for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.mjs')).sort()) {
  const c = (await import(path.join(dir, f))).default;
  if (only.length === 0 || only.includes(c.name)) cases.push(c);
}
/** One training step of case `c` on backend `be`: forward, loss, backward, Adam. */
function setup(c, be) {
  seed(1);
  const model = c.model();
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const size = c.input.reduce((a, b) => a * b, 1);
  const x = tensor(Float32Array.from({ length: c.batch * size }, (_, i) => ((i * 7919) % 256) / 255), [c.batch, ...c.input], { backend: be });
  const y = tensor(Int32Array.from({ length: c.batch }, (_, i) => i % c.classes), [c.batch], { dtype: 'int32', backend: be });
  return {
    step() {
      tidy(() => {
        const loss = crossEntropy(model.forward(x), y);
        opt.zeroGrad();
        backward(loss);
        opt.step();
      });
    },
    dispose() {
      model.dispose();
      opt.dispose();
      x.dispose();
      y.dispose();
    },
  };
}

const names = availableBackends();
const backends = await Promise.all(names.map((n) => loadBackend(n)));

const rows = [];
const results = [];
for (const c of cases) {
  const runs = backends.map((be) => {
    setBackend(be);
    const r = setup(c, be);
    // Warm-up: tier the kernels up, fill the allocator's free lists.
    const t0 = performance.now();
    let warm = 0;
    while (performance.now() - t0 < (be.name === 'js' ? ROUND_MS / 2 : ROUND_MS / 2) || warm < 3) { r.step(); warm++; }
    return { be, r, rates: [], heap: [] };
  });
  for (let round = 0; round < ROUNDS; round++) {
    for (const run of runs) {
      setBackend(run.be);
      const t0 = performance.now();
      let steps = 0;
      while (performance.now() - t0 < ROUND_MS || steps < 2) { run.r.step(); steps++; }
      run.rates.push((steps * c.batch) / ((performance.now() - t0) / 1000));
      run.heap.push(run.be.heap.liveBytes);
    }
  }
  const cells = runs.map((run) => stats(run.rates));
  const jsIdx = names.indexOf('js');
  const flat = runs.map((run) => run.heap.every((h) => h === run.heap[0]));
  rows.push([
    c.name, c.unit,
    ...cells.map((s, i) => `${Math.round(s.median).toLocaleString('en')}${flat[i] ? '' : ' (heap grew!)'}`),
    ...cells.slice(0, jsIdx).map((s) => `${(s.median / cells[jsIdx].median).toFixed(1)}×`),
  ]);
  runs.forEach((run, i) => {
    results.push({
      case: c.name, contender: `wasmgrad-${run.be.name}`, unit: c.unit, ...cells[i],
      heapBytes: run.heap[run.heap.length - 1], heapFlat: flat[i],
    });
    run.r.dispose();
  });
}
const env = environment();
console.log(`\ntraining throughput, single thread, median of ${ROUNDS} interleaved rounds — ${env.cpu}, Node ${env.node}\n`);
console.log(markdownTable(['case', 'unit', ...names, ...names.slice(0, -1).map((n) => `${n} / js`)], rows));
fs.mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
fs.writeFileSync(path.join(root, 'bench', 'results', 'train.json'), JSON.stringify({ environment: env, results }, null, 2) + '\n');
