// Optimizer step time on every backend, single thread:
//  - one step of SGD (momentum), Adam, RMSprop (centered, momentum), Adagrad
//    over an MLP's parameters (784·256 + 256 + 256·10 + 10 = 203,530 floats),
//    i.e. one kernel call over the slab; reported as µs/step and GB/s of
//    slab traffic (bytes read + written);
//  - the slab's one call against one call per tensor for 400 small tensors
//    of 500 floats (the dispatch cost the slab removes).
// Backends run interleaved after a warm-up; each cell is the median of runs.
// Prints Markdown tables and writes bench/results/optim.json.
//
//   npm run build -- --quiet && node -r ./scripts/relaxed-simd.cjs bench/optim.bench.mjs [--quick]
import fs from 'node:fs';
import path from 'node:path';
import { Adagrad, Adam, availableBackends, loadBackend, RMSprop, SGD, tensor } from '../dist/wasmgrad.node.js';
import { environment, markdownTable, median, root, randomUniform } from './common.mjs';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 5 : 9;
const MIN_MS = quick ? 20 : 60;

const names = availableBackends();
const backends = await Promise.all(names.map((n) => loadBackend(n)));

function params(be, shapes) {
  return shapes.map((s, i) => tensor(randomUniform(s.reduce((a, b) => a * b, 1), i + 1), s, { backend: be, requiresGrad: true }));
}

/** Median µs per call of fn, timing batches of at least MIN_MS. */
function time(fn) {
  for (let i = 0; i < 3; i++) fn();
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    if (performance.now() - t0 >= MIN_MS) break;
    reps *= 2;
  }
  const runs = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    runs.push(((performance.now() - t0) * 1000) / reps);
  }
  return median(runs);
}

const MLP = [[784, 256], [256], [256, 10], [10]];
const floats = MLP.reduce((s, sh) => s + sh.reduce((a, b) => a * b, 1), 0);
// Streams per element: [reads, writes] of float32 (p, g, state…).
const OPTIMIZERS = [
  ['SGD (momentum 0.9)', (ps) => new SGD(ps, { lr: 0.01, momentum: 0.9 }), [3, 2]],
  ['Adam', (ps) => new Adam(ps), [4, 3]],
  ['RMSprop (centered, momentum)', (ps) => new RMSprop(ps, { centered: true, momentum: 0.9 }), [5, 4]],
  ['Adagrad', (ps) => new Adagrad(ps), [3, 2]],
];

const results = { environment: environment(), floats, step: [], dispatch: [] };
const rows = [];
for (const [label, make, [rd, wr]] of OPTIMIZERS) {
  const opts = backends.map((be) => make(params(be, MLP)));
  const us = backends.map(() => []);
  for (let r = 0; r < 3; r++) opts.forEach((o, i) => us[i].push(time(() => o.step())));
  const med = us.map(median);
  const gbs = med.map((u) => ((rd + wr) * 4 * floats) / (u * 1e3));
  rows.push([label, ...med.map((u, i) => `${u.toFixed(0)} µs (${gbs[i].toFixed(1)} GB/s)`), ...med.slice(0, -1).map((u) => `${(med.at(-1) / u).toFixed(1)}×`)]);
  results.step.push({ optimizer: label, us: Object.fromEntries(names.map((n, i) => [n, med[i]])) });
  opts.forEach((o) => o.dispose());
}
console.log(`\nOne optimizer step over an MLP's ${floats} parameters (one kernel call per step):\n`);
console.log(markdownTable(['optimizer', ...names, ...names.slice(0, -1).map((n) => `${n} / js`)], rows));

// Slab (one call) vs one call per tensor, Adam, 400 tensors of 500 floats.
const SMALL = Array.from({ length: 400 }, () => [500]);
const drows = [];
backends.forEach((be) => {
  const ps = params(be, SMALL);
  const o = new Adam(ps);
  const k = be.k;
  const perTensor = () => {
    o.stepCount++;
    const t = o.stepCount;
    const bc1 = 1 - 0.9 ** t, bc2 = 1 - 0.999 ** t;
    for (const p of ps) {
      const st = o.state.get(p);
      k.adam_step(p.ptr, st.expAvg.ptr, st.expAvgSq.ptr, 0, p.grad.ptr, p.size, 1e-3, 0.9, 0.999, 1e-8, 0, 0, 0, bc1, bc2);
    }
  };
  const one = time(() => o.step());
  const many = time(perTensor);
  drows.push([be.name, `${one.toFixed(0)} µs`, `${many.toFixed(0)} µs`, `${(many / one).toFixed(2)}×`]);
  results.dispatch.push({ backend: be.name, slabUs: one, perTensorUs: many });
  o.dispose();
});
console.log('\nAdam over 400 tensors of 500 floats: the slab (1 call) vs 1 call per tensor:\n');
console.log(markdownTable(['backend', 'slab, 1 call', '400 calls', 'per-tensor / slab'], drows));

fs.mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
fs.writeFileSync(path.join(root, 'bench', 'results', 'optim.json'), JSON.stringify(results, null, 2) + '\n');
console.log(`\n${results.environment.cpu}, ${results.environment.node}; written to bench/results/optim.json`);
