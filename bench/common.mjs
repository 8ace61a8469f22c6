// Shared benchmark plumbing: environment description, medians, the SIMD peak
// probe (bench/simd-peak.ts, compiled on first use), Markdown tables.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function environment() {
  return {
    node: process.version,
    v8: process.versions.v8,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    platform: `${os.platform()} ${os.arch()}`,
    date: new Date().toISOString(),
  };
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function stats(xs) {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs.length };
}

/**
 * The exports of bench/simd-peak.ts (compiled on first use): `peak_muladd(n, x)`
 * and `peak_fma(n, x)` run n iterations of 96 flops each. null where the
 * runtime cannot validate the module (no relaxed SIMD).
 */
export async function loadSimdPeak() {
  const out = path.join(root, 'build', 'simd-peak.wasm');
  const src = path.join(root, 'bench', 'simd-peak.ts');
  if (!fs.existsSync(out) || fs.statSync(out).mtimeMs < fs.statSync(src).mtimeMs) {
    const asc = (await import('assemblyscript/asc')).default;
    const { error, stderr } = await asc.main([
      src, '-O3', '--runtime', 'stub', '--use', 'abort=', '--noAssert', '--enable', 'simd,relaxed-simd', '-o', out,
    ]);
    if (error) throw new Error(`simd-peak: ${stderr}`);
  }
  const bytes = fs.readFileSync(out);
  if (!WebAssembly.validate(bytes)) return null;
  return (await WebAssembly.instantiate(bytes)).instance.exports;
}

/** Flops per iteration of the peak loops of bench/simd-peak.ts (12 f32x4 multiply-adds). */
export const PEAK_FLOPS_PER_ITER = 96;

/** Best-of-5 GFLOPS of the mul+add and relaxed-madd peak loops (null where the runtime lacks relaxed SIMD). */
export async function simdPeak() {
  const peak = await loadSimdPeak();
  if (!peak) return { muladd: null, fma: null };
  const best = (fn) => {
    let b = 0;
    for (let r = 0; r < 5; r++) {
      const n = 5e6;
      const t0 = performance.now();
      peak[fn](n, 1);
      b = Math.max(b, (n * PEAK_FLOPS_PER_ITER) / (performance.now() - t0) / 1e6);
    }
    return b;
  };
  return { muladd: best('peak_muladd'), fma: best('peak_fma') };
}

export function markdownTable(headers, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Deterministic uniform values in [-width/2, width/2) from an LCG seeded by `seed`: the same data in every contender and run. */
export function randomUniform(n, seed, width = 1) {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 4294967296 - 0.5) * width;
  }
  return a;
}
