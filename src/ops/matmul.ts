/**
 * matmul: C = op(A)·op(B), 2-D or batched, with its backward rule.
 *
 *   A [..., M, K] (or [..., K, M] with transposeA)
 *   B [..., K, N] (or [..., N, K] with transposeB)   →   C [..., M, N]
 *
 * Batch dimensions must be equal, or one side is 2-D and is shared by every
 * batch entry (x[B,T,C]·W[C,D], the usual layer shape). That case runs as one
 * GEMM over the flattened [B·T, C] rows.
 *
 * Backward, with op(X) = X or Xᵀ:
 *   d op(A) = dC·op(B)ᵀ      → dA = dC·op(B)ᵀ, or (transposeA) dA = op(B)·dCᵀ
 *   d op(B) = op(A)ᵀ·dC      → dB = op(A)ᵀ·dC, or (transposeB) dB = dCᵀ·op(A)
 * Each is one GEMM call with transpose flags: no transpose is materialised.
 * A 2-D operand shared across a batch gets the sum of per-entry gradients.
 *
 * Kernel: gemm / gemm_batched (assembly/gemm.ts, src/backend/js/gemm.ts).
 */

import { defineOp, record } from '../autograd.js';
import type { Backend } from '../backend/index.js';
import { ShapeError, fmtShape } from '../errors.js';
import { empty, type Tensor } from '../tensor.js';
import { checkBackends, checkFloat, product, sameShape } from './checks.js';

export interface MatmulOptions {
  /** Use Aᵀ (A stored as [..., K, M]). Default false. */
  transposeA?: boolean;
  /** Use Bᵀ (B stored as [..., N, K]). Default false. */
  transposeB?: boolean;
}

/**
 * One GEMM problem over raw pointers: C_i = op(X_i)·op(Y_i) (+ beta·C_i) for
 * i < batch, with element strides sx, sy, sc between entries (0 = shared).
 */
function gemmCall(
  be: Backend, c: number, x: number, y: number, m: number, n: number, k: number,
  tx: boolean, ty: boolean, batch: number, sx: number, sy: number, sc: number, beta: number,
): void {
  const lda = tx ? m : k;
  const ldb = ty ? k : n;
  if (batch === 1) {
    be.k.gemm(c, x, y, be.gemmWs, m, n, k, lda, ldb, n, +tx, +ty, 1, beta);
  } else {
    be.k.gemm_batched(c, x, y, be.gemmWs, batch, m, n, k, lda, ldb, n, sx, sy, sc, +tx, +ty, 1, beta);
  }
}

/** C = Σ_i op(X_i)·op(Y_i): a batched product reduced into one 2-D result (gradient of a shared operand). */
function gemmSum(
  be: Backend, c: number, x: number, y: number, m: number, n: number, k: number,
  tx: boolean, ty: boolean, batch: number, sx: number, sy: number,
): void {
  for (let i = 0; i < batch; i++) {
    gemmCall(be, c, x + 4 * i * sx, y + 4 * i * sy, m, n, k, tx, ty, 1, 0, 0, 0, i === 0 ? 0 : 1);
  }
}

interface MatmulSaved {
  m: number;
  n: number;
  k: number;
  batch: number;
  batchedA: boolean;
  batchedB: boolean;
  tA: boolean;
  tB: boolean;
}

const matmulOp = defineOp<MatmulSaved>({
  name: 'matmul',
  backward(gy, { inputs: [a, b], saved }, needs) {
    const { m, n, k, batch, batchedA, batchedB, tA, tB } = saved;
    const be = gy.backend;
    const sA = batchedA ? m * k : 0;
    const sB = batchedB ? k * n : 0;
    const sC = m * n;
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (needs[0]) {
      ga = empty(a.shape, { backend: be });
      // dA = dC·op(B)ᵀ   or (tA) dA = op(B)·dCᵀ
      if (!batchedA && batch > 1) {
        if (!tA) gemmSum(be, ga.ptr, gy.ptr, b.ptr, m, k, n, false, !tB, batch, sC, sB);
        else gemmSum(be, ga.ptr, b.ptr, gy.ptr, k, m, n, tB, true, batch, sB, sC);
      } else if (!tA && !batchedB) {
        gemmCall(be, ga.ptr, gy.ptr, b.ptr, batch * m, k, n, false, !tB, 1, 0, 0, 0, 0);
      } else if (!tA) {
        gemmCall(be, ga.ptr, gy.ptr, b.ptr, m, k, n, false, !tB, batch, sC, sB, sA, 0);
      } else {
        gemmCall(be, ga.ptr, b.ptr, gy.ptr, k, m, n, tB, true, batch, sB, sC, sA, 0);
      }
    }
    if (needs[1]) {
      gb = empty(b.shape, { backend: be });
      // dB = op(A)ᵀ·dC   or (tB) dB = dCᵀ·op(A)
      if (!batchedB && batch > 1) {
        if (!tA && batchedA) {
          // Shared B under flattened A rows: one GEMM over all batch·M rows.
          if (!tB) gemmCall(be, gb.ptr, a.ptr, gy.ptr, k, n, batch * m, true, false, 1, 0, 0, 0, 0);
          else gemmCall(be, gb.ptr, gy.ptr, a.ptr, n, k, batch * m, true, false, 1, 0, 0, 0, 0);
        } else if (!tB) gemmSum(be, gb.ptr, a.ptr, gy.ptr, k, n, m, !tA, false, batch, sA, sC);
        else gemmSum(be, gb.ptr, gy.ptr, a.ptr, n, k, m, true, tA, batch, sC, sA);
      } else if (!tB) {
        gemmCall(be, gb.ptr, a.ptr, gy.ptr, k, n, m, !tA, false, batch, sA, sC, sB, 0);
      } else {
        gemmCall(be, gb.ptr, gy.ptr, a.ptr, n, k, m, true, tA, batch, sC, sA, sB, 0);
      }
    }
    return [ga, gb];
  },
});

/**
 * Matrix product of the last two dimensions, batched over the leading ones.
 *
 * @example
 * matmul(x, w);                          // [B,T,C]·[C,D] → [B,T,D]
 * matmul(q, k, { transposeB: true });    // Q·Kᵀ without copying K
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const tA = options.transposeA === true;
  const tB = options.transposeB === true;
  checkBackends('matmul', a, b);
  checkFloat('matmul', a, b);
  if (a.rank < 2 || b.rank < 2) {
    throw new ShapeError(
      `matmul: both operands need at least 2 dimensions; got a ${fmtShape(a.shape)}, b ${fmtShape(b.shape)}` +
        `; hint: reshape a vector to [1,K] or [K,1]`,
    );
  }
  const m = a.shape[a.rank - (tA ? 1 : 2)];
  const ka = a.shape[a.rank - (tA ? 2 : 1)];
  const kb = b.shape[b.rank - (tB ? 1 : 2)];
  const n = b.shape[b.rank - (tB ? 2 : 1)];
  if (ka !== kb) {
    const t = (f: boolean) => (f ? 'ᵀ' : '');
    throw new ShapeError(
      `matmul: inner dimensions differ: a${t(tA)} is ${fmtShape(a.shape)}, b${t(tB)} is ${fmtShape(b.shape)} ` +
        `(${ka} vs ${kb})`,
    );
  }
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  if (batchA.length > 0 && batchB.length > 0 && !sameShape(batchA, batchB)) {
    throw new ShapeError(
      `matmul: batch dimensions differ: a is ${fmtShape(a.shape)}, b is ${fmtShape(b.shape)}; ` +
        `they must be equal, or one operand must be 2-D`,
    );
  }
  const batchDims = batchA.length > 0 ? batchA : batchB;
  const batch = product(batchDims);
  const out = empty([...batchDims, m, n], { backend: a.backend });
  const be = a.backend;
  const batchedA = batchA.length > 0;
  const batchedB = batchB.length > 0;
  if (batchedA && !batchedB && !tA) {
    gemmCall(be, out.ptr, a.ptr, b.ptr, batch * m, n, ka, false, tB, 1, 0, 0, 0, 0);
  } else {
    gemmCall(be, out.ptr, a.ptr, b.ptr, m, n, ka, tA, tB, batch, batchedA ? m * ka : 0, batchedB ? ka * n : 0, m * n, 0);
  }
  return record(matmulOp, out, [a, b], { m, n, k: ka, batch, batchedA, batchedB, tA, tB });
}
