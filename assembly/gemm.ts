// GEMM: C = alpha · op(A) · op(B) + beta · C, single precision, row-major.
//
//   op(A) is [M,K]: A itself ([M,K], lda ≥ K) or Aᵀ (A is [K,M], lda ≥ M)
//   op(B) is [K,N]: B itself ([K,N], ldb ≥ N) or Bᵀ (B is [N,K], ldb ≥ K)
//   C is [M,N] with ldc ≥ N. When beta == 0, C is write-only (it may hold NaN).
//
// The Goto/BLIS scheme (Goto & van de Geijn, "Anatomy of High-Performance
// Matrix Multiplication", 2008):
//
//   for jc in N step NC          ┐
//     for pc in K step KC        │ pack op(B)[pc:pc+KC, jc:jc+NC] → Bp (panels of NR columns)
//       for ic in M step MC      │ pack op(A)[ic:ic+MC, pc:pc+KC] → Ap (panels of MR rows)
//         for jr in NC step NR   │   one Bp panel (KC·NR floats, ≤ 32 KiB) is reused MC/MR times
//           for ir in MC step MR │   Ap (MC·KC floats, ≤ 384 KiB) stays in L2
//             micro-kernel: C[ir:ir+MR, jr:jr+NR] += Ap_panel · Bp_panel
//
// Block sizes: KC = 1024 is four times the textbook choice (a Bp panel of
// 8 KiB that lives in L1). Each K block after the first reads C back and
// adds to it, so K ≤ 1024 (every weight gradient of a batch of ≤ 1024 rows)
// now runs in one block, through the two-tile kernel (below); the panels
// stream from L2 fast enough. Measured interleaved in one process against
// KC = 256 (NC = 1024): products with K of 768–2048 (768², 1024², and
// 1024×2048 · 2048×512) 12–17% faster, squares of 128–512 within ±5%, the
// benchmark transformer's GEMMs 1–3% faster; KC = 512 gained nothing, and
// NC = 256 beat 512 and 1024 with KC = 1024.
//
// Packed layouts (k runs down, one row of the panel per k):
//
//   Ap panel (MR rows):   k=0: a0 a1 … a(MR-1) | k=1: a0 a1 … a(MR-1) | ...
//   Bp panel (NR = 8):    k=0: b0 … b7         | k=1: b0 … b7         | ...
//
// Both transposed variants pack through 4×4 SIMD transposes (or plain vector
// copies), so Aᵀ·B and A·Bᵀ (the ones backpropagation uses) run as fast as A·B.
//
// Micro-kernel and tile shape (the kernels and the A packers are in tiles.ts,
// shared with rnn.ts). Each k step loads two B vectors, broadcasts MR
// A values (v128.load32_splat, a load-port op, no shuffle) and does 2·MR
// multiply-adds into a MR×8 tile of C held in 2·MR f32x4 registers. V8
// (TurboFan, x64) has 15 allocatable vector registers, which sets MR per build:
//
//   relaxed build: MR = 6. relaxed_madd is one fused op: 12 accumulators +
//     2 B + 1 A = 15 registers exactly. The loop is then bound by the two FMA
//     pipes instead of instruction issue: ~15% faster than 4×8 (measured).
//   plain build:   MR = 5. mul + add needs a temporary: 10 + 2 + 1 + 1 = 14.
//     A 6×8 tile spills; 5×8 is ~10% faster than 4×8 (measured).
//
// Neither kernel unrolls k: unrolled loops get their loads hoisted and spill.
//
// Peeled first k step. V8 (TurboFan, Node 20) computes the address of a
// v128.load32_splat with a non-zero offset as (memory start + offset) + ap,
// the first sum a node of its own. Inside the loop that is a lea per such
// broadcast (4 per k step in the 6×8 kernel: ~30 instructions for 12 FMAs);
// when the same broadcasts also occur before the loop, GVN shares the sums
// and they are computed once, outside it. So each kernel runs its first k step
// ahead of the loop (kc ≥ 1 always). Measured interleaved in one process on
// the benchmark transformer's GEMM shapes: 2–6% faster in the relaxed build
// (more when the shared host is busy), 12–16% in the plain SIMD build. (A
// strip kernel looping over several tiles per call, to save the per-tile
// call, spills: V8 hoists the loads of the nested k loop. So does unrolling k.)
//
// Two tiles per call (relaxed build). Full 6×8 tiles of C = A·B (+ bias),
// alpha = 1 and beta = 0 (every forward and input-gradient GEMM of a layer,
// and the first K block of a weight gradient), go two at a time, columns
// j…j+15, through micro6x16: the same two k loops one after the other in one
// function, so half the calls, none of micro6x8's edge and alpha/beta
// arguments, and the same bits. Measured interleaved in one process on the
// benchmark transformer's twelve GEMM shapes: 4–9% less time in total (more
// when the shared host is busy), and 3–5% off the whole training step.
// gemm_bias_act's relu goes through micro6x16r (the same, then relu over
// the stored tile while it is in L1) instead of a reluTile call per tile:
// the bench transformer's FFN1 forward 5.5% faster. (Not
// taken: four tiles per call, 2% slower than two; a two-tile beta = 1
// variant, which V8 compiles with spills in the k loops; two tiles in the
// plain SIMD build, no faster there.)
//
// A in place. When op(A) = A (not transposed) has a row stride of 64, 128
// or 192 floats — a small layer's activations or their gradients — the
// tiles of C = A·B (+ bias) read A where it lies and only a short last panel
// is packed: micro6x16a64/a128/a192 in the relaxed build (blocks whose
// columns come in whole pairs), micro5x8a64/… in the plain one (whole 8s),
// each row's value at a constant offset from one pointer that moves 4 bytes
// per k. K is then at most 192, so each packed value would feed few
// multiply-adds and packing is 5–10% of such a product. Measured interleaved
// on the bench transformer's twelve GEMM shapes: relaxed build 3.5% less
// time (forward and input-gradient products 2–10% faster), training step
// 1.7%; plain build 4.1%, step ~2% (paired, one process). Same bits. (A transposed A
// — the weight gradients — read in place with a runtime stride made those
// products ~15% slower: each k step touches a new cache line of A.)
//
// Edges. A block whose row count is not a multiple of MR ends in 4-row panels
// run by a 4×8 kernel where that wastes fewer rows than an MR-row panel
// (panelRows: M = 64 → ten 6-row panels and one 4-row one). Packs are zero
// padded, so partial tiles (rows or columns short of the panel) are computed
// in full and stored through a scratch tile.

import { micro4x8, micro5x8, micro5x8a64, micro5x8a128, micro5x8a192, micro6x8, micro6x16, micro6x16a64, micro6x16a128, micro6x16a192, micro6x16r, packAPanel, packAPartial, relu4 } from "./tiles";
import { transpose4x4 } from "./vmath";

const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 6 : 5;
const NR: i32 = 8;
const KC: i32 = 1024;
const MC: i32 = MR * 16; // a multiple of MR
const NC: i32 = 256;

/**
 * Bytes of workspace `gemm` needs: one packed B block and one packed A block
 * (plus 4 rows: a block's last panel may reach past its last row).
 */
export function gemm_workspace_bytes(): i32 {
  return (KC * NC + (MC + 4) * KC) << 2;
}

// Height of the A panel that starts with `rem` rows left in the block: MR, or
// 4 for a tail of at most 4 rows (run by micro4x8 rather than a half-empty
// MR×8 tile) and for the first of the last 8 rows (two 4-row panels rather
// than an MR-row one and a mostly empty one).
@inline function panelRows(rem: i32): i32 {
  return rem <= 4 || rem == 8 ? 4 : MR;
}

// ─── packing ────────────────────────────────────────────────────────────────

// Packs op(A)[i0:i0+mc, p0:p0+kc] into panels at dst (MR or 4 rows each, see
// panelRows; the panel holding row ir starts at ir·kc floats). Element (i, p) of op(A) is a[i*lda + p]
// (not transposed) or a[p*lda + i]. skipFull: full MR-row panels are left
// out (the kernels read those rows in place; see "A in place").
function packA(dst: usize, a: usize, lda: i32, transA: bool, i0: i32, p0: i32, mc: i32, kc: i32, skipFull: bool): void {
  const ldab = <usize>lda << 2;
  for (let ir = 0, h = 0; ir < mc; ir += h) {
    h = panelRows(mc - ir);
    const rows = min(h, mc - ir);
    if (skipFull && h == MR && rows == MR) continue;
    const panel = dst + ((<usize>ir * kc) << 2);
    const src = transA
      ? a + ((<usize>p0 * lda + i0 + ir) << 2)
      : a + ((<usize>(i0 + ir) * lda + p0) << 2);
    if (rows < h) packAPartial(panel, src, ldab, transA, h, rows, kc);
    else packAPanel(panel, src, ldab, transA, h, kc);
  }
}

// Packs op(B)[p0:p0+kc, j0:j0+nc] into NR-column panels at dst.
// Element (p, j) of op(B) is b[p*ldb + j] (not transposed) or b[j*ldb + p].
// colsum ≠ 0 (B not transposed only): also adds each column's sum over the
// kc rows to colsum[j0 + j] — the bias gradient of gemm_wgrad, taken while
// the rows pass through registers anyway.
function packB(dst: usize, b: usize, ldb: i32, transB: bool, p0: i32, j0: i32, kc: i32, nc: i32, colsum: usize): void {
  const ldbb = <usize>ldb << 2;
  let jr = 0;
  if (!transB) {
    // Two panels per pass over the rows: 16 columns are one 64-byte line of
    // B. (With a power-of-two ldb the rows share a few L1 sets, so a line
    // read for one panel is gone before the next panel's pass reaches it.)
    const panelBytes = <usize>kc << 5;
    for (; jr + 2 * NR <= nc; jr += 2 * NR) {
      let src = b + ((<usize>p0 * ldb + j0 + jr) << 2);
      let d = dst + ((<usize>jr * kc) << 2);
      if (colsum != 0) {
        let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0;
        for (let p = 0; p < kc; p++) {
          const v0 = v128.load(src), v1 = v128.load(src, 16), v2 = v128.load(src, 32), v3 = v128.load(src, 48);
          v128.store(d, v0);
          v128.store(d, v1, 16);
          v128.store(d + panelBytes, v2);
          v128.store(d + panelBytes, v3, 16);
          s0 = f32x4.add(s0, v0);
          s1 = f32x4.add(s1, v1);
          s2 = f32x4.add(s2, v2);
          s3 = f32x4.add(s3, v3);
          src += ldbb;
          d += 32;
        }
        const cs = colsum + ((<usize>(j0 + jr)) << 2);
        v128.store(cs, f32x4.add(v128.load(cs), s0));
        v128.store(cs, f32x4.add(v128.load(cs, 16), s1), 16);
        v128.store(cs, f32x4.add(v128.load(cs, 32), s2), 32);
        v128.store(cs, f32x4.add(v128.load(cs, 48), s3), 48);
        continue;
      }
      for (let p = 0; p < kc; p++) {
        v128.store(d, v128.load(src));
        v128.store(d, v128.load(src, 16), 16);
        v128.store(d + panelBytes, v128.load(src, 32));
        v128.store(d + panelBytes, v128.load(src, 48), 16);
        src += ldbb;
        d += 32;
      }
    }
  }
  for (; jr < nc; jr += NR) {
    const cols = min(NR, nc - jr);
    const panel = dst + ((<usize>jr * kc) << 2);
    if (cols == NR) {
      if (transB) {
        // Rows j..j+3 of B hold op(B) columns; transpose 4×4 blocks of them.
        const src = b + ((<usize>(j0 + jr) * ldb + p0) << 2);
        let p = 0;
        for (; p + 4 <= kc; p += 4) {
          const s = src + (<usize>p << 2);
          const d = panel + (<usize>p << 5);
          transpose4x4(s, ldbb, d, 32);
          transpose4x4(s + 4 * ldbb, ldbb, d + 16, 32);
        }
        for (; p < kc; p++) {
          const s = src + (<usize>p << 2);
          const d = panel + (<usize>p << 5);
          for (let c = 0; c < NR; c++) {
            store<f32>(d + (<usize>c << 2), load<f32>(s + <usize>c * ldbb));
          }
        }
      } else {
        let src = b + ((<usize>p0 * ldb + j0 + jr) << 2);
        if (colsum != 0) {
          let s0 = f32x4.splat(0), s1 = s0;
          for (let p = 0; p < kc; p++) {
            const d = panel + (<usize>p << 5);
            const v0 = v128.load(src), v1 = v128.load(src, 16);
            v128.store(d, v0);
            v128.store(d, v1, 16);
            s0 = f32x4.add(s0, v0);
            s1 = f32x4.add(s1, v1);
            src += ldbb;
          }
          const cs = colsum + ((<usize>(j0 + jr)) << 2);
          v128.store(cs, f32x4.add(v128.load(cs), s0));
          v128.store(cs, f32x4.add(v128.load(cs, 16), s1), 16);
        } else {
          for (let p = 0; p < kc; p++) {
            const d = panel + (<usize>p << 5);
            v128.store(d, v128.load(src));
            v128.store(d, v128.load(src, 16), 16);
            src += ldbb;
          }
        }
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const d = panel + (<usize>p << 5);
        for (let c = 0; c < NR; c++) {
          let v: f32 = 0;
          if (c < cols) {
            const j = j0 + jr + c;
            v = transB
              ? load<f32>(b + ((<usize>j * ldb + p0 + p) << 2))
              : load<f32>(b + ((<usize>(p0 + p) * ldb + j) << 2));
          }
          store<f32>(d + (<usize>c << 2), v);
        }
      }
      if (colsum != 0) {
        for (let c = 0; c < cols; c++) {
          const j = j0 + jr + c;
          let t: f32 = 0;
          for (let p = 0; p < kc; p++) t += load<f32>(b + ((<usize>(p0 + p) * ldb + j) << 2));
          const cs = colsum + (<usize>j << 2);
          store<f32>(cs, load<f32>(cs) + t);
        }
      }
    }
  }
}

// ─── drivers ────────────────────────────────────────────────────────────────

// C = beta · C over an m×n block (used when K == 0 or alpha == 0).
function scaleC(c: usize, m: i32, n: i32, ldc: i32, beta: f32): void {
  for (let i = 0; i < m; i++) {
    const row = c + ((<usize>i * ldc) << 2);
    for (let j = 0; j < n; j++) {
      const p = row + (<usize>j << 2);
      store<f32>(p, beta == 0 ? 0 : beta * load<f32>(p));
    }
  }
}

function gemmOne(
  c: usize, a: usize, b: usize, ws: usize,
  m: i32, n: i32, k: i32, lda: i32, ldb: i32, ldc: i32,
  transA: bool, transB: bool, alpha: f32, beta: f32, bias: usize, relu: bool, colsum: usize, res: usize,
): void {
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == 0) {
    scaleC(c, m, n, ldc, beta);
    if (bias != 0 || relu) biasReluC(c, m, n, ldc, bias, relu);
    if (colsum != 0) colSums(colsum, b, ldb, k, n);
    if (res != 0) for (let i = 0; i < m; i++) addTile(c + ((<usize>i * ldc) << 2), res + ((<usize>i * ldc) << 2), 0, 1, n);
    return;
  }
  const bPack = ws;
  const aPack = ws + ((<usize>KC * NC) << 2);
  const ldcb = <usize>ldc << 2;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const betaBlock: f32 = pc == 0 ? beta : 1;
      // The bias seeds the first K block's accumulators; relu follows the last block's tile stores.
      const biasBlock: usize = pc == 0 ? bias : 0;
      const reluBlock = relu && pc + kc >= k;
      // The residual is added to each tile of the last block once it is final.
      const resBlock = res != 0 && pc + kc >= k;
      packB(bPack, b, ldb, transB, pc, jc, kc, nc, colsum);
      // Full tiles of C = A·B (+ bias) go two per call: see the header.
      const pairs = MR == 6 && alpha == 1 && betaBlock == 0;
      // A read in place (no packing) for rows 64, 128 or 192 floats apart,
      // by the pair kernels (relaxed build) or the 5×8 ones (plain build):
      // see "A in place" in the header.
      const inPlace = alpha == 1 && betaBlock == 0 && !transA && (lda == 64 || lda == 128 || lda == 192) &&
        (nc & (MR == 6 ? 2 * NR - 1 : NR - 1)) == 0;
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packA(aPack, a, lda, transA, ic, pc, mc, kc, inPlace);
        for (let jr = 0, w = 0; jr < nc; jr += w) {
          w = pairs && jr + 2 * NR <= nc ? 2 * NR : min(NR, nc - jr); // columns this pass
          const bp = bPack + ((<usize>jr * kc) << 2);
          const cCol = c + ((<usize>(jc + jr)) << 2);
          const bt: usize = biasBlock == 0 ? 0 : biasBlock + ((<usize>(jc + jr)) << 2);
          for (let ir = 0, h = 0; ir < mc; ir += h) {
            h = panelRows(mc - ir);
            const mr = min(h, mc - ir);
            const ap = aPack + ((<usize>ir * kc) << 2);
            const ct = cCol + <usize>(ic + ir) * ldcb;
            const ai = a + ((<usize>(ic + ir) * lda + pc) << 2); // the panel's rows of A, for inPlace
            if (w == 2 * NR && mr == MR && h == MR) {
              // (relu, if any, inside the kernel, over the tile it has stored)
              if (inPlace) { // (MR == 6 here)
                if (lda == 64) micro6x16a64(kc, ai, bp, ct, ldcb, bt, reluBlock);
                else if (lda == 128) micro6x16a128(kc, ai, bp, ct, ldcb, bt, reluBlock);
                else micro6x16a192(kc, ai, bp, ct, ldcb, bt, reluBlock);
              }
              else if (reluBlock) micro6x16r(kc, ap, bp, ct, ldcb, bt);
              else micro6x16(kc, ap, bp, ct, ldcb, bt);
              if (resBlock) addTile(ct, ct - c + res, ldcb, MR, 2 * NR);
              continue;
            }
            for (let j = 0; j < w; j += NR) {
              const nr = min(NR, w - j);
              const bpJ = bp + ((<usize>j * kc) << 2), ctJ = ct + (<usize>j << 2);
              const btJ: usize = bt == 0 ? 0 : bt + (<usize>j << 2);
              if (MR == 5 && inPlace && h == MR && mr == MR) {
                if (lda == 64) micro5x8a64(kc, ai, bpJ, ctJ, ldcb, btJ);
                else if (lda == 128) micro5x8a128(kc, ai, bpJ, ctJ, ldcb, btJ);
                else micro5x8a192(kc, ai, bpJ, ctJ, ldcb, btJ);
              } else if (h == 4) micro4x8(kc, ap, bpJ, ctJ, ldcb, mr, nr, alpha, betaBlock, btJ);
              else if (MR == 6) micro6x8(kc, ap, bpJ, ctJ, ldcb, mr, nr, alpha, betaBlock, btJ);
              else micro5x8(kc, ap, bpJ, ctJ, ldcb, mr, nr, alpha, betaBlock, btJ);
            }
            if (reluBlock) reluTile(ct, ldcb, mr, w);
            if (resBlock) addTile(ct, ct - c + res, ldcb, mr, w);
          }
        }
      }
    }
  }
}

// C = max(C, 0) over an mr×nr tile (nr ≤ 16) just stored (still in L1).
function reluTile(c: usize, ldcb: usize, mr: i32, nr: i32): void {
  for (let r = 0; r < mr; r++) {
    const row = c + <usize>r * ldcb;
    if (nr == 2 * NR) {
      v128.store(row, relu4(v128.load(row)));
      v128.store(row, relu4(v128.load(row, 16)), 16);
      v128.store(row, relu4(v128.load(row, 32)), 32);
      v128.store(row, relu4(v128.load(row, 48)), 48);
    } else if (nr == NR) {
      v128.store(row, relu4(v128.load(row)));
      v128.store(row, relu4(v128.load(row, 16)), 16);
    } else {
      for (let j = 0; j < nr; j++) {
        const p = row + (<usize>j << 2);
        store<f32>(p, max(load<f32>(p), 0));
      }
    }
  }
}

// C[0:mr, 0:nr] += R[0:mr, 0:nr] over a tile just stored (in L1); R has C's
// row stride. Adding it as a separate step keeps the bits of an add pass
// after the GEMM: (A·B + bias) + R, rounded once.
@inline function addTile(c: usize, r: usize, ldcb: usize, mr: i32, nr: i32): void {
  for (let i = 0; i < mr; i++) {
    if (nr == 2 * NR) {
      v128.store(c, f32x4.add(v128.load(c), v128.load(r)));
      v128.store(c, f32x4.add(v128.load(c, 16), v128.load(r, 16)), 16);
      v128.store(c, f32x4.add(v128.load(c, 32), v128.load(r, 32)), 32);
      v128.store(c, f32x4.add(v128.load(c, 48), v128.load(r, 48)), 48);
    } else {
      for (let j = 0; j < nr; j++) {
        const o = <usize>j << 2;
        store<f32>(c + o, load<f32>(c + o) + load<f32>(r + o));
      }
    }
    c += ldcb;
    r += ldcb;
  }
}

// C[i, j] = act(C[i, j] + bias[j]) over an m×n block (bias 0: none).
function biasReluC(c: usize, m: i32, n: i32, ldc: i32, bias: usize, relu: bool): void {
  for (let i = 0; i < m; i++) {
    const row = c + ((<usize>i * ldc) << 2);
    for (let j = 0; j < n; j++) {
      const p = row + (<usize>j << 2);
      let v = load<f32>(p);
      if (bias != 0) v += load<f32>(bias + (<usize>j << 2));
      if (relu) v = max(v, 0);
      store<f32>(p, v);
    }
  }
}

/**
 * C = alpha · op(A)·op(B) + beta · C.
 * ws: gemm_workspace_bytes() of scratch, 16-byte aligned.
 */
export function gemm(
  c: usize, a: usize, b: usize, ws: usize,
  m: i32, n: i32, k: i32, lda: i32, ldb: i32, ldc: i32,
  transA: i32, transB: i32, alpha: f32, beta: f32,
): void {
  gemmOne(c, a, b, ws, m, n, k, lda, ldb, ldc, transA != 0, transB != 0, alpha, beta, 0, false, 0, 0);
}

/**
 * C = act(op(A)·op(B) + bias) + res: a dense layer's forward with its bias,
 * activation and a residual input fused into the GEMM (bias [n] broadcast
 * over rows, pointer 0: none; act 0: identity, 1: relu = max(·, 0),
 * NaN-propagating like relu_fwd; res [m, n] with C's row stride ldc, pointer
 * 0: none, must not overlap C). The residual is added to each tile of C as
 * soon as it is final (in L1), which saves a separate add pass over C.
 * The bias seeds the accumulators of the first K block and relu runs on each
 * tile right after it is stored, so C is written once — instead of a bias
 * copy into C, a beta = 1 GEMM that reads C back, and a relu pass. (Measured
 * on the bench transformer's 12 GEMM shapes: same speed as plain gemm; a
 * variant that added bias and relu in every tile's store epilogue made the
 * micro-kernels 2.3% slower for every caller.)
 */
export function gemm_bias_act(
  c: usize, a: usize, b: usize, ws: usize, bias: usize,
  m: i32, n: i32, k: i32, lda: i32, ldb: i32, ldc: i32,
  transA: i32, transB: i32, act: i32, res: usize,
): void {
  gemmOne(c, a, b, ws, m, n, k, lda, ldb, ldc, transA != 0, transB != 0, 1, 0, bias, act == 1, 0, res);
}

// colsum[j] += Σ_p b[p·ldb + j], p < k (the column sums of a non-transposed B).
function colSums(colsum: usize, b: usize, ldb: i32, k: i32, n: i32): void {
  for (let p = 0; p < k; p++) {
    const row = b + ((<usize>p * ldb) << 2);
    for (let j = 0; j < n; j++) {
      const cs = colsum + (<usize>j << 2);
      store<f32>(cs, load<f32>(cs) + load<f32>(row + (<usize>j << 2)));
    }
  }
}

/**
 * A dense layer's weight and bias gradients in one GEMM: dw [inF, outF] =
 * xᵀ·g and db [outF] = Σ_rows g (pointer 0: not wanted), for x [rows, inF]
 * and g [rows, outF]. The column sums are taken while the GEMM packs g (every
 * element of g passes through registers once there), which replaces a
 * separate sum_axis pass over g.
 */
export function gemm_wgrad(dw: usize, db: usize, x: usize, g: usize, ws: usize, inF: i32, outF: i32, rows: i32): void {
  if (db != 0) memory.fill(db, 0, <usize>outF << 2);
  if (inF == 0) {
    if (db != 0) colSums(db, g, outF, rows, outF);
    return;
  }
  gemmOne(dw, x, g, ws, inF, outF, rows, inF, outF, outF, true, false, 1, 0, 0, false, db, 0);
}

/**
 * Strided batched GEMM: for each of `batch` problems,
 * C + i·strideC = alpha · op(A + i·strideA)·op(B + i·strideB) + beta · (C + i·strideC).
 * Strides count elements; a stride of 0 broadcasts that operand over the batch.
 */
export function gemm_batched(
  c: usize, a: usize, b: usize, ws: usize,
  batch: i32, m: i32, n: i32, k: i32, lda: i32, ldb: i32, ldc: i32,
  strideA: i32, strideB: i32, strideC: i32,
  transA: i32, transB: i32, alpha: f32, beta: f32,
): void {
  for (let i = 0; i < batch; i++) {
    gemmOne(
      c + ((<usize>i * strideC) << 2), a + ((<usize>i * strideA) << 2), b + ((<usize>i * strideB) << 2), ws,
      m, n, k, lda, ldb, ldc, transA != 0, transB != 0, alpha, beta, 0, false, 0, 0,
    );
  }
}
