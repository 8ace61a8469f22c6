/**
 * Dropout: zeroes each element with probability p during training and scales
 * the rest by 1/(1−p) (inverted dropout); the identity in eval mode.
 * Each call draws its mask seed from the global generator (see `seed()`), so a
 * seeded run is reproducible and identical on every backend.
 */

import { ValueError } from '../errors.js';
import { dropout } from '../ops/dropout.js';
import { getGenerator } from '../random.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

export class Dropout extends Module {
  /** @param p probability of zeroing an element, in [0, 1). Default 0.5. */
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p < 1)) throw new ValueError(`Dropout: p must be in [0, 1); got ${p}`);
  }

  /** @internal Whether forward returns its input as it is now (eval mode or p = 0). */
  get isIdentity(): boolean {
    return !this.training || this.p === 0;
  }

  forward(x: Tensor): Tensor {
    if (this.isIdentity) return x;
    return dropout(x, this.p, getGenerator().nextUint32());
  }
}
