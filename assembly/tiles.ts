// Packed A row panels and the H×8 register-tile micro-kernels that consume
// them, shared by gemm.ts and rnn.ts's rnn_matmul_packed (gemm.ts's header
// explains the tile shapes and the peeled first k step). A panel of h rows
// stores its k-th column as h consecutive floats (one packed k-row), so a
// micro-kernel reads each k step's h values of A as broadcasts from one
// pointer. (Not re-exported by index.ts: internal.)

import { transpose4x4, vmadd } from "./vmath";

const NR: i32 = 8; // columns of a packed B panel and of a tile

// Scratch for partial tiles (up to 6×8).
const EDGE: usize = memory.data(6 * NR * 4, 16);

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

// ─── micro-kernels ──────────────────────────────────────────────────────────
//
// microHx8(kc, ap, bp, c, ldcb, mr, nr, alpha, beta):
//   C[0:mr, 0:nr] = alpha · (Ap · Bp) + beta · C   (beta == 0: C not read)
//   ap: H×kc packed panel, bp: kc×NR packed panel, c: top-left of the tile,
//   ldcb: C's row stride in bytes. mr < H or nr < NR is an edge tile.
// The three kernels differ only in H (the number of A broadcasts per k).

// One row of a full tile: C[r, 0:8] = alpha · (x0, x1) + beta · C[r, 0:8].
// The kernels test alpha == 1 && beta == 0 (every forward and backward call
// of a dense layer) once per tile and then store the accumulators as they are;
// alpha == 1 && beta == 1 (K blocks after the first) adds them to C.
@inline function storeRow(c: usize, x0: v128, x1: v128, va: v128, vb: v128, beta: f32): void {
  if (beta == 0) {
    v128.store(c, f32x4.mul(x0, va));
    v128.store(c, f32x4.mul(x1, va), 16);
  } else {
    v128.store(c, vmadd(x0, va, f32x4.mul(v128.load(c), vb)));
    v128.store(c, vmadd(x1, va, f32x4.mul(v128.load(c, 16), vb)), 16);
  }
}

// C[r, 0:8] = (x0, x1).
// max(x, 0) per lane as f32x4.max(x, 0) gives it (−0 → +0, NaN stays NaN) in
// four instructions from the sign bit and x == x; V8 expands f32x4.max to
// six on x64 (NaN and ±0 handling).
@inline export function relu4(x: v128): v128 {
  return v128.andnot(x, v128.and(i32x4.shr_s(x, 31), f32x4.eq(x, x)));
}

@inline function storeRowPlain(c: usize, x0: v128, x1: v128): void {
  v128.store(c, x0);
  v128.store(c, x1, 16);
}

// C[r, 0:8] += (x0, x1): alpha == 1 and beta == 1 (the K blocks after the first).
@inline function addRow(c: usize, x0: v128, x1: v128): void {
  v128.store(c, f32x4.add(v128.load(c), x0));
  v128.store(c, f32x4.add(v128.load(c, 16), x1), 16);
}

// Edge tile: the accumulators are in EDGE (row r at r·32 bytes); store the
// valid mr×nr part element-wise.
function storeEdge(c: usize, ldcb: usize, mr: i32, nr: i32, alpha: f32, beta: f32): void {
  for (let r = 0; r < mr; r++) {
    const row = c + <usize>r * ldcb;
    for (let j = 0; j < nr; j++) {
      const v = alpha * load<f32>(EDGE + ((<usize>(r * NR + j)) << 2));
      const dst = row + (<usize>j << 2);
      store<f32>(dst, beta == 0 ? v : v + beta * load<f32>(dst));
    }
  }
}

export function micro6x8(
  kc: i32, ap: usize, bp: usize, c: usize, ldcb: usize, mr: i32, nr: i32, alpha: f32, beta: f32, bias: usize,
): void {
  tile6x8(kc, ap, bp, c, ldcb, mr, nr, alpha, beta, bias);
}

// Two full 6×8 tiles side by side, C = A·B (+ bias row; pointer 0: none):
// columns j…j+7 from the B panel at bp, j+8…j+15 from the next one (bp +
// kc·32 bytes). See "Two tiles per call" in gemm.ts.
export function micro6x16(kc: i32, ap: usize, bp: usize, c: usize, ldcb: usize, bias: usize): void {
  tile6x8(kc, ap, bp, c, ldcb, 6, NR, 1, 0, bias);
  tile6x8(kc, ap, bp + (<usize>kc << 5), c + 32, ldcb, 6, NR, 1, 0, bias != 0 ? bias + 32 : 0);
}

// micro6x16, then relu = max(·, 0) over the 6×16 tile just stored (in L1):
// a dense layer's bias + relu forward, without gemm.ts's per-tile reluTile
// call. Applying relu to the accumulators before the store instead makes V8
// spill three of them inside the k loops (1.7× slower), so the tile is read
// back here, in straight-line code.
export function micro6x16r(kc: i32, ap: usize, bp: usize, c: usize, ldcb: usize, bias: usize): void {
  tile6x8(kc, ap, bp, c, ldcb, 6, NR, 1, 0, bias);
  tile6x8(kc, ap, bp + (<usize>kc << 5), c + 32, ldcb, 6, NR, 1, 0, bias != 0 ? bias + 32 : 0);
  relu6x16(c, ldcb);
}

// relu over a 6×16 tile of C just stored.
@inline function relu6x16(c: usize, ldcb: usize): void {
  for (let r = 0; r < 6; r++) {
    v128.store(c, relu4(v128.load(c)));
    v128.store(c, relu4(v128.load(c, 16)), 16);
    v128.store(c, relu4(v128.load(c, 32)), 32);
    v128.store(c, relu4(v128.load(c, 48)), 48);
    c += ldcb;
  }
}

// Row r's value of A at step k, from one pointer with constant offsets: a
// packed panel (S = 0: the panel's 6 or 5 values per k, ap += 24 or 20) or A itself, read in place
// (rows S floats apart, ap += 4 per k). The in-place kernels exist for the
// row strides of small layers (64, 128, 192 floats), where packing A costs
// 5–10% of the product (K is small, so each packed value is used by few
// multiply-adds); wasm load offsets are immediates, so each stride is its
// own kernel (with a runtime stride V8 adds one instruction per broadcast).
@inline function aAt(ap: usize, r: i32, S: i32): v128 {
  if (S == 64) {
    if (r == 0) return v128.load32_splat(ap);
    if (r == 1) return v128.load32_splat(ap, 256);
    if (r == 2) return v128.load32_splat(ap, 512);
    if (r == 3) return v128.load32_splat(ap, 768);
    if (r == 4) return v128.load32_splat(ap, 1024);
    return v128.load32_splat(ap, 1280);
  }
  if (S == 128) {
    if (r == 0) return v128.load32_splat(ap);
    if (r == 1) return v128.load32_splat(ap, 512);
    if (r == 2) return v128.load32_splat(ap, 1024);
    if (r == 3) return v128.load32_splat(ap, 1536);
    if (r == 4) return v128.load32_splat(ap, 2048);
    return v128.load32_splat(ap, 2560);
  }
  if (S == 192) {
    if (r == 0) return v128.load32_splat(ap);
    if (r == 1) return v128.load32_splat(ap, 768);
    if (r == 2) return v128.load32_splat(ap, 1536);
    if (r == 3) return v128.load32_splat(ap, 2304);
    if (r == 4) return v128.load32_splat(ap, 3072);
    return v128.load32_splat(ap, 3840);
  }
  if (r == 0) return v128.load32_splat(ap);
  if (r == 1) return v128.load32_splat(ap, 4);
  if (r == 2) return v128.load32_splat(ap, 8);
  if (r == 3) return v128.load32_splat(ap, 12);
  if (r == 4) return v128.load32_splat(ap, 16);
  return v128.load32_splat(ap, 20);
}

// micro6x16 (then relu over the tile if asked) on A read in place (see
// aAt): ap = A's row i, column p0; rows 64, 128 or 192 floats apart.
export function micro6x16a64(kc: i32, ap: usize, bp: usize, c: usize, ldcb: usize, bias: usize, relu: bool): void {
  tileRx8s(6, kc, ap, bp, c, ldcb, 6, NR, 1, 0, bias, 64);
  tileRx8s(6, kc, ap, bp + (<usize>kc << 5), c + 32, ldcb, 6, NR, 1, 0, bias != 0 ? bias + 32 : 0, 64);
  if (relu) relu6x16(c, ldcb);
}
export function micro6x16a128(kc: i32, ap: usize, bp: usize, c: usize, ldcb: usize, bias: usize, relu: bool): void {
  tileRx8s(6, kc, ap, bp, c, ldcb, 6, NR, 1, 0, bias, 128);
  tileRx8s(6, kc, ap, bp + (<usize>kc << 5), c + 32, ldcb, 6, NR, 1, 0, bias != 0 ? bias + 32 : 0, 128);
  if (relu) relu6x16(c, ldcb);
}
export function micro6x16a192(kc: i32, ap: usize, bp: usize, c: usize, ldcb: usize, bias: usize, relu: bool): void {
  tileRx8s(6, kc, ap, bp, c, ldcb, 6, NR, 1, 0, bias, 192);
  tileRx8s(6, kc, ap, bp + (<usize>kc << 5), c + 32, ldcb, 6, NR, 1, 0, bias != 0 ? bias + 32 : 0, 192);
  if (relu) relu6x16(c, ldcb);
}

// micro6x8's body on a packed panel, inlined where the tile's shape and
// alpha/beta are constants so that only the epilogue they select is compiled.
@inline function tile6x8(
  kc: i32, ap: usize, bp: usize, c: usize, ldcb: usize, mr: i32, nr: i32, alpha: f32, beta: f32, bias: usize,
): void {
  tileRx8s(6, kc, ap, bp, c, ldcb, mr, nr, alpha, beta, bias, 0);
}

// The body of micro6x8 (R = 6 rows, relaxed build) and micro5x8 (R = 5,
// plain build), with A from aAt (S: see there). R, S and, where the caller
// fixes them, the tile's shape and alpha/beta are constants, so only the
// rows and the epilogue they select are compiled.
@inline function tileRx8s(
  R: i32, kc: i32, ap: usize, bp: usize, c: usize, ldcb: usize, mr: i32, nr: i32, alpha: f32, beta: f32, bias: usize, S: i32,
): void {
  const aStep: usize = S == 0 ? <usize>R << 2 : 4;
  // The bias row (if any) seeds every row's accumulators.
  const z0 = bias != 0 ? v128.load(bias) : f32x4.splat(0);
  const z1 = bias != 0 ? v128.load(bias, 16) : f32x4.splat(0);
  let c00 = z0, c01 = z1;
  let c10 = z0, c11 = z1;
  let c20 = z0, c21 = z1;
  let c30 = z0, c31 = z1;
  let c40 = z0, c41 = z1;
  let c50 = z0, c51 = z1;
  const bEnd = bp + (<usize>kc << 5);
  // k = 0, peeled (kc ≥ 1): see "Peeled first k step" in the header.
  {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = aAt(ap, 0, S);
    c00 = vmadd(a, b0, c00); c01 = vmadd(a, b1, c01);
    a = aAt(ap, 1, S);
    c10 = vmadd(a, b0, c10); c11 = vmadd(a, b1, c11);
    a = aAt(ap, 2, S);
    c20 = vmadd(a, b0, c20); c21 = vmadd(a, b1, c21);
    a = aAt(ap, 3, S);
    c30 = vmadd(a, b0, c30); c31 = vmadd(a, b1, c31);
    a = aAt(ap, 4, S);
    c40 = vmadd(a, b0, c40); c41 = vmadd(a, b1, c41);
    if (R == 6) {
      a = aAt(ap, 5, S);
      c50 = vmadd(a, b0, c50); c51 = vmadd(a, b1, c51);
    }
    ap += aStep;
    bp += 32;
  }
  while (bp < bEnd) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = aAt(ap, 0, S);
    c00 = vmadd(a, b0, c00); c01 = vmadd(a, b1, c01);
    a = aAt(ap, 1, S);
    c10 = vmadd(a, b0, c10); c11 = vmadd(a, b1, c11);
    a = aAt(ap, 2, S);
    c20 = vmadd(a, b0, c20); c21 = vmadd(a, b1, c21);
    a = aAt(ap, 3, S);
    c30 = vmadd(a, b0, c30); c31 = vmadd(a, b1, c31);
    a = aAt(ap, 4, S);
    c40 = vmadd(a, b0, c40); c41 = vmadd(a, b1, c41);
    if (R == 6) {
      a = aAt(ap, 5, S);
      c50 = vmadd(a, b0, c50); c51 = vmadd(a, b1, c51);
    }
    ap += aStep;
    bp += 32;
  }
  if (mr == R && nr == NR) {
    if (alpha == 1 && beta == 0) {
      storeRowPlain(c, c00, c01); c += ldcb;
      storeRowPlain(c, c10, c11); c += ldcb;
      storeRowPlain(c, c20, c21); c += ldcb;
      storeRowPlain(c, c30, c31); c += ldcb;
      storeRowPlain(c, c40, c41);
      if (R == 6) {
        c += ldcb;
        storeRowPlain(c, c50, c51);
      }
      return;
    }
    if (alpha == 1 && beta == 1) {
      addRow(c, c00, c01); c += ldcb;
      addRow(c, c10, c11); c += ldcb;
      addRow(c, c20, c21); c += ldcb;
      addRow(c, c30, c31); c += ldcb;
      addRow(c, c40, c41);
      if (R == 6) {
        c += ldcb;
        addRow(c, c50, c51);
      }
      return;
    }
    const va = f32x4.splat(alpha), vb = f32x4.splat(beta);
    storeRow(c, c00, c01, va, vb, beta); c += ldcb;
    storeRow(c, c10, c11, va, vb, beta); c += ldcb;
    storeRow(c, c20, c21, va, vb, beta); c += ldcb;
    storeRow(c, c30, c31, va, vb, beta); c += ldcb;
    storeRow(c, c40, c41, va, vb, beta);
    if (R == 6) {
      c += ldcb;
      storeRow(c, c50, c51, va, vb, beta);
    }
    return;
  }
  v128.store(EDGE, c00); v128.store(EDGE, c01, 16);
  v128.store(EDGE, c10, 32); v128.store(EDGE, c11, 48);
  v128.store(EDGE, c20, 64); v128.store(EDGE, c21, 80);
  v128.store(EDGE, c30, 96); v128.store(EDGE, c31, 112);
  v128.store(EDGE, c40, 128); v128.store(EDGE, c41, 144);
  if (R == 6) {
    v128.store(EDGE, c50, 160); v128.store(EDGE, c51, 176);
  }
  storeEdge(c, ldcb, mr, nr, alpha, beta);
}

export function micro5x8(
  kc: i32, ap: usize, bp: usize, c: usize, ldcb: usize, mr: i32, nr: i32, alpha: f32, beta: f32, bias: usize,
): void {
  tileRx8s(5, kc, ap, bp, c, ldcb, mr, nr, alpha, beta, bias, 0);
}

// micro5x8 on full tiles (alpha 1, beta 0) with A read in place (see aAt).
export function micro5x8a64(kc: i32, ap: usize, bp: usize, c: usize, ldcb: usize, bias: usize): void {
  tileRx8s(5, kc, ap, bp, c, ldcb, 5, NR, 1, 0, bias, 64);
}
export function micro5x8a128(kc: i32, ap: usize, bp: usize, c: usize, ldcb: usize, bias: usize): void {
  tileRx8s(5, kc, ap, bp, c, ldcb, 5, NR, 1, 0, bias, 128);
}
export function micro5x8a192(kc: i32, ap: usize, bp: usize, c: usize, ldcb: usize, bias: usize): void {
  tileRx8s(5, kc, ap, bp, c, ldcb, 5, NR, 1, 0, bias, 192);
}

export function micro4x8(
  kc: i32, ap: usize, bp: usize, c: usize, ldcb: usize, mr: i32, nr: i32, alpha: f32, beta: f32, bias: usize,
): void {
  // The bias row (if any) seeds every row's accumulators.
  const z0 = bias != 0 ? v128.load(bias) : f32x4.splat(0);
  const z1 = bias != 0 ? v128.load(bias, 16) : f32x4.splat(0);
  let c00 = z0, c01 = z1;
  let c10 = z0, c11 = z1;
  let c20 = z0, c21 = z1;
  let c30 = z0, c31 = z1;
  const bEnd = bp + (<usize>kc << 5);
  // k = 0, peeled (kc ≥ 1): see "Peeled first k step" in the header.
  {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = vmadd(a, b0, c00); c01 = vmadd(a, b1, c01);
    a = v128.load32_splat(ap, 4);
    c10 = vmadd(a, b0, c10); c11 = vmadd(a, b1, c11);
    a = v128.load32_splat(ap, 8);
    c20 = vmadd(a, b0, c20); c21 = vmadd(a, b1, c21);
    a = v128.load32_splat(ap, 12);
    c30 = vmadd(a, b0, c30); c31 = vmadd(a, b1, c31);
    ap += 16;
    bp += 32;
  }
  while (bp < bEnd) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = vmadd(a, b0, c00); c01 = vmadd(a, b1, c01);
    a = v128.load32_splat(ap, 4);
    c10 = vmadd(a, b0, c10); c11 = vmadd(a, b1, c11);
    a = v128.load32_splat(ap, 8);
    c20 = vmadd(a, b0, c20); c21 = vmadd(a, b1, c21);
    a = v128.load32_splat(ap, 12);
    c30 = vmadd(a, b0, c30); c31 = vmadd(a, b1, c31);
    ap += 16;
    bp += 32;
  }
  if (mr == 4 && nr == NR) {
    if (alpha == 1 && beta == 0) {
      storeRowPlain(c, c00, c01); c += ldcb;
      storeRowPlain(c, c10, c11); c += ldcb;
      storeRowPlain(c, c20, c21); c += ldcb;
      storeRowPlain(c, c30, c31);
      return;
    }
    if (alpha == 1 && beta == 1) {
      addRow(c, c00, c01); c += ldcb;
      addRow(c, c10, c11); c += ldcb;
      addRow(c, c20, c21); c += ldcb;
      addRow(c, c30, c31);
      return;
    }
    const va = f32x4.splat(alpha), vb = f32x4.splat(beta);
    storeRow(c, c00, c01, va, vb, beta); c += ldcb;
    storeRow(c, c10, c11, va, vb, beta); c += ldcb;
    storeRow(c, c20, c21, va, vb, beta); c += ldcb;
    storeRow(c, c30, c31, va, vb, beta);
    return;
  }
  v128.store(EDGE, c00); v128.store(EDGE, c01, 16);
  v128.store(EDGE, c10, 32); v128.store(EDGE, c11, 48);
  v128.store(EDGE, c20, 64); v128.store(EDGE, c21, 80);
  v128.store(EDGE, c30, 96); v128.store(EDGE, c31, 112);
  storeEdge(c, ldcb, mr, nr, alpha, beta);
}
