/**
 * Conv2d and Conv1d: layers whose weight is a set of small learned filters
 * that slide over the input, one feature map per output channel.
 *
 *   Conv2d(C, O, k)   x [N, H, W, C] (NHWC) → y [N, OH, OW, O]
 *                     weight [kH, kW, C, O] (HWIO), bias [O]
 *   Conv1d(C, O, k)   x [N, L, C] → y [N, OL, O]
 *                     weight [k, C, O], bias [O]
 *
 * Filter o is `weight[:, :, :, o]`, a kH×kW×C block. PyTorch's layouts
 * (NCHW images, [O, C, kH, kW] filters) convert with `nchwToNhwc` and
 * `filterFromTorch` (see src/ops/conv.ts).
 *
 * Default initialisation is PyTorch's: weight and bias uniform in
 * ±1/√(C·kH·kW) (kaiming_uniform with a = √5). A named initializer gets
 * fanIn = C·kH·kW and fanOut = O·kH·kW.
 */

import { ConfigError } from '../errors.js';
import { getInitializer, type InitializerName } from '../init.js';
import { checkPadding, conv1dNamed, conv2dNamed, intOf, pairOf, type Padding, type Pair } from '../ops/conv.js';
import type { Tensor } from '../tensor.js';
import { Module, parameter } from './module.js';

export interface ConvLayerOptions {
  /** Add a learned bias per output channel. Default true. */
  bias?: boolean;
  /** Weight initializer by name. Default: uniform ±1/√(inChannels·kH·kW) (PyTorch's default). */
  weightInit?: InitializerName;
  /** Bias initializer by name. Default: uniform ±1/√(inChannels·kH·kW) (PyTorch's default). */
  biasInit?: InitializerName;
  /** Seed for this layer's initial values (default: the global generator). */
  seed?: number;
}

export interface Conv2dLayerOptions extends ConvLayerOptions {
  /** Default 1. */
  stride?: Pair;
  /** A number or [pH, pW] (zeros on each side), 'valid' (none) or 'same' (output = ⌈input/stride⌉). Default 0. */
  padding?: Padding;
  /** Default 1. */
  dilation?: Pair;
}

export interface Conv1dLayerOptions extends ConvLayerOptions {
  /** Default 1. */
  stride?: number;
  /** A number (each side), 'valid' or 'same'. Default 0. */
  padding?: number | 'same' | 'valid';
  /** Default 1. */
  dilation?: number;
}

export const CONV_LAYER_DEFAULTS = Object.freeze({ stride: 1, padding: 0 as Padding, dilation: 1, bias: true });
const KEYS = ['stride', 'padding', 'dilation', 'bias', 'weightInit', 'biasInit', 'seed'];
const FAN_BASED = /^(xavier|glorot|kaiming|he|lecun)/;

function checkKeys(where: string, options: object): void {
  if (options === null || typeof options !== 'object') throw new ConfigError(`${where}: options must be an object`);
  for (const k of Object.keys(options)) {
    if (!KEYS.includes(k)) throw new ConfigError(`${where}: unknown option '${k}'; valid: ${KEYS.join(', ')}`);
  }
}

/** weight and bias with PyTorch's default or a named initializer. */
function initParams(
  wShape: number[], outC: number, fanIn: number, fanOut: number, options: ConvLayerOptions,
): [Tensor, Tensor | undefined] {
  const bound = 1 / Math.sqrt(fanIn);
  const seed = options.seed;
  const make = (shape: number[], name: InitializerName | undefined, seedOffset: number) => {
    const s = seed === undefined ? undefined : seed + seedOffset;
    if (name === undefined) return getInitializer('uniform')(shape, { low: -bound, high: bound, seed: s });
    return getInitializer(name)(shape, FAN_BASED.test(name) ? { seed: s, fanIn, fanOut } : { seed: s });
  };
  const weight = parameter(make(wShape, options.weightInit, 0));
  const bias = options.bias === false ? undefined : parameter(make([outC], options.biasInit, 1));
  return [weight, bias];
}

function positive(where: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new ConfigError(`${where}: ${name} must be a positive integer; got ${v}`);
}

/**
 * 2-D convolution layer over NHWC images.
 *
 * @example
 * const conv = new Conv2d(1, 16, 3, { padding: 'same' });   // weight [3,3,1,16]
 * const y = conv.forward(x);                                 // [N,28,28,1] → [N,28,28,16]
 */
export class Conv2d extends Module {
  /** [kH, kW, inChannels, outChannels] (HWIO) */
  readonly weight: Tensor;
  /** [outChannels], or undefined with `bias: false` */
  readonly bias: Tensor | undefined;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: Padding;
  readonly dilation: [number, number];

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    options: Conv2dLayerOptions = {},
  ) {
    super();
    const where0 = 'Conv2d';
    positive(where0, 'inChannels', inChannels);
    positive(where0, 'outChannels', outChannels);
    this.kernelSize = pairOf(where0, 'kernelSize', kernelSize);
    const where = this.describe();
    checkKeys(where, options);
    this.stride = pairOf(where, 'stride', options.stride ?? CONV_LAYER_DEFAULTS.stride);
    this.dilation = pairOf(where, 'dilation', options.dilation ?? CONV_LAYER_DEFAULTS.dilation);
    this.padding = options.padding ?? CONV_LAYER_DEFAULTS.padding;
    checkPadding(where, this.padding);
    const [kH, kW] = this.kernelSize;
    [this.weight, this.bias] = initParams(
      [kH, kW, inChannels, outChannels], outChannels, inChannels * kH * kW, outChannels * kH * kW, options,
    );
  }

  /** `Conv2d(1→16, 3×3)`: how the layer names itself in errors. */
  describe(): string {
    return `Conv2d(${this.inChannels}→${this.outChannels}, ${this.kernelSize[0]}×${this.kernelSize[1]})`;
  }

  /** x [N, H, W, inChannels] → [N, OH, OW, outChannels] */
  forward(x: Tensor): Tensor {
    return conv2dNamed(this.describe(), x, this.weight, this.bias, {
      stride: this.stride, padding: this.padding, dilation: this.dilation,
    });
  }
}

/**
 * 1-D convolution layer over channels-last sequences [N, L, C].
 *
 * @example
 * const conv = new Conv1d(8, 32, 5, { padding: 'same' });   // weight [5,8,32]
 */
export class Conv1d extends Module {
  /** [k, inChannels, outChannels] */
  readonly weight: Tensor;
  /** [outChannels], or undefined with `bias: false` */
  readonly bias: Tensor | undefined;
  readonly stride: number;
  readonly padding: number | 'same' | 'valid';
  readonly dilation: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    options: Conv1dLayerOptions = {},
  ) {
    super();
    positive('Conv1d', 'inChannels', inChannels);
    positive('Conv1d', 'outChannels', outChannels);
    positive('Conv1d', 'kernelSize', kernelSize);
    const where = this.describe();
    checkKeys(where, options);
    this.stride = intOf(where, 'stride', options.stride ?? CONV_LAYER_DEFAULTS.stride);
    this.dilation = intOf(where, 'dilation', options.dilation ?? CONV_LAYER_DEFAULTS.dilation);
    const padding = options.padding ?? 0;
    if (typeof padding !== 'number' && padding !== 'same' && padding !== 'valid') {
      throw new ConfigError(`${where}: padding must be a number, 'same' or 'valid'; got ${JSON.stringify(padding)}`);
    }
    checkPadding(where, padding);
    this.padding = padding;
    [this.weight, this.bias] = initParams(
      [kernelSize, inChannels, outChannels], outChannels, inChannels * kernelSize, outChannels * kernelSize, options,
    );
  }

  /** `Conv1d(8→32, 5)` */
  describe(): string {
    return `Conv1d(${this.inChannels}→${this.outChannels}, ${this.kernelSize})`;
  }

  /** x [N, L, inChannels] → [N, OL, outChannels] */
  forward(x: Tensor): Tensor {
    return conv1dNamed(this.describe(), x, this.weight, this.bias, {
      stride: this.stride, padding: this.padding, dilation: this.dilation,
    });
  }
}
