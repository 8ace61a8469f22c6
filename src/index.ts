/**
 * wasmgrad: neural networks whose weight matrices learn on SIMD WebAssembly,
 * with a plain-JavaScript backend running the same kernels for comparison.
 *
 * @example
 * import { init, tensor, matmul } from 'wasmgrad';
 * await init();
 * const y = matmul(tensor([[1, 2, 3]]), tensor([[1, 0], [0, 1], [1, 1]]));
 * console.log(y.tolist()); // [[4, 5]]
 */

export {
  init, initSync, getBackend, setBackend, loadBackend, loadBackendSync, availableBackends, isBackendSupported,
  type Backend, type BackendName, type InitOptions, type WasmSource,
} from './backend/index.js';
export { Tensor, tensor, tidy, keep, type DType, type Shape, type NestedArray, type CreateOptions } from './tensor.js';
export { backward, noGrad, isGradEnabled, setGradEnabled, setAnomalyMode, AnomalyError, type BackwardOptions } from './autograd.js';
export * from './ops/index.js';
export * from './errors.js';
export { Module, parameter, buffer, isParameter } from './nn/module.js';
export { Sequential } from './nn/sequential.js';
export { Linear, type LinearOptions } from './nn/linear.js';
export { Dropout } from './nn/dropout.js';
export {
  RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell, RecurrentBase, CellBase, RECURRENT_DEFAULTS,
  type RecurrentOptions, type RNNOptions, type RecurrentRunOptions, type RecurrentRunResult, type CellOptions,
  type RNNCellOptions, type CellState,
} from './nn/rnn.js';
export { ReLU, LeakyReLU, Sigmoid, Tanh, GELU, SiLU, Softmax, LogSoftmax, Flatten, Identity } from './nn/activations.js';
export {
  fit, evaluate, predict, accuracyOf, formatEpoch, type Dataset, type FitOptions, type History, type EpochLogs, type BatchLogs,
  type Callbacks, type EarlyStoppingOptions, type EvaluateOptions, type OptimizerLike, type SchedulerLike,
} from './train/fit.js';
export { resolveLoss, type LossFn, type LossName } from './train/losses.js';
export { gradCheck, type GradCheckOptions, type GradCheckResult } from './gradcheck.js';
export {
  Generator, seed, initialSeed, getGenerator, globalGenerator, type GeneratorState,
} from './random.js';
export * as initializers from './init.js';
export {
  truncatedNormal, xavierUniform, xavierNormal, glorotUniform, glorotNormal, kaimingUniform, kaimingNormal,
  heUniform, heNormal, lecunUniform, lecunNormal, orthogonal, initialize, getInitializer, calculateGain, computeFans,
  INITIALIZER_NAMES, INITIALIZER_DEFAULTS,
  type Initializer, type InitializerName, type InitializerOptions, type FanOptions, type GainOptions, type KaimingOptions,
  type Nonlinearity, type OrthogonalOptions, type TruncatedNormalOptions, type UniformOptions, type NormalOptions,
  type ConstantOptions,
} from './init.js';
export * from './optim/index.js';
