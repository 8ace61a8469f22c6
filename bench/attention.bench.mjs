// npm run bench:attention — scaled dot-product attention, forward + backward,
// against the sequence length T = 64 … 1024 (B 1, 4 heads of 64, self-attention,
// plain and causal), single thread:
//
//   fused     scaledDotProductAttention: one kernel each way (assembly/attention.ts),
//             saving only the log-sum-exp of each row
//   unfused   the same maths from primitive ops: permute to [B,H,T,D],
//             matmul(q, kᵀ)·scale, softmax, matmul(·, v), permute back —
//             stores the [B, H, T, T] scores and weights for the backward
//
// Each cell is the median time of one forward + backward over several rounds
// (backends interleaved); "extra heap" is the peak heap growth during one
// step, i.e. the memory the attention itself needs. The T² growth of the
// time is inherent to exact attention; the fused kernel's memory stays linear
// in T. Prints a Markdown table; writes bench/results/attention.json.
//
//   node -r ./scripts/relaxed-simd.cjs bench/attention.bench.mjs [--quick]
import fs from 'node:fs';
import path from 'node:path';
import {
  add, availableBackends, backward, loadBackend, matmul, mul, permute, scaledDotProductAttention, setBackend, softmax, tensor,
  tidy,
} from '../dist/wasmgrad.node.js';
import { environment, markdownTable, root, stats, randomUniform } from './common.mjs';

const quick = process.argv.includes('--quick');
const B = 1, H = 4, D = 64;
const LENGTHS = quick ? [64, 256, 1024] : [64, 128, 256, 512, 1024];
const ROUNDS = quick ? 3 : 5;
const MIN_MS = quick ? 100 : 300;
const JS_MAX_T = quick ? 256 : 512; // the js backend takes seconds per step beyond this

const names = availableBackends();
const backends = await Promise.all(names.map((n) => loadBackend(n)));

function unfused(q, k, v, causalMask) {
  const h = (t) => permute(t, [0, 2, 1, 3]); // [B,T,H,D] → [B,H,T,D]
  const s = mul(matmul(h(q), h(k), { transposeB: true }), 1 / Math.sqrt(D)); // [B,H,T,T]
  const w = softmax(causalMask ? add(s, causalMask) : s, -1);
  return permute(matmul(w, h(v)), [0, 2, 1, 3]);
}

/** One forward + backward; returns { ms, extra } for the case. */
function measure(be, T, kind, causal) {
  setBackend(be);
  const n = B * T * H * D;
  const q = tensor(randomUniform(n, 1, 2), [B, T, H, D], { requiresGrad: true });
  const k = tensor(randomUniform(n, 2, 2), [B, T, H, D], { requiresGrad: true });
  const v = tensor(randomUniform(n, 3, 2), [B, T, H, D], { requiresGrad: true });
  const g = tensor(randomUniform(n, 4, 2), [B, T, H, D]);
  let mask = null;
  if (kind === 'unfused' && causal) {
    const m = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = -Infinity;
    mask = tensor(m, [T, T]);
  }
  const step = () =>
    tidy(() => {
      const y = kind === 'fused' ? scaledDotProductAttention(q, k, v, { causal }) : unfused(q, k, v, mask);
      backward(y, g);
      for (const t of [q, k, v]) {
        t.grad.dispose();
        t.grad = null;
      }
    });
  step(); // warm-up
  const base = be.heap.liveBytes;
  be.heap.peakBytes = base;
  step();
  const extra = be.heap.peakBytes - base;
  const times = [];
  for (let r = 0; r < ROUNDS; r++) {
    let it = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < MIN_MS || it < 1) {
      step();
      it++;
    }
    times.push((performance.now() - t0) / it);
    if (be.name === 'js' && T >= 512) break;
  }
  for (const t of [q, k, v, g, mask]) t?.dispose();
  return { ms: stats(times).median, extra };
}

const fmtMs = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const fmtBytes = (b) => (b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(1)} MiB` : `${(b / 1024).toFixed(0)} KiB`);
const results = [];
const tables = [];
for (const causal of [false, true]) {
  const rows = [];
  for (const T of LENGTHS) {
    const cells = [];
    let wasmFused = null, wasmUnfused = null, jsFused = null;
    for (const be of backends) {
      if (be.name === 'js' && T > JS_MAX_T) {
        cells.push('—');
        continue;
      }
      const r = measure(be, T, 'fused', causal);
      results.push({ T, causal, backend: be.name, kind: 'fused', ms: r.ms, extraHeapBytes: r.extra });
      cells.push(fmtMs(r.ms));
      if (be === backends[0]) wasmFused = r;
      if (be.name === 'js') jsFused = r;
    }
    const best = backends[0];
    wasmUnfused = measure(best, T, 'unfused', causal);
    results.push({ T, causal, backend: best.name, kind: 'unfused', ms: wasmUnfused.ms, extraHeapBytes: wasmUnfused.extra });
    const flops = (causal ? 0.5 : 1) * 4 * B * H * T * T * D * 3.5; // fwd 2 products, bwd 5 (incl. recomputed scores)
    rows.push([
      String(T), ...cells, fmtMs(wasmUnfused.ms),
      `${(flops / wasmFused.ms / 1e6).toFixed(1)}`,
      jsFused ? `${(jsFused.ms / wasmFused.ms).toFixed(1)}×` : '—',
      `${(wasmUnfused.ms / wasmFused.ms).toFixed(1)}×`,
      fmtBytes(wasmFused.extra), fmtBytes(wasmUnfused.extra),
    ]);
  }
  const b0 = names[0];
  tables.push(
    `\n${causal ? 'causal' : 'full (no mask)'} self-attention, B ${B}, ${H} heads × ${D}: forward + backward, ms\n\n` +
      markdownTable(
        ['T', ...names.map((n) => `fused ${n}`), `unfused ${b0}`, `fused ${b0} GFLOPS`, `js / ${b0}`, `unfused / fused`,
          'extra heap fused', 'extra heap unfused'],
        rows,
      ),
  );
}
const env = environment();
console.log(`\nattention forward + backward vs sequence length, single thread, median of ${ROUNDS} rounds — ${env.cpu}, Node ${env.node}`);
for (const t of tables) console.log(t);
console.log(`\n(GFLOPS counts 2·T²·D per product: 2 forward, 5 backward with the recomputed scores; causal halves them.)`);
fs.mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
fs.writeFileSync(path.join(root, 'bench', 'results', 'attention.json'), JSON.stringify({ environment: env, B, H, D, results }, null, 2) + '\n');
