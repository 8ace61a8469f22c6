/**
 * BatchNorm2d (and BatchNorm1d): normalise each channel with batch statistics
 * while training and with running statistics in eval mode, then scale and
 * shift by a learned γ (`weight`) and β (`bias`).
 *
 *   BatchNorm2d(C)   x [N, H, W, C] (NHWC): statistics over N, H, W
 *   BatchNorm1d(C)   x [N, C] or [N, L, C]: statistics over all but C
 *
 * Parameters: weight [C] (γ, ones), bias [C] (β, zeros). Buffers (saved with
 * the model, not trained): runningMean [C] (zeros), runningVar [C] (ones).
 * Mode follows `module.train()` / `module.eval()`; fit() and evaluate() switch it.
 */

import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import { batchNormNamed, BATCHNORM_DEFAULTS } from '../ops/batchnorm.js';
import { full } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';
import { buffer, Module, parameter } from './module.js';

export interface BatchNormLayerOptions {
  /** Added to the variance. Default 1e-5. */
  eps?: number;
  /** Weight of each new batch in the running statistics. Default 0.1. */
  momentum?: number;
  /** Learn γ and β. Default true. */
  affine?: boolean;
  /** Keep running statistics for eval mode (else eval uses batch statistics too). Default true. */
  trackRunningStats?: boolean;
}

export const BATCHNORM_LAYER_DEFAULTS = Object.freeze({
  eps: BATCHNORM_DEFAULTS.eps, momentum: BATCHNORM_DEFAULTS.momentum, affine: true, trackRunningStats: true,
});
const KEYS = Object.keys(BATCHNORM_LAYER_DEFAULTS);

abstract class BatchNormBase extends Module {
  /** γ [C], or undefined with `affine: false` */
  readonly weight: Tensor | undefined;
  /** β [C], or undefined with `affine: false` */
  readonly bias: Tensor | undefined;
  /** [C] buffer, or undefined with `trackRunningStats: false` */
  readonly runningMean: Tensor | undefined;
  /** [C] buffer, or undefined with `trackRunningStats: false` */
  readonly runningVar: Tensor | undefined;
  readonly eps: number;
  readonly momentum: number;

  constructor(kind: string, readonly numFeatures: number, options: BatchNormLayerOptions) {
    super();
    const where = `${kind}(${numFeatures})`;
    if (!Number.isInteger(numFeatures) || numFeatures < 1) {
      throw new ConfigError(`${kind}: numFeatures must be a positive integer; got ${numFeatures}`);
    }
    if (options === null || typeof options !== 'object') throw new ConfigError(`${where}: options must be an object`);
    for (const k of Object.keys(options)) {
      if (!KEYS.includes(k)) throw new ConfigError(`${where}: unknown option '${k}'; valid: ${KEYS.join(', ')}`);
    }
    const o = { ...BATCHNORM_LAYER_DEFAULTS, ...options };
    if (!(o.eps > 0)) throw new ConfigError(`${where}: eps must be a positive number; got ${o.eps}`);
    if (!(o.momentum >= 0 && o.momentum <= 1)) throw new ConfigError(`${where}: momentum must be in [0, 1]; got ${o.momentum}`);
    this.eps = o.eps;
    this.momentum = o.momentum;
    this.weight = o.affine ? parameter(full([numFeatures], 1)) : undefined;
    this.bias = o.affine ? parameter(full([numFeatures], 0)) : undefined;
    this.runningMean = o.trackRunningStats ? buffer(full([numFeatures], 0)) : undefined;
    this.runningVar = o.trackRunningStats ? buffer(full([numFeatures], 1)) : undefined;
  }

  /** `BatchNorm2d(16)` */
  abstract describe(): string;

  protected run(x: Tensor): Tensor {
    const where = this.describe();
    const C = this.numFeatures;
    if (x.rank >= 1 && x.shape[x.rank - 1] !== C) {
      throw new ShapeError(`${where}: input has ${x.shape[x.rank - 1]} channels (last axis) but the layer has ${C} (input ${fmtShape(x.shape)})`);
    }
    const training = this.training || this.runningMean === undefined;
    return batchNormNamed(where, x, this.runningMean, this.runningVar, this.weight, this.bias, {
      training, momentum: this.momentum, eps: this.eps,
    });
  }
}

/**
 * Batch normalisation of NHWC images per channel.
 * @example new Sequential(new Conv2d(1, 16, 3, { padding: 1 }), new BatchNorm2d(16), new ReLU())
 */
export class BatchNorm2d extends BatchNormBase {
  constructor(numFeatures: number, options: BatchNormLayerOptions = {}) {
    super('BatchNorm2d', numFeatures, options);
  }
  describe(): string {
    return `BatchNorm2d(${this.numFeatures})`;
  }
  /** x [N, H, W, C] → same shape */
  forward(x: Tensor): Tensor {
    if (x.rank !== 4) {
      throw new ShapeError(`${this.describe()}: input must be [N, H, W, C] (NHWC); got ${fmtShape(x.shape)}`);
    }
    return this.run(x);
  }
}

/** Batch normalisation of features [N, C] or channels-last sequences [N, L, C]. */
export class BatchNorm1d extends BatchNormBase {
  constructor(numFeatures: number, options: BatchNormLayerOptions = {}) {
    super('BatchNorm1d', numFeatures, options);
  }
  describe(): string {
    return `BatchNorm1d(${this.numFeatures})`;
  }
  /** x [N, C] or [N, L, C] → same shape */
  forward(x: Tensor): Tensor {
    if (x.rank !== 2 && x.rank !== 3) {
      throw new ShapeError(`${this.describe()}: input must be [N, C] or [N, L, C]; got ${fmtShape(x.shape)}`);
    }
    return this.run(x);
  }
}
