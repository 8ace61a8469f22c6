// Reports of the benchmark suite: a Markdown summary and a hand-written SVG bar
// chart (no chart library) from the suite's JSON result.
//
//   node bench/report.mjs [bench/results/latest.json]   re-renders latest.md and latest.svg
//
// The chart has one panel per unit (matmul GFLOPS, training samples/s), a bar
// per case and contender at the median with a min–max whisker, and a log
// axis when the values of a panel span more than 20× (a linear one otherwise).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const COLORS = {
  'wasmgrad-wasm-relaxed-simd': '#1b6ac9',
  'wasmgrad-wasm-simd': '#5aa0ea',
  'wasmgrad-js': '#a9cdf5',
  'tfjs-wasm': '#e8772e',
  'tfjs-cpu': '#f5bd8c',
  'ort-wasm': '#3a9d5d',
  'pytorch-cpu': '#8e44ad',
  'simd128-peak': '#555555',
};
const color = (name) => COLORS[name] ?? '#999999';

function contendersOf(result) {
  const names = [];
  for (const c of result.cases) for (const r of c.results) if (!names.includes(r.contender)) names.push(r.contender);
  return names;
}

const fmt = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(2));
const pct = (x) => `${(100 * x).toFixed(0)}%`;
const mib = (b) => `${(b / 2 ** 20).toFixed(2)} MiB`;

// ------------------------------------------------------------------ Markdown

// What one timed step is, per contender: the fine print a reader needs to
// weigh the numbers.
const MATMUL_METHOD = [
  'One step = one product C = A·B of float32 operands resident in the contender\'s memory, result freed:',
  '- wasmgrad: `tidy(() => matmul(a, b))`; packs both operands on every call.',
  '- tfjs-wasm / tfjs-cpu: `tf.matMul(a, b).dispose()`. For a plain 2-D product, tfjs-wasm runs XNNPACK\'s fully-connected operator, ' +
    'which it creates once per B tensor and caches: B is packed at the first call only, so repeated products with the same B (this case) ' +
    'show TF.js at its best. Training does not get that cache (weights change every step), and transposed products — the ones backprop needs — take its naive loop.',
  '- ort-wasm: `await session.run({ A, B })` on a one-node MatMul model; A and B are graph inputs (copied into ORT\'s heap every run, C copied out; B is not a constant initializer, so ORT cannot pre-pack it), ' +
    'and the async `run` overhead is included (it dominates at 64).',
  '- pytorch-cpu: `torch.mm(a, b)` (result freed) in a Python worker process, 1 thread; each batch of steps is timed in Python with `time.perf_counter`, so the JSON-over-pipe round trip is not in the time, but Python\'s per-call dispatch is.',
  '- simd128-peak: not a library but the ceiling — twelve independent f32x4 `relaxed_madd` chains with no memory traffic (bench/simd-peak.ts), interleaved with the others, so the fraction of the peak below is measured in the same moments.',
];
const TRAIN_METHOD = [
  'One step = forward, softmax cross-entropy on logits, backward, Adam (lr 1e-3, β 0.9/0.999, ε 1e-8) on one resident batch of synthetic samples (batch 64 for the MLP, 32 for the CNN, LSTM and transformer, as their issues specify); ' +
    'same architecture and init (Glorot-uniform matrices and kernels from one seeded generator, zero biases) everywhere:',
  '- wasmgrad: `tidy(() => { const loss = crossEntropy(model.forward(x), y); opt.zeroGrad(); backward(loss); opt.step(); })`.',
  '- TF.js: `optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x)))` or `model.trainOnBatch(x, y)` on a `tf.sequential` model, ' +
    'whichever was faster at setup (see below); the transformer is built from tf ops (tfjs-layers 4.x has no multi-head attention) and trained with `minimize`.',
  '- pytorch-cpu: `torch.nn` modules (`Linear`, `Conv2d` on NCHW, `MaxPool2d`, `LSTM`, `TransformerEncoderLayer(norm_first=True, batch_first=True, dropout=0)`), eager mode, ' +
    '`opt.zero_grad(set_to_none=True); F.cross_entropy(model(x), y).backward(); opt.step()` with `torch.optim.Adam`, 1 thread, in a Python worker process; ' +
    'each batch of steps is timed in Python (`time.perf_counter`), so the pipe round trip is not in the time. Its weights are wasmgrad\'s initial weights, transposed into torch layouts (so its initial loss equals wasmgrad\'s).',
  '- Models: MLP 784-256-10 (ReLU); CNN conv3×3·16 same → ReLU → maxpool2 → conv3×3·32 same → ReLU → maxpool2 → dense 10; ' +
    'LSTM over [32 steps × 16 features], hidden 128, last step → dense 10; transformer: [32 × 16] → linear 64 + learned positions → one pre-LN encoder layer ' +
    '(4 heads × 16, FFN 128, ReLU) → mean over steps → dense 10.',
];

export function markdown(result) {
  const env = result.environment;
  const names = contendersOf(result);
  const notes = [];
  const noteFor = (text) => {
    let i = notes.indexOf(text);
    if (i < 0) i = notes.push(text) - 1;
    return `[${i + 1}]`;
  };
  const line = (cells) => `| ${cells.join(' | ')} |`;
  const table = (headers, rows) => [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
  const cell = (c, name, f) => {
    const r = c.results.find((x) => x.contender === name);
    if (!r) return '';
    if (r.status !== 'ok') return `${r.status} ${noteFor(r.reason)}`;
    return f(r);
  };

  const rounds = `${env.protocol.matmulRounds} (matmul) / ${env.protocol.trainRounds} (training)`;
  const out = [];
  out.push(`# wasmgrad benchmark suite (${env.mode})`);
  out.push('');
  out.push(
    `${env.cpu}, ${env.cores} cores, ${env.platform}, Node ${env.node} (V8 ${env.v8}), ${env.date}. ` +
      `Load average (1/5/15 min) ${env.loadAverageAtStart?.join('/')} at start, ${env.loadAverageAtEnd?.join('/')} at end: this machine is shared, so compare ratios, which are taken per round. ` +
      `Single thread everywhere. Each contender warms up alone, then all run interleaved (A B C … A B C …) for ${rounds} rounds; ` +
      `cells are the median throughput over rounds with (min–max); ratios are computed per round against **${result.reference}** and their median reported (>1× = faster than it).`,
  );
  out.push('');
  out.push('Builds and binaries:');
  out.push(`- wasmgrad: ${env.wasmgrad.bundle}, backends ${env.wasmgrad.backends.join(', ')}; relaxed SIMD enabled via ${env.wasmgrad.relaxedSimdFlag ?? 'the runtime (on by default)'}.`);
  const tw = env.tfjs.wasm;
  out.push(
    tw.ok
      ? `- TF.js ${env.tfjs.version} wasm: loaded \`${(env.tfjs.wasmReads ?? []).map((r) => `${path.basename(r.file)}\` (${r.bytes} B, sha256 ${r.sha256}…)`).join(', `')}; ` +
          `WASM_HAS_SIMD_SUPPORT=${tw.simd}, WASM_HAS_MULTITHREAD_SUPPORT=${tw.multithreadSupport}, threads=${tw.threads}. TF.js cpu: ${env.tfjs.cpu}.`
      : `- TF.js ${env.tfjs.version} wasm: unsupported — ${tw.reason}`,
  );
  out.push(
    env.ort.ok
      ? `- ONNX Runtime Web ${env.ort.version}: loaded \`${(env.ort.wasmReads ?? []).map((r) => `${path.basename(r.file)}\` (${r.bytes} B, sha256 ${r.sha256}…)`).join(', `')}; numThreads=${env.ort.numThreads}. ${env.ort.flavour ?? ''}`
      : `- ONNX Runtime Web ${env.ort.version}: unsupported — ${env.ort.reason}`,
  );
  const pt = env.pytorch;
  out.push(`- PyTorch: ${typeof pt === 'string' ? pt : pt?.ok ? pt.summary : pt?.reason ?? 'not probed'}.`.replace(/\.\.$/, '.'));
  out.push('');

  for (const group of ['matmul', 'train']) {
    const cases = result.cases.filter((c) => c.group === group);
    if (!cases.length) continue;
    const cols = names.filter((n) => cases.some((c) => c.results.some((r) => r.contender === n)));
    out.push(group === 'matmul' ? '## matmul (GFLOPS, higher is better)' : '## Training throughput (samples/s or sequences/s, higher is better)');
    out.push('');
    out.push(...(group === 'matmul' ? MATMUL_METHOD : TRAIN_METHOD), '');
    const rounds = group === 'matmul' ? env.protocol.matmulRounds : env.protocol.trainRounds;
    out.push(table(['case', ...cols], cases.map((c) => [c.title.replace(/^(matmul|train) /, ''), ...cols.map((n) => cell(c, n, (r) =>
      `${fmt(r.median)} (${fmt(r.min)}–${fmt(r.max)})${r.runs < rounds ? ` ${noteFor(`${n}, ${c.title}: ${r.runs} runs of 1 step (${((r.setupStepMs ?? r.firstStepMs) / 1000).toFixed(1)} s per step at setup > ${(env.protocol.slowMs / 1000).toFixed(1)} s)`)}` : ''}`))])));
    out.push('');
    out.push(`Ratio to ${result.reference} (median of per-round ratios, min–max):`);
    out.push('');
    out.push(table(['case', ...cols], cases.map((c) => [c.title.replace(/^(matmul|train) /, ''), ...cols.map((n) => cell(c, n, (r) => (r.ratio ? `${r.ratio.median.toFixed(2)}× (${r.ratio.min.toFixed(2)}–${r.ratio.max.toFixed(2)})` : '—')))])));
    out.push('');
    const peakRows = group === 'matmul' ? cases.map((c) => [c, c.results.find((r) => r.contender === 'simd128-peak' && r.status === 'ok' && r.ratio)]).filter(([, r]) => r) : [];
    if (peakRows.length) {
      // The peak row's per-round ratio is peak / reference; its inverse is the
      // reference's fraction of the peak (min and max swap).
      out.push(`${result.reference} as a fraction of the SIMD128 peak measured in the same rounds (median of per-round fractions, min–max): ` +
        peakRows.map(([c, r]) => `${c.title.replace(/^matmul /, '')} ${pct(1 / r.ratio.median)} (${pct(1 / r.ratio.max)}–${pct(1 / r.ratio.min)}), peak ${fmt(r.median)} GFLOPS`).join('; ') + '.');
      out.push('');
    }
    out.push(
      group === 'matmul'
        ? 'Peak bytes during one product (wasmgrad: `heap.peakBytes` after `resetPeak()`, includes its GEMM packing workspace (the KC·NC + MC·KC floats of the wasm builds; wasmgrad-js packs into JS arrays outside its heap); TF.js: `tf.profile().peakBytes` relative to the engine before the step, plus its operands; ORT: not measurable; PyTorch: its CPU allocator keeps no peak statistics):'
        : 'Peak bytes during one training step (parameters, gradients, Adam moments, the batch, intermediates; wasmgrad: `heap.peakBytes`; TF.js: own variables + optimizer slots + batch + `tf.profile()` transient peak; PyTorch: n/a, its CPU allocator keeps no peak statistics). ' +
            '"flat" = live bytes identical before and after every timed run (no leak):',
    );
    out.push('');
    out.push(table(['case', ...cols], cases.map((c) => [c.title.replace(/^(matmul|train) /, ''), ...cols.map((n) => cell(c, n, (r) => {
      const peak = r.peakBytes !== undefined ? `${mib(r.peakBytes)}${r.peakBytesNote ? ` (${r.peakBytesNote})` : ''}` : r.peakBytesNote ?? 'n/a';
      if (r.heapFlat === undefined) return peak;
      return `${peak}, ${r.heapFlat ? 'flat' : `**grew** (${r.liveBytesGrowthPerRun.join(', ')} B)`}`;
    }))])));
    out.push('');
    if (group === 'train' && cases.some((c) => c.results.some((r) => r.lossAfter !== undefined))) {
      out.push('Loss on the training batch before the first step → after the run (a check that every contender really trains: the same start everywhere means the same initial weights; the end depends on how many steps each contender ran in its time; labels are random, so the loss falls as the batch is memorised):');
      out.push('');
      out.push(table(['case', ...cols], cases.map((c) => [c.title.replace(/^train /, ''), ...cols.map((n) => cell(c, n, (r) =>
        r.lossAfter === undefined ? '—' : `${r.lossBefore.toFixed(3)} → ${r.lossAfter.toFixed(3)}`))])));
      out.push('');
    }
    if (group === 'train') {
      const chosen = [];
      for (const c of cases) for (const r of c.results) if (r.status === 'ok' && r.contender.startsWith('tfjs')) {
        const times = r.variantTimes && Object.keys(r.variantTimes).length
          ? ` (${Object.entries(r.variantTimes).map(([k, v]) => `${k} ${v}`).join(', ')})` : '';
        chosen.push(`- ${c.title.replace(/^train /, '')}, ${r.contender}: ${r.note}${times}`);
      }
      if (chosen.length) {
        out.push('TF.js training loop used (the faster of `optimizer.minimize` and `model.trainOnBatch`, timed at setup):');
        out.push('');
        out.push(...chosen);
        out.push('');
      }
    }
  }
  if (env.wasmgrad.liveBytesAtEnd) {
    const at = env.wasmgrad.liveBytesAtLoad ?? {};
    const same = Object.entries(env.wasmgrad.liveBytesAtEnd).every(([n, b]) => at[n] === b);
    out.push(
      `wasmgrad live heap bytes, at load → after the last case (every case disposes what it made): ` +
        `${Object.entries(env.wasmgrad.liveBytesAtEnd).map(([n, b]) => `${n} ${at[n]} → ${b}`).join(', ')}` +
        (same ? ': nothing leaked across cases.' : ': **some bytes were not freed**.'),
    );
    out.push('');
  }
  if (env.osThreads?.atStart != null) {
    const t = env.osThreads;
    out.push(
      `OS threads of the benchmark process: ${t.atStart} at start (Node's own), ${t.afterLoad} with every contender loaded, ${t.atEnd} at the end` +
        (t.atStart === t.atEnd && t.atStart === t.afterLoad ? ': no contender started a worker thread.' : '.') +
        (env.pytorch?.osThreads ? ` PyTorch's worker process: ${env.pytorch.osThreads.atStart} OS thread(s) at start, at most ${env.pytorch.osThreads.max} after any timed run.` : ''),
    );
    out.push('');
  }
  const cpu = [];
  for (const c of result.cases) for (const r of c.results) if (r.status === 'ok' && r.cpuPerWall > 1.3) cpu.push(`${r.contender} on ${c.title} (${r.cpuPerWall.toFixed(2)})`);
  out.push(
    cpu.length
      ? `CPU time over wall time above 1.3 (more than one thread busy, or GC threads): ${cpu.join('; ')}.`
      : 'Every timed run used ≤ 1.3 s of CPU per second of wall time: single-threaded (GC threads account for the excess over 1.0).',
  );
  out.push('');
  if (notes.length) {
    out.push('Notes:');
    out.push('');
    notes.forEach((n, i) => out.push(`${i + 1}. ${n}`));
    out.push('');
  }
  const pending = result.pendingApi;
  if (pending && result.cases.some((c) => c.results.some((r) => r.status === 'pending'))) {
    out.push('Pending rows light up when the wasmgrad bundle exports (besides `setBackend`, `tensor`, `tidy`, `backward`):');
    out.push('');
    for (const [model, api] of Object.entries(pending)) out.push(`- ${model}: ${api.map((a) => `\`${a}\``).join(', ')}`);
    out.push('');
  }
  return out.join('\n');
}

// ------------------------------------------------------------------ SVG

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function axis(values) {
  const lo = Math.min(...values), hi = Math.max(...values);
  if (hi / lo > 20) {
    const a = Math.floor(Math.log10(lo)), b = Math.ceil(Math.log10(hi * 1.15));
    const ticks = [];
    for (let e = a; e <= b; e++) for (const m of [1, 2, 5]) if (m * 10 ** e >= 10 ** a && m * 10 ** e <= 10 ** b) ticks.push(m * 10 ** e);
    return { log: true, min: 10 ** a, max: 10 ** b, ticks, pos: (v) => (Math.log10(v) - a) / (b - a) };
  }
  const step = niceStep(hi * 1.15 / 5);
  const max = Math.ceil((hi * 1.15) / step) * step;
  const ticks = [];
  for (let v = 0; v <= max + 1e-9; v += step) ticks.push(v);
  return { log: false, min: 0, max, ticks, pos: (v) => v / max };
}

function niceStep(x) {
  const e = 10 ** Math.floor(Math.log10(x));
  return [1, 2, 2.5, 5, 10].map((m) => m * e).find((s) => s >= x);
}

const tickLabel = (v) => (v >= 1000 ? `${v / 1000}k` : v >= 1 ? String(+v.toFixed(2)) : String(+v.toPrecision(2)));

export function svg(result) {
  const names = contendersOf(result);
  const groups = [
    ['matmul', 'matmul, GFLOPS (higher is better)'],
    ['train', 'training throughput, samples or sequences/s (higher is better)'],
  ].filter(([g]) => result.cases.some((c) => c.group === g));
  const Wd = 1200, left = 70, right = 20, panelH = 330, top = 92, gap = 80;
  const H = top + groups.length * (panelH + gap) - gap + 50;
  const s = [];
  const env = result.environment;
  s.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${Wd}" height="${H}" viewBox="0 0 ${Wd} ${H}" font-family="DejaVu Sans, Arial, Helvetica, sans-serif">`);
  s.push(`<rect width="${Wd}" height="${H}" fill="#ffffff"/>`);
  const others = ['TensorFlow.js', 'ONNX Runtime Web', ...(names.some((n) => n.startsWith('pytorch') && result.cases.some((c) => c.results.some((r) => r.contender === n && r.status === 'ok'))) ? ['PyTorch'] : [])];
  s.push(`<text x="${left}" y="26" font-size="18" font-weight="bold">wasmgrad vs ${others.join(' vs ')} — single thread (${esc(env.mode)})</text>`);
  s.push(`<text x="${left}" y="46" font-size="12" fill="#444">${esc(`${env.cpu}, ${env.cores} cores, Node ${env.node}; bars: median of interleaved rounds, whiskers: min–max; ${env.date.slice(0, 10)}`)}</text>`);
  // legend
  let lx = left;
  for (const n of names) {
    s.push(`<rect x="${lx}" y="60" width="14" height="14" fill="${color(n)}" stroke="#333" stroke-width="0.5"/>`);
    s.push(`<text x="${lx + 19}" y="72" font-size="12">${esc(n)}</text>`);
    lx += 34 + n.length * 7.4;
  }

  groups.forEach(([g, title], gi) => {
    const cases = result.cases.filter((c) => c.group === g);
    const cols = names.filter((n) => cases.some((c) => c.results.some((r) => r.contender === n)));
    const y0 = top + gi * (panelH + gap) + 24; // plot top
    const ph = panelH - 24;                    // plot height
    const pw = Wd - left - right;
    const vals = cases.flatMap((c) => c.results.filter((r) => r.status === 'ok').flatMap((r) => [r.min, r.max, r.median])).filter((v) => v > 0);
    s.push(`<text x="${left}" y="${y0 - 10}" font-size="14" font-weight="bold">${esc(title)}</text>`);
    if (!vals.length) {
      s.push(`<text x="${left + 10}" y="${y0 + 40}" font-size="13" fill="#666">no measurements</text>`);
      return;
    }
    const ax = axis(vals);
    const yOf = (v) => y0 + ph - Math.max(0, Math.min(1, ax.pos(v))) * ph;
    s.push(`<text x="${left}" y="${y0 - 10}" font-size="11" fill="#666" text-anchor="end" dx="${pw}">${ax.log ? 'log scale' : 'linear scale'}</text>`);
    for (const t of ax.ticks) {
      const y = yOf(t);
      const major = !ax.log || Math.abs(Math.log10(t) - Math.round(Math.log10(t))) < 1e-9;
      s.push(`<line x1="${left}" x2="${left + pw}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="${major ? '#bbb' : '#e4e4e4'}" stroke-width="1"/>`);
      s.push(`<text x="${left - 6}" y="${(y + 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#333">${tickLabel(t)}</text>`);
    }
    s.push(`<line x1="${left}" x2="${left}" y1="${y0}" y2="${y0 + ph}" stroke="#333"/>`);
    s.push(`<line x1="${left}" x2="${left + pw}" y1="${y0 + ph}" y2="${y0 + ph}" stroke="#333"/>`);
    const slot = pw / cases.length;
    const bw = Math.min(34, (slot - 16) / cols.length);
    cases.forEach((c, ci) => {
      const gx = left + ci * slot + (slot - bw * cols.length) / 2;
      cols.forEach((n, k) => {
        const r = c.results.find((x) => x.contender === n);
        const x = gx + k * bw;
        if (!r) return;
        if (r.status !== 'ok') {
          const y = y0 + ph - 6;
          s.push(`<text transform="translate(${(x + bw / 2 + 4).toFixed(1)},${y.toFixed(1)}) rotate(-90)" font-size="10" fill="#888">${esc(r.status === 'unsupported' ? 'unsupported' : r.status)}</text>`);
          return;
        }
        const yt = yOf(r.median), yb = y0 + ph;
        s.push(`<rect x="${(x + 1).toFixed(1)}" y="${yt.toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${Math.max(0.5, yb - yt).toFixed(1)}" fill="${color(n)}" stroke="#333" stroke-width="0.4"><title>${esc(`${n}, ${c.title}: ${fmt(r.median)} ${r.unit} (${fmt(r.min)}–${fmt(r.max)})`)}</title></rect>`);
        const cx = x + bw / 2, ymin = yOf(r.min), ymax = yOf(r.max);
        s.push(`<line x1="${cx.toFixed(1)}" x2="${cx.toFixed(1)}" y1="${ymin.toFixed(1)}" y2="${ymax.toFixed(1)}" stroke="#111" stroke-width="1"/>`);
        s.push(`<line x1="${(cx - 3).toFixed(1)}" x2="${(cx + 3).toFixed(1)}" y1="${ymax.toFixed(1)}" y2="${ymax.toFixed(1)}" stroke="#111"/>`);
        s.push(`<line x1="${(cx - 3).toFixed(1)}" x2="${(cx + 3).toFixed(1)}" y1="${ymin.toFixed(1)}" y2="${ymin.toFixed(1)}" stroke="#111"/>`);
        const ly = Math.min(ymax, yt) - 4;
        s.push(`<text transform="translate(${(cx + 3.5).toFixed(1)},${ly.toFixed(1)}) rotate(-90)" font-size="10" fill="#111">${fmt(r.median)}</text>`);
      });
      s.push(`<text x="${(left + ci * slot + slot / 2).toFixed(1)}" y="${y0 + ph + 18}" font-size="12" text-anchor="middle">${esc(c.title.replace(/^(matmul|train) /, ''))}</text>`);
    });
  });
  s.push('</svg>');
  return s.join('\n') + '\n';
}

export function writeReports(result, dir, base = 'latest') {
  fs.mkdirSync(dir, { recursive: true });
  const md = markdown(result);
  const paths = [path.join(dir, `${base}.json`), path.join(dir, `${base}.md`), path.join(dir, `${base}.svg`)];
  fs.writeFileSync(paths[0], JSON.stringify(result, null, 2) + '\n');
  fs.writeFileSync(paths[1], md + '\n');
  fs.writeFileSync(paths[2], svg(result));
  return { markdown: md, paths };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', 'latest.json');
  const result = JSON.parse(fs.readFileSync(file, 'utf8'));
  const { paths } = writeReports(result, path.dirname(file), path.basename(file, '.json'));
  console.log(`wrote ${paths.slice(1).join(', ')}`);
}
