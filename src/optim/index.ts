/** Optimizers, gradient clipping and learning-rate schedules. */

export {
  Optimizer, type BaseOptions, type OptimizerParams, type OptimizerStateDict, type ParamGroup, type ParamGroupSpec,
} from './optimizer.js';
export { SGD, SGD_DEFAULTS, type SGDOptions } from './sgd.js';
export { Adam, AdamW, AdamBase, ADAM_DEFAULTS, ADAMW_DEFAULTS, type AdamOptions, type AdamWOptions } from './adam.js';
export { RMSprop, RMSPROP_DEFAULTS, type RMSpropOptions } from './rmsprop.js';
export { Adagrad, ADAGRAD_DEFAULTS, type AdagradOptions } from './adagrad.js';
export { clipGradNorm, clipGradValue, type ClipGradNormOptions } from './clip.js';
export {
  LRSchedule, StepLR, ExponentialLR, CosineAnnealingLR, LinearWarmup,
  type LrTarget, type ScheduleStateDict, type StepLROptions, type ExponentialLROptions, type CosineAnnealingLROptions,
  type LinearWarmupOptions,
} from './schedules.js';
export type { HasParameters, ParamSource } from './slab.js';
