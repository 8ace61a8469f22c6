// Convolution kernels over NHWC images with HWIO filters: im2col and its
// adjoint col2im (for the GEMM path), and direct SIMD convolution (see the
// second half of the file). src/ops/conv.ts picks the path per layer and
// says why; in short, the direct kernels skip im2col's extra pass over memory
// and the GEMM's packing and win on small and mid-sized filters.
//
// A convolution is one GEMM over the patch matrix ("im2col"):
//
//   x [N, H, W, C] (NHWC)  ──im2col──▶  cols [N·OH·OW, kH·kW·C]
//   y [N·OH·OW, O] = cols · w[kH·kW·C, O]        (w is HWIO: already the GEMM's B)
//   dw            = colsᵀ · dy                    (one GEMM, Aᵀ·B)
//   dcols         = dy · wᵀ                       (one GEMM, A·Bᵀ) ──col2im──▶ dx
//
// With NHWC input and HWIO filters no transpose is ever materialised: the
// output rows ARE the NHWC output. Row r of cols is output pixel
// r = (n·OH + oh)·OW + ow; its columns run over (kh, kw, c), c fastest:
//
//   cols[r, (kh·kW + kw)·C + c] = x[n, oh·sH − pT + kh·dH, ow·sW − pL + kw·dW, c]
//                                 (0 where the tap falls in the padding)
//
// One kernel-row (kh) of a patch with dilation 1 is kW·C consecutive floats
// of x, copied with SIMD in one go; taps in the padding are zero-filled.
// Both kernels work on rows [row0, row0 + rows) so the ops can bound the size
// of the cols workspace by processing the batch in chunks.
//
// col2im is the exact adjoint: dx[tap of r] += cols[r, tap] (dx pre-filled by
// the caller, usually with zeros); overlapping patches accumulate.

import { vmadd } from "./vmath";

// dst[0:bytes] = src[0:bytes] (bytes a multiple of 4; regions do not overlap).
@inline function copyF32(dst: usize, src: usize, bytes: usize): void {
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) v128.store(dst + i, v128.load(src + i));
  for (; i < bytes; i += 4) store<f32>(dst + i, load<f32>(src + i));
}

// dst[0:bytes] += src[0:bytes].
@inline function addF32(dst: usize, src: usize, bytes: usize): void {
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) v128.store(dst + i, f32x4.add(v128.load(dst + i), v128.load(src + i)));
  for (; i < bytes; i += 4) store<f32>(dst + i, load<f32>(dst + i) + load<f32>(src + i));
}

/**
 * cols[0:rows, :] = patches of output pixels row0 … row0+rows−1 (see header).
 * cols is [rows, kH·kW·C]; x is [N, H, W, C].
 */
export function im2col(
  cols: usize, x: usize,
  H: i32, W: i32, C: i32, kH: i32, kW: i32, OH: i32, OW: i32,
  sH: i32, sW: i32, pT: i32, pL: i32, dH: i32, dW: i32,
  row0: i32, rows: i32,
): void {
  const cb = <usize>C << 2; // bytes of one pixel
  const rowB = <usize>W * cb; // bytes of one image row
  const imgB = <usize>H * rowB;
  const kRowB = <usize>kW * cb; // bytes of one kernel row of a patch
  const plane = OH * OW;
  let n = row0 / plane;
  let rem = row0 - n * plane;
  let oh = rem / OW;
  let ow = rem - oh * OW;
  let dst = cols;
  for (let r = 0; r < rows; r++) {
    const img = x + <usize>n * imgB;
    const ih0 = oh * sH - pT;
    const iw0 = ow * sW - pL;
    const inside = dW == 1 && iw0 >= 0 && iw0 + kW <= W;
    for (let kh = 0; kh < kH; kh++) {
      const ih = ih0 + kh * dH;
      if (ih < 0 || ih >= H) {
        memory.fill(dst, 0, kRowB);
        dst += kRowB;
        continue;
      }
      const src = img + <usize>ih * rowB;
      if (inside) {
        copyF32(dst, src + <usize>iw0 * cb, kRowB);
        dst += kRowB;
        continue;
      }
      for (let kw = 0; kw < kW; kw++) {
        const iw = iw0 + kw * dW;
        if (iw < 0 || iw >= W) memory.fill(dst, 0, cb);
        else copyF32(dst, src + <usize>iw * cb, cb);
        dst += cb;
      }
    }
    if (++ow == OW) {
      ow = 0;
      if (++oh == OH) {
        oh = 0;
        n++;
      }
    }
  }
}

/**
 * dx[patch taps of rows row0 … row0+rows−1] += cols[0:rows, :] — the adjoint
 * of im2col. dx is [N, H, W, C], pre-filled by the caller.
 */
export function col2im(
  dx: usize, cols: usize,
  H: i32, W: i32, C: i32, kH: i32, kW: i32, OH: i32, OW: i32,
  sH: i32, sW: i32, pT: i32, pL: i32, dH: i32, dW: i32,
  row0: i32, rows: i32,
): void {
  const cb = <usize>C << 2;
  const rowB = <usize>W * cb;
  const imgB = <usize>H * rowB;
  const kRowB = <usize>kW * cb;
  const plane = OH * OW;
  let n = row0 / plane;
  let rem = row0 - n * plane;
  let oh = rem / OW;
  let ow = rem - oh * OW;
  let src = cols;
  for (let r = 0; r < rows; r++) {
    const img = dx + <usize>n * imgB;
    const ih0 = oh * sH - pT;
    const iw0 = ow * sW - pL;
    const inside = dW == 1 && iw0 >= 0 && iw0 + kW <= W;
    for (let kh = 0; kh < kH; kh++) {
      const ih = ih0 + kh * dH;
      if (ih < 0 || ih >= H) {
        src += kRowB;
        continue;
      }
      const dst = img + <usize>ih * rowB;
      if (inside) {
        addF32(dst + <usize>iw0 * cb, src, kRowB);
        src += kRowB;
        continue;
      }
      for (let kw = 0; kw < kW; kw++) {
        const iw = iw0 + kw * dW;
        if (iw >= 0 && iw < W) addF32(dst + <usize>iw * cb, src, cb);
        src += cb;
      }
    }
    if (++ow == OW) {
      ow = 0;
      if (++oh == OH) {
        oh = 0;
        n++;
      }
    }
  }
}

// ─── direct convolution (no patch matrix) ──────────────────────────────────
//
// The same products computed straight from a zero-padded input xp
// [N, Hp, Wp, C] (every tap in range, so the inner loops have no bounds
// checks): an "implicit GEMM" whose A operand is read in place.
//
//   conv2d_direct:       y[p, o] = b[o] + Σ_{kh,kw,c} xp[patch(p) + tap(kh,kw) + c] · w[(kh,kw,c), o]
//   conv2d_filter_grad:  dw[(kh,kw,c), o] (+)= Σ_p xp[patch(p) + tap(kh,kw) + c] · dy[p, o],  db[o] (+)= Σ_p dy[p, o]
//
// patch(p) is the top-left pixel of output pixel p = (n·OH + oh)·OW + ow:
// xp[n, oh·sH, ow·sW, 0]; tap(kh, kw) = (kh·dH·Wp + kw·dW)·C.
//
// Both use the GEMM's 4×8 register tile (eight f32x4 accumulators; A values
// broadcast with load32_splat, two f32x4 of w or dy per step), so they run at
// the micro-kernel's speed without im2col's extra pass over memory or the
// GEMM's packing. The input gradient of a stride-1 convolution is a direct
// convolution too: dx = conv2d_direct(pad(dy), conv_filter_flip(w)).
//
// V8 (TurboFan, Node 20) code generation: the inner loops end on a pointer
// comparison (no counter: one add and one register fewer per step). In the
// filter gradient, a 4-row tile of dw whose rows are four consecutive channels
// of one tap (C a multiple of 4) reads its four inputs at constant offsets
// from one address per pixel; V8 computes such an offset load's address as
// (memory start + offset) + address, a sum of its own per load per step, unless
// the same loads also occur before the loop (then GVN computes the sums once,
// outside it), so that loop runs its first pixel ahead of it (as gemm.ts).

const PCHUNK: i32 = 64;
// Byte offsets (into xp) of the patch origins of one chunk of pixels.
const BASES: usize = memory.data(PCHUNK * 4, 16);

// Stores the valid rows (r < rows) of a 4×8 tile at y (row stride ldb bytes), adding the old values when beta ≠ 0.
@inline function store4x8(
  y: usize, ldb: usize, rows: i32, beta: i32,
  c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128,
): void {
  if (beta != 0) {
    c00 = f32x4.add(c00, v128.load(y)); c01 = f32x4.add(c01, v128.load(y, 16));
    if (rows > 1) { c10 = f32x4.add(c10, v128.load(y + ldb)); c11 = f32x4.add(c11, v128.load(y + ldb, 16)); }
    if (rows > 2) { c20 = f32x4.add(c20, v128.load(y + 2 * ldb)); c21 = f32x4.add(c21, v128.load(y + 2 * ldb, 16)); }
    if (rows > 3) { c30 = f32x4.add(c30, v128.load(y + 3 * ldb)); c31 = f32x4.add(c31, v128.load(y + 3 * ldb, 16)); }
  }
  v128.store(y, c00); v128.store(y, c01, 16);
  if (rows > 1) { v128.store(y + ldb, c10); v128.store(y + ldb, c11, 16); }
  if (rows > 2) { v128.store(y + 2 * ldb, c20); v128.store(y + 2 * ldb, c21, 16); }
  if (rows > 3) { v128.store(y + 3 * ldb, c30); v128.store(y + 3 * ldb, c31, 16); }
}

/**
 * y [N·OH·OW, O] = direct convolution of xp [N, Hp, Wp, C] with
 * w [kH·kW·C, O], plus bias [O] (pointer 0: none). See the section header.
 *
 * With dilation 1 along the width, one kernel row of a patch (kW·C floats)
 * is contiguous in xp and its kW·C rows of w are consecutive, so the inner
 * loop runs over kW·C elements at a time (3 for a 3×3 filter on one channel,
 * 48 on 16 channels) instead of C.
 */
export function conv2d_direct(
  y: usize, xp: usize, w: usize, bias: usize,
  N: i32, Hp: i32, Wp: i32, C: i32, kH: i32, kW: i32, OH: i32, OW: i32,
  sH: i32, sW: i32, dH: i32, dW: i32, O: i32,
): void {
  const P = N * OH * OW;
  const ldb = <usize>O << 2; // bytes per row of w and y
  const tapH = (<usize>(dH * Wp * C)) << 2; // bytes between kernel rows
  const tapW = (<usize>(dW * C)) << 2; // bytes between kernel columns
  const run = dW == 1 ? kW * C : C; // contiguous elements per run
  const runs = dW == 1 ? 1 : kW; // runs per kernel row
  // Output pixel (n, oh, ow) of the next tile row, stepped without divisions.
  let n = 0, oh = 0, ow = 0;
  for (let p0 = 0; p0 < P; p0 += 4) {
    const rows = min(4, P - p0);
    let b0: usize = 0, b1: usize = 0, b2: usize = 0, b3: usize = 0;
    for (let r = 0; r < 4; r++) {
      let b: usize;
      if (r < rows) {
        b = xp + ((<usize>((n * Hp + oh * sH) * Wp + ow * sW) * <usize>C) << 2);
        if (++ow == OW) {
          ow = 0;
          if (++oh == OH) {
            oh = 0;
            n++;
          }
        }
      } else {
        b = r == 1 ? b0 : r == 2 ? b1 : b2;
      }
      if (r == 0) b0 = b;
      else if (r == 1) b1 = b;
      else if (r == 2) b2 = b;
      else b3 = b;
    }
    const yRow = y + <usize>p0 * ldb;
    let j0 = 0;
    for (; j0 + 8 <= O; j0 += 8) {
      const z0 = bias != 0 ? v128.load(bias + (<usize>j0 << 2)) : f32x4.splat(0);
      const z1 = bias != 0 ? v128.load(bias + (<usize>j0 << 2), 16) : f32x4.splat(0);
      let c00 = z0, c01 = z1, c10 = z0, c11 = z1, c20 = z0, c21 = z1, c30 = z0, c31 = z1;
      let wp = w + (<usize>j0 << 2);
      for (let kh = 0; kh < kH; kh++) {
        let off = <usize>kh * tapH;
        for (let q = 0; q < runs; q++) {
          let a0 = b0 + off, a1 = b1 + off, a2 = b2 + off, a3 = b3 + off;
          const aEnd = a0 + (<usize>run << 2);
          while (a0 < aEnd) {
            const w0 = v128.load(wp);
            const w1 = v128.load(wp, 16);
            let a = v128.load32_splat(a0);
            c00 = vmadd(a, w0, c00); c01 = vmadd(a, w1, c01);
            a = v128.load32_splat(a1);
            c10 = vmadd(a, w0, c10); c11 = vmadd(a, w1, c11);
            a = v128.load32_splat(a2);
            c20 = vmadd(a, w0, c20); c21 = vmadd(a, w1, c21);
            a = v128.load32_splat(a3);
            c30 = vmadd(a, w0, c30); c31 = vmadd(a, w1, c31);
            a0 += 4; a1 += 4; a2 += 4; a3 += 4;
            wp += ldb;
          }
          off += tapW;
        }
      }
      store4x8(yRow + (<usize>j0 << 2), ldb, rows, 0, c00, c01, c10, c11, c20, c21, c30, c31);
    }
    // Four more output channels (O mod 8 ≥ 4): a 4×4 tile.
    if (j0 + 4 <= O) {
      const z = bias != 0 ? v128.load(bias + (<usize>j0 << 2)) : f32x4.splat(0);
      let c0 = z, c1 = z, c2 = z, c3 = z;
      let wp = w + (<usize>j0 << 2);
      for (let kh = 0; kh < kH; kh++) {
        let off = <usize>kh * tapH;
        for (let q = 0; q < runs; q++) {
          let a0 = b0 + off, a1 = b1 + off, a2 = b2 + off, a3 = b3 + off;
          const aEnd = a0 + (<usize>run << 2);
          while (a0 < aEnd) {
            const w0 = v128.load(wp);
            c0 = vmadd(v128.load32_splat(a0), w0, c0);
            c1 = vmadd(v128.load32_splat(a1), w0, c1);
            c2 = vmadd(v128.load32_splat(a2), w0, c2);
            c3 = vmadd(v128.load32_splat(a3), w0, c3);
            a0 += 4; a1 += 4; a2 += 4; a3 += 4;
            wp += ldb;
          }
          off += tapW;
        }
      }
      const dst = yRow + (<usize>j0 << 2);
      v128.store(dst, c0);
      if (rows > 1) v128.store(dst + ldb, c1);
      if (rows > 2) v128.store(dst + 2 * ldb, c2);
      if (rows > 3) v128.store(dst + 3 * ldb, c3);
      j0 += 4;
    }
    // Remaining output channels (O mod 4): one at a time.
    for (; j0 < O; j0++) {
      for (let r = 0; r < rows; r++) {
        const base = r == 0 ? b0 : r == 1 ? b1 : r == 2 ? b2 : b3;
        let s: f32 = bias != 0 ? load<f32>(bias + (<usize>j0 << 2)) : 0;
        let wp = w + (<usize>j0 << 2);
        for (let kh = 0; kh < kH; kh++) {
          let off = <usize>kh * tapH;
          for (let q = 0; q < runs; q++) {
            const a = base + off;
            for (let i = 0; i < run; i++) {
              s += load<f32>(a + (<usize>i << 2)) * load<f32>(wp);
              wp += ldb;
            }
            off += tapW;
          }
        }
        store<f32>(yRow + <usize>r * ldb + (<usize>j0 << 2), s);
      }
    }
  }
}

// Byte offset within a patch of row k = (kh·kW + kw)·C + c of the patch matrix.
@inline function tapOffset(k: i32, C: i32, kW: i32, Wp: i32, dH: i32, dW: i32): usize {
  const t = k / C;
  const c = k - t * C;
  const kh = t / kW;
  const kw = t - kh * kW;
  return (<usize>((kh * dH * Wp + kw * dW) * C + c)) << 2;
}

/**
 * dw [kH·kW·C, O] = (beta ? dw : 0) + Σ_p patch(p)ᵀ · dy[p, :] over the
 * padded input xp [N, Hp, Wp, C] and dy [N·OH·OW, O] (see the section header),
 * and, unless db is 0, the bias gradient db [O] = (beta ? db : 0) + Σ_p dy[p, :].
 * Pixels are processed in chunks of PCHUNK so the chunk's dy rows and input
 * patches stay in cache across all tiles of dw.
 */
export function conv2d_filter_grad(
  dw: usize, db: usize, xp: usize, dy: usize,
  N: i32, Hp: i32, Wp: i32, C: i32, kH: i32, kW: i32, OH: i32, OW: i32,
  sH: i32, sW: i32, dH: i32, dW: i32, O: i32, beta: i32,
): void {
  const P = N * OH * OW;
  const K = kH * kW * C;
  const ldb = <usize>O << 2;
  if (beta == 0) {
    memory.fill(dw, 0, <usize>K * ldb);
    if (db != 0) memory.fill(db, 0, ldb);
  }
  let n = 0, oh = 0, ow = 0; // output pixel of the next chunk entry
  for (let p0 = 0; p0 < P; p0 += PCHUNK) {
    const pc = min(PCHUNK, P - p0);
    if (db != 0) {
      // db += Σ of this chunk's dy rows, while they are in cache.
      for (let i = 0; i < pc; i++) {
        const g = dy + <usize>(p0 + i) * ldb;
        let j: usize = 0;
        for (; j + 16 <= ldb; j += 16) v128.store(db + j, f32x4.add(v128.load(db + j), v128.load(g + j)));
        for (; j < ldb; j += 4) store<f32>(db + j, load<f32>(db + j) + load<f32>(g + j));
      }
    }
    for (let i = 0; i < pc; i++) {
      store<u32>(BASES + (<usize>i << 2), <u32>((<usize>((n * Hp + oh * sH) * Wp + ow * sW) * <usize>C) << 2));
      if (++ow == OW) {
        ow = 0;
        if (++oh == OH) {
          oh = 0;
          n++;
        }
      }
    }
    const dyChunk = dy + <usize>p0 * ldb;
    for (let k0 = 0; k0 < K; k0 += 4) {
      const rows = min(4, K - k0);
      const o0 = xp + tapOffset(k0, C, kW, Wp, dH, dW);
      const o1 = rows > 1 ? xp + tapOffset(k0 + 1, C, kW, Wp, dH, dW) : o0;
      const o2 = rows > 2 ? xp + tapOffset(k0 + 2, C, kW, Wp, dH, dW) : o1;
      const o3 = rows > 3 ? xp + tapOffset(k0 + 3, C, kW, Wp, dH, dW) : o2;
      const dwRow = dw + <usize>k0 * ldb;
      const contig = o1 == o0 + 4 && o2 == o0 + 8 && o3 == o0 + 12; // rows == 4, one tap
      const bEnd = BASES + (<usize>pc << 2);
      let j0 = 0;
      if (rows == 1) {
        // A single row left (K mod 4 == 1: a 3×3 filter on one channel has
        // K = 9): a 1×8 tile instead of a 4×8 one computing three copies.
        for (; j0 + 8 <= O; j0 += 8) {
          let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
          let g = dyChunk + (<usize>j0 << 2);
          let bp = BASES;
          while (bp < bEnd) {
            const a = v128.load32_splat(o0 + <usize>load<u32>(bp));
            c00 = vmadd(a, v128.load(g), c00);
            c01 = vmadd(a, v128.load(g, 16), c01);
            g += ldb;
            bp += 4;
          }
          const dst = dwRow + (<usize>j0 << 2);
          v128.store(dst, f32x4.add(c00, v128.load(dst)));
          v128.store(dst, f32x4.add(c01, v128.load(dst, 16)), 16);
        }
      }
      for (; j0 + 8 <= O; j0 += 8) {
        let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
        let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
        let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
        let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
        let g = dyChunk + (<usize>j0 << 2);
        let bp = BASES;
        if (contig) {
          // Four consecutive channels of one tap: one address per pixel, the
          // four taps at constant offsets. First pixel peeled (pc ≥ 1): see
          // the note above.
          {
            const a0 = o0 + <usize>load<u32>(bp);
            const g0 = v128.load(g);
            const g1 = v128.load(g, 16);
            let a = v128.load32_splat(a0);
            c00 = vmadd(a, g0, c00); c01 = vmadd(a, g1, c01);
            a = v128.load32_splat(a0, 4);
            c10 = vmadd(a, g0, c10); c11 = vmadd(a, g1, c11);
            a = v128.load32_splat(a0, 8);
            c20 = vmadd(a, g0, c20); c21 = vmadd(a, g1, c21);
            a = v128.load32_splat(a0, 12);
            c30 = vmadd(a, g0, c30); c31 = vmadd(a, g1, c31);
            g += ldb;
            bp += 4;
          }
          while (bp < bEnd) {
            const a0 = o0 + <usize>load<u32>(bp);
            const g0 = v128.load(g);
            const g1 = v128.load(g, 16);
            let a = v128.load32_splat(a0);
            c00 = vmadd(a, g0, c00); c01 = vmadd(a, g1, c01);
            a = v128.load32_splat(a0, 4);
            c10 = vmadd(a, g0, c10); c11 = vmadd(a, g1, c11);
            a = v128.load32_splat(a0, 8);
            c20 = vmadd(a, g0, c20); c21 = vmadd(a, g1, c21);
            a = v128.load32_splat(a0, 12);
            c30 = vmadd(a, g0, c30); c31 = vmadd(a, g1, c31);
            g += ldb;
            bp += 4;
          }
        } else {
          while (bp < bEnd) {
            const base = <usize>load<u32>(bp);
            const g0 = v128.load(g);
            const g1 = v128.load(g, 16);
            let a = v128.load32_splat(o0 + base);
            c00 = vmadd(a, g0, c00); c01 = vmadd(a, g1, c01);
            a = v128.load32_splat(o1 + base);
            c10 = vmadd(a, g0, c10); c11 = vmadd(a, g1, c11);
            a = v128.load32_splat(o2 + base);
            c20 = vmadd(a, g0, c20); c21 = vmadd(a, g1, c21);
            a = v128.load32_splat(o3 + base);
            c30 = vmadd(a, g0, c30); c31 = vmadd(a, g1, c31);
            g += ldb;
            bp += 4;
          }
        }
        store4x8(dwRow + (<usize>j0 << 2), ldb, rows, 1, c00, c01, c10, c11, c20, c21, c30, c31);
      }
      for (; j0 < O; j0++) {
        for (let r = 0; r < rows; r++) {
          const o = r == 0 ? o0 : r == 1 ? o1 : r == 2 ? o2 : o3;
          let s: f32 = 0;
          let g = dyChunk + (<usize>j0 << 2);
          for (let i = 0; i < pc; i++) {
            s += load<f32>(o + <usize>load<u32>(BASES + (<usize>i << 2))) * load<f32>(g);
            g += ldb;
          }
          const dst = dwRow + <usize>r * ldb + (<usize>j0 << 2);
          store<f32>(dst, load<f32>(dst) + s);
        }
      }
    }
  }
}

/** out [kH·kW, O, C] = w [kH·kW, C, O] with the taps reversed: out[t, o, c] = w[T−1−t, c, o]. */
export function conv_filter_flip(out: usize, w: usize, T: i32, C: i32, O: i32): void {
  for (let t = 0; t < T; t++) {
    const src = w + ((<usize>(T - 1 - t) * C * O) << 2);
    const dst = out + ((<usize>t * O * C) << 2);
    for (let o = 0; o < O; o++) {
      for (let c = 0; c < C; c++) {
        store<f32>(dst + ((<usize>(o * C + c)) << 2), load<f32>(src + ((<usize>(c * O + o)) << 2)));
      }
    }
  }
}

/**
 * out [N, Hp, Wp, C][n, i, j] = x [N, H, W, C][n, i − top, j − left], zero
 * outside x. top/left may be negative (crops).
 */
export function pad_nhwc(
  out: usize, x: usize, N: i32, H: i32, W: i32, C: i32, Hp: i32, Wp: i32, top: i32, left: i32,
): void {
  const cb = <usize>C << 2;
  const outRow = <usize>Wp * cb;
  const j0 = max(0, left); // first output column with a source pixel
  const j1 = min(Wp, W + left); // one past the last
  let dst = out;
  for (let n = 0; n < N; n++) {
    const img = x + <usize>n * H * W * cb;
    for (let i = 0; i < Hp; i++) {
      const si = i - top;
      if (si < 0 || si >= H || j1 <= j0) {
        memory.fill(dst, 0, outRow);
      } else {
        if (j0 > 0) memory.fill(dst, 0, <usize>j0 * cb);
        copyF32(dst + <usize>j0 * cb, img + (<usize>si * W + <usize>(j0 - left)) * cb, <usize>(j1 - j0) * cb);
        if (j1 < Wp) memory.fill(dst + <usize>j1 * cb, 0, <usize>(Wp - j1) * cb);
      }
      dst += outRow;
    }
  }
}
