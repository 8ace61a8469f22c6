/**
 * SGD with momentum, dampening, Nesterov momentum and (L2) weight decay, as
 * torch.optim.SGD documents it:
 *
 *   g ← ∇ + wd·p
 *   b ← g                          (first step with momentum)
 *   b ← μ·b + (1 − τ)·g            (later steps)
 *   g ← g + μ·b  (nesterov)   or   g ← b
 *   p ← p − lr·g
 *
 * One `sgd_step` kernel call per param group over the optimizer's slab
 * (optimizer.ts). State buffer: `momentumBuffer` (PyTorch's momentum_buffer),
 * allocated only when some group has momentum ≠ 0.
 */

import type { Kernels } from '../backend/kernels.js';
import { ConfigError } from '../errors.js';
import {
  checkBoolOption, checkNumberOption, Optimizer, type OptimizerParams, type OptimizerSpec, type ParamGroup, type RangePtrs,
} from './optimizer.js';

export interface SGDOptions {
  /** Learning rate. Default 1e-3 (PyTorch's). */
  lr?: number;
  /** Momentum factor μ ≥ 0. Default 0 (plain SGD). */
  momentum?: number;
  /** Dampening τ of the momentum. Default 0. */
  dampening?: number;
  /** L2 penalty added to the gradient (coupled weight decay). Default 0. */
  weightDecay?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). Default false. */
  nesterov?: boolean;
}

export const SGD_DEFAULTS: Readonly<Required<SGDOptions>> = Object.freeze({
  lr: 1e-3,
  momentum: 0,
  dampening: 0,
  weightDecay: 0,
  nesterov: false,
});

type O = Required<SGDOptions>;

const SPEC: OptimizerSpec<O> = {
  name: 'SGD',
  defaults: SGD_DEFAULTS,
  validate(o, where) {
    checkNumberOption(where, 'lr', o.lr, { min: 0 });
    checkNumberOption(where, 'momentum', o.momentum, { min: 0 });
    checkNumberOption(where, 'dampening', o.dampening);
    checkNumberOption(where, 'weightDecay', o.weightDecay, { min: 0 });
    checkBoolOption(where, 'nesterov', o.nesterov);
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) {
      throw new ConfigError(
        `${where}: nesterov momentum requires momentum > 0 and dampening 0; got momentum ${o.momentum}, dampening ${o.dampening}`,
      );
    }
  },
  buffers: (o) => (o.momentum !== 0 ? ['momentumBuffer'] : []),
};

/**
 * Stochastic gradient descent (optionally with momentum).
 *
 * @example
 * const opt = new SGD(model, { lr: 0.1, momentum: 0.9, nesterov: true });
 * for (const batch of data) {
 *   opt.zeroGrad();
 *   tidy(() => backward(loss(model, batch)));
 *   opt.step();
 * }
 */
export class SGD extends Optimizer<O> {
  constructor(params: OptimizerParams<O>, options: SGDOptions = {}) {
    super(SPEC, params, options);
  }

  protected update(k: Kernels, g: ParamGroup<O>, state: Record<string, number | boolean>, at: RangePtrs, n: number): void {
    const first = g.momentum !== 0 && state.momentumStarted !== true;
    k.sgd_step(at.p, at.buf.momentumBuffer ?? 0, at.g, n, g.lr, g.momentum, g.dampening, g.weightDecay, +g.nesterov, +first);
  }

  protected override afterStep(g: ParamGroup<O>, state: Record<string, number | boolean>): void {
    if (g.momentum !== 0) state.momentumStarted = true;
  }
}
