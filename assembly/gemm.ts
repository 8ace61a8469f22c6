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
//         for jr in NC step NR   │   one Bp panel (KC·NR floats, 8 KiB) stays in L1
//           for ir in MC step MR │   Ap (MC·KC floats, 64 KiB) stays in L2
//             micro-kernel: C[ir:ir+MR, jr:jr+NR] += Ap_panel · Bp_panel
//
// Packed layouts (k runs down, one row of the panel per k):
//
//   Ap panel (MR = 4 rows):   k=0: a0 a1 a2 a3 | k=1: a0 a1 a2 a3 | ...
//   Bp panel (NR = 8 cols):   k=0: b0 … b7     | k=1: b0 … b7     | ...
//
// Both transposed variants pack through the same 4×4 SIMD transpose, so Aᵀ·B
// and A·Bᵀ (the ones backpropagation uses) run as fast as A·B.
//
// The micro-kernel holds a 4×8 tile of C in eight f32x4 registers; each k
// step broadcasts four A values and multiplies them with two B vectors. Larger
// tiles exceed V8's ~15 allocatable vector registers and spill (TOOLCHAIN.md).
// The relaxed build (ASC_FEATURE_RELAXED_SIMD) uses f32x4.relaxed_madd, a fused
// multiply-add on CPUs that have one.
//
// Partial tiles at the M and N edges are computed in full (packs are zero
// padded) and stored through a 4×8 scratch tile.

const MR: i32 = 4;
const NR: i32 = 8;
const KC: i32 = 256;
const MC: i32 = 64;
const NC: i32 = 1024;

/** Bytes of workspace `gemm` needs: one packed B block and one packed A block. */
export function gemm_workspace_bytes(): i32 {
  return (KC * NC + MC * KC) << 2;
}

// 4×8 scratch for partial tiles.
const EDGE: usize = memory.data(MR * NR * 4, 16);

@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

// ─── packing ────────────────────────────────────────────────────────────────

// Transposes the 4×4 block at src (row stride `ld` bytes) into dst as 4 rows of
// 4 floats (dst stride `dstStride` bytes): dst[c][r] = src[r][c].
@inline function transpose4x4(src: usize, ld: usize, dst: usize, dstStride: usize): void {
  const r0 = v128.load(src);
  const r1 = v128.load(src + ld);
  const r2 = v128.load(src + 2 * ld);
  const r3 = v128.load(src + 3 * ld);
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5); // r0[0] r1[0] r0[1] r1[1]
  const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5); // r2[0] r3[0] r2[1] r3[1]
  const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(dst + dstStride, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(dst + 2 * dstStride, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * dstStride, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}

// Packs op(A)[i0:i0+mc, p0:p0+kc] into MR-row panels at dst.
// Element (i, p) of op(A) is a[i*lda + p] (not transposed) or a[p*lda + i].
function packA(dst: usize, a: usize, lda: i32, transA: bool, i0: i32, p0: i32, mc: i32, kc: i32): void {
  const ldab = <usize>lda << 2;
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = min(MR, mc - ir);
    const panel = dst + ((<usize>ir * kc) << 2);
    if (rows == MR) {
      if (transA) {
        // op(A) column i..i+3 at depth p is contiguous: a[p*lda + i .. i+3].
        let src = a + ((<usize>p0 * lda + i0 + ir) << 2);
        for (let p = 0; p < kc; p++) {
          v128.store(panel + (<usize>p << 4), v128.load(src));
          src += ldab;
        }
      } else {
        const src = a + ((<usize>(i0 + ir) * lda + p0) << 2);
        let p = 0;
        for (; p + 4 <= kc; p += 4) {
          transpose4x4(src + (<usize>p << 2), ldab, panel + (<usize>p << 4), 16);
        }
        for (; p < kc; p++) {
          const s = src + (<usize>p << 2);
          const d = panel + (<usize>p << 4);
          store<f32>(d, load<f32>(s));
          store<f32>(d, load<f32>(s + ldab), 4);
          store<f32>(d, load<f32>(s + 2 * ldab), 8);
          store<f32>(d, load<f32>(s + 3 * ldab), 12);
        }
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const d = panel + (<usize>p << 4);
        for (let r = 0; r < MR; r++) {
          let v: f32 = 0;
          if (r < rows) {
            const i = i0 + ir + r;
            v = transA
              ? load<f32>(a + ((<usize>(p0 + p) * lda + i) << 2))
              : load<f32>(a + ((<usize>i * lda + p0 + p) << 2));
          }
          store<f32>(d + (<usize>r << 2), v);
        }
      }
    }
  }
}

// Packs op(B)[p0:p0+kc, j0:j0+nc] into NR-column panels at dst.
// Element (p, j) of op(B) is b[p*ldb + j] (not transposed) or b[j*ldb + p].
function packB(dst: usize, b: usize, ldb: i32, transB: bool, p0: i32, j0: i32, kc: i32, nc: i32): void {
  const ldbb = <usize>ldb << 2;
  for (let jr = 0; jr < nc; jr += NR) {
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
        for (let p = 0; p < kc; p++) {
          const d = panel + (<usize>p << 5);
          v128.store(d, v128.load(src));
          v128.store(d, v128.load(src, 16), 16);
          src += ldbb;
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
    }
  }
}

// ─── micro-kernel ───────────────────────────────────────────────────────────

// C[0:mr, 0:nr] = alpha · (Ap · Bp) + beta · C   (beta == 0: C not read)
// ap: MR×kc packed panel, bp: kc×NR packed panel, c: top-left of the tile.
function micro4x8(kc: i32, ap: usize, bp: usize, c: usize, ldcb: usize, mr: i32, nr: i32, alpha: f32, beta: f32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(ap, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(ap, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(ap, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    ap += 16;
    bp += 32;
  }
  const va = f32x4.splat(alpha);
  if (mr == MR && nr == NR) {
    if (beta == 0) {
      v128.store(c, f32x4.mul(c00, va));
      v128.store(c, f32x4.mul(c01, va), 16);
      c += ldcb;
      v128.store(c, f32x4.mul(c10, va));
      v128.store(c, f32x4.mul(c11, va), 16);
      c += ldcb;
      v128.store(c, f32x4.mul(c20, va));
      v128.store(c, f32x4.mul(c21, va), 16);
      c += ldcb;
      v128.store(c, f32x4.mul(c30, va));
      v128.store(c, f32x4.mul(c31, va), 16);
    } else {
      const vb = f32x4.splat(beta);
      v128.store(c, madd(c00, va, f32x4.mul(v128.load(c), vb)));
      v128.store(c, madd(c01, va, f32x4.mul(v128.load(c, 16), vb)), 16);
      c += ldcb;
      v128.store(c, madd(c10, va, f32x4.mul(v128.load(c), vb)));
      v128.store(c, madd(c11, va, f32x4.mul(v128.load(c, 16), vb)), 16);
      c += ldcb;
      v128.store(c, madd(c20, va, f32x4.mul(v128.load(c), vb)));
      v128.store(c, madd(c21, va, f32x4.mul(v128.load(c, 16), vb)), 16);
      c += ldcb;
      v128.store(c, madd(c30, va, f32x4.mul(v128.load(c), vb)));
      v128.store(c, madd(c31, va, f32x4.mul(v128.load(c, 16), vb)), 16);
    }
    return;
  }
  // Edge tile: spill the accumulators, then store the valid part element-wise.
  v128.store(EDGE, c00); v128.store(EDGE, c01, 16);
  v128.store(EDGE, c10, 32); v128.store(EDGE, c11, 48);
  v128.store(EDGE, c20, 64); v128.store(EDGE, c21, 80);
  v128.store(EDGE, c30, 96); v128.store(EDGE, c31, 112);
  for (let r = 0; r < mr; r++) {
    const row = c + <usize>r * ldcb;
    for (let j = 0; j < nr; j++) {
      const v = alpha * load<f32>(EDGE + ((<usize>(r * NR + j)) << 2));
      const dst = row + (<usize>j << 2);
      store<f32>(dst, beta == 0 ? v : v + beta * load<f32>(dst));
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
  transA: bool, transB: bool, alpha: f32, beta: f32,
): void {
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == 0) {
    scaleC(c, m, n, ldc, beta);
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
      packB(bPack, b, ldb, transB, pc, jc, kc, nc);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packA(aPack, a, lda, transA, ic, pc, mc, kc);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const bp = bPack + ((<usize>jr * kc) << 2);
          const cCol = c + ((<usize>(jc + jr)) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            micro4x8(
              kc, aPack + ((<usize>ir * kc) << 2), bp,
              cCol + <usize>(ic + ir) * ldcb, ldcb,
              min(MR, mc - ir), nr, alpha, betaBlock,
            );
          }
        }
      }
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
  gemmOne(c, a, b, ws, m, n, k, lda, ldb, ldc, transA != 0, transB != 0, alpha, beta);
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
      m, n, k, lda, ldb, ldc, transA != 0, transB != 0, alpha, beta,
    );
  }
}
