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
  };
}
