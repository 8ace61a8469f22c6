// The measurement protocol of the suite, shared by every case.
//
//   setup        every contender of the case builds its inputs / model (untimed)
//   first step   not part of the results; contenders slower than `slowMs` per
//                step (confirmed by a second step) run once per round for the
//                first `slowRounds` rounds only (those steps are their warm-up)
//   warm-up      each contender alone, until `warmMs` have passed (and ≥ 2 steps):
//                tiers V8 up, fills caches, and sizes `reps` so one batch of
//                steps takes about `batchMs`
//   rounds       A B C … A B C …: one timed batch per contender per round
//   ratios       per round, throughput(contender) / throughput(reference):
//                drift of this shared, noisy machine hits both sides of a
//                ratio alike, so it cancels; the table reports their median
//
// A contender is an object built by a contender module for one case:
//   { name, status: 'ok', workPerStep, prepare?(), step(), runBatch?(reps), peakBytes?(), liveBytes?(), dispose() }
// or { name, status: 'pending' | 'unsupported' | 'skipped', reason }.
// `prepare()` runs untimed before every batch (switching TF.js's global
// backend); `step()` may return a promise (ORT's run is async; TF.js's
// trainOnBatch is async), and is then awaited inside the timed batch.
// A contender that runs in another process times its batches there:
// `runBatch(reps)` resolves to { ms, cpuPerWall } of `reps` steps measured in
// that process (PyTorch: time.perf_counter and time.process_time in the
// worker, so the IPC round trip is not charged), and replaces the loop below;
// warm-up, interleaving and ratios are the same as for everyone else.
// Each batch also measures process CPU time against wall time (a ratio well
// above 1 means more than one thread was working) and, where the contender
// can read its live bytes, how much they grew over the batch (a leak check:
// a training loop must end every batch with the bytes it started with).
import { median } from './common.mjs';

export function summarize(xs) {
  if (xs.length === 0) return null;
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs.length };
}

async function batch(c, reps) {
  if (c.prepare) await c.prepare();
  if (c.runBatch) return c.runBatch(reps);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) {
    const r = c.step();
    if (r && typeof r.then === 'function') await r;
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { ms, cpuPerWall: (cpu.user + cpu.system) / 1000 / ms };
}

/**
 * Runs one case over its contenders (the `ok` ones) and returns, per contender,
 * throughput samples per round, ratio samples per round against `refName`,
 * CPU/wall ratios and the live-bytes growth of each batch.
 */
export async function runInterleaved(contenders, { refName, warmMs, batchMs, rounds, slowMs = Infinity, slowRounds = 3, log = () => {} }) {
  const live = contenders.filter((c) => c.status === 'ok');
  const state = new Map();
  for (const c of live) {
    // setupStepMs: a step's time before warm-up (the contender's first step,
    // or a second one when the first, with its one-time costs, looked slow).
    if (c.setupStepMs === undefined) c.setupStepMs = (await batch(c, 1)).ms;
    if (c.setupStepMs > slowMs && !c.setupStepConfirmed) c.setupStepMs = (await batch(c, 1)).ms;
    // A contender slower than slowMs per step counts those steps as its
    // warm-up and runs one step in each of the first slowRounds rounds only:
    // otherwise a 30 s/step contender would turn a few-minute suite into an hour.
    if (c.setupStepMs > slowMs) {
      state.set(c, { reps: 1, rounds: Math.min(rounds, slowRounds), thr: [], cpu: [], growth: [], stepMs: c.setupStepMs });
      log(`    warm ${c.name}: slow (${(c.setupStepMs / 1000).toFixed(1)} s per step): 1 step in each of ${Math.min(rounds, slowRounds)} rounds`);
      continue;
    }
    // Warm-up: time single steps until warmMs, then size the batch from the
    // fastest of the last few steps.
    const times = [];
    const t0 = performance.now();
    while (performance.now() - t0 < warmMs || times.length < 2) {
      const { ms } = await batch(c, 1);
      times.push(ms);
    }
    const stepMs = Math.min(...times.slice(-3));
    const reps = Math.max(1, Math.round(batchMs / Math.max(stepMs, 1e-3)));
    state.set(c, { reps, rounds, thr: [], cpu: [], growth: [], stepMs });
    log(`    warm ${c.name}: ${times.length} steps, ~${stepMs.toFixed(2)} ms/step, ${reps} per batch`);
  }
  const perRound = [];
  for (let r = 0; r < rounds; r++) {
    const row = new Map();
    for (const c of live) {
      const s = state.get(c);
      if (r >= s.rounds) continue;
      const live0 = c.liveBytes?.();
      const { ms, cpuPerWall } = await batch(c, s.reps);
      if (c.liveBytes) s.growth.push(c.liveBytes() - live0);
      const thr = (c.workPerStep * s.reps) / (ms / 1000);
      s.thr.push(thr);
      s.cpu.push(cpuPerWall);
      row.set(c.name, thr);
    }
    perRound.push(row);
  }
  const out = new Map();
  for (const c of live) {
    const s = state.get(c);
    const ratios = perRound.filter((row) => row.has(c.name) && row.has(refName)).map((row) => row.get(c.name) / row.get(refName));
    out.set(c.name, {
      slow: c.setupStepMs > slowMs,
      throughput: summarize(s.thr),
      ratio: summarize(ratios),
      cpuPerWall: median(s.cpu),
      reps: s.reps,
      growth: s.growth,
    });
  }
  return out;
}
