/**
 * Linear: a dense layer, y = x·W + b.
 *
 * `weight` is an [in, out] matrix — a layer from 3 inputs to 2 outputs owns a
 * 3×2 matrix — and `bias` is [out]. (PyTorch stores [out, in]; interop
 * transposes at load time.) The forward is the fused `linear` op (bias folded
 * into the GEMM).
 *
 * Default initialisation is PyTorch's: weight and bias uniform in
 * ±1/√in (kaiming_uniform with a = √5). Any initializer name can be chosen
 * instead, e.g. `{ weightInit: 'heNormal', biasInit: 'zeros' }`.
 */

import { ConfigError } from '../errors.js';
import { getInitializer, type InitializerName } from '../init.js';
import { linear } from '../ops/linear.js';
import type { Tensor } from '../tensor.js';
import { Module, parameter } from './module.js';

export interface LinearOptions {
  /** Add a learned bias. Default true. */
  bias?: boolean;
  /** Weight initializer by name. Default: uniform ±1/√in (PyTorch's default). */
  weightInit?: InitializerName;
  /** Bias initializer by name. Default: uniform ±1/√in (PyTorch's default). */
  biasInit?: InitializerName;
  /** Seed for this layer's initial values (default: the global generator). */
  seed?: number;
}

export class Linear extends Module {
  /** [in, out] */
  readonly weight: Tensor;
  /** [out], or undefined with `bias: false` */
  readonly bias: Tensor | undefined;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    for (const [name, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ConfigError(`Linear: ${name} must be a positive integer; got ${v}`);
    }
    const bound = 1 / Math.sqrt(inFeatures);
    const seed = options.seed;
    const make = (shape: number[], name: InitializerName | undefined, seedOffset: number) =>
      name === undefined
        ? getInitializer('uniform')(shape, { low: -bound, high: bound, seed: seed === undefined ? undefined : seed + seedOffset })
        : getInitializer(name)(shape, { seed: seed === undefined ? undefined : seed + seedOffset, fanIn: inFeatures, fanOut: outFeatures });
    this.weight = parameter(make([inFeatures, outFeatures], options.weightInit, 0));
    this.bias = options.bias === false ? undefined : parameter(make([outFeatures], options.biasInit, 1));
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}
