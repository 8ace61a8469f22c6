/**
 * layerNorm and rmsNorm over the trailing dimensions, each one fused kernel
 * forward and one backward.
 *
 *   layerNorm:  y = (x − μ)/√(σ² + ε) · γ + β      μ, σ² over the normalised dims
 *   rmsNorm:    y = x/√(mean(x²) + ε) · γ
 *
 * The normalised dimensions (`normalizedShape`, the last one or more
 * dimensions of x) are contiguous, so the kernels see x as [rows, n] with
 * n = product(normalizedShape). The forward saves the per-row mean and
 * 1/σ (two floats per row) for the backward, which computes dx, dγ and dβ in
 * one kernel call (see assembly/layernorm.ts for the formulas).
 * Kernels: layernorm_fwd/bwd, rmsnorm_fwd/bwd (assembly/layernorm.ts,
 * src/backend/js/layernorm.ts).
 */

import { defineOp, record } from '../autograd.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { empty, type Tensor } from '../tensor.js';
import { checkBackends, checkFloat, product, sameShape } from './checks.js';

interface NormSaved {
  mean: Tensor | null;
  rstd: Tensor;
  rows: number;
  n: number;
  hasWeight: boolean;
  hasBias: boolean;
}

// dx goes straight into x's pending gradient when there is one (prior[0]):
// in a pre-norm block x is the residual stream, whose gradient from the
// residual branch is already there, so the add pass after the backward is
// saved (≈25 µs per norm on the bench transformer). Same bits as that add.
const layerNormOp = defineOp<NormSaved>({
  name: 'layer_norm',
  acceptsPrior: true,
  backward: (gy, { inputs, saved: s }, needs, prior, fresh) => {
    const be = gy.backend;
    const x = inputs[0];
    const w = s.hasWeight ? inputs[1] : undefined;
    const bIdx = s.hasWeight ? 2 : 1;
    const acc = prior[0];
    const accDx = acc && !fresh[0] ? 1 : 0; // fresh: x's .grad is stale after zeroGrad, written instead
    const dx = acc ?? empty(x.shape, { backend: be });
    const dw = w && needs[1] ? empty(w.shape, { backend: be }) : null;
    const db = s.hasBias && needs[bIdx] ? empty(inputs[bIdx].shape, { backend: be }) : null;
    be.k.layernorm_bwd(
      dx.ptr, dw?.ptr ?? 0, db?.ptr ?? 0, gy.ptr, x.ptr, s.mean!.ptr, s.rstd.ptr, w?.ptr ?? 0, s.rows, s.n, accDx,
    );
    const grads: (Tensor | null)[] = [needs[0] ? dx : null];
    if (!needs[0]) dx.dispose();
    if (s.hasWeight) grads.push(dw);
    if (s.hasBias) grads.push(db);
    return grads;
  },
});

const rmsNormOp = defineOp<NormSaved>({
  name: 'rms_norm',
  acceptsPrior: true,
  backward: (gy, { inputs, saved: s }, needs, prior, fresh) => {
    const be = gy.backend;
    const x = inputs[0];
    const w = s.hasWeight ? inputs[1] : undefined;
    const acc = prior[0];
    const dx = acc ?? empty(x.shape, { backend: be });
    const dw = w && needs[1] ? empty(w.shape, { backend: be }) : null;
    be.k.rmsnorm_bwd(dx.ptr, dw?.ptr ?? 0, gy.ptr, x.ptr, s.rstd.ptr, w?.ptr ?? 0, s.rows, s.n, acc && !fresh[0] ? 1 : 0);
    if (!needs[0]) dx.dispose();
    return s.hasWeight ? [needs[0] ? dx : null, dw] : [needs[0] ? dx : null];
  },
});

/** @internal The normalised shape as an array, checked against x; returns n = its product. */
export function checkNormalizedShape(
  where: string, x: Tensor, normalizedShape: number | readonly number[], weight?: Tensor, bias?: Tensor,
): number[] {
  const ns = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  if (ns.length === 0 || ns.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ValueError(`${where}: normalizedShape must be one or more positive integers; got ${fmtShape(ns)}`);
  }
  if (x.rank < ns.length || !sameShape(x.shape.slice(x.rank - ns.length), ns)) {
    throw new ShapeError(
      `${where}: input ${fmtShape(x.shape)} does not end with the normalized shape ${fmtShape(ns)}`,
    );
  }
  for (const [name, t] of [['weight', weight], ['bias', bias]] as const) {
    if (t && !sameShape(t.shape, ns)) {
      throw new ShapeError(`${where}: ${name} must have the normalized shape ${fmtShape(ns)}; got ${fmtShape(t.shape)}`);
    }
  }
  return ns;
}

function checkEps(where: string, eps: number): void {
  if (typeof eps !== 'number' || !(eps >= 0) || !Number.isFinite(eps)) {
    throw new ValueError(`${where}: eps must be a finite number ≥ 0; got ${eps}`);
  }
}

/**
 * Layer normalisation over the trailing `normalizedShape` dimensions
 * (PyTorch's F.layer_norm), with optional elementwise weight γ and bias β of
 * that shape.
 * @param eps  added to the variance. Default 1e-5.
 * @example layerNorm(x, 64, gamma, beta)   // x [B,T,64]
 */
export function layerNorm(
  x: Tensor, normalizedShape: number | readonly number[], weight?: Tensor, bias?: Tensor, eps = 1e-5,
): Tensor {
  const ts = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  checkBackends('layerNorm', ...ts);
  checkFloat('layerNorm', ...ts);
  const ns = checkNormalizedShape('layerNorm', x, normalizedShape, weight, bias);
  checkEps('layerNorm', eps);
  const n = product(ns);
  const rows = x.size / n;
  const be = x.backend;
  const y = empty(x.shape, { backend: be });
  const mean = empty([rows], { backend: be });
  const rstd = empty([rows], { backend: be });
  be.k.layernorm_fwd(y.ptr, mean.ptr, rstd.ptr, x.ptr, weight?.ptr ?? 0, bias?.ptr ?? 0, rows, n, eps);
  return record(layerNormOp, y, ts, { mean, rstd, rows, n, hasWeight: !!weight, hasBias: !!bias }, [mean, rstd]);
}

/**
 * Root-mean-square normalisation over the trailing `normalizedShape`
 * dimensions (PyTorch's F.rms_norm): y = x/√(mean(x²) + ε)·γ.
 * @param eps  Default 1e-6.
 */
export function rmsNorm(x: Tensor, normalizedShape: number | readonly number[], weight?: Tensor, eps = 1e-6): Tensor {
  const ts = [x, ...(weight ? [weight] : [])];
  checkBackends('rmsNorm', ...ts);
  checkFloat('rmsNorm', ...ts);
  const ns = checkNormalizedShape('rmsNorm', x, normalizedShape, weight);
  checkEps('rmsNorm', eps);
  const n = product(ns);
  const rows = x.size / n;
  const be = x.backend;
  const y = empty(x.shape, { backend: be });
  const rstd = empty([rows], { backend: be });
  be.k.rmsnorm_fwd(y.ptr, rstd.ptr, x.ptr, weight?.ptr ?? 0, rows, n, eps);
  return record(rmsNormOp, y, ts, { mean: null, rstd, rows, n, hasWeight: !!weight, hasBias: false }, [rstd]);
}
