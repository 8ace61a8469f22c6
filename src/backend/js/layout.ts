/** Plain-JS mirror of assembly/layout.ts: the strided copy behind transpose, slice and concat. */

import type { Heap } from '../heap.js';

export function layoutKernels(h: Heap) {
  return {
    copy_strided(
      out: number, x: number, d0: number, d1: number, d2: number, d3: number,
      so0: number, so1: number, so2: number, so3: number, sx0: number, sx1: number, sx2: number, sx3: number,
    ): void {
      // Int32Array moves the bits of float32 and int32 elements alike (a float
      // round trip could rewrite NaN payloads).
      const F = h.i32, o0 = out >>> 2, x0 = x >>> 2;
      for (let i0 = 0; i0 < d0; i0++) {
        for (let i1 = 0; i1 < d1; i1++) {
          for (let i2 = 0; i2 < d2; i2++) {
            let po = o0 + i0 * so0 + i1 * so1 + i2 * so2;
            let px = x0 + i0 * sx0 + i1 * sx1 + i2 * sx2;
            if (so3 === 1 && sx3 === 1) F.copyWithin(po, px, px + d3);
            else for (let i3 = 0; i3 < d3; i3++, po += so3, px += sx3) F[po] = F[px];
          }
        }
      }
    },
  };
}
