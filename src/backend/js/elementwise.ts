/**
 * Plain-JS elementwise kernels: the js backend's mirror of
 * assembly/elementwise.ts. Pointers are byte offsets; `>>> 2` gives the index
 * into the heap's Float32Array.
 */

import type { Heap } from '../heap.js';

export function elementwiseKernels(h: Heap) {
  return {
    fill_f32(out: number, n: number, value: number): void {
      const o = out >>> 2;
      h.f32.fill(value, o, o + n);
    },
    copy_f32(out: number, x: number, n: number): void {
      const F = h.f32;
      F.copyWithin(out >>> 2, x >>> 2, (x >>> 2) + n);
    },
    add_f32(out: number, a: number, b: number, n: number): void {
      const F = h.f32, o = out >>> 2, ai = a >>> 2, bi = b >>> 2;
      for (let i = 0; i < n; i++) F[o + i] = F[ai + i] + F[bi + i];
    },
    sub_f32(out: number, a: number, b: number, n: number): void {
      const F = h.f32, o = out >>> 2, ai = a >>> 2, bi = b >>> 2;
      for (let i = 0; i < n; i++) F[o + i] = F[ai + i] - F[bi + i];
    },
    mul_f32(out: number, a: number, b: number, n: number): void {
      const F = h.f32, o = out >>> 2, ai = a >>> 2, bi = b >>> 2;
      for (let i = 0; i < n; i++) F[o + i] = F[ai + i] * F[bi + i];
    },
    div_f32(out: number, a: number, b: number, n: number): void {
      const F = h.f32, o = out >>> 2, ai = a >>> 2, bi = b >>> 2;
      for (let i = 0; i < n; i++) F[o + i] = F[ai + i] / F[bi + i];
    },
    adds_f32(out: number, a: number, n: number, s: number): void {
      const F = h.f32, o = out >>> 2, ai = a >>> 2;
      s = Math.fround(s);
      for (let i = 0; i < n; i++) F[o + i] = F[ai + i] + s;
    },
    subs_f32(out: number, a: number, n: number, s: number): void {
      const F = h.f32, o = out >>> 2, ai = a >>> 2;
      s = Math.fround(s);
      for (let i = 0; i < n; i++) F[o + i] = F[ai + i] - s;
    },
    muls_f32(out: number, a: number, n: number, s: number): void {
      const F = h.f32, o = out >>> 2, ai = a >>> 2;
      s = Math.fround(s);
      for (let i = 0; i < n; i++) F[o + i] = F[ai + i] * s;
    },
    divs_f32(out: number, a: number, n: number, s: number): void {
      const F = h.f32, o = out >>> 2, ai = a >>> 2;
      s = Math.fround(s);
      for (let i = 0; i < n; i++) F[o + i] = F[ai + i] / s;
    },
    binary_bcast(
      out: number, a: number, b: number, d0: number, d1: number, d2: number, d3: number,
      sa0: number, sa1: number, sa2: number, sa3: number, sb0: number, sb1: number, sb2: number, sb3: number, op: number,
    ): void {
      const F = h.f32;
      const ai = a >>> 2, bi = b >>> 2;
      let o = out >>> 2;
      for (let i0 = 0; i0 < d0; i0++) {
        for (let i1 = 0; i1 < d1; i1++) {
          for (let i2 = 0; i2 < d2; i2++) {
            let pa = ai + i0 * sa0 + i1 * sa1 + i2 * sa2;
            let pb = bi + i0 * sb0 + i1 * sb1 + i2 * sb2;
            // One loop per op keeps each monomorphic for the JIT.
            if (op === 0) for (let i = 0; i < d3; i++, pa += sa3, pb += sb3) F[o + i] = F[pa] + F[pb];
            else if (op === 1) for (let i = 0; i < d3; i++, pa += sa3, pb += sb3) F[o + i] = F[pa] - F[pb];
            else if (op === 2) for (let i = 0; i < d3; i++, pa += sa3, pb += sb3) F[o + i] = F[pa] * F[pb];
            else for (let i = 0; i < d3; i++, pa += sa3, pb += sb3) F[o + i] = F[pa] / F[pb];
            o += d3;
          }
        }
      }
    },
  };
}
