/** Loss functions by name, for fit() and evaluate(). */

import { ConfigError } from '../errors.js';
import { binaryCrossEntropyWithLogits, crossEntropy, mseLoss } from '../ops/losses.js';
import type { Tensor } from '../tensor.js';

/** A loss: (prediction, target) → scalar tensor. */
export type LossFn = (pred: Tensor, target: Tensor) => Tensor;
export type LossName = 'crossEntropy' | 'mse' | 'binaryCrossEntropyWithLogits';

const LOSSES: Record<LossName, LossFn> = {
  crossEntropy: (p, t) => crossEntropy(p, t),
  mse: (p, t) => mseLoss(p, t),
  binaryCrossEntropyWithLogits: (p, t) => binaryCrossEntropyWithLogits(p, t),
};

export function resolveLoss(loss: LossName | LossFn, where: string): LossFn {
  if (typeof loss === 'function') return loss;
  const fn = LOSSES[loss as LossName];
  if (!fn) throw new ConfigError(`${where}: unknown loss '${String(loss)}'; valid: ${Object.keys(LOSSES).map((k) => `'${k}'`).join(', ')} or a function`);
  return fn;
}
