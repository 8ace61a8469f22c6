/**
 * RMSprop (Hinton's lecture 6e; centered variant of Graves 2013), as
 * torch.optim.RMSprop documents it:
 *
 *   g ← ∇ + wd·p
 *   s ← α·s + (1 − α)·g²
 *   ḡ ← α·ḡ + (1 − α)·g ;  d ← √(s − ḡ²) + ε      (centered)
 *                           d ← √s + ε            (otherwise)
 *   b ← μ·b + g/d ;  p ← p − lr·b                 (momentum > 0)
 *   p ← p − lr·g/d                                (otherwise)
 *
 * State buffers: `squareAvg`, `momentumBuffer` (when some group has momentum
 * > 0 at construction), `gradAvg` (when some group is centered).
 */

import type { Kernels } from '../backend/kernels.js';
import {
  checkBoolOption, checkNumberOption, Optimizer, type OptimizerParams, type OptimizerSpec, type ParamGroup, type RangePtrs,
} from './optimizer.js';

export interface RMSpropOptions {
  /** Learning rate. Default 1e-2. */
  lr?: number;
  /** Smoothing constant α in [0, 1]. Default 0.99. */
  alpha?: number;
  /** Added to the denominator. Default 1e-8. */
  eps?: number;
  /** L2 penalty added to the gradient. Default 0. */
  weightDecay?: number;
  /** Momentum factor ≥ 0. Default 0. */
  momentum?: number;
  /** Normalise by the estimated variance of the gradient instead of its second moment. Default false. */
  centered?: boolean;
}

export const RMSPROP_DEFAULTS: Readonly<Required<RMSpropOptions>> = Object.freeze({
  lr: 1e-2,
  alpha: 0.99,
  eps: 1e-8,
  weightDecay: 0,
  momentum: 0,
  centered: false,
});

type O = Required<RMSpropOptions>;

const SPEC: OptimizerSpec<O> = {
  name: 'RMSprop',
  defaults: RMSPROP_DEFAULTS,
  validate(o, where) {
    checkNumberOption(where, 'lr', o.lr, { min: 0 });
    checkNumberOption(where, 'alpha', o.alpha, { min: 0, max: 1 });
    checkNumberOption(where, 'eps', o.eps, { min: 0 });
    checkNumberOption(where, 'weightDecay', o.weightDecay, { min: 0 });
    checkNumberOption(where, 'momentum', o.momentum, { min: 0 });
    checkBoolOption(where, 'centered', o.centered);
  },
  buffers: (o) => [
    'squareAvg',
    ...(o.momentum !== 0 ? ['momentumBuffer'] : []),
    ...(o.centered ? ['gradAvg'] : []),
  ],
};

/**
 * RMSprop.
 *
 * @example
 * const opt = new RMSprop(model, { lr: 1e-3, momentum: 0.9, centered: true });
 */
export class RMSprop extends Optimizer<O> {
  constructor(params: OptimizerParams<O>, options: RMSpropOptions = {}) {
    super(SPEC, params, options);
  }

  protected update(k: Kernels, g: ParamGroup<O>, _s: unknown, at: RangePtrs, n: number): void {
    k.rmsprop_step(
      at.p, at.buf.squareAvg, at.buf.momentumBuffer ?? 0, at.buf.gradAvg ?? 0, at.g, n,
      g.lr, g.alpha, g.eps, g.weightDecay, g.momentum, +g.centered,
    );
  }
}
