/**
 * Activation layers: Modules wrapping the activation ops, so they can sit in
 * a Sequential and be described in a saved model. No parameters.
 */

import { ConfigError } from '../errors.js';
import { gelu, geluTanh, leakyRelu, relu, sigmoid, silu, tanh } from '../ops/activations.js';
import { logSoftmax, softmax } from '../ops/softmax.js';
import { flatten } from '../ops/shape.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

export class LeakyReLU extends Module {
  /** @param negativeSlope default 0.01 */
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }
}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

export class GELU extends Module {
  /** @param approximate 'none' (exact, erf; default) or 'tanh' */
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
    if (approximate !== 'none' && approximate !== 'tanh') {
      throw new ConfigError(`GELU: approximate must be 'none' or 'tanh'; got '${String(approximate)}'`);
    }
  }
  forward(x: Tensor): Tensor {
    return this.approximate === 'tanh' ? geluTanh(x) : gelu(x);
  }
}

export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return silu(x);
  }
}

export class Softmax extends Module {
  /** @param axis default -1 */
  constructor(readonly axis = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return softmax(x, this.axis);
  }
}

export class LogSoftmax extends Module {
  /** @param axis default -1 */
  constructor(readonly axis = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return logSoftmax(x, this.axis);
  }
}

/** Flattens all dimensions after the first (batch) one: [N, …] → [N, ∏…]. */
export class Flatten extends Module {
  /** @param startDim default 1, @param endDim default -1 */
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }
}

export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}
