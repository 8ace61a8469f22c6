/** Plain-JS mirror of assembly/gather.ts: row gather and scatter-add. */

import type { Heap } from '../heap.js';

export function gatherKernels(h: Heap) {
  return {
    gather_rows(out: number, x: number, idx: number, n: number, rowLen: number): void {
      const F = h.i32; // bit-exact moves for float32 and int32 rows alike
      const I = h.i32, o = out >>> 2, x0 = x >>> 2, i0 = idx >>> 2;
      for (let i = 0; i < n; i++) {
        const src = x0 + I[i0 + i] * rowLen;
        F.copyWithin(o + i * rowLen, src, src + rowLen);
      }
    },
    scatter_add_rows(dx: number, idx: number, dy: number, n: number, rowLen: number): void {
      const F = h.f32, I = h.i32, d0 = dx >>> 2, y0 = dy >>> 2, i0 = idx >>> 2;
      for (let i = 0; i < n; i++) {
        const dst = d0 + I[i0 + i] * rowLen, src = y0 + i * rowLen;
        for (let j = 0; j < rowLen; j++) F[dst + j] += F[src + j];
      }
    },
  };
}
