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
import { dropoutKey, keyedHash } from './hash.js';

export function dropoutKernels(h: Heap) {
  return {
    dropout_fwd(out: number, mask: number, x: number, n: number, p: number, seed: number): void {
      const F = h.f32, o = out >>> 2, mi = mask >>> 2, xi = x >>> 2;
      const pf = Math.fround(p);
      const threshold = Math.floor(pf * 4294967296);
      const scale = Math.fround(1 / (1 - pf));
      const key = dropoutKey(seed);
      for (let i = 0; i < n; i++) {
        const hv = keyedHash(key, i);
        const m = hv >= threshold ? scale : 0;
        F[mi + i] = m;
        F[o + i] = F[xi + i] * m;
      }
    },
  };
}
