/**
 * Plain-JS dropout: the js backend's mirror of assembly/dropout.ts. The mask
 * comes from the same counter-based hash of (seed, element index) in the same
 * u32 arithmetic (Math.imul, >>> 0), so a seed gives the same mask on every
 * backend:
 *
 *   key = mix(seed ^ 0x9e3779b9);  h(i) = mix(mix(i + key) ^ key)
 *   mask[i] = h(i) ≥ p·2³² ? 1/(1 − p) : 0;  out = x·mask
 */

import type { Heap } from '../heap.js';

/** "lowbias32" (C. Wellons, hash-prospector), on u32. */
function mix(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The hash of element i under `seed` (u32), as both backends compute it. */
export function dropoutHash(seed: number, i: number): number {
  const key = mix((seed ^ 0x9e3779b9) >>> 0);
  return mix((mix((i + key) >>> 0) ^ key) >>> 0);
}

export function dropoutKernels(h: Heap) {
  return {
    dropout_fwd(out: number, mask: number, x: number, n: number, p: number, seed: number): void {
      const F = h.f32, o = out >>> 2, mi = mask >>> 2, xi = x >>> 2;
      const pf = Math.fround(p);
      const threshold = Math.floor(pf * 4294967296);
      const scale = Math.fround(1 / (1 - pf));
      const key = mix((seed ^ 0x9e3779b9) >>> 0);
      for (let i = 0; i < n; i++) {
        const hv = mix((mix((i + key) >>> 0) ^ key) >>> 0);
        const m = hv >= threshold ? scale : 0;
        F[mi + i] = m;
        F[o + i] = F[xi + i] * m;
      }
    },
  };
}
