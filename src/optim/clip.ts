/**
 * Gradient clipping (torch.nn.utils.clip_grad_norm_ / clip_grad_value_).
 *
 *   clipGradNorm:  total = ‖(‖g_1‖_p, …, ‖g_k‖_p)‖_p  over every gradient;
 *                  if maxNorm / (total + 1e-6) < 1, every gradient is scaled by it.
 *   clipGradValue: g ← clamp(g, −c, c).
 *
 * Gradients that sit back to back in memory are handled as one range (see
 * slab.ts `coalesce`), so for the parameters of an optimizer — whose
 * gradients live in its slab — the norm is one `sumsq_f32` kernel call and
 * the scaling one `muls_f32` call. Any other tensors work too (one call each).
 * Parameters whose `.grad` is null are skipped.
 */

import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { checkScalar, coalesce, collectParams, reduceSum, withScratch, type ParamSource } from './slab.js';

export interface ClipGradNormOptions {
  /** Throw a ValueError when the total norm is NaN or infinite (gradients unchanged). Default false. */
  errorIfNonfinite?: boolean;
}

function liveGrads(params: ParamSource, where: string): Tensor[] {
  const grads: Tensor[] = [];
  for (const p of collectParams(params, where)) {
    const g = p.grad;
    if (g !== null && !g.isDisposed && g.dtype === 'float32') grads.push(g);
  }
  return grads;
}

/**
 * Scales the gradients of `params` so that their total `normType`-norm is at
 * most `maxNorm`, and returns the total norm before clipping.
 *
 * @param params    tensors or a Module (anything with `parameters()`)
 * @param maxNorm   finite, ≥ 0
 * @param normType  p > 0, or Infinity for the max-norm. Default 2.
 *
 * A NaN or infinite norm: with `errorIfNonfinite` a ValueError; otherwise an
 * infinite norm scales the gradients by 0 and a NaN norm leaves them unchanged
 * (PyTorch would multiply them by NaN).
 *
 * @example
 * backward(loss);
 * const norm = clipGradNorm(model, 1.0);
 * opt.step();
 */
export function clipGradNorm(params: ParamSource, maxNorm: number, normType = 2, options: ClipGradNormOptions = {}): number {
  const where = 'clipGradNorm';
  checkScalar(where, 'maxNorm', maxNorm, true);
  if (typeof normType !== 'number' || !(normType > 0)) {
    throw new ValueError(`${where}: normType must be a number > 0 (or Infinity); got ${String(normType)}`);
  }
  for (const key of Object.keys(options)) {
    if (key !== 'errorIfNonfinite') throw new ValueError(`${where}: unknown option '${key}'; valid: errorIfNonfinite`);
  }
  const grads = liveGrads(params, where);
  if (grads.length === 0) return 0;
  const ranges = coalesce(grads);

  let total: number;
  if (normType === 2) total = Math.sqrt(reduceSum(ranges, 'sumsq_f32'));
  else if (normType === 1) total = reduceSum(ranges, 'sumabs_f32');
  else if (normType === Infinity) {
    total = 0;
    for (const r of ranges) {
      const m = withScratch(r.backend, (out) => {
        r.backend.k.absmax_f32(out, r.ptr, r.n);
        return r.backend.heap.f32[out >>> 2];
      });
      total = m !== m ? NaN : Math.max(total, m);
    }
  } else {
    // Rare norms: a float64 loop over the heap (no kernel).
    let s = 0;
    for (const g of grads) {
      const F = g.backend.heap.f32;
      const p0 = g.ptr >>> 2;
      for (let i = 0; i < g.size; i++) s += Math.pow(Math.abs(F[p0 + i]), normType);
    }
    total = Math.pow(s, 1 / normType);
  }

  if (!Number.isFinite(total) && options.errorIfNonfinite) {
    throw new ValueError(
      `${where}: the total norm of order ${normType} of the gradients is ${total}; ` +
        `hint: look for the op that makes NaN/Infinity with setAnomalyMode(true)`,
    );
  }
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) for (const r of ranges) r.backend.k.muls_f32(r.ptr, r.ptr, r.n, coef);
  return total;
}

/**
 * Clamps every gradient element of `params` to [−clipValue, clipValue] in place.
 *
 * @example
 * clipGradValue(model, 0.5);
 */
export function clipGradValue(params: ParamSource, clipValue: number): void {
  const where = 'clipGradValue';
  checkScalar(where, 'clipValue', clipValue, true);
  for (const r of coalesce(liveGrads(params, where))) r.backend.k.clamp_f32(r.ptr, r.ptr, r.n, -clipValue, clipValue);
}
