// Fused scaled dot-product attention: one forward and one backward kernel.
//
// For every batch entry b and head h, with queries i < Tq and keys j < Tk:
//
//   s_ij = scale · q_i·k_j + mask_ij              (mask additive, optional)
//   s_ij = −∞ for j > i + (Tk − Tq)               (causal, aligned bottom-right)
//   P_ij = e^{s_ij − lse_i},  lse_i = log Σ_j e^{s_ij}
//   P'_ij = P_ij · keep_ij / (1 − p)              (attention dropout, p ≥ 0)
//   o_i = Σ_j P'_ij v_j
//
// Backward (D_i = dO_i·o_i = Σ_j P_ij dP_ij):
//
//   dP'_ij = dO_i·v_j,   dP_ij = dP'_ij · keep_ij / (1 − p)
//   dS_ij = P_ij (dP_ij − D_i)                    (= d mask_ij)
//   dq_i = scale · Σ_j dS_ij k_j,   dk_j = scale · Σ_i dS_ij q_i,   dv_j = Σ_i P'_ij dO_i
//
// Memory: the forward keeps only lse (one float per query row) for the
// backward, which recomputes the scores tile by tile, so neither direction
// ever holds a Tq×Tk matrix (unless the weights are requested: `probs`); the
// scratch is O(Tk·D) per call. For short key sequences the op keeps the
// forward's `probs` instead and passes them to the backward, which then skips
// Q·Kᵀ and the exponentials (src/ops/attention.ts, STORE_PROBS_MAX_TK). Fully masked rows give o = 0 and zero
// gradients (lse is stored as +∞ so that P = e^{s − lse} = 0 in the backward).
//
// Tiling, per (b, h):
//   forward   for each tile of BQ = 16 queries: scores against all keys
//             (16 × Tk), an exact softmax per row (no online rescaling
//             needed: the whole row is at hand), then P'·V.
//   backward  for each block of up to 128 keys (FlashAttention-2's order):
//             for each 16-query tile: recompute the 16 × 128 scores and
//             dP', form dS, add dS·K into the dq rows, and accumulate the
//             block's dK, dV in cache-resident scratch; write them when the
//             block is done.
//
// Layout: Q is [B, Tq, H, D] with row stride ldq and batch stride sqB
// (elements), K and V are [B, Tk, H, D] with row stride ldkv and batch
// stride skvB: head h is the D floats at h·D of each row. So Q, K, V can be
// read straight out of the [B, T, H·D] outputs of the projections (no
// permute copy), out of one fused [B, T, 3·H·D] buffer, or out of a larger
// key/value cache [B, Tmax, H·D]. The output (and dO) is [B, Tq, H, D]
// contiguous; lse is [B, H, Tq]; probs and dmask are [B, H, Tq, Tk]; the
// additive mask is read at b·mB + h·mH + i·mQ + j (0 strides broadcast).
//
//   row of Q/K/V:   | head 0 (D) | head 1 (D) | … | head H−1 (D) | (ld − H·D unused)
//
// SIMD: both products of a tile are a 4×8 register tile (eight f32x4
// accumulators, as in gemm.ts): the scores against Kᵀ packed in panels of 8
// keys, and P·V (and dS·K, dO·Vᵀ) against rows padded to DP = ⌈D/8⌉·8.
// dK and dV use a transposed 4×8 tile (4 keys × 8 columns, summed over the
// 16 query rows of the tile). Each Kᵀ/Vᵀ panel and V/K column block is reused
// by the tile's four row groups while it is in L1.
//
// Dropout reuses dropout.ts's counter-based hash of (seed, flat index of
// (b, h, i, j) in [B, H, Tq, Tk]), so the backward regenerates the mask and
// both backends drop the same weights.
//
// References: Vaswani et al., "Attention Is All You Need" (2017); Dao et al.,
// "FlashAttention" (2022) for the lse-only saved state and the recomputing
// backward; Dao, "FlashAttention-2" (2023) for the key-block-outer backward.

import { storeTransposed4x4, transpose4x4, vexpNeg, vlog, vmadd, vsplat } from "./vmath";
import { keyedHash, dropoutKey, vmix } from "./hash";

const BQ: i32 = 16; // query rows per tile (four groups of 4: a 4×8 register tile each)
const NK: i32 = 8; // keys per packed panel
const KEY_BLOCK: i32 = 128; // keys per block in the backward (a multiple of NK)

@inline function up8(x: i32): i32 {
  return (x + 7) & ~7;
}

// ─── workspace ──────────────────────────────────────────────────────────────
//
// Floats, with TkP = up8(Tk), DP = up8(D) (every region is a multiple of 8
// floats, so all stay 16-byte aligned). The TypeScript op allocates the same
// total (attentionWorkspaceBytes in src/ops/attention.ts).
//
//   KT  D·TkP    Kᵀ in panels of 8 keys: KT[p·D + d·8 + c] = k_{p+c}[d]
//   VT  D·TkP    Vᵀ, same panels (backward: dP' = dO·Vᵀ)
//   KR  TkP·DP   K rows, zero padded (backward: dQ = dS·K)
//   VR  TkP·DP   V rows, zero padded (forward: O = P'·V)
//   DK  TkP·DP   dK accumulator
//   DV  TkP·DP   dV accumulator
//   S   BQ·TkP   scores → probabilities of the tile
//   DS  BQ·TkP   dP' → dS
//   PD  BQ·TkP   probabilities after dropout
//   QT  BQ·DP    the query tile (backward)
//   GT  BQ·DP    the dO tile (backward)
//   OT  BQ·DP    an output tile (O or dQ)

// Region pointers of the current call (globals: kernels never allocate).
let KT: usize = 0, VT: usize = 0, KR: usize = 0, VR: usize = 0, DK: usize = 0, DV: usize = 0;
let S: usize = 0, DS: usize = 0, PD: usize = 0, QT: usize = 0, GT: usize = 0, OT: usize = 0;

// 1/l of the forward tile's rows, and the lse of one group of four.
const INV_L: usize = memory.data(BQ * 4, 16);
const LSE4: usize = memory.data(16, 16);
// lse of the key-major forward's eight rows.
const LSE8: usize = memory.data(32, 16);
// D_i = dO_i·o_i of the backward tile's rows.
const DI: usize = memory.data(BQ * 4, 16);
// lse of the key-major backward's sixteen rows (+∞ past Tq).
const LSE16: usize = memory.data(BQ * 4, 16);

function layout(ws: usize, Tk: i32, D: i32): void {
  const TkP = <usize>up8(Tk), DP = <usize>up8(D), d = <usize>D;
  let p = ws;
  KT = p; p += (d * TkP) << 2;
  VT = p; p += (d * TkP) << 2;
  KR = p; p += (TkP * DP) << 2;
  VR = p; p += (TkP * DP) << 2;
  DK = p; p += (TkP * DP) << 2;
  DV = p; p += (TkP * DP) << 2;
  S = p; p += (<usize>BQ * TkP) << 2;
  DS = p; p += (<usize>BQ * TkP) << 2;
  PD = p; p += (<usize>BQ * TkP) << 2;
  QT = p; p += (<usize>BQ * DP) << 2;
  GT = p; p += (<usize>BQ * DP) << 2;
  OT = p;
}

// ─── dropout (the hash of hash.ts, as dropout.ts uses it) ─────────────────

// keep/(1 − p) or 0 for flat index `idx` (one lane) and idx..idx+3 (vector).
@inline function keepScale(key: u32, thr: u32, scale: f32, idx: u32): f32 {
  return keyedHash(key, idx) >= thr ? scale : 0;
}

@inline function vkeepScale(key: u32, thr: u32, scale: f32, idx: u32): v128 {
  const vkey = i32x4.splat(<i32>key);
  const h = vmix(v128.xor(vmix(i32x4.add(i32x4.add(i32x4.splat(<i32>idx), i32x4(0, 1, 2, 3)), vkey)), vkey));
  return v128.and(f32x4.splat(scale), i32x4.ge_u(h, i32x4.splat(<i32>thr)));
}

// ─── packing ────────────────────────────────────────────────────────────────

// Panels of 8 keys, D deep: dst[p·D + d·8 + c] = x_{p+c}[d] (0 for keys ≥ n).
// Row j of x starts at base + j·ld bytes.
function packPanels(dst: usize, base: usize, ld: usize, n: i32, D: i32): void {
  const nP = up8(n);
  for (let p = 0; p < nP; p += NK) {
    const panel = dst + ((<usize>p * D) << 2);
    for (let c0 = 0; c0 < NK; c0 += 4) {
      const j = p + c0;
      if (j + 4 <= n) {
        const s0 = base + <usize>j * ld;
        let d = 0;
        for (; d + 4 <= D; d += 4) {
          const o = <usize>d << 2;
          transpose4x4(s0 + o, ld, panel + ((<usize>(d * NK + c0)) << 2), NK << 2);
        }
        for (; d < D; d++) {
          const o = <usize>d << 2;
          const t = panel + ((<usize>(d * NK + c0)) << 2);
          store<f32>(t, load<f32>(s0 + o));
          store<f32>(t, load<f32>(s0 + ld + o), 4);
          store<f32>(t, load<f32>(s0 + 2 * ld + o), 8);
          store<f32>(t, load<f32>(s0 + 3 * ld + o), 12);
        }
      } else {
        for (let c = c0; c < c0 + 4; c++) {
          const jj = p + c;
          for (let d = 0; d < D; d++) {
            const t = panel + ((<usize>(d * NK + c)) << 2);
            store<f32>(t, jj < n ? load<f32>(base + <usize>jj * ld + (<usize>d << 2)) : 0);
          }
        }
      }
    }
  }
}

// Rows padded to DP: dst[j·DP + d] = x_j[d] (0 for d ≥ D or j ≥ n), j < up8(n).
function packRows(dst: usize, base: usize, ld: usize, n: i32, D: i32, DP: i32): void {
  const rowB = <usize>DP << 2;
  const dB = <usize>D << 2;
  const nP = up8(n);
  for (let j = 0; j < nP; j++) {
    const t = dst + <usize>j * rowB;
    if (j < n) {
      copyRow(t, base + <usize>j * ld, dB);
      if (DP > D) zeroRow(t + dB, rowB - dB);
    } else {
      zeroRow(t, rowB);
    }
  }
}

// ─── register tiles ─────────────────────────────────────────────────────────

// C[4×8] = Σ_k A[r][k]·B[k][0..8] for k < kn. A row r at a_r (4 bytes per k),
// B row k at b + k·bStride. The tile is stored at dst (row stride ldd bytes).
@inline function tile4x8(a0: usize, a1: usize, a2: usize, a3: usize, b: usize, bStride: usize, kn: i32, dst: usize, ldd: usize): void {
  let c00 = vsplat(0), c01 = vsplat(0);
  let c10 = vsplat(0), c11 = vsplat(0);
  let c20 = vsplat(0), c21 = vsplat(0);
  let c30 = vsplat(0), c31 = vsplat(0);
  const aEnd = a0 + (<usize>kn << 2); // the loop runs on a0 (no separate counter)
  for (; a0 < aEnd; a0 += 4) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let a = v128.load32_splat(a0);
    c00 = vmadd(a, b0, c00);
    c01 = vmadd(a, b1, c01);
    a = v128.load32_splat(a1);
    c10 = vmadd(a, b0, c10);
    c11 = vmadd(a, b1, c11);
    a = v128.load32_splat(a2);
    c20 = vmadd(a, b0, c20);
    c21 = vmadd(a, b1, c21);
    a = v128.load32_splat(a3);
    c30 = vmadd(a, b0, c30);
    c31 = vmadd(a, b1, c31);
    a1 += 4;
    a2 += 4;
    a3 += 4;
    b += bStride;
  }
  v128.store(dst, c00);
  v128.store(dst, c01, 16);
  dst += ldd;
  v128.store(dst, c10);
  v128.store(dst, c11, 16);
  dst += ldd;
  v128.store(dst, c20);
  v128.store(dst, c21, 16);
  dst += ldd;
  v128.store(dst, c30);
  v128.store(dst, c31, 16);
}

// C[4×8] += Σ_k A[k][0..4]ᵀ·B[k][0..8] for k < kn: the transposed-A tile
// behind dK += dSᵀ·Q and dV += P'ᵀ·dO, with k running over the tile's query
// rows. A row k at a + k·lda (4 consecutive keys), B row k at b + k·bStride;
// C (4 keys × 8 columns) at dst, row stride ldd, accumulated in place (acc,
// a compile-time constant at every call) or overwritten (!acc). The forward's
// key-major path uses it for both of its products (see forwardKeyMajor).
@inline function tile4x8T(a: usize, lda: usize, b: usize, bStride: usize, kn: i32, dst: usize, ldd: usize, acc: bool = true): void {
  let c00 = vsplat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  if (acc) {
    c00 = v128.load(dst);
    c01 = v128.load(dst, 16);
    c10 = v128.load(dst + ldd);
    c11 = v128.load(dst + ldd, 16);
    c20 = v128.load(dst + 2 * ldd);
    c21 = v128.load(dst + 2 * ldd, 16);
    c30 = v128.load(dst + 3 * ldd);
    c31 = v128.load(dst + 3 * ldd, 16);
  }
  // The loop runs on A's pointer (no separate counter to step).
  const aEnd = a + <usize>kn * lda;
  for (; a < aEnd; a += lda) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    // Broadcast loads (load ports) rather than one load and four shuffles
    // (the shuffles compete with the multiply-adds for the vector pipes).
    let x = v128.load32_splat(a);
    c00 = vmadd(x, b0, c00);
    c01 = vmadd(x, b1, c01);
    x = v128.load32_splat(a, 4);
    c10 = vmadd(x, b0, c10);
    c11 = vmadd(x, b1, c11);
    x = v128.load32_splat(a, 8);
    c20 = vmadd(x, b0, c20);
    c21 = vmadd(x, b1, c21);
    x = v128.load32_splat(a, 12);
    c30 = vmadd(x, b0, c30);
    c31 = vmadd(x, b1, c31);
    b += bStride;
  }
  v128.store(dst, c00);
  v128.store(dst, c01, 16);
  dst += ldd;
  v128.store(dst, c10);
  v128.store(dst, c11, 16);
  dst += ldd;
  v128.store(dst, c20);
  v128.store(dst, c21, 16);
  dst += ldd;
  v128.store(dst, c30);
  v128.store(dst, c31, 16);
}

// ─── row helpers ────────────────────────────────────────────────────────────

@inline function hmax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

// Row reductions are batched four rows at a time: each row leaves a vector of
// four partial results, and one 4×4 transpose-and-reduce turns the four
// vectors into one vector holding the four rows' totals. So a group of four
// rows costs one vlog and one division instead of four, and no scalar max
// (whose NaN-checking branches V8 cannot predict) runs per element.

// [r(a), r(b), r(c), r(d)] where r reduces a vector's four lanes with pmax.
@inline function hmax4(a: v128, b: v128, c: v128, d: v128): v128 {
  const u0 = f32x4.pmax(v128.shuffle<f32>(a, b, 0, 4, 1, 5), v128.shuffle<f32>(a, b, 2, 6, 3, 7));
  const u1 = f32x4.pmax(v128.shuffle<f32>(c, d, 0, 4, 1, 5), v128.shuffle<f32>(c, d, 2, 6, 3, 7));
  return f32x4.pmax(v128.shuffle<f32>(u0, u1, 0, 1, 4, 5), v128.shuffle<f32>(u0, u1, 2, 3, 6, 7));
}

// [Σa, Σb, Σc, Σd] over each vector's four lanes.
@inline function hsum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const u0 = f32x4.add(v128.shuffle<f32>(a, b, 0, 4, 1, 5), v128.shuffle<f32>(a, b, 2, 6, 3, 7));
  const u1 = f32x4.add(v128.shuffle<f32>(c, d, 0, 4, 1, 5), v128.shuffle<f32>(c, d, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(u0, u1, 0, 1, 4, 5), v128.shuffle<f32>(u0, u1, 2, 3, 6, 7));
}

// s_j ← s_j·scale + mask_j for j < n (mrow = 0: no mask); returns a vector
// whose lanes' max is max_j s_j (−∞ for n = 0).
function scaleMaskMax(row: usize, mrow: usize, n: i32, scale: f32): v128 {
  const bytes = <usize>n << 2;
  const vs = vsplat(scale);
  let vm = vsplat(-Infinity);
  let j: usize = 0;
  if (mrow == 0) {
    for (; j + 16 <= bytes; j += 16) {
      const s = f32x4.mul(v128.load(row + j), vs);
      v128.store(row + j, s);
      vm = f32x4.pmax(vm, s);
    }
  } else {
    for (; j + 16 <= bytes; j += 16) {
      const s = vmadd(v128.load(row + j), vs, v128.load(mrow + j));
      v128.store(row + j, s);
      vm = f32x4.pmax(vm, s);
    }
  }
  for (; j < bytes; j += 4) {
    const s = load<f32>(row + j) * scale + (mrow == 0 ? <f32>0 : load<f32>(mrow + j));
    store<f32>(row + j, s);
    vm = f32x4.pmax(vm, vsplat(s));
  }
  return vm;
}

function hasNaN(row: usize, n: i32): bool {
  for (let j = 0; j < n; j++) {
    const x = load<f32>(row + (<usize>j << 2));
    if (x != x) return true;
  }
  return false;
}

// s_j ← e^{s_j − m} for j < n; returns a vector whose lanes sum to Σ_j.
function expSum(row: usize, n: i32, m: f32): v128 {
  const bytes = <usize>n << 2;
  const vm = vsplat(m);
  let acc = vsplat(0);
  let j: usize = 0;
  for (; j + 16 <= bytes; j += 16) {
    const e = vexpNeg(f32x4.sub(v128.load(row + j), vm));
    v128.store(row + j, e);
    acc = f32x4.add(acc, e);
  }
  for (; j < bytes; j += 4) {
    const e = f32x4.extract_lane(vexpNeg(vsplat(load<f32>(row + j) - m)), 0);
    store<f32>(row + j, e);
    acc = f32x4.add(acc, f32x4.replace_lane(vsplat(0), 0, e));
  }
  return acc;
}

// dst_j = src_j · keep_j/(1 − p) for j < n (idx0 = flat index of j = 0).
function dropRow(dst: usize, src: usize, n: i32, key: u32, thr: u32, dscale: f32, idx0: u32): void {
  const bytes = <usize>n << 2;
  let j: usize = 0;
  let idx = idx0;
  for (; j + 16 <= bytes; j += 16) {
    v128.store(dst + j, f32x4.mul(v128.load(src + j), vkeepScale(key, thr, dscale, idx)));
    idx += 4;
  }
  for (; j < bytes; j += 4) {
    store<f32>(dst + j, load<f32>(src + j) * keepScale(key, thr, dscale, idx));
    idx++;
  }
}

// dst_j = src_j · s for j < n.
function scaleRow(dst: usize, src: usize, n: i32, s: f32): void {
  const bytes = <usize>n << 2;
  const vs = vsplat(s);
  let j: usize = 0;
  for (; j + 16 <= bytes; j += 16) v128.store(dst + j, f32x4.mul(v128.load(src + j), vs));
  for (; j < bytes; j += 4) store<f32>(dst + j, load<f32>(src + j) * s);
}

// Short rows (a head of D floats, a tile row): SIMD moves beat memory.copy/fill calls.
function copyRow(dst: usize, src: usize, bytes: usize): void {
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) v128.store(dst + i, v128.load(src + i));
  for (; i < bytes; i += 4) store<f32>(dst + i, load<f32>(src + i));
}

function zeroRow(dst: usize, bytes: usize): void {
  const z = vsplat(0);
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) v128.store(dst + i, z);
  for (; i < bytes; i += 4) store<f32>(dst + i, 0);
}

// dst_j += src_j · s for j < n.
function addScaledRow(dst: usize, src: usize, n: i32, s: f32): void {
  const bytes = <usize>n << 2;
  const vs = vsplat(s);
  let j: usize = 0;
  for (; j + 16 <= bytes; j += 16) v128.store(dst + j, vmadd(v128.load(src + j), vs, v128.load(dst + j)));
  for (; j < bytes; j += 4) store<f32>(dst + j, load<f32>(dst + j) + load<f32>(src + j) * s);
}

@inline function zeroRange(p: usize, from: i32, to: i32): void {
  if (to > from) zeroRow(p + (<usize>from << 2), <usize>(to - from) << 2);
}

@inline function clampi(x: i32, lo: i32, hi: i32): i32 {
  return min(max(x, lo), hi);
}

// A vector whose lanes sum to Σ_j a_j·b_j, j < n.
function dotVec(a: usize, b: usize, n: i32): v128 {
  const bytes = <usize>n << 2;
  let acc = vsplat(0);
  let j: usize = 0;
  for (; j + 16 <= bytes; j += 16) acc = vmadd(v128.load(a + j), v128.load(b + j), acc);
  for (; j < bytes; j += 4) acc = f32x4.add(acc, f32x4.replace_lane(vsplat(0), 0, load<f32>(a + j) * load<f32>(b + j)));
  return acc;
}

// ─── forward, key-major (no mask, no causal, no dropout) ────────────────────
//
// The common case (an encoder's self-attention, the bench transformer) takes
// a layout that turns the softmax's row reductions into plain vector ops: the
// scores of eight queries are kept key-major, S[j·8 + r] = s_{i0+r, j}, so a
// vector holds four queries' scores against one key. Then the row maxima and
// sums are two running f32x4 each (no horizontal reductions, no per-row
// loops), and one exp loop covers all eight rows with its constants
// loaded once. Both products are tile4x8T's transposed-A tile with a single
// A pointer stepped by immediates (the row-pointer tile4x8 spends five adds
// per step on its four A rows and B):
//   scores   S[j..j+4][0..8] = Σ_d Kᵀ[d][j..j+4]ᵀ · Qᵀ[d][0..8]
//            (Kᵀ and the eight queries' Qᵀ both packed in 8-wide panels)
//   P·V      O[r..r+4][c..c+8] = Σ_j S[j][r..r+4]ᵀ · V[j][c..c+8]
//            (V rows read in place, as in the general path)
// O is scaled by 1/l at the end as in the general path; the probabilities,
// when requested, are scaled and transposed into probs four by four.

// ─── private probabilities ──────────────────────────────────────────────────
//
// When the op keeps the probabilities only for the backward (probsPrivate ≠
// 0: not the weights handed to the caller), the key-major kernels store them
// key-major too, in blocks of 16 queries: P_ij at
//
//   (b·H + h)·Tq·Tk + i0·Tk + j·n + (i − i0),   i0 = i − i mod 16,  n = min(16, Tq − i0)
//
// so the forward writes each key's eight probabilities with two vector
// stores and the backward reads a full block in place as its S (no 4×4
// transposes either way). Both kernels decide with keyMajorProbs on the same
// arguments, so they agree on the layout; elsewhere probs are row-major.
// (The js backend ignores the flag: its probs are always row-major.)

@inline function keyMajorProbs(mask: usize, causal: i32, dropP: f32, Tq: i32, Tk: i32, D: i32): bool {
  return mask == 0 && causal == 0 && !(dropP > 0) && Tq > 0 && Tk > 0 && Tk <= KEY_BLOCK && (D & 7) == 0;
}

// The eight queries' probabilities into a 16-query block (see above): blk =
// the block's start, n its rows, o = i0 mod 16 (0 or 8), rows ≤ 8 real rows.
function storeProbsBlock(blk: usize, Tk: i32, n: i32, o: i32, rows: i32, il0: v128, il1: v128): void {
  const sK = S;
  if (n == 16) {
    // rows = 8: both halves full.
    const dst0 = blk + (<usize>o << 2);
    let dst = dst0;
    for (let src = sK, end = sK + (<usize>Tk << 5); src < end; src += 32) {
      v128.store(dst, f32x4.mul(v128.load(src), il0));
      v128.store(dst, f32x4.mul(v128.load(src, 16), il1), 16);
      dst += 64;
    }
  } else {
    for (let j = 0; j < Tk; j++) {
      for (let r = 0; r < rows; r++) {
        store<f32>(blk + ((<usize>(j * n + o + r)) << 2), load<f32>(sK + (<usize>j << 5) + (<usize>r << 2)) * load<f32>(INV_L + (<usize>r << 2)));
      }
    }
  }
}

// probs rows i0 + r (r < rows) from the key-major S and the rows' 1/l (IL,
// eight floats): P[r][j] = S[j·8 + r]·IL[r].
function storeProbsKeyMajor(prow0: usize, Tk: i32, rows: i32, il0: v128, il1: v128): void {
  // The region pointers as locals: a global is reloaded on every use inside a loop.
  const sK = S;
  const rowB = <usize>Tk << 2;
  let j = 0;
  if (rows == 8) {
    for (; j + 4 <= Tk; j += 4) {
      const src = sK + (<usize>j << 5), dst = prow0 + (<usize>j << 2);
      storeTransposed4x4(
        f32x4.mul(v128.load(src), il0), f32x4.mul(v128.load(src, 32), il0),
        f32x4.mul(v128.load(src, 64), il0), f32x4.mul(v128.load(src, 96), il0), dst, rowB,
      );
      storeTransposed4x4(
        f32x4.mul(v128.load(src, 16), il1), f32x4.mul(v128.load(src, 48), il1),
        f32x4.mul(v128.load(src, 80), il1), f32x4.mul(v128.load(src, 112), il1), dst + 4 * rowB, rowB,
      );
    }
  }
  for (; j < Tk; j++) {
    const src = sK + (<usize>j << 5), dst = prow0 + (<usize>j << 2);
    for (let r = 0; r < rows; r++) {
      store<f32>(dst + <usize>r * rowB, load<f32>(src + (<usize>r << 2)) * load<f32>(INV_L + (<usize>r << 2)));
    }
  }
}

// Σ_j S[j·8 + r] for four queries r (from p = S or S + 16), added in the
// general path's order (expSum's four lanes, j mod 4, the tail in lane 0;
// then hsum4's (l0 + l2) + (l1 + l3)), so that both paths give the same
// bits: finite-difference gradient checks in float32 are that sensitive to
// the forward's rounding.
function rowSumsKeyMajor(p: usize, Tk: i32): v128 {
  let a0 = vsplat(0), a1 = a0, a2 = a0, a3 = a0;
  let j = 0;
  for (; j + 4 <= Tk; j += 4) {
    const sj = p + (<usize>j << 5);
    a0 = f32x4.add(a0, v128.load(sj));
    a1 = f32x4.add(a1, v128.load(sj, 32));
    a2 = f32x4.add(a2, v128.load(sj, 64));
    a3 = f32x4.add(a3, v128.load(sj, 96));
  }
  for (; j < Tk; j++) a0 = f32x4.add(a0, v128.load(p + (<usize>j << 5)));
  return f32x4.add(f32x4.add(a0, a2), f32x4.add(a1, a3));
}

// S[j·8 + r] ← e^{S[j·8 + r]·scale − z_r} for four queries r (p = S or
// S + 16). One half per loop (inlined: as a called function it was 15%
// slower): the exp's thirteen constants plus both halves' operands spill
// more of V8's vector registers (~2% on the forward).
@inline function expKeyMajor(p: usize, Tk: i32, vs: v128, z: v128): void {
  for (let sj = p, end = p + (<usize>Tk << 5); sj < end; sj += 32) {
    v128.store(sj, vexpNeg(f32x4.sub(f32x4.mul(v128.load(sj), vs), z)));
  }
}

function forwardKeyMajor(
  out: usize, lse: usize, probs: usize, q: usize, k: usize, v: usize,
  B: i32, H: i32, Tq: i32, Tk: i32, D: i32, ldq: i32, sqB: i32, ldkv: i32, skvB: i32, scale: f32, privateProbs: bool,
): void {
  // The region pointers as locals: a global is reloaded on every use inside a loop.
  const sK = S, ktP = KT, qtP = QT, otP = OT;
  const TkP = up8(Tk), DP = up8(D);
  const oRow = <usize>DP << 2;
  const ldqB = <usize>ldq << 2, ldkvB = <usize>ldkv << 2;
  const HD = H * D;
  const ldoB = <usize>HD << 2;
  const dB = <usize>D << 2;
  const vs = vsplat(scale);
  // V rows: read in place when D is a multiple of 8, else padded copies.
  const direct = DP == D;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const qBase = q + ((<usize>b * sqB + <usize>h * D) << 2);
      const kBase = k + ((<usize>b * skvB + <usize>h * D) << 2);
      const vBase = v + ((<usize>b * skvB + <usize>h * D) << 2);
      packPanels(ktP, kBase, ldkvB, Tk, D);
      if (!direct) packRows(VR, vBase, ldkvB, Tk, D, DP);
      const vRows = direct ? vBase : VR;
      const vStride = direct ? ldkvB : oRow;
      const bh = b * H + h;
      for (let i0 = 0; i0 < Tq; i0 += 8) {
        const rows = min(8, Tq - i0);
        // Qᵀ of the eight queries (zero rows past Tq).
        packPanels(qtP, qBase + <usize>i0 * ldqB, ldqB, rows, D);
        for (let p = 0; p < TkP; p += NK) {
          const panel = ktP + ((<usize>p * D) << 2);
          tile4x8T(panel, 32, qtP, 32, D, sK + (<usize>p << 5), 32, false);
          tile4x8T(panel + 16, 32, qtP, 32, D, sK + (<usize>(p + 4) << 5), 32, false);
        }
        // Row maxima of s·scale; pmax skips NaN scores, as the general path does.
        let m0 = vsplat(-Infinity), m1 = m0;
        for (let sj = sK, end = sK + (<usize>Tk << 5); sj < end; sj += 32) {
          m0 = f32x4.pmax(m0, f32x4.mul(v128.load(sj), vs));
          m1 = f32x4.pmax(m1, f32x4.mul(v128.load(sj, 16), vs));
        }
        // Rows that see no finite score subtract 0 instead of −∞: their
        // e^{−∞} are 0 (and a NaN score stays NaN, as in the general path).
        const none0 = f32x4.eq(m0, vsplat(-Infinity)), none1 = f32x4.eq(m1, vsplat(-Infinity));
        const z0 = v128.andnot(m0, none0), z1 = v128.andnot(m1, none1);
        expKeyMajor(sK, Tk, vs, z0);
        expKeyMajor(sK + 16, Tk, vs, z1);
        const l0 = rowSumsKeyMajor(sK, Tk), l1 = rowSumsKeyMajor(sK + 16, Tk);
        // 1/l, 0 for rows that see no key (their o is 0); lse = m + log l, +∞ for those rows.
        const n0 = v128.and(none0, f32x4.eq(l0, l0)), n1 = v128.and(none1, f32x4.eq(l1, l1));
        const il0 = v128.andnot(f32x4.div(vsplat(1), l0), n0), il1 = v128.andnot(f32x4.div(vsplat(1), l1), n1);
        const lseRow = lse + ((<usize>bh * Tq + i0) << 2);
        const lse0 = v128.bitselect(vsplat(Infinity), f32x4.add(m0, vlog(l0)), n0);
        const lse1 = v128.bitselect(vsplat(Infinity), f32x4.add(m1, vlog(l1)), n1);
        if (rows == 8) {
          v128.store(lseRow, lse0);
          v128.store(lseRow, lse1, 16);
        } else {
          v128.store(LSE8, lse0);
          v128.store(LSE8, lse1, 16);
          copyRow(lseRow, LSE8, <usize>rows << 2);
        }
        v128.store(INV_L, il0);
        v128.store(INV_L, il1, 16);
        if (probs != 0) {
          if (privateProbs) {
            const i16 = i0 & ~15;
            storeProbsBlock(probs + ((<usize>(bh * Tq + i16) * <usize>Tk) << 2), Tk, min(16, Tq - i16), i0 - i16, rows, il0, il1);
          } else {
            storeProbsKeyMajor(probs + ((<usize>(bh * Tq + i0) * <usize>Tk) << 2), Tk, rows, il0, il1);
          }
        }
        // O = (e·V)·(1/l) (normalised at the end, as in the general path),
        // four queries × eight columns per tile: straight into out when the
        // tile fits (D a multiple of 8, four real rows), else via otP.
        const oBase = out + ((<usize>(b * Tq + i0) * HD + <usize>h * D) << 2);
        for (let r0 = 0; r0 < rows; r0 += 4) {
          const full = direct && r0 + 4 <= rows;
          for (let c = 0; c < DP; c += 8) {
            const dst = full ? oBase + <usize>r0 * ldoB + (<usize>c << 2) : otP + <usize>r0 * oRow + (<usize>c << 2);
            tile4x8T(sK + (<usize>r0 << 2), 32, vRows + (<usize>c << 2), vStride, Tk, dst, full ? ldoB : oRow, false);
          }
          for (let r = r0; r < min(r0 + 4, rows); r++) {
            const dst = oBase + <usize>r * ldoB;
            scaleRow(dst, full ? dst : otP + <usize>r * oRow, D, load<f32>(INV_L + (<usize>r << 2)));
          }
        }
      }
    }
  }
}

// ─── forward ────────────────────────────────────────────────────────────────

/**
 * out [B,Tq,H,D], lse [B,H,Tq], probs [B,H,Tq,Tk] (0 = not wanted) from q, k,
 * v (strided as in the header) and an additive mask (0 = none). causal ≠ 0
 * masks keys j > i + Tk − Tq. dropP ∈ [0, 1) drops attention weights with the
 * hash of (seed, index). ws: attentionWorkspaceBytes(Tk, D). probsPrivate ≠ 0:
 * probs are only for attention_bwd (same flag), which may then get them in
 * the key-major kernels' own layout (see "private probabilities").
 */
export function attention_fwd(
  out: usize, lse: usize, probs: usize, q: usize, k: usize, v: usize, mask: usize, ws: usize,
  B: i32, H: i32, Tq: i32, Tk: i32, D: i32, ldq: i32, sqB: i32, ldkv: i32, skvB: i32,
  mB: i32, mH: i32, mQ: i32, causal: i32, scale: f32, dropP: f32, seed: i32, probsPrivate: i32,
): void {
  if (B == 0 || H == 0 || Tq == 0) return;
  layout(ws, Tk, D);
  if (mask == 0 && causal == 0 && !(dropP > 0) && Tk > 0) {
    const privateProbs = probsPrivate != 0 && keyMajorProbs(mask, causal, dropP, Tq, Tk, D);
    forwardKeyMajor(out, lse, probs, q, k, v, B, H, Tq, Tk, D, ldq, sqB, ldkv, skvB, scale, privateProbs);
    return;
  }
  const TkP = up8(Tk), DP = up8(D);
  const sRow = <usize>TkP << 2; // bytes per S/PD row
  const oRow = <usize>DP << 2; // bytes per OT/VR row
  const ldqB = <usize>ldq << 2, ldkvB = <usize>ldkv << 2;
  const HD = H * D;
  const off = Tk - Tq;
  const dropping = dropP > 0;
  const key = dropoutKey(<u32>seed);
  const thr = <u32>(<f64>dropP * 4294967296.0);
  const dscale = <f32>(1.0 / (1.0 - <f64>dropP));
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const qBase = q + ((<usize>b * sqB + <usize>h * D) << 2);
      const kBase = k + ((<usize>b * skvB + <usize>h * D) << 2);
      const vBase = v + ((<usize>b * skvB + <usize>h * D) << 2);
      packPanels(KT, kBase, ldkvB, Tk, D);
      // V rows: read in place when D is a multiple of 8, else padded copies.
      const direct = DP == D;
      if (!direct) packRows(VR, vBase, ldkvB, Tk, D, DP);
      const vRows = direct ? vBase : VR;
      const vStride = direct ? ldkvB : oRow;
      const bh = b * H + h;
      for (let i0 = 0; i0 < Tq; i0 += BQ) {
        const rows = min(BQ, Tq - i0);
        const groups = (rows + 3) >> 2; // 4-row groups in this tile
        const jEnd = causal != 0 ? clampi(i0 + rows + off, 0, Tk) : Tk;
        const nP = up8(jEnd);
        if (jEnd > 0) {
          // Each Kᵀ panel is loaded once for all groups (it stays in L1 across them).
          for (let p = 0; p < nP; p += NK) {
            const panel = KT + ((<usize>p * D) << 2);
            for (let g = 0; g < groups; g++) {
              const r0 = g << 2;
              const last = rows - 1;
              const a0 = qBase + <usize>(i0 + r0) * ldqB;
              const a1 = qBase + <usize>(i0 + min(r0 + 1, last)) * ldqB;
              const a2 = qBase + <usize>(i0 + min(r0 + 2, last)) * ldqB;
              const a3 = qBase + <usize>(i0 + min(r0 + 3, last)) * ldqB;
              tile4x8(a0, a1, a2, a3, panel, NK << 2, D, S + <usize>r0 * sRow + (<usize>p << 2), sRow);
            }
          }
        }
        // Softmax of each row (unnormalised: P·V is scaled by 1/l at the end),
        // four rows at a time: pass 1 scales, masks and finds the row maxima,
        // pass 2 exponentiates and sums; then one vlog and one division give
        // the four rows' lse and 1/l.
        for (let g = 0; g < groups; g++) {
          const r0 = g << 2;
          let m0 = vsplat(-Infinity), m1 = m0, m2 = m0, m3 = m0;
          for (let r = r0; r < r0 + 4; r++) {
            const row = S + <usize>r * sRow;
            let vm = vsplat(-Infinity);
            if (r < rows) {
              const i = i0 + r;
              const kEnd = causal != 0 ? clampi(i + off + 1, 0, Tk) : Tk;
              const mrow: usize = mask == 0 ? 0 : mask + ((<usize>b * mB + <usize>h * mH + <usize>i * mQ) << 2);
              vm = scaleMaskMax(row, mrow, kEnd, scale);
            }
            if (r == r0) m0 = vm;
            else if (r == r0 + 1) m1 = vm;
            else if (r == r0 + 2) m2 = vm;
            else m3 = vm;
          }
          const M = hmax4(m0, m1, m2, m3); // row maxima; −∞: no key visible (or a padding row)
          let l0 = vsplat(0), l1 = l0, l2 = l0, l3 = l0;
          for (let r = r0; r < r0 + 4; r++) {
            const row = S + <usize>r * sRow;
            const m = r == r0 ? f32x4.extract_lane(M, 0) : r == r0 + 1 ? f32x4.extract_lane(M, 1) : r == r0 + 2 ? f32x4.extract_lane(M, 2) : f32x4.extract_lane(M, 3);
            const kEnd = r >= rows ? 0 : causal != 0 ? clampi(i0 + r + off + 1, 0, Tk) : Tk;
            let acc = vsplat(0);
            if (m == -Infinity) {
              // No key visible — unless the maxima skipped NaN scores (pmax
              // does): then the row's sum is NaN, and so are its outputs.
              if (hasNaN(row, kEnd)) acc = vsplat(NaN);
              zeroRange(row, 0, nP);
            } else {
              acc = expSum(row, kEnd, m);
              zeroRange(row, kEnd, nP);
            }
            if (r == r0) l0 = acc;
            else if (r == r0 + 1) l1 = acc;
            else if (r == r0 + 2) l2 = acc;
            else l3 = acc;
          }
          const L = hsum4(l0, l1, l2, l3);
          const none = v128.and(f32x4.eq(M, vsplat(-Infinity)), f32x4.eq(L, L));
          // 1/l, 0 for rows that see no key (their o is 0); lse = m + log l, +∞ for those rows.
          const il = v128.andnot(f32x4.div(vsplat(1), L), none);
          v128.store(INV_L + (<usize>r0 << 2), il);
          v128.store(LSE4, v128.bitselect(vsplat(Infinity), f32x4.add(M, vlog(L)), none));
          for (let r = r0; r < r0 + 4; r++) {
            const row = S + <usize>r * sRow;
            const pdRow = PD + <usize>r * sRow;
            if (r >= rows) {
              if (dropping) zeroRange(pdRow, 0, nP);
              continue;
            }
            const i = i0 + r;
            store<f32>(lse + ((<usize>bh * Tq + i) << 2), load<f32>(LSE4 + (<usize>(r - r0) << 2)));
            if (probs != 0) {
              const prow = probs + (((<usize>bh * Tq + i) * <usize>Tk) << 2);
              const kEnd = causal != 0 ? clampi(i + off + 1, 0, Tk) : Tk;
              scaleRow(prow, row, kEnd, load<f32>(INV_L + (<usize>r << 2)));
              zeroRange(prow, kEnd, Tk);
            }
            if (dropping) dropRow(pdRow, row, nP, key, thr, dscale, <u32>((bh * Tq + i) * Tk));
          }
        }
        // O tile = P'·V (unnormalised), then row i of out = OT[r]·(1/l).
        const P = dropping ? PD : S;
        for (let c = 0; c < DP; c += 8) {
          for (let g = 0; g < groups; g++) {
            const pr = P + <usize>(g << 2) * sRow;
            tile4x8(pr, pr + sRow, pr + 2 * sRow, pr + 3 * sRow, vRows + (<usize>c << 2), vStride, jEnd, OT + <usize>(g << 2) * oRow + (<usize>c << 2), oRow);
          }
        }
        for (let r = 0; r < rows; r++) {
          const dst = out + ((<usize>(b * Tq + i0 + r) * HD + <usize>h * D) << 2);
          scaleRow(dst, OT + <usize>r * oRow, D, load<f32>(INV_L + (<usize>r << 2)));
        }
      }
    }
  }
}

// ─── backward ───────────────────────────────────────────────────────────────

// One row of the backward once the tile's raw scores (srow) and dP' (drow)
// are known: P = e^{s·scale + mask − L}, P' = P·keep/(1 − p) into pdrow,
// dS = P·(dP'·keep/(1 − p) − Di) into drow, P into srow, for j < kEnd.
// hasMask and drop are compile-time constants at every call site, so each
// of the four variants is a branch-free loop.
@inline function rowBackward(
  srow: usize, drow: usize, pdrow: usize, mrow: usize, kEnd: i32, scale: f32, L: f32, Di: f32,
  key: u32, thr: u32, dscale: f32, idx0: u32, hasMask: bool, drop: bool,
): void {
  const bytes = <usize>kEnd << 2;
  const vs = vsplat(scale), vL = vsplat(L), vD = vsplat(Di);
  let j: usize = 0;
  for (; j + 16 <= bytes; j += 16) {
    let x = f32x4.mul(v128.load(srow + j), vs);
    if (hasMask) x = f32x4.add(x, v128.load(mrow + j));
    const P = vexpNeg(f32x4.sub(x, vL));
    let dP = v128.load(drow + j);
    if (drop) {
      const ks = vkeepScale(key, thr, dscale, idx0 + <u32>(j >> 2));
      v128.store(pdrow + j, f32x4.mul(P, ks));
      dP = f32x4.mul(dP, ks);
    }
    v128.store(srow + j, P);
    v128.store(drow + j, f32x4.mul(P, f32x4.sub(dP, vD)));
  }
  for (; j < bytes; j += 4) {
    let x = load<f32>(srow + j) * scale;
    if (hasMask) x += load<f32>(mrow + j);
    const P = f32x4.extract_lane(vexpNeg(vsplat(x - L)), 0);
    let dP = load<f32>(drow + j);
    if (drop) {
      const ks = keepScale(key, thr, dscale, idx0 + <u32>(j >> 2));
      store<f32>(pdrow + j, P * ks);
      dP *= ks;
    }
    store<f32>(srow + j, P);
    store<f32>(drow + j, P * (dP - Di));
  }
}

// The same row from stored probabilities (prow: P of the forward, the
// softmax before dropout): P is copied into srow instead of recomputed.
@inline function rowBackwardStored(
  srow: usize, drow: usize, pdrow: usize, prow: usize, kEnd: i32, Di: f32,
  key: u32, thr: u32, dscale: f32, idx0: u32, drop: bool,
): void {
  const bytes = <usize>kEnd << 2;
  const vD = vsplat(Di);
  let j: usize = 0;
  for (; j + 16 <= bytes; j += 16) {
    const P = v128.load(prow + j);
    let dP = v128.load(drow + j);
    if (drop) {
      const ks = vkeepScale(key, thr, dscale, idx0 + <u32>(j >> 2));
      v128.store(pdrow + j, f32x4.mul(P, ks));
      dP = f32x4.mul(dP, ks);
    }
    v128.store(srow + j, P);
    v128.store(drow + j, f32x4.mul(P, f32x4.sub(dP, vD)));
  }
  for (; j < bytes; j += 4) {
    const P = load<f32>(prow + j);
    let dP = load<f32>(drow + j);
    if (drop) {
      const ks = keepScale(key, thr, dscale, idx0 + <u32>(j >> 2));
      store<f32>(pdrow + j, P * ks);
      dP *= ks;
    }
    store<f32>(srow + j, P);
    store<f32>(drow + j, P * (dP - Di));
  }
}

// ─── backward, key-major (no mask, no causal, no dropout, one key block) ────
//
// The forward's key-major layout with the 16 queries of a tile: S[j·16 + r]
// holds P and DS[j·16 + r] dP' → dS, so dS = P ⊙ (dP' − D) is four plain
// vector ops per key (D_i as four vectors, no per-row loops), and every
// product is a single-A-pointer tile:
//   dP'      DS[j..j+4][8 queries] = Σ_d Vᵀ[d][j..j+4]ᵀ · dOᵀ[d][8 queries]
//   dq       dq[r..r+4][c..c+8]    = Σ_j DS[j][r..r+4]ᵀ · K[j][c..c+8]   (DS = scale·dS)
//   dK, dV   dK[j..j+4][c..c+8]   += Σ_r DS[r][j..j+4]ᵀ · Q[r][c..c+8]   (tile4x8K)
// Stored probabilities are read in place when private (a full block of the
// key-major layout, see "private probabilities"), else (row-major) transposed
// into S 4×4 at a time; without them P = e^{s·scale − lse} from the key-major
// scores as in the forward. Every sum runs in the general path's order, so
// the results are the same bits (for a power-of-two scale; see dS below).

// C[4×8] += Σ_k A[k][0..4]ᵀ·B[k][0..8] for k < kn with A key-major: the
// four values of step k at a + 4k + 64u (u < 4: four keys of a 16-query
// column), B row k at b + k·bStride; C read at src (row stride lds) and
// written at dst (row stride ldd): in place, or, for the last query tile,
// straight into the output rows.
@inline function tile4x8K(a: usize, b: usize, bStride: usize, kn: i32, src: usize, lds: usize, dst: usize, ldd: usize): void {
  let c00 = v128.load(src), c01 = v128.load(src, 16);
  let c10 = v128.load(src + lds), c11 = v128.load(src + lds, 16);
  let c20 = v128.load(src + 2 * lds), c21 = v128.load(src + 2 * lds, 16);
  let c30 = v128.load(src + 3 * lds), c31 = v128.load(src + 3 * lds, 16);
  const aEnd = a + (<usize>kn << 2);
  for (; a < aEnd; a += 4) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let x = v128.load32_splat(a);
    c00 = vmadd(x, b0, c00);
    c01 = vmadd(x, b1, c01);
    x = v128.load32_splat(a, 64);
    c10 = vmadd(x, b0, c10);
    c11 = vmadd(x, b1, c11);
    x = v128.load32_splat(a, 128);
    c20 = vmadd(x, b0, c20);
    c21 = vmadd(x, b1, c21);
    x = v128.load32_splat(a, 192);
    c30 = vmadd(x, b0, c30);
    c31 = vmadd(x, b1, c31);
    b += bStride;
  }
  v128.store(dst, c00);
  v128.store(dst, c01, 16);
  dst += ldd;
  v128.store(dst, c10);
  v128.store(dst, c11, 16);
  dst += ldd;
  v128.store(dst, c20);
  v128.store(dst, c21, 16);
  dst += ldd;
  v128.store(dst, c30);
  v128.store(dst, c31, 16);
}

// S[j·16 + r] = probs row r (r < rows, else 0), j < Tk. prow0: row 0's start.
function loadProbsKeyMajor(prow0: usize, Tk: i32, rows: i32): void {
  // The region pointers as locals: a global is reloaded on every use inside a loop.
  const sK = S;
  const rowB = <usize>Tk << 2;
  for (let r0 = 0; r0 < BQ; r0 += 4) {
    const src = prow0 + <usize>r0 * rowB, dst = sK + (<usize>r0 << 2);
    let j = 0;
    if (r0 + 4 <= rows) {
      for (; j + 4 <= Tk; j += 4) transpose4x4(src + (<usize>j << 2), rowB, dst + (<usize>j << 6), 64);
    }
    for (; j < Tk; j++) {
      for (let r = r0; r < r0 + 4; r++) {
        store<f32>(sK + (<usize>j << 6) + (<usize>r << 2), r < rows ? load<f32>(prow0 + <usize>r * rowB + (<usize>j << 2)) : 0);
      }
    }
  }
}

function backwardKeyMajor(
  dq: usize, dk: usize, dv: usize, q: usize, k: usize, v: usize, out: usize, dout: usize, lse: usize, probs: usize,
  B: i32, H: i32, Tq: i32, Tk: i32, D: i32, ldq: i32, sqB: i32, ldkv: i32, skvB: i32, scale: f32, privateProbs: bool,
): void {
  // The region pointers as locals: a global is reloaded on every use inside a loop.
  const sK = S, dsK = DS, ktP = KT, vtP = VT, qtP = QT, gtP = GT, otP = OT, dkA = DK, dvA = DV;
  const TkP = up8(Tk);
  const oRow = <usize>D << 2; // D is a multiple of 8 here: rows are read in place
  const dB = oRow;
  const ldqB = <usize>ldq << 2, ldkvB = <usize>ldkv << 2;
  const HD = H * D;
  const ldoB = <usize>HD << 2; // row stride of out and dout
  const panelB = <usize>(8 * D) << 2; // one 8-query panel of Qᵀ or dOᵀ
  const vs = vsplat(scale);
  const direct = (Tk & 3) == 0; // dK and dV rows of the last query tile written in place
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const hOff = <usize>h * D;
      const qBase = q + ((<usize>b * sqB + hOff) << 2);
      const dqBase = dq + ((<usize>b * sqB + hOff) << 2);
      const kBase = k + ((<usize>b * skvB + hOff) << 2);
      const vBase = v + ((<usize>b * skvB + hOff) << 2);
      const gBase = dout + ((<usize>b * Tq * HD + hOff) << 2);
      const oBase = out + ((<usize>b * Tq * HD + hOff) << 2);
      const dkBase = dk + ((<usize>b * skvB + hOff) << 2);
      const dvBase = dv + ((<usize>b * skvB + hOff) << 2);
      const bh = b * H + h;
      if (probs == 0) packPanels(ktP, kBase, ldkvB, Tk, D);
      packPanels(vtP, vBase, ldkvB, Tk, D);
      zeroRow(dkA, <usize>TkP * oRow);
      zeroRow(dvA, <usize>TkP * oRow);
      for (let i0 = 0; i0 < Tq; i0 += BQ) {
        const rows = min(BQ, Tq - i0);
        // dOᵀ (and Qᵀ) of the 16 queries in two 8-query panels, zero past Tq.
        packPanels(gtP, gBase + <usize>i0 * ldoB, ldoB, rows, D);
        if (rows <= 8) zeroRow(gtP + panelB, panelB);
        if (probs == 0) {
          packPanels(qtP, qBase + <usize>i0 * ldqB, ldqB, rows, D);
          if (rows <= 8) zeroRow(qtP + panelB, panelB);
        }
        for (let p = 0; p < TkP; p += NK) {
          const pOff = (<usize>p * D) << 2;
          for (let qh = 0; qh < 2; qh++) {
            const dst = (<usize>p << 6) + (<usize>qh << 5);
            tile4x8T(vtP + pOff, 32, gtP + <usize>qh * panelB, 32, D, dsK + dst, 64, false);
            tile4x8T(vtP + pOff + 16, 32, gtP + <usize>qh * panelB, 32, D, dsK + dst + 256, 64, false);
            if (probs == 0) {
              tile4x8T(ktP + pOff, 32, qtP + <usize>qh * panelB, 32, D, sK + dst, 64, false);
              tile4x8T(ktP + pOff + 16, 32, qtP + <usize>qh * panelB, 32, D, sK + dst + 256, 64, false);
            }
          }
        }
        // D_i = dO_i·o_i, four rows per vector (0 past Tq).
        for (let r0 = 0; r0 < BQ; r0 += 4) {
          let a0 = vsplat(0), a1 = a0, a2 = a0, a3 = a0;
          for (let r = r0; r < min(r0 + 4, rows); r++) {
            const acc = dotVec(gBase + <usize>(i0 + r) * ldoB, oBase + <usize>(i0 + r) * ldoB, D);
            if (r == r0) a0 = acc;
            else if (r == r0 + 1) a1 = acc;
            else if (r == r0 + 2) a2 = acc;
            else a3 = acc;
          }
          v128.store(DI + (<usize>r0 << 2), hsum4(a0, a1, a2, a3));
        }
        // P, key-major: the stored probabilities (a full private block read in
        // place), or e^{s·scale − lse} (lse = +∞ past Tq gives 0).
        let pK = sK;
        if (probs != 0) {
          const blk = probs + ((<usize>(bh * Tq + i0) * <usize>Tk) << 2);
          if (!privateProbs) loadProbsKeyMajor(blk, Tk, rows);
          else if (rows == BQ && (Tk & 3) == 0) pK = blk; // (dV's last 4-key group must not read past the block)
          else {
            for (let j = 0; j < Tk; j++) {
              for (let r = 0; r < BQ; r++) {
                store<f32>(sK + (<usize>j << 6) + (<usize>r << 2), r < rows ? load<f32>(blk + (<usize>(j * rows + r) << 2)) : 0);
              }
            }
          }
        } else {
          for (let r = 0; r < BQ; r++) {
            store<f32>(LSE16 + (<usize>r << 2), r < rows ? load<f32>(lse + ((<usize>bh * Tq + i0 + r) << 2)) : Infinity);
          }
          for (let u: usize = 0; u < 64; u += 16) {
            const vL = v128.load(LSE16 + u);
            for (let sj = sK + u, end = sK + u + (<usize>Tk << 6); sj < end; sj += 64) {
              v128.store(sj, vexpNeg(f32x4.sub(f32x4.mul(v128.load(sj), vs), vL)));
            }
          }
        }
        // scale·dS = scale·P ⊙ (dP' − D), in place of dP'. Scaling dS here
        // rather than dq and dK afterwards saves two passes over them; for a
        // power-of-two scale (1/√D with D = 4ⁿ: 16, 64, 256) the results are
        // the same bits either way, otherwise they differ in the last bit.
        for (let u: usize = 0; u < 64; u += 16) {
          const vD = v128.load(DI + u);
          let pj = pK + u;
          for (let dj = dsK + u, end = dsK + u + (<usize>Tk << 6); dj < end; dj += 64) {
            v128.store(dj, f32x4.mul(f32x4.mul(v128.load(pj), f32x4.sub(v128.load(dj), vD)), vs));
            pj += 64;
          }
        }
        // dq rows = (scale·dS)·K: straight into dq for four real rows, else via otP.
        for (let r0 = 0; r0 < rows; r0 += 4) {
          const full = r0 + 4 <= rows;
          for (let c = 0; c < D; c += 8) {
            const dst = full ? dqBase + <usize>(i0 + r0) * ldqB + (<usize>c << 2) : otP + <usize>r0 * oRow + (<usize>c << 2);
            tile4x8T(dsK + (<usize>r0 << 2), 64, kBase + (<usize>c << 2), ldkvB, Tk, dst, full ? ldqB : oRow, false);
          }
          if (!full) {
            for (let r = r0; r < rows; r++) copyRow(dqBase + <usize>(i0 + r) * ldqB, otP + <usize>r * oRow, dB);
          }
        }
        // dK += dSᵀ·Q, dV += Pᵀ·dO over the tile's rows. The last tile writes
        // the sums straight into dk and dv when every 4-key group is whole
        // (no scratch rows past Tk), saving a copy pass over them.
        const qRows = qBase + <usize>i0 * ldqB, gRows = gBase + <usize>i0 * ldoB;
        const out = direct && i0 + BQ >= Tq;
        for (let j0 = 0; j0 < Tk; j0 += 4) {
          const aOff = <usize>j0 << 6;
          for (let c = 0; c < D; c += 8) {
            const cOff = <usize>c << 2;
            const dkS = dkA + <usize>j0 * oRow + cOff, dvS = dvA + <usize>j0 * oRow + cOff;
            if (out) {
              const o = <usize>j0 * ldkvB + cOff;
              tile4x8K(dsK + aOff, qRows + cOff, ldqB, rows, dkS, oRow, dkBase + o, ldkvB);
              tile4x8K(pK + aOff, gRows + cOff, ldoB, rows, dvS, oRow, dvBase + o, ldkvB);
            } else {
              tile4x8K(dsK + aOff, qRows + cOff, ldqB, rows, dkS, oRow, dkS, oRow);
              tile4x8K(pK + aOff, gRows + cOff, ldoB, rows, dvS, oRow, dvS, oRow);
            }
          }
        }
      }
      if (!direct) {
        for (let j = 0; j < Tk; j++) {
          copyRow(dkBase + <usize>j * ldkvB, dkA + <usize>j * oRow, dB);
          copyRow(dvBase + <usize>j * ldkvB, dvA + <usize>j * oRow, dB);
        }
      }
    }
  }
}

/**
 * dq (layout of q), dk and dv (layout of k, v), dmask [B,H,Tq,Tk] (0 = not
 * wanted; written in full) from q, k, v, out and dout ([B,Tq,H,D]), lse
 * [B,H,Tq] and the mask. Every element of dq, dk, dv's heads is written.
 * probs ≠ 0: the forward's probabilities [B,H,Tq,Tk] (its `probs` output),
 * used instead of recomputing Q·Kᵀ and the exponentials (the op stores them
 * for short key sequences, where they cost less memory than Q, K, V);
 * probsPrivate as given to the forward that wrote them.
 *
 * Loop order (FlashAttention-2's): key blocks of up to KEY_BLOCK keys
 * outside, query tiles inside. A block's dK and dV accumulate in a small
 * scratch that stays in cache and are final when the block ends; dq rows
 * accumulate in place across blocks.
 */
export function attention_bwd(
  dq: usize, dk: usize, dv: usize, dmask: usize, q: usize, k: usize, v: usize, out: usize, dout: usize, lse: usize,
  probs: usize, mask: usize, ws: usize,
  B: i32, H: i32, Tq: i32, Tk: i32, D: i32, ldq: i32, sqB: i32, ldkv: i32, skvB: i32,
  mB: i32, mH: i32, mQ: i32, causal: i32, scale: f32, dropP: f32, seed: i32, probsPrivate: i32,
): void {
  if (B == 0 || H == 0) return;
  layout(ws, Tk, D);
  if (dmask == 0 && keyMajorProbs(mask, causal, dropP, Tq, Tk, D)) {
    backwardKeyMajor(dq, dk, dv, q, k, v, out, dout, lse, probs, B, H, Tq, Tk, D, ldq, sqB, ldkv, skvB, scale, probsPrivate != 0);
    return;
  }
  const TkP = up8(Tk), DP = up8(D);
  const KB = min(TkP, KEY_BLOCK); // keys per block
  const sRow = <usize>KB << 2; // bytes per S/DS/PD row in the backward
  const oRow = <usize>DP << 2;
  const dB = <usize>D << 2;
  const ldqB = <usize>ldq << 2, ldkvB = <usize>ldkv << 2;
  const HD = H * D;
  const ldoB = <usize>HD << 2; // row stride of out and dout
  const off = Tk - Tq;
  const dropping = dropP > 0;
  const hasMask = mask != 0;
  const key = dropoutKey(<u32>seed);
  const thr = <u32>(<f64>dropP * 4294967296.0);
  const dscale = <f32>(1.0 / (1.0 - <f64>dropP));
  // With D a multiple of 8, rows of K, Q and dO are read in place (no padded copies).
  const direct = DP == D;
  // One key block: each dq row gets its only contribution, written rather than accumulated.
  const single = Tk > 0 && Tk <= KB;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const hOff = <usize>h * D;
      const qBase = q + ((<usize>b * sqB + hOff) << 2);
      const dqBase = dq + ((<usize>b * sqB + hOff) << 2);
      const kBase = k + ((<usize>b * skvB + hOff) << 2);
      const vBase = v + ((<usize>b * skvB + hOff) << 2);
      const gBase = dout + ((<usize>b * Tq * HD + hOff) << 2);
      const dkBase = dk + ((<usize>b * skvB + hOff) << 2);
      const dvBase = dv + ((<usize>b * skvB + hOff) << 2);
      const bh = b * H + h;
      for (let i = 0; i < Tq; i++) {
        if (!single) zeroRow(dqBase + <usize>i * ldqB, dB);
        if (dmask != 0) zeroRow(dmask + (((<usize>bh * Tq + i) * <usize>Tk) << 2), <usize>Tk << 2);
      }
      if (Tq > 0) {
        if (probs == 0) packPanels(KT, kBase, ldkvB, Tk, D);
        packPanels(VT, vBase, ldkvB, Tk, D);
        if (!direct) packRows(KR, kBase, ldkvB, Tk, D, DP);
      }
      const kRows = direct ? kBase : KR;
      const kStride = direct ? ldkvB : oRow;
      for (let kb0 = 0; kb0 < Tk || kb0 == 0; kb0 += KB) {
        const kbLen = min(KB, Tk - kb0); // keys in this block
        zeroRow(DK, <usize>KB * oRow);
        zeroRow(DV, <usize>KB * oRow);
        for (let i0 = 0; i0 < Tq && kbLen > 0; i0 += BQ) {
          const rows = min(BQ, Tq - i0);
          const groups = (rows + 3) >> 2;
          const R = groups << 2; // rows computed (a multiple of 4; rows past Tq are zero)
          // Keys of this block that some row of the tile sees: [kb0, kb0 + jEnd).
          const jEnd = causal != 0 ? clampi(i0 + rows + off - kb0, 0, kbLen) : kbLen;
          if (jEnd == 0) {
            if (single) for (let r = 0; r < rows; r++) zeroRow(dqBase + <usize>(i0 + r) * ldqB, dB);
            continue;
          }
          const nP = up8(jEnd);
          // The tile's q and dO rows: in place, or zero-padded copies (partial tiles, D not a multiple of 8).
          let qt = QT, ldqt = oRow, gt = GT, ldgt = oRow;
          if (direct && rows == R) {
            qt = qBase + <usize>i0 * ldqB;
            ldqt = ldqB;
            gt = gBase + <usize>i0 * ldoB;
            ldgt = ldoB;
          } else {
            for (let r = 0; r < R; r++) {
              const qr = QT + <usize>r * oRow, gr = GT + <usize>r * oRow;
              if (r < rows) {
                copyRow(qr, qBase + <usize>(i0 + r) * ldqB, dB);
                copyRow(gr, gBase + <usize>(i0 + r) * ldoB, dB);
                if (DP > D) {
                  zeroRow(qr + dB, oRow - dB);
                  zeroRow(gr + dB, oRow - dB);
                }
              } else {
                zeroRow(qr, oRow);
                zeroRow(gr, oRow);
              }
            }
          }
          for (let p = 0; p < nP; p += NK) {
            const pOff = (<usize>(kb0 + p) * D) << 2;
            for (let g = 0; g < groups; g++) {
              const q0 = qt + <usize>(g << 2) * ldqt, g0 = gt + <usize>(g << 2) * ldgt;
              const sOff = <usize>(g << 2) * sRow + (<usize>p << 2);
              if (probs == 0) tile4x8(q0, q0 + ldqt, q0 + 2 * ldqt, q0 + 3 * ldqt, KT + pOff, NK << 2, D, S + sOff, sRow);
              tile4x8(g0, g0 + ldgt, g0 + 2 * ldgt, g0 + 3 * ldgt, VT + pOff, NK << 2, D, DS + sOff, sRow);
            }
          }
          // D_i = dO_i·o_i for the tile's rows, four at a time (one horizontal reduction per group).
          for (let r0 = 0; r0 < R; r0 += 4) {
            let a0 = vsplat(0), a1 = a0, a2 = a0, a3 = a0;
            for (let r = r0; r < min(r0 + 4, rows); r++) {
              const acc = dotVec(gt + <usize>r * ldgt, out + ((<usize>(b * Tq + i0 + r) * HD + hOff) << 2), D);
              if (r == r0) a0 = acc;
              else if (r == r0 + 1) a1 = acc;
              else if (r == r0 + 2) a2 = acc;
              else a3 = acc;
            }
            v128.store(DI + (<usize>r0 << 2), hsum4(a0, a1, a2, a3));
          }
          for (let r = 0; r < R; r++) {
            const srow = S + <usize>r * sRow;
            const drow = DS + <usize>r * sRow;
            const pdrow = PD + <usize>r * sRow;
            if (r >= rows) {
              zeroRange(srow, 0, nP);
              zeroRange(drow, 0, nP);
              if (dropping) zeroRange(pdrow, 0, nP);
              continue;
            }
            const i = i0 + r;
            const kEnd = causal != 0 ? clampi(i + off + 1 - kb0, 0, jEnd) : jEnd; // within the block
            const mrow: usize = hasMask ? mask + ((<usize>b * mB + <usize>h * mH + <usize>i * mQ + <usize>kb0) << 2) : 0;
            const L = load<f32>(lse + ((<usize>bh * Tq + i) << 2));
            const Di = load<f32>(DI + (<usize>r << 2));
            const idx0 = <u32>((bh * Tq + i) * Tk + kb0);
            if (probs != 0) {
              const prow = probs + ((<usize>idx0) << 2);
              if (dropping) rowBackwardStored(srow, drow, pdrow, prow, kEnd, Di, key, thr, dscale, idx0, true);
              else rowBackwardStored(srow, drow, pdrow, prow, kEnd, Di, key, thr, dscale, idx0, false);
            } else if (hasMask) {
              if (dropping) rowBackward(srow, drow, pdrow, mrow, kEnd, scale, L, Di, key, thr, dscale, idx0, true, true);
              else rowBackward(srow, drow, pdrow, mrow, kEnd, scale, L, Di, key, thr, dscale, idx0, true, false);
            } else {
              if (dropping) rowBackward(srow, drow, pdrow, mrow, kEnd, scale, L, Di, key, thr, dscale, idx0, false, true);
              else rowBackward(srow, drow, pdrow, mrow, kEnd, scale, L, Di, key, thr, dscale, idx0, false, false);
            }
            zeroRange(srow, kEnd, nP);
            zeroRange(drow, kEnd, nP);
            if (dropping) zeroRange(pdrow, kEnd, nP);
            if (dmask != 0 && kEnd > 0) {
              copyRow(dmask + (((<usize>bh * Tq + i) * <usize>Tk + <usize>kb0) << 2), drow, <usize>kEnd << 2);
            }
          }
          // dq rows += scale · dS·K_block
          for (let c = 0; c < DP; c += 8) {
            for (let g = 0; g < groups; g++) {
              const d0 = DS + <usize>(g << 2) * sRow;
              const kr = kRows + <usize>kb0 * kStride + (<usize>c << 2);
              tile4x8(d0, d0 + sRow, d0 + 2 * sRow, d0 + 3 * sRow, kr, kStride, jEnd, OT + <usize>(g << 2) * oRow + (<usize>c << 2), oRow);
            }
          }
          for (let r = 0; r < rows; r++) {
            const dst = dqBase + <usize>(i0 + r) * ldqB;
            if (single) scaleRow(dst, OT + <usize>r * oRow, D, scale);
            else addScaledRow(dst, OT + <usize>r * oRow, D, scale);
          }
          // dK_block += dSᵀ·Q,  dV_block += P'ᵀ·dO: 4 keys × 8 columns per register tile, summed over the R rows.
          const P = dropping ? PD : S;
          for (let j0 = 0; j0 < jEnd; j0 += 4) {
            const jOff = <usize>j0 << 2;
            for (let c = 0; c < DP; c += 8) {
              const cOff = <usize>c << 2;
              tile4x8T(DS + jOff, sRow, qt + cOff, ldqt, R, DK + <usize>j0 * oRow + cOff, oRow);
              tile4x8T(P + jOff, sRow, gt + cOff, ldgt, R, DV + <usize>j0 * oRow + cOff, oRow);
            }
          }
        }
        for (let j = 0; j < kbLen; j++) {
          scaleRow(dkBase + <usize>(kb0 + j) * ldkvB, DK + <usize>j * oRow, D, scale);
          copyRow(dvBase + <usize>(kb0 + j) * ldkvB, DV + <usize>j * oRow, dB);
        }
        if (Tk == 0) break;
      }
    }
  }
}
