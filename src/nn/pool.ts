/**
 * Pooling layers over NHWC images (no parameters): MaxPool2d, AvgPool2d and
 * GlobalAvgPool2d. Flatten (src/nn/activations.ts) turns the pooled maps into
 * rows for a Linear head.
 *
 *   MaxPool2d(k)        [N, H, W, C] → [N, OH, OW, C], window k, stride k by default
 *   AvgPool2d(k)        the same with the mean
 *   GlobalAvgPool2d()   [N, H, W, C] → [N, C]
 */

import { checkPadding, pairOf, type Pair } from '../ops/conv.js';
import { avgPool2dNamed, globalAvgPool2d, maxPool2dNamed, reluMaxPool2dNamed, type AvgPool2dOptions, type Pool2dOptions } from '../ops/pool.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';
import { ConfigError } from '../errors.js';

function checkOptions(where: string, options: AvgPool2dOptions, keys: string[]): void {
  if (options === null || typeof options !== 'object') throw new ConfigError(`${where}: options must be an object`);
  for (const k of Object.keys(options)) {
    if (!keys.includes(k)) throw new ConfigError(`${where}: unknown option '${k}'; valid: ${keys.join(', ')}`);
  }
  if (options.stride !== undefined) pairOf(where, 'stride', options.stride);
  if (options.padding !== undefined) checkPadding(where, options.padding);
  if (options.countIncludePad !== undefined && typeof options.countIncludePad !== 'boolean') {
    throw new ConfigError(`${where}: countIncludePad must be true or false; got ${String(options.countIncludePad)}`);
  }
}

/**
 * Max pooling layer.
 * @example new MaxPool2d(2)   // halves H and W
 */
export class MaxPool2d extends Module {
  readonly kernelSize: [number, number];

  constructor(kernelSize: Pair, readonly options: Pool2dOptions = {}) {
    super();
    this.kernelSize = pairOf('MaxPool2d', 'kernelSize', kernelSize);
    checkOptions(this.describe(), options, ['stride', 'padding']);
  }

  /** `MaxPool2d(2×2)` */
  describe(): string {
    return `MaxPool2d(${this.kernelSize[0]}×${this.kernelSize[1]})`;
  }

  forward(x: Tensor): Tensor {
    return maxPool2dNamed(this.describe(), x, this.kernelSize, this.options);
  }

  /** @internal forward(relu(x)) as one op (Sequential fuses ReLU → MaxPool2d with it). */
  forwardAfterRelu(x: Tensor): Tensor {
    return reluMaxPool2dNamed(this.describe(), x, this.kernelSize, this.options);
  }
}

/**
 * Average pooling layer.
 * @example new AvgPool2d(2)
 */
export class AvgPool2d extends Module {
  readonly kernelSize: [number, number];

  constructor(kernelSize: Pair, readonly options: AvgPool2dOptions = {}) {
    super();
    this.kernelSize = pairOf('AvgPool2d', 'kernelSize', kernelSize);
    checkOptions(this.describe(), options, ['stride', 'padding', 'countIncludePad']);
  }

  /** `AvgPool2d(2×2)` */
  describe(): string {
    return `AvgPool2d(${this.kernelSize[0]}×${this.kernelSize[1]})`;
  }

  forward(x: Tensor): Tensor {
    return avgPool2dNamed(this.describe(), x, this.kernelSize, this.options);
  }
}

/** Global average pooling: the mean of each channel over H and W, [N, H, W, C] → [N, C]. */
export class GlobalAvgPool2d extends Module {
  /** @param keepDims give [N, 1, 1, C] instead of [N, C]. Default false. */
  constructor(readonly keepDims = false) {
    super();
  }

  forward(x: Tensor): Tensor {
    return globalAvgPool2d(x, this.keepDims);
  }
}
