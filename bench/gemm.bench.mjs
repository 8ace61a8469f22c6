// npm run bench:gemm — matmul GFLOPS on every backend this runtime has,
// single thread: square 64…1024, the MLP layer (64×784)·(784×256) and the two
// products its backward pass runs (dW = Xᵀ·dY, dX = dY·Wᵀ), and the transposed
// variants at 512.
//
// Backends run interleaved (A B C A B C …) after a warm-up. Every call is timed
// on its own and each cell is the median over all calls of all rounds: on a
// shared machine a call that lost the CPU to another process is an outlier the
// median drops, where timing a block of calls would charge it to the kernel.
// The last column is the first backend's fraction of the SIMD128 peak loop
// (bench/simd-peak.ts, relaxed_madd), which runs in every round after the
// backends: the median over rounds of (backend's median / peak's median in
// that round). Prints a Markdown table and the SIMD peak of this machine, and writes
// bench/results/gemm.json.
//
//   node -r ./scripts/relaxed-simd.cjs bench/gemm.bench.mjs [--quick]
import fs from 'node:fs';
import path from 'node:path';
import { availableBackends, loadBackend, matmul, tensor, tidy } from '../dist/wasmgrad.node.js';
import { environment, loadSimdPeak, markdownTable, median, PEAK_FLOPS_PER_ITER, root, simdPeak, stats, randomUniform } from './common.mjs';

const quick = process.argv.includes('--quick');
// [label, m, n, k, transposeA, transposeB]: C[m,n] = op(A)·op(B), K = k.
const SHAPES = [
  ['64', 64, 64, 64], ['128', 128, 128, 128], ['256', 256, 256, 256], ['512', 512, 512, 512],
  ...(quick ? [] : [['1024', 1024, 1024, 1024]]),
  ['512 Aᵀ·B', 512, 512, 512, true, false],
  ['512 A·Bᵀ', 512, 512, 512, false, true],
  ['(64×784)·(784×256)', 64, 256, 784],
  ['MLP dW (784×64)·(64×256), Aᵀ·B', 784, 256, 64, true, false],
  ['MLP dX (64×256)·(256×784), A·Bᵀ', 64, 784, 256, false, true],
];
const ROUNDS = quick ? 7 : 15;
const MIN_MS = quick ? 20 : 60; // warm-up per backend and shape
const ROUND_MS = quick ? 8 : 20; // timed calls per backend per round

const names = availableBackends();
// The SIMD128 peak loop (bench/simd-peak.ts) runs in every round next to the
// backends, so each shape's fraction of the peak is taken per round from the
// same moments (on this shared host the CPU's speed drifts by ±30%).
const peakLoop = await loadSimdPeak();
const PEAK_ITERS = 2e5;
const backends = await Promise.all(names.map((n) => loadBackend(n)));

const rows = [];
const results = [];
for (const [label, m, n, k, transposeA = false, transposeB = false] of SHAPES) {
  const flops = 2 * m * n * k;
  const per = backends.map((be) => {
    const a = tensor(randomUniform(m * k, 1), transposeA ? [k, m] : [m, k], { backend: be });
    const b = tensor(randomUniform(k * n, 2), transposeB ? [n, k] : [k, n], { backend: be });
    const once = () => tidy(() => { matmul(a, b, { transposeA, transposeB }); });
    // Warm-up (tiers the kernel up to the optimizing compiler) and calibrate reps.
    const t0 = performance.now();
    let reps = 0;
    while (performance.now() - t0 < MIN_MS || reps < 3) { once(); reps++; }
    return { be, once, reps: Math.max(1, Math.round((reps * ROUND_MS) / (performance.now() - t0))), gflops: [], free: () => { a.dispose(); b.dispose(); } };
  });
  const fractions = []; // per round: median GFLOPS of the first (fastest) backend / the peak loop's
  for (let r = 0; r < ROUNDS; r++) {
    const roundMedians = [];
    for (const p of per) {
      const g = [];
      for (let i = 0; i < p.reps; i++) {
        const t0 = performance.now();
        p.once();
        g.push(flops / (performance.now() - t0) / 1e6);
      }
      p.gflops.push(...g);
      roundMedians.push(median(g));
    }
    if (peakLoop) {
      const g = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        peakLoop.peak_fma(PEAK_ITERS, 1);
        g.push((PEAK_ITERS * PEAK_FLOPS_PER_ITER) / (performance.now() - t0) / 1e6);
      }
      fractions.push(roundMedians[0] / median(g));
    }
  }
  const cells = per.map((p) => stats(p.gflops));
  const js = cells[names.indexOf('js')].median;
  const ofPeak = fractions.length ? `${(100 * median(fractions)).toFixed(0)}%` : 'n/a';
  rows.push([label, ...cells.map((c) => c.median.toFixed(1)), ...cells.slice(0, -1).map((c) => `${(c.median / js).toFixed(1)}×`), ofPeak]);
  per.forEach((p, i) => results.push({
    case: `matmul ${label}`, contender: `wasmgrad-${p.be.name}`, unit: 'GFLOPS', ...cells[i],
    ...(i === 0 && fractions.length ? { fractionOfPeak: stats(fractions) } : {}),
  }));
  per.forEach((p) => p.free());
}

const peak = await simdPeak();
const env = environment();
console.log(`\nmatmul GFLOPS, single thread, median over single calls in ${ROUNDS} interleaved rounds — ${env.cpu}, Node ${env.node}\n`);
console.log(markdownTable(['shape', ...names, ...names.slice(0, -1).map((n) => `${n} / js`), `${names[0]} / peak (per round)`], rows));
console.log(
  `\nWASM SIMD128 peak on this machine (bench/simd-peak.ts, best of 5): ` +
    `mul+add ${peak.muladd?.toFixed(1) ?? 'n/a'} GFLOPS, relaxed_madd ${peak.fma?.toFixed(1) ?? 'n/a'} GFLOPS`,
);
fs.mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
fs.writeFileSync(path.join(root, 'bench', 'results', 'gemm.json'), JSON.stringify({ environment: env, peak, results }, null, 2) + '\n');
