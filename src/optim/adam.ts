/**
 * Adam and AdamW: one implementation (`adam_step`), two defaults. Adam's
 * weight decay is an L2 term added to the gradient (coupled); AdamW's is
 * decoupled, p ← p·(1 − lr·wd), applied before the moment update. With zero
 * weight decay they are the same optimizer. As torch.optim.Adam / AdamW:
 *
 *   g ← ∇ + wd·p                    (Adam)     p ← p·(1 − lr·wd)   (AdamW)
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   v̂max ← max(v̂max, v)            (amsgrad; then v is replaced by v̂max below)
 *   p ← p − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + ε)
 *
 * Bias corrections are computed in float64 per step and passed to the kernel.
 * State buffers: `expAvg`, `expAvgSq`, and `maxExpAvgSq` with amsgrad
 * (PyTorch's exp_avg, exp_avg_sq, max_exp_avg_sq).
 */

import type { Kernels } from '../backend/kernels.js';
import { ValueError } from '../errors.js';
import {
  checkBoolOption, checkNumberOption, Optimizer, type OptimizerParams, type OptimizerSpec, type ParamGroup, type RangePtrs,
} from './optimizer.js';
import { describeValue } from './slab.js';

export interface AdamOptions {
  /** Learning rate. Default 1e-3. */
  lr?: number;
  /** Decay rates [β1, β2] of the moment averages, each in [0, 1). Default [0.9, 0.999]. */
  betas?: readonly [number, number];
  /** Added to the denominator. Default 1e-8. */
  eps?: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay rate (default 0.01). */
  weightDecay?: number;
  /** Use the running maximum of v (Reddi et al. 2018). Default false. */
  amsgrad?: boolean;
}

export type AdamWOptions = AdamOptions;

export const ADAM_DEFAULTS: Readonly<Required<AdamOptions>> = Object.freeze({
  lr: 1e-3,
  betas: Object.freeze([0.9, 0.999] as const),
  eps: 1e-8,
  weightDecay: 0,
  amsgrad: false,
});

export const ADAMW_DEFAULTS: Readonly<Required<AdamWOptions>> = Object.freeze({ ...ADAM_DEFAULTS, weightDecay: 1e-2 });

type O = Required<AdamOptions>;

function validate(o: O, where: string): void {
  checkNumberOption(where, 'lr', o.lr, { min: 0 });
  const b = o.betas as unknown;
  if (!Array.isArray(b) || b.length !== 2) {
    throw new ValueError(`${where}: betas must be two numbers [β1, β2] in [0, 1); got ${describeValue(b)}`);
  }
  checkNumberOption(where, 'betas[0]', b[0], { min: 0, max: 1, maxExclusive: true });
  checkNumberOption(where, 'betas[1]', b[1], { min: 0, max: 1, maxExclusive: true });
  checkNumberOption(where, 'eps', o.eps, { min: 0 });
  checkNumberOption(where, 'weightDecay', o.weightDecay, { min: 0 });
  checkBoolOption(where, 'amsgrad', o.amsgrad);
}

const buffers = (o: O) => (o.amsgrad ? ['expAvg', 'expAvgSq', 'maxExpAvgSq'] : ['expAvg', 'expAvgSq']);

const ADAM_SPEC: OptimizerSpec<O> = { name: 'Adam', defaults: ADAM_DEFAULTS, validate, buffers };
const ADAMW_SPEC: OptimizerSpec<O> = { name: 'AdamW', defaults: ADAMW_DEFAULTS, validate, buffers };

/** The shared implementation of Adam and AdamW. */
export abstract class AdamBase extends Optimizer<O> {
  protected constructor(
    spec: OptimizerSpec<O>,
    params: OptimizerParams<O>,
    options: AdamOptions,
    /** AdamW-style decoupled weight decay (else L2 added to the gradient). */
    readonly decoupled: boolean,
  ) {
    super(spec, params, options as Partial<O>);
  }

  protected update(k: Kernels, g: ParamGroup<O>, _s: unknown, at: RangePtrs, n: number, t: number): void {
    const [b1, b2] = g.betas;
    const bc1 = 1 - Math.pow(b1, t);
    const bc2 = 1 - Math.pow(b2, t);
    k.adam_step(
      at.p, at.buf.expAvg, at.buf.expAvgSq, at.buf.maxExpAvgSq ?? 0, at.g, n,
      g.lr, b1, b2, g.eps, g.weightDecay, +this.decoupled, +g.amsgrad, bc1, bc2,
    );
  }
}

/**
 * Adam (Kingma & Ba 2015); `weightDecay` is an L2 term added to the gradient.
 *
 * @example
 * const opt = new Adam(model, { lr: 3e-4 });
 */
export class Adam extends AdamBase {
  constructor(params: OptimizerParams<O>, options: AdamOptions = {}) {
    super(ADAM_SPEC, params, options, false);
  }
}

/**
 * AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay
 * p ← p·(1 − lr·wd), default wd 0.01.
 *
 * @example
 * const opt = new AdamW(model, { lr: 1e-3, weightDecay: 0.1 });
 */
export class AdamW extends AdamBase {
  constructor(params: OptimizerParams<O>, options: AdamWOptions = {}) {
    super(ADAMW_SPEC, params, options, true);
  }
}
