/** Every op. */

export * from './arithmetic.js';
export * from './creation.js';
export * from './matmul.js';
export * from './reduce.js';
export * from './shape.js';
export * from './gather.js';
export * from './linear.js';
export * from './penalty.js';
export * from './activations.js';
export * from './softmax.js';
export * from './losses.js';
export * from './dropout.js';
export {
  conv2d, conv1d, nchwToNhwc, nhwcToNchw, filterFromTorch, filterToTorch, CONV_DEFAULTS,
  type Conv2dOptions, type Conv1dOptions, type Pair, type Padding,
} from './conv.js';
export { maxPool2d, avgPool2d, globalAvgPool2d, POOL_DEFAULTS, type Pool2dOptions, type AvgPool2dOptions } from './pool.js';
export { batchNorm, BATCHNORM_DEFAULTS, type BatchNormOptions } from './batchnorm.js';
export * from './layernorm.js';
export * from './attention.js';
export * from './rnn.js';
