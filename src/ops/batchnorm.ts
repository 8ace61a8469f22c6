/**
 * batchNorm: batch normalisation over the last (channel) axis, with its
 * backward rule. For NHWC images [N, H, W, C] the statistics run over N, H
 * and W per channel (BatchNorm2d); for [N, C] over N (BatchNorm1d).
 *
 *   training:  mean, var = batch statistics over the R = size/C rows (biased var)
 *              running_mean ← (1 − m)·running_mean + m·mean
 *              running_var  ← (1 − m)·running_var  + m·var·R/(R − 1)
 *   eval:      mean, var = running_mean, running_var
 *   y = (x − mean)/√(var + eps)·γ + β
 *
 * Backward, with x̂ = (x − mean)/√(var + eps):
 *   dβ = Σ dy,   dγ = Σ dy·x̂
 *   training: dx = γ/√(var + eps) · (dy − mean(dy) − x̂·mean(dy·x̂))
 *   eval:     dx = γ/√(var + eps) · dy
 *
 * Kernels: batchnorm_stats, batchnorm_fwd, batchnorm_bwd (assembly/batchnorm.ts).
 */

import { defineOp, record } from '../autograd.js';
import { ConfigError, ShapeError, ValueError, fmtShape } from '../errors.js';
import { empty, type Tensor } from '../tensor.js';
import { checkBackends, checkFloat } from './checks.js';

export interface BatchNormOptions {
  /** Use batch statistics (and update the running ones) rather than the running statistics. Default false (as PyTorch's F.batch_norm). */
  training?: boolean;
  /** Weight of the new batch in the running statistics. Default 0.1. */
  momentum?: number;
  /** Added to the variance. Default 1e-5. */
  eps?: number;
}

export const BATCHNORM_DEFAULTS = Object.freeze({ training: false, momentum: 0.1, eps: 1e-5 });
const KEYS = Object.keys(BATCHNORM_DEFAULTS);

interface BnSaved {
  training: boolean;
  R: number;
  C: number;
}

const batchNormOp = defineOp<BnSaved>({
  name: 'batch_norm',
  backward: (gy, { inputs: [x, gamma, beta], saved: { training, R, C }, owned: [meanT, invstdT] }, needs) => {
    const be = gy.backend;
    const dx = needs[0] ? empty(x.shape, { backend: be }) : null;
    const dg = gamma !== undefined && needs[1] ? empty(gamma.shape, { backend: be }) : null;
    const db = beta !== undefined && needs[2] ? empty(beta.shape, { backend: be }) : null;
    const ws = empty([7 * C], { backend: be });
    be.k.batchnorm_bwd(
      dx?.ptr ?? 0, dg?.ptr ?? 0, db?.ptr ?? 0, ws.ptr, x.ptr, meanT.ptr, invstdT.ptr, gamma?.ptr ?? 0, gy.ptr, R, C, +training,
    );
    ws.dispose();
    return [dx, dg, db];
  },
});

/**
 * @internal batchNorm with the name used in error messages. gamma and beta
 * are both given or both absent (then inputs are [x] only).
 */
export function batchNormNamed(
  where: string, x: Tensor, runningMean: Tensor | null | undefined, runningVar: Tensor | null | undefined,
  weight: Tensor | null | undefined, bias: Tensor | null | undefined, options: BatchNormOptions = {},
): Tensor {
  if (options === null || typeof options !== 'object') throw new ConfigError(`${where}: options must be an object`);
  for (const k of Object.keys(options)) {
    if (!KEYS.includes(k)) throw new ConfigError(`${where}: unknown option '${k}'; valid: ${KEYS.join(', ')}`);
  }
  const o = { ...BATCHNORM_DEFAULTS, ...options };
  if (typeof o.training !== 'boolean') throw new ConfigError(`${where}: training must be true or false; got ${String(o.training)}`);
  if (typeof o.momentum !== 'number' || !(o.momentum >= 0 && o.momentum <= 1)) {
    throw new ValueError(`${where}: momentum must be a number in [0, 1]; got ${String(o.momentum)}`);
  }
  if (typeof o.eps !== 'number' || !(o.eps > 0) || !Number.isFinite(o.eps)) {
    throw new ValueError(`${where}: eps must be a positive number; got ${String(o.eps)}`);
  }
  const rm = runningMean ?? undefined, rv = runningVar ?? undefined;
  const g = weight ?? undefined, b = bias ?? undefined;
  const all = [x, rm, rv, g, b].filter((t): t is Tensor => t !== undefined);
  checkBackends(where, ...all);
  checkFloat(where, ...all);
  if (x.rank < 2) throw new ShapeError(`${where}: input must be [N, …, C] (channels last); got ${fmtShape(x.shape)}`);
  const C = x.shape[x.rank - 1];
  const R = x.size / (C || 1);
  for (const [name, t] of [['runningMean', rm], ['runningVar', rv], ['weight', g], ['bias', b]] as const) {
    if (t !== undefined && (t.rank !== 1 || t.shape[0] !== C)) {
      throw new ShapeError(
        `${where}: ${name} must be [${C}] for input ${fmtShape(x.shape)} with ${C} channels (last axis); got ${fmtShape(t.shape)}`,
      );
    }
  }
  if ((rm === undefined) !== (rv === undefined)) throw new ValueError(`${where}: give both runningMean and runningVar, or neither`);
  if ((g === undefined) !== (b === undefined)) throw new ValueError(`${where}: give both weight (γ) and bias (β), or neither`);
  if (!o.training && rm === undefined) {
    throw new ValueError(`${where}: evaluation mode needs runningMean and runningVar; hint: pass { training: true } to use batch statistics`);
  }
  if (o.training && R < 2) {
    throw new ValueError(
      `${where}: training needs more than one value per channel; input ${fmtShape(x.shape)} has ${R} per channel`,
    );
  }
  const be = x.backend;
  const y = empty(x.shape, { backend: be });
  const meanT = empty([C], { backend: be });
  const invstdT = empty([C], { backend: be });
  const mode = !o.training ? 2 : rm !== undefined ? 1 : 0;
  const ws = empty([7 * C], { backend: be });
  be.k.batchnorm_stats(meanT.ptr, invstdT.ptr, rm?.ptr ?? 0, rv?.ptr ?? 0, ws.ptr, x.ptr, R, C, o.momentum, o.eps, mode);
  ws.dispose();
  be.k.batchnorm_fwd(y.ptr, x.ptr, meanT.ptr, invstdT.ptr, g?.ptr ?? 0, b?.ptr ?? 0, R, C);
  return record(batchNormOp, y, g && b ? [x, g, b] : [x], { training: o.training, R, C }, [meanT, invstdT]);
}

/**
 * Batch normalisation over the last axis (channels last), PyTorch's
 * F.batch_norm argument order. `runningMean`/`runningVar` ([C]) are updated
 * in place in training mode when given; `weight` (γ) and `bias` (β) ([C]) are
 * optional. Differentiable in x, weight and bias.
 *
 * @example
 * const y = batchNorm(x, rm, rv, gamma, beta, { training: true });   // x [N, H, W, C]
 */
export function batchNorm(
  x: Tensor, runningMean?: Tensor | null, runningVar?: Tensor | null, weight?: Tensor | null, bias?: Tensor | null,
  options: BatchNormOptions = {},
): Tensor {
  return batchNormNamed('batchNorm', x, runningMean, runningVar, weight, bias, options);
}
