/**
 * Adagrad (Duchi et al. 2011), as torch.optim.Adagrad documents it:
 *
 *   clr ← lr / (1 + (t − 1)·lrDecay)      (t = step number, from 1)
 *   g ← ∇ + wd·p
 *   S ← S + g²                            (S starts at initialAccumulatorValue)
 *   p ← p − clr·g / (√S + ε)
 *
 * State buffer: `sum` (PyTorch's sum).
 */

import type { Kernels } from '../backend/kernels.js';
import { checkNumberOption, Optimizer, type OptimizerParams, type OptimizerSpec, type ParamGroup, type RangePtrs } from './optimizer.js';

export interface AdagradOptions {
  /** Learning rate. Default 1e-2. */
  lr?: number;
  /** Learning-rate decay per step. Default 0. */
  lrDecay?: number;
  /** L2 penalty added to the gradient. Default 0. */
  weightDecay?: number;
  /** Starting value of the accumulated squares (read when the optimizer is created). Default 0. */
  initialAccumulatorValue?: number;
  /** Added to the denominator. Default 1e-10. */
  eps?: number;
}

export const ADAGRAD_DEFAULTS: Readonly<Required<AdagradOptions>> = Object.freeze({
  lr: 1e-2,
  lrDecay: 0,
  weightDecay: 0,
  initialAccumulatorValue: 0,
  eps: 1e-10,
});

type O = Required<AdagradOptions>;

const SPEC: OptimizerSpec<O> = {
  name: 'Adagrad',
  defaults: ADAGRAD_DEFAULTS,
  validate(o, where) {
    checkNumberOption(where, 'lr', o.lr, { min: 0 });
    checkNumberOption(where, 'lrDecay', o.lrDecay, { min: 0 });
    checkNumberOption(where, 'weightDecay', o.weightDecay, { min: 0 });
    checkNumberOption(where, 'initialAccumulatorValue', o.initialAccumulatorValue, { min: 0 });
    checkNumberOption(where, 'eps', o.eps, { min: 0 });
  },
  buffers: () => ['sum'],
  initialValue: (_name, o) => o.initialAccumulatorValue,
};

/**
 * Adagrad.
 *
 * @example
 * const opt = new Adagrad(model, { lr: 0.05, initialAccumulatorValue: 0.1 });
 */
export class Adagrad extends Optimizer<O> {
  constructor(params: OptimizerParams<O>, options: AdagradOptions = {}) {
    super(SPEC, params, options);
  }

  protected update(k: Kernels, g: ParamGroup<O>, _s: unknown, at: RangePtrs, n: number, t: number): void {
    const clr = g.lr / (1 + (t - 1) * g.lrDecay);
    k.adagrad_step(at.p, at.buf.sum, at.g, n, clr, g.eps, g.weightDecay);
  }
}
