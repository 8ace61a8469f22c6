/**
 * LayerNorm and RMSNorm modules over the trailing `normalizedShape`
 * dimensions (PyTorch's nn.LayerNorm and nn.RMSNorm).
 *
 *   LayerNorm: y = (x − mean)/√(var + eps) · weight + bias
 *   RMSNorm:   y = x/√(mean(x²) + eps) · weight
 *
 * `weight` (γ) starts at ones and `bias` (β) at zeros, both of
 * `normalizedShape`. Each forward is one fused kernel (src/ops/layernorm.ts).
 */

import { ConfigError } from '../errors.js';
import { ones, zeros } from '../ops/creation.js';
import { checkNormalizedShape, layerNorm, rmsNorm } from '../ops/layernorm.js';
import type { Tensor } from '../tensor.js';
import { Module, parameter } from './module.js';

export interface LayerNormOptions {
  /** Added to the variance. Default 1e-5. */
  eps?: number;
  /** Learn γ (and β). Default true. */
  elementwiseAffine?: boolean;
  /** Learn β (with elementwiseAffine). Default true. */
  bias?: boolean;
}

export interface RMSNormOptions {
  /** Added to the mean square. Default 1e-6. */
  eps?: number;
  /** Learn γ. Default true. */
  elementwiseAffine?: boolean;
}

export const LAYER_NORM_DEFAULTS = Object.freeze({ eps: 1e-5, elementwiseAffine: true, bias: true });
export const RMS_NORM_DEFAULTS = Object.freeze({ eps: 1e-6, elementwiseAffine: true });

function checkKeys(where: string, options: object, defaults: object): void {
  for (const key of Object.keys(options)) {
    if (!(key in defaults)) throw new ConfigError(`${where}: unknown option '${key}'; valid: ${Object.keys(defaults).join(', ')}`);
  }
}

function shapeOf(where: string, normalizedShape: number | readonly number[]): number[] {
  const ns = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  if (ns.length === 0 || ns.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ConfigError(`${where}: normalizedShape must be one or more positive integers; got [${ns.join(',')}]`);
  }
  return ns;
}

export class LayerNorm extends Module {
  readonly normalizedShape: readonly number[];
  readonly eps: number;
  /** γ, of normalizedShape (ones), or undefined without elementwiseAffine. */
  readonly weight: Tensor | undefined;
  /** β, of normalizedShape (zeros), or undefined. */
  readonly bias: Tensor | undefined;

  /** @example new LayerNorm(64)   // normalises the last dimension of [B, T, 64] */
  constructor(normalizedShape: number | readonly number[], options: LayerNormOptions = {}) {
    super();
    checkKeys('LayerNorm', options, LAYER_NORM_DEFAULTS);
    const o = { ...LAYER_NORM_DEFAULTS, ...options };
    this.normalizedShape = Object.freeze(shapeOf('LayerNorm', normalizedShape));
    if (!(o.eps >= 0)) throw new ConfigError(`LayerNorm: eps must be ≥ 0; got ${o.eps}`);
    this.eps = o.eps;
    this.weight = o.elementwiseAffine ? parameter(ones(this.normalizedShape)) : undefined;
    this.bias = o.elementwiseAffine && o.bias ? parameter(zeros(this.normalizedShape)) : undefined;
  }

  forward(x: Tensor): Tensor {
    checkNormalizedShape('LayerNorm', x, this.normalizedShape);
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }
}

export class RMSNorm extends Module {
  readonly normalizedShape: readonly number[];
  readonly eps: number;
  /** γ, of normalizedShape (ones), or undefined without elementwiseAffine. */
  readonly weight: Tensor | undefined;

  constructor(normalizedShape: number | readonly number[], options: RMSNormOptions = {}) {
    super();
    checkKeys('RMSNorm', options, RMS_NORM_DEFAULTS);
    const o = { ...RMS_NORM_DEFAULTS, ...options };
    this.normalizedShape = Object.freeze(shapeOf('RMSNorm', normalizedShape));
    if (!(o.eps >= 0)) throw new ConfigError(`RMSNorm: eps must be ≥ 0; got ${o.eps}`);
    this.eps = o.eps;
    this.weight = o.elementwiseAffine ? parameter(ones(this.normalizedShape)) : undefined;
  }

  forward(x: Tensor): Tensor {
    checkNormalizedShape('RMSNorm', x, this.normalizedShape);
    return rmsNorm(x, this.normalizedShape, this.weight, this.eps);
  }
}
