/**
 * Sequential: modules applied one after another. Layers are stored under
 * numeric keys, so parameters are named by position — `0.weight`, `2.bias` —
 * as in PyTorch.
 *
 * @example
 * const mlp = new Sequential(new Linear(784, 256), new ReLU(), new Linear(256, 10));
 * const logits = mlp.forward(x);
 */

import { ConfigError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

export class Sequential extends Module {
  [index: number]: Module;

  constructor(...layers: Module[]) {
    super();
    layers.forEach((l, i) => {
      if (!(l instanceof Module)) {
        throw new ConfigError(
          `Sequential: layer ${i} is not a Module (got ${typeof l}); hint: use the activation layers (ReLU, …) for functions`,
        );
      }
      this[i] = l;
    });
  }

  /** The layers, in order. */
  get layers(): Module[] {
    const out: Module[] = [];
    for (let i = 0; this[i] !== undefined; i++) out.push(this[i]);
    return out;
  }

  forward(x: Tensor): Tensor {
    for (let i = 0; this[i] !== undefined; i++) x = this[i].forward(x);
    return x;
  }
}
