// npm run bench / npm run bench:quick — wasmgrad against TensorFlow.js,
// ONNX Runtime Web and (where installed) PyTorch, side by side, single
// thread, on this machine.
//
//   node -r ./scripts/relaxed-simd.cjs bench/suite.mjs [--quick] [--only REGEX] [--no-build]
//
// Cases: matmul GFLOPS (square 64…1024 and (64×784)·(784×256)) and training
// throughput in samples/s (MLP, CNN, LSTM, transformer encoder; batch 64, Adam).
// Contenders: wasmgrad's three backends, TF.js wasm and cpu, ORT Web wasm
// (matmul), PyTorch CPU 1 thread (every case; a Python child process, skipped
// with the reason where no Python imports torch), and in the matmul cases the
// SIMD128 peak loop (bench/contenders/simd-peak.mjs), whose per-round ratio
// gives wasmgrad's fraction of the peak measured in the same moments. Protocol (bench/harness.mjs): warm-up, then contenders interleaved
// A B C … A B C … for several rounds; median/min/max of throughput, and the
// ratio to wasmgrad's wasm build computed per round. Also the peak bytes of one
// step and, for training, whether live bytes stay flat over the run.
//
// Writes bench/results/latest.json, latest.md and latest.svg (bench/report.mjs).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { environment, root } from './common.mjs';
import { runInterleaved } from './harness.mjs';
import { matmulCases } from './cases/matmul.mjs';
import { TRAIN_CASES } from './cases/train.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? new RegExp(args[onlyIdx + 1]) : null;
// quick: under a minute here. TF.js's CNN and LSTM training take seconds per
// step (its cpu backend's Conv2DBackpropFilter alone ~25 s), so quick mode
// leaves those TF.js rows out, and skips any contender whose step at setup
// exceeds maxStepMs. slowMs/slowRounds: see bench/harness.mjs.
const CONFIG = quick
  ? {
      mode: 'quick', warmMs: 120, batchMs: 35, matmulRounds: 5, trainRounds: 3,
      selectMs: 0, selectMin: 2, maxStepMs: 1500, slowMs: 1000, slowRounds: 2, skipTfjsModels: ['cnn', 'lstm'],
    }
  : {
      mode: 'full', warmMs: 500, batchMs: 150, matmulRounds: 9, trainRounds: 7,
      selectMs: 800, selectMin: 3, maxStepMs: Infinity, slowMs: 3000, slowRounds: 3, skipTfjsModels: [],
    };
const log = (...a) => console.log(...a);
const t0 = performance.now();
// OS threads of this process (Linux): a contender that started worker threads
// would add some. Node's own V8/libuv threads are there from the start.
const osThreads = () => {
  try {
    return Number(/Threads:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
  } catch {
    return null;
  }
};
const threadsAtStart = osThreads();

// --- relaxed SIMD on Node 20: the command-line flag, or the preload (loaded here when
// the suite was started without it) sets it before any wasm compiles.
const relaxedFlag = process.execArgv.includes('--experimental-wasm-relaxed-simd')
  ? 'command line'
  : createRequire(import.meta.url)('../scripts/relaxed-simd.cjs').relaxedSimdFlag;

// --- build dist/ when any source is newer than the bundle.
function newest(p) {
  if (!fs.existsSync(p)) return 0;
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...fs.readdirSync(p).map((e) => newest(path.join(p, e))));
}
const bundle = path.join(root, 'dist', 'wasmgrad.node.js');
if (!args.includes('--no-build')) {
  const srcTime = Math.max(...['src', 'assembly', 'asconfig.json', 'scripts/build.mjs'].map((p) => newest(path.join(root, p))));
  if (newest(bundle) < srcTime) {
    log('building dist/ (sources are newer than dist/wasmgrad.node.js) …');
    const started = Date.now();
    try {
      execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--quiet'], { stdio: 'inherit', cwd: root });
    } catch (e) {
      // The bundles are written before the .d.ts step: a failure after them
      // (e.g. a type error on a half-merged branch) leaves runnable bundles.
      if (newest(bundle) < started) throw e;
      log('warning: the build failed after writing fresh bundles (see above); benchmarking those bundles');
    }
  }
}
if (!fs.existsSync(bundle)) throw new Error(`${bundle} is missing; run npm run build`);

// --- contenders
const { loadWasmgrad, wasmgradMatmul, wasmgradTrain, contenderName, TRAIN_API } = await import('./contenders/wasmgrad.mjs');
const { loadTfjs, tfjsMatmul, tfjsTrain, TFJS_BACKENDS } = await import('./contenders/tfjs.mjs');
const { loadOrt, ortMatmul } = await import('./contenders/ort.mjs');
const { loadPytorch, pytorchContender } = await import('./contenders/pytorch.mjs');
const { simdPeakContender } = await import('./contenders/simd-peak.mjs');
const { writeReports } = await import('./report.mjs');

const W = await loadWasmgrad();
const TF = await loadTfjs();
const ORT = await loadOrt();
const PT = await loadPytorch();
const refName = contenderName(W.reference ?? 'js');
const threadsAfterLoad = osThreads();

const env = {
  ...environment(),
  loadAverageAtStart: os.loadavg().map((x) => +x.toFixed(2)),
  mode: CONFIG.mode,
  protocol: {
    warmMs: CONFIG.warmMs, batchMs: CONFIG.batchMs, matmulRounds: CONFIG.matmulRounds, trainRounds: CONFIG.trainRounds,
    slowMs: CONFIG.slowMs, slowRounds: CONFIG.slowRounds, maxStepMs: CONFIG.maxStepMs === Infinity ? null : CONFIG.maxStepMs,
    skipTfjsModels: CONFIG.skipTfjsModels,
    interleaving: 'A B C … per round, after per-contender warm-up', ratio: `per-round throughput / ${refName}`,
  },
  wasmgrad: { backends: W.names, reference: refName, relaxedSimdFlag: relaxedFlag, bundle: 'dist/wasmgrad.node.js' },
  tfjs: {
    version: TF.info.version,
    wasm: TF.info.wasm,
    wasmReads: TF.info.wasmReads,
    cpu: 'tfjs-backend-cpu (plain JS), bundled in @tensorflow/tfjs',
  },
  ort: { version: ORT.info.version, ok: ORT.info.ok, reason: ORT.info.reason, numThreads: ORT.info.numThreads, file: ORT.info.file, flavour: ORT.info.flavour, wasmReads: ORT.info.wasmReads },
  pytorch: PT.info.ok
    ? {
        ok: true, version: PT.info.version, python: PT.info.python, executable: PT.info.executable, pythonVersion: PT.info.pythonVersion,
        numThreads: PT.info.numThreads, numInteropThreads: PT.info.numInteropThreads, cpuCapability: PT.info.cpuCapability,
        blas: PT.info.blas, libraries: PT.info.libraries,
        tried: PT.info.tried, summary: PT.info.summary,
      }
    : { ok: false, reason: PT.info.reason, tried: PT.info.tried },
};

log(`\nwasmgrad benchmark suite (${CONFIG.mode}) — ${env.cpu}, ${env.cores} cores, Node ${env.node} (V8 ${env.v8})`);
log(`wasmgrad backends: ${W.names.join(', ')} (relaxed SIMD flag: ${relaxedFlag ?? 'not needed'}); ratios against ${refName}`);
if (TF.info.wasm.ok) {
  log(`TF.js ${TF.info.version} wasm: loaded ${TF.info.wasmReads.map((r) => `${r.file} (${r.bytes} B, sha256 ${r.sha256}…)`).join(', ') || '(no .wasm read seen)'}`);
  log(`  WASM_HAS_SIMD_SUPPORT=${TF.info.wasm.simd}, WASM_HAS_MULTITHREAD_SUPPORT=${TF.info.wasm.multithreadSupport}, getThreadsCount()=${TF.info.wasm.threads}`);
} else log(`TF.js wasm: unsupported — ${TF.info.wasm.reason}`);
if (ORT.info.ok) {
  log(`ORT Web ${ORT.info.version}: loaded ${ORT.info.wasmReads.map((r) => `${r.file} (${r.bytes} B, sha256 ${r.sha256}…)`).join(', ')}, numThreads=${ORT.info.numThreads}`);
} else log(`ORT Web: unsupported — ${ORT.info.reason}`);
log(`PyTorch: ${PT.info.ok ? PT.info.summary : PT.info.reason}`);
log(`OS threads of this process: ${threadsAtStart} at start, ${threadsAfterLoad} with every contender loaded`);
log('(cpu/wall in the lines below: process CPU time over wall time per timed batch; ≈1.0 means one thread worked)\n');

// --- cases
const cases = [...matmulCases(quick), ...TRAIN_CASES].filter((c) => !only || only.test(c.id) || only.test(c.title));
const out = [];
for (const spec of cases) {
  log(`${spec.title}`);
  const contenders = [];
  const add = async (name, make) => {
    try {
      contenders.push(await make());
    } catch (e) {
      contenders.push({ name, status: 'error', reason: String(e?.stack ?? e).split('\n').slice(0, 2).join(' ') });
    }
  };
  for (const b of W.names) {
    await add(contenderName(b), () =>
      spec.group === 'matmul' ? wasmgradMatmul(W, b, spec) : wasmgradTrain(W, b, spec, { maxStepMs: CONFIG.maxStepMs }),
    );
  }
  for (const [name, backend] of TFJS_BACKENDS) {
    await add(name, () =>
      spec.group === 'matmul'
        ? tfjsMatmul(TF, name, backend, spec)
        : tfjsTrain(TF, name, backend, spec, {
            quick, skipModels: CONFIG.skipTfjsModels, maxStepMs: CONFIG.maxStepMs, slowMs: CONFIG.slowMs,
            selectMs: CONFIG.selectMs, selectMin: CONFIG.selectMin, log,
          }),
    );
  }
  if (spec.group === 'matmul') await add('ort-wasm', () => ortMatmul(ORT, spec));
  await add('pytorch-cpu', () => pytorchContender(PT, spec));
  if (spec.group === 'matmul') await add('simd128-peak', () => simdPeakContender());

  const measured = await runInterleaved(contenders, {
    refName,
    warmMs: CONFIG.warmMs,
    batchMs: CONFIG.batchMs,
    rounds: spec.group === 'matmul' ? CONFIG.matmulRounds : CONFIG.trainRounds,
    slowMs: CONFIG.slowMs,
    slowRounds: CONFIG.slowRounds,
    log,
  });

  const rows = [];
  for (const c of contenders) {
    const row = { contender: c.name, status: c.status, unit: spec.unit };
    if (c.status !== 'ok') {
      row.reason = c.reason;
      log(`  ${c.name.padEnd(27)} ${c.status}: ${c.reason}`);
      rows.push(row);
      continue;
    }
    const m = measured.get(c.name);
    Object.assign(row, {
      median: m.throughput.median, min: m.throughput.min, max: m.throughput.max, runs: m.throughput.runs,
      stepsPerRun: m.reps,
      setupStepMs: c.setupStepMs,
      ratio: m.ratio, cpuPerWall: m.cpuPerWall,
      note: c.note, variantTimes: c.variantTimes,
    });
    try {
      // One more step, profiled; not for slow contenders (TF.js's would cost another slow step).
      if (m.slow && c.setupPeakBytes !== undefined) {
        row.peakBytes = c.setupPeakBytes; // profiled at setup
        row.peakBytesNote = 'first step';
      }
      else if (m.slow && c.name.startsWith('tfjs')) row.peakBytesNote = `not measured (${(c.setupStepMs / 1000).toFixed(1)} s per step)`;
      else if (c.peakBytes) row.peakBytes = await c.peakBytes();
      else if (c.peakBytesNote) row.peakBytesNote = c.peakBytesNote;
    } catch (e) {
      row.peakBytesError = String(e?.message ?? e);
    }
    if (c.loss) {
      row.lossBefore = c.lossBefore;
      row.lossAfter = await c.loss();
    }
    if (spec.group === 'train' && m.growth.length) {
      row.liveBytesGrowthPerRun = m.growth;
      row.heapFlat = m.growth.every((g) => g === 0);
    }
    rows.push(row);
    const ratio = m.ratio ? `${m.ratio.median.toFixed(2)}× ${refName.replace('wasmgrad-', '')}` : '';
    const mem = row.peakBytes !== undefined ? `peak ${(row.peakBytes / 2 ** 20).toFixed(2)} MiB` : '';
    const flat = row.heapFlat === undefined ? '' : row.heapFlat ? 'live bytes flat' : `LIVE BYTES GREW ${row.liveBytesGrowthPerRun.join(',')}`;
    const loss = row.lossAfter === undefined ? '' : `  loss ${row.lossBefore.toFixed(3)} → ${row.lossAfter.toFixed(3)}`;
    log(
      `  ${c.name.padEnd(27)} ${m.throughput.median.toPrecision(4).padStart(9)} ${spec.unit} ` +
        `(${m.throughput.min.toPrecision(3)}–${m.throughput.max.toPrecision(3)}) ${ratio.padEnd(26)} cpu/wall ${m.cpuPerWall.toFixed(2)}  ${mem}  ${flat}${loss}` +
        (c.note && spec.group === 'train' ? `  [${c.note}]` : ''),
    );
  }
  for (const c of contenders) {
    try {
      if (c.status === 'ok') await c.dispose();
    } catch (e) {
      log(`  (dispose ${c.name}: ${e.message})`);
    }
  }
  const { workPerStep, ...caseInfo } = spec;
  out.push({ ...caseInfo, results: rows });
}

env.seconds = (performance.now() - t0) / 1000;
env.loadAverageAtEnd = os.loadavg().map((x) => +x.toFixed(2));
// Everything a case made is disposed at its end: each heap must hold what it
// held when the backend was loaded (GEMM workspace and the like).
env.wasmgrad.liveBytesAtLoad = W.liveBytesAtLoad;
env.wasmgrad.liveBytesAtEnd = Object.fromEntries([...W.backends].map(([n, b]) => [n, b.heap.liveBytes]));
env.osThreads = { atStart: threadsAtStart, afterLoad: threadsAfterLoad, atEnd: osThreads() };
if (PT.info.ok) {
  // The worker is its own process: its OS threads, at start and the most seen after any timed batch.
  env.pytorch.osThreads = { atStart: PT.info.osThreadsAtStart, max: PT.info.osThreadsMax };
  PT.worker.close();
}
const pending = Object.fromEntries(Object.entries(TRAIN_API).map(([k, v]) => [k, v]));
const result = { environment: env, reference: refName, pendingApi: pending, cases: out };
const files = writeReports(result, path.join(root, 'bench', 'results'), only ? 'partial' : 'latest');
log(`\n${files.markdown}`);
log(`\nwrote ${files.paths.map((p) => path.relative(root, p)).join(', ')} in ${env.seconds.toFixed(1)} s`);
