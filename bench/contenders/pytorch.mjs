// PyTorch contender (`pytorch-cpu`): the native reference, CPU, one thread —
// only where a Python with torch is installed (Debian: python3-torch); the row
// reports "skipped: <why>" otherwise.
//
// Which Python: $WASMGRAD_BENCH_PYTHON when set (one interpreter, nothing
// else tried — e.g. WASMGRAD_BENCH_PYTHON=/nonexistent exercises the skip
// path), else `python3` from PATH, then /usr/bin/python3 (Debian's torch is
// installed for the system Python; a pyenv/venv python3 earlier on PATH
// usually lacks it). The first whose `import torch` works is used.
//
// One persistent child process (pytorch_worker.py) serves every case over a
// line-based JSON protocol on stdin/stdout: `setup` (model, Adam, resident
// batch or matmul operands), `run n` (n steps timed in Python with
// time.perf_counter, so the IPC round trip is not charged to PyTorch),
// `loss`, `dispose`. The harness calls `runBatch(reps)` instead of timing
// `step()` itself (bench/harness.mjs), so PyTorch is a regular interleaved
// column with per-round ratios. cpu/wall is the worker's own
// time.process_time over perf_counter. The worker sets
// torch.set_num_threads(1) and set_num_interop_threads(1) at start, and is
// spawned with OMP_NUM_THREADS, MKL_NUM_THREADS, OPENBLAS_NUM_THREADS and
// BLIS_NUM_THREADS = 1; its OS thread count is recorded after every batch.
//
// BLAS: Debian's torch sends dense products (Linear, matmul, the LSTM's gate
// GEMMs) to whatever libblas.so.3 the alternatives system selects; with only
// libblas3 installed that is the netlib reference BLAS, ~25× slower than
// OpenBLAS on a 256 matmul here. The environment block names the library the
// worker mapped. To time PyTorch with OpenBLAS: apt-get install
// libopenblas0-pthread (switches the alternative system-wide), or point only
// the benchmark at an unpacked copy with LD_LIBRARY_PATH (bench/README.md).
//
// Same work as the other contenders: the weights are drawn here with
// bench/cases/train.mjs's seeded Glorot-uniform, in wasmgrad's layouts, names
// and seed order (wasmgrad's initGlorot: seed 1000 + parameter index, zero
// biases, LayerNorm γ = 1), and the worker transposes/permutes them into
// torch.nn's layouts; the batch is makeBatch's; matmul operands are
// randomMatrix's. Memory: PyTorch's CPU allocator keeps no peak statistics,
// so the column reports n/a.
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { glorotUniform, makeBatch } from '../cases/train.mjs';
import { randomMatrix } from '../cases/matmul.mjs';

const NAME = 'pytorch-cpu';
const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pytorch_worker.py');

/** A worker process with request → reply over JSON lines (one request at a time). */
function startWorker(python, timeoutMs = 60000) {
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(python, [WORKER], {
        stdio: ['pipe', 'pipe', 'pipe'],
        // One thread in every pool torch may reach: OpenMP (intra-op), MKL, and
        // the BLAS behind libblas.so.3 (OpenBLAS/BLIS start their own threads).
        env: { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', BLIS_NUM_THREADS: '1', PYTHONUNBUFFERED: '1' },
      });
    } catch (e) {
      resolve({ error: `${python}: ${e.code ?? e.message}` });
      return;
    }
    let stderr = '';
    child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
    const waiting = [];
    let dead = null;
    const fail = (why) => {
      if (dead) return;
      dead = why;
      while (waiting.length) waiting.shift().reject(new Error(why));
    };
    child.on('error', (e) => fail(`${python}: ${e.code === 'ENOENT' ? 'not found (ENOENT)' : e.code ?? e.message}`));
    child.on('close', (code, signal) => fail(`${python}: worker exited (${signal ?? `code ${code}`})${stderr ? `: ${stderr.trim().split('\n').pop()}` : ''}`));
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const w = waiting.shift();
      if (!w) return;
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        w.reject(new Error(`${python}: unreadable reply ${line.slice(0, 200)}`));
        return;
      }
      if (msg.ok) w.resolve(msg);
      else w.reject(new Error(`${msg.error}${msg.trace ? ` (${msg.trace.trim().split('\n').slice(-2).join(' ')})` : ''}`));
    });
    const request = (req) => new Promise((res, rej) => {
      if (dead) return rej(new Error(dead));
      waiting.push({ resolve: res, reject: rej });
      child.stdin.write(JSON.stringify(req) + '\n');
    });
    const close = () => {
      if (dead) return;
      dead = 'closed';
      child.stdin.end(JSON.stringify({ cmd: 'exit' }) + '\n');
      // a worker stuck in a step is ended by its pid (never by name)
      setTimeout(() => child.exitCode === null && child.kill(), 5000).unref();
    };
    // The import-failure reply arrives as the first line too, before the exit.
    const timer = setTimeout(() => { fail(`${python}: no reply to hello in ${timeoutMs / 1000} s`); child.kill(); }, timeoutMs);
    request({ cmd: 'hello' }).then(
      (hello) => { clearTimeout(timer); resolve({ hello, request, close }); },
      (e) => { clearTimeout(timer); close(); resolve({ error: e.message }); },
    );
  });
}

export function pythonCandidates() {
  const override = process.env.WASMGRAD_BENCH_PYTHON;
  return override ? [override] : ['python3', '/usr/bin/python3'];
}

/** Starts the worker with the first Python that imports torch; `info.ok` false (with the reason) when none does. */
export async function loadPytorch() {
  const tried = [];
  for (const python of pythonCandidates()) {
    const w = await startWorker(python);
    if (w.error) {
      tried.push(w.error.replace(/^import torch failed: /, `${python}: `));
      continue;
    }
    const h = w.hello;
    const blas = describeBlas(h.libraries ?? []);
    const info = {
      ok: true, python, executable: h.executable, pythonVersion: h.python, version: h.torch,
      numThreads: h.numThreads, numInteropThreads: h.numInteropThreads, osThreadsAtStart: h.threads, osThreadsMax: h.threads,
      cpuCapability: h.cpuCapability, mkldnn: h.mkldnn, libraries: h.libraries, blas, tried,
    };
    info.summary =
      `PyTorch ${h.torch} (CPU, ${h.cpuCapability ?? 'unknown ISA'}) in ${h.executable} (Python ${h.python}, found as \`${python}\`${tried.length ? `; ${tried.join('; ')}` : ''}); ` +
      `torch.get_num_threads()=${h.numThreads}, get_num_interop_threads()=${h.numInteropThreads}: 1 thread; steps timed inside the worker process (time.perf_counter), no IPC in the time; ` +
      `BLAS (dense layers, matmul, LSTM): ${blas}; convolutions: oneDNN${h.mkldnn ? '' : ' (not available)'}`;
    return { worker: w, info };
  }
  const reason = `skipped: no Python with torch (${tried.join('; ')}); Debian: apt-get install python3-torch, or set WASMGRAD_BENCH_PYTHON`;
  return { worker: null, info: { ok: false, reason, tried } };
}

/**
 * Which BLAS torch's dense products go to, from the libraries mapped into the
 * worker. Debian's torch links libblas.so.3, i.e. whatever the alternatives
 * system selects: with only libblas3 installed that is the netlib reference
 * BLAS, several times slower than OpenBLAS (libopenblas0) — worth saying next
 * to PyTorch's numbers.
 */
export function describeBlas(libraries) {
  const blas = libraries.filter((p) => /blas|mkl|blis/i.test(path.basename(p)) && !/lapack/i.test(path.basename(p)));
  if (!blas.length) return 'not seen among the mapped libraries';
  const kind = (p) => (/openblas/i.test(p) ? 'OpenBLAS' : /mkl/i.test(p) ? 'MKL' : /blis/i.test(p) ? 'BLIS'
    : /\/blas\/libblas\.so/.test(p) ? 'netlib reference BLAS (Debian libblas3: unoptimised; libopenblas0 would replace it)' : 'unknown');
  return blas.map((p) => `${kind(p)}, ${p}`).join('; ');
}

const b64 = (typed) => Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength).toString('base64');

/** Glorot fans of wasmgrad's layouts: [in, out] matrices, HWIO [kh, kw, in, out] filters (as contenders/wasmgrad.mjs). */
function fans(shape) {
  if (shape.length === 2) return [shape[0], shape[1]];
  const rf = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return [shape[shape.length - 2] * rf, shape[shape.length - 1] * rf];
}

/** wasmgrad's namedParameters() of each model (order and layouts), which its initGlorot seeds by index. */
function wasmgradParameters(spec) {
  const C = spec.classes;
  if (spec.model === 'mlp') return [['0.weight', [784, 256]], ['0.bias', [256]], ['2.weight', [256, C]], ['2.bias', [C]]];
  if (spec.model === 'cnn') {
    return [['0.weight', [3, 3, 1, 16]], ['0.bias', [16]], ['3.weight', [3, 3, 16, 32]], ['3.bias', [32]], ['7.weight', [7 * 7 * 32, C]], ['7.bias', [C]]];
  }
  if (spec.model === 'lstm') {
    const [, I] = spec.sampleShape;
    const H = spec.hidden;
    return [
      ['lstm.weight_ih_l0', [I, 4 * H]], ['lstm.weight_hh_l0', [H, 4 * H]], ['lstm.bias_ih_l0', [4 * H]], ['lstm.bias_hh_l0', [4 * H]],
      ['head.weight', [H, C]], ['head.bias', [C]],
    ];
  }
  if (spec.model === 'transformer') {
    const [T, I] = spec.sampleShape;
    const D = spec.dModel, F = spec.ffn, a = 'layer.selfAttn.';
    return [
      ['inp.weight', [I, D]], ['inp.bias', [D]], ['pos', [T, D]],
      [`${a}wq`, [D, D]], [`${a}bq`, [D]], [`${a}wk`, [D, D]], [`${a}bk`, [D]], [`${a}wv`, [D, D]], [`${a}bv`, [D]], [`${a}wo`, [D, D]], [`${a}bo`, [D]],
      ['layer.linear1.weight', [D, F]], ['layer.linear1.bias', [F]], ['layer.linear2.weight', [F, D]], ['layer.linear2.bias', [D]],
      ['layer.norm1.weight', [D]], ['layer.norm1.bias', [D]], ['layer.norm2.weight', [D]], ['layer.norm2.bias', [D]],
      ['head.weight', [D, C]], ['head.bias', [C]],
    ];
  }
  throw new Error(`no PyTorch model for ${spec.model}`);
}

/**
 * Initial values as wasmgrad's initGlorot makes them: Glorot for rank ≥ 2
 * (seed 1000 + index), ones for LayerNorm γ (rank 1, `….weight`), zeros for
 * every other rank-1 parameter (biases, incl. `bias_ih_l0` and `bq`).
 */
function initialParameters(spec) {
  return wasmgradParameters(spec).map(([name, shape], i) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = shape.length >= 2 ? glorotUniform(size, ...fans(shape), 1000 + i)
      : /(^|\.)weight$/.test(name) ? new Float32Array(size).fill(1) : new Float32Array(size);
    return { name, shape, data: b64(data) };
  });
}

const MATMUL_NOTE = 'torch.mm(a, b), result freed';
const TRAIN_NOTE = 'opt.zero_grad(set_to_none=True); F.cross_entropy(model(x), y).backward(); opt.step()';

/** The contender of one case (matmul or training). */
export async function pytorchContender({ worker, info }, spec) {
  if (!info.ok) return { name: NAME, status: 'skipped', reason: info.reason.replace(/^skipped: /, '') };
  let setup;
  if (spec.group === 'matmul') {
    setup = { group: 'matmul', m: spec.m, k: spec.k, n: spec.n, a: b64(randomMatrix(spec.m * spec.k, 1)), b: b64(randomMatrix(spec.k * spec.n, 2)) };
  } else {
    const data = makeBatch(spec);
    setup = {
      group: 'train', model: spec.model, batch: spec.batch, classes: spec.classes, sampleShape: spec.sampleShape,
      hidden: spec.hidden, dModel: spec.dModel, heads: spec.heads, ffn: spec.ffn,
      params: initialParameters(spec), x: b64(data.x), labels: b64(data.labels),
    };
  }
  const r = await worker.request({ cmd: 'setup', case: setup });
  const c = {
    name: NAME, status: 'ok', workPerStep: spec.workPerStep,
    note: spec.group === 'matmul' ? MATMUL_NOTE : TRAIN_NOTE,
    // Timed in the worker: { ms, cpuPerWall } of `reps` steps, without the round trip.
    runBatch: async (reps) => {
      const t = await worker.request({ cmd: 'run', n: reps });
      if (t.threads != null) info.osThreadsMax = Math.max(info.osThreadsMax ?? 0, t.threads);
      return { ms: t.seconds * 1000, cpuPerWall: t.cpuSeconds / t.seconds };
    },
    step: () => worker.request({ cmd: 'run', n: 1 }),
    peakBytesNote: 'n/a',
    dispose: () => worker.request({ cmd: 'dispose' }),
  };
  if (spec.group !== 'matmul') {
    c.lossBefore = r.lossBefore;
    c.loss = async () => (await worker.request({ cmd: 'loss' })).loss;
  }
  return c;
}
