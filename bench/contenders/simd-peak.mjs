// The SIMD128 peak as a row of the matmul cases (`simd128-peak`): not a
// library but the ceiling, bench/simd-peak.ts's twelve independent f32x4
// relaxed_madd chains with no memory traffic. It runs interleaved with the contenders like any of them,
// so its per-round ratio to wasmgrad's wasm build gives "fraction of the peak"
// measured in the same moments: on a shared host the CPU's speed drifts
// between runs (±30% here), and a peak taken at another time would mix two
// machines' states into one percentage.
import { loadSimdPeak, PEAK_FLOPS_PER_ITER } from '../common.mjs';

const ITERS = 2e5; // 19.2 MFLOP per step: ~0.4 ms, like a 256 matmul

export async function simdPeakContender() {
  const peak = await loadSimdPeak();
  if (!peak) return { name: 'simd128-peak', status: 'unsupported', reason: 'this runtime does not validate relaxed SIMD (bench/simd-peak.ts)' };
  return {
    name: 'simd128-peak',
    status: 'ok',
    workPerStep: (ITERS * PEAK_FLOPS_PER_ITER) / 1e9,
    note: 'relaxed_madd loop, 12 chains (bench/simd-peak.ts)',
    step() {
      peak.peak_fma(ITERS, 1);
    },
    peakBytesNote: 'n/a (no memory)',
    dispose() {},
  };
}
