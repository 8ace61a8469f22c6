// Packing of A row panels, shared by gemm.ts and rnn.ts's rnn_matmul_packed:
// a panel of h rows stores its k-th column as h consecutive floats (one
// packed k-row), so a micro-kernel reads each k step's h values of A as
// broadcasts from one pointer. (Not re-exported by index.ts: internal.)

import { transpose4x4 } from "./vmath";

// A full panel of h (4…6) rows; src points at op(A)[i, p0], row stride ldab bytes.
export function packAPanel(panel: usize, src: usize, ldab: usize, transA: bool, h: i32, kc: i32): void {
  const ldp = <usize>h << 2; // bytes per packed k-row
  if (transA) {
    // op(A)[i:i+h, p] is contiguous (a row of A): copy it as one or two
    // (overlapping) vectors.
    const tail = <usize>(h - 4) << 2;
    for (let p = 0; p < kc; p++) {
      v128.store(panel, v128.load(src));
      if (h > 4) v128.store(panel + tail, v128.load(src + tail));
      src += ldab;
      panel += ldp;
    }
    return;
  }
  // Rows 0…3: 4×4 transposes. Rows 4, 5 (h == 6): their 4 k's interleaved
  // by two shuffles into (a4, a5) pairs, one 8-byte store per packed k-row;
  // row 4 alone (h == 5): one lane store per k-row.
  let p = 0;
  for (; p + 4 <= kc; p += 4) {
    const s = src + (<usize>p << 2);
    const d = panel + <usize>p * ldp;
    transpose4x4(s, ldab, d, ldp);
    if (h == 6) {
      const v4 = v128.load(s + 4 * ldab), v5 = v128.load(s + 5 * ldab);
      const lo = v128.shuffle<f32>(v4, v5, 0, 4, 1, 5); // k0: a4 a5 | k1: a4 a5
      const hi = v128.shuffle<f32>(v4, v5, 2, 6, 3, 7); // k2, k3
      v128.store64_lane(d + 16, lo, 0);
      v128.store64_lane(d + 16 + ldp, lo, 1);
      v128.store64_lane(d + 16 + 2 * ldp, hi, 0);
      v128.store64_lane(d + 16 + 3 * ldp, hi, 1);
    } else if (h == 5) {
      const v = v128.load(s + 4 * ldab);
      v128.store32_lane(d + 16, v, 0);
      v128.store32_lane(d + 16 + ldp, v, 1);
      v128.store32_lane(d + 16 + 2 * ldp, v, 2);
      v128.store32_lane(d + 16 + 3 * ldp, v, 3);
    }
  }
  for (; p < kc; p++) {
    const s = src + (<usize>p << 2);
    const d = panel + <usize>p * ldp;
    for (let r = 0; r < h; r++) store<f32>(d + (<usize>r << 2), load<f32>(s + <usize>r * ldab));
  }
}

// A panel of h rows of which only `rows` exist: the rest is zero.
export function packAPartial(panel: usize, src: usize, ldab: usize, transA: bool, h: i32, rows: i32, kc: i32): void {
  for (let p = 0; p < kc; p++) {
    const d = panel + ((<usize>p * h) << 2);
    for (let r = 0; r < h; r++) {
      let v: f32 = 0;
      if (r < rows) {
        v = transA
          ? load<f32>(src + <usize>p * ldab + (<usize>r << 2))
          : load<f32>(src + <usize>r * ldab + (<usize>p << 2));
      }
      store<f32>(d + (<usize>r << 2), v);
    }
  }
}
