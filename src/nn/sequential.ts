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
import { linearRelu } from '../ops/linear.js';
import type { Tensor } from '../tensor.js';
import { ReLU } from './activations.js';
import { Linear } from './linear.js';
import { Module } from './module.js';

/**
 * Whether `m` can take a ReLU's output as one fused op: its class itself (not a
 * subclass) defines `forwardAfterRelu` (MaxPool2d does) and forward is not
 * wrapped. A method test rather than an import, so a Sequential of dense
 * layers does not pull the pooling code into a bundle.
 */
function fusesRelu(m: Module | undefined): m is Module & { forwardAfterRelu(x: Tensor): Tensor } {
  if (m === undefined || Object.prototype.hasOwnProperty.call(m, 'forward')) return false;
  const proto = Object.getPrototypeOf(m) as object;
  return Object.prototype.hasOwnProperty.call(proto, 'forwardAfterRelu') && Object.prototype.hasOwnProperty.call(proto, 'forward');
}

/**
 * Whether `m` is exactly an instance of `cls` running that class's own forward:
 * not a subclass, and not wrapped (captureFeatures and user code wrap
 * `forward` as an own property), so fusing it with a neighbour cannot skip
 * anything observable.
 */
export function runsOwnForward(m: Module | undefined, cls: abstract new (...args: never[]) => Module): boolean {
  return m !== undefined && m.constructor === cls && !Object.prototype.hasOwnProperty.call(m, 'forward');
}

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

  /**
   * Applies the layers in order. Two common pairs run as one fused op each,
   * with the same values and gradients as the layers one by one (see
   * src/ops/linear.ts and src/ops/pool.ts for the measurements):
   *   Linear → ReLU       linearRelu: relu applied in the GEMM's tile stores
   *   ReLU → MaxPool2d    relu on the pooled output, relu's backward folded
   *                       into the pooling's
   * Only exact, unwrapped instances are fused (see runsOwnForward, fusesRelu).
   */
  forward(x: Tensor): Tensor {
    for (let i = 0; this[i] !== undefined; i++) {
      const m = this[i], next = this[i + 1];
      if (runsOwnForward(next, ReLU) && runsOwnForward(m, Linear)) {
        const l = m as Linear;
        x = linearRelu(x, l.weight, l.bias);
        i++;
      } else if (runsOwnForward(m, ReLU) && fusesRelu(next)) {
        x = next.forwardAfterRelu(x);
        i++;
      } else {
        x = m.forward(x);
      }
    }
    return x;
  }
}
