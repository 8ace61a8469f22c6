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
  onWarning, getWarnings,
  type Backend, type BackendName, type InitOptions, type WasmSource, type BackendWarning,
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
  RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell, type RecurrentBase, type CellBase, RECURRENT_DEFAULTS,
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
export {
  parseSafetensors, serializeSafetensors, DTYPE_BYTES, PARSE_DEFAULTS,
  type SafetensorsDType, type SafetensorsEntry, type SafetensorsInput, type ParsedSafetensors, type ParseOptions,
} from './io/safetensors.js';
export {
  f16ToF32, f32ToF16, bf16ToF32, f32ToBf16, f16BitsToF32Bits, f32BitsToF16Bits, bf16BitsToF32Bits, f32BitsToBf16Bits,
  decodeFloat32, decodeInt32, encodeFloat32, encodeInt32,
} from './io/dtype.js';
export { saveTensors, loadTensors, type SaveOptions, type LoadOptions, type LoadedTensors } from './io/tensors.js';
export { registerModule, describeModule, buildModule, registeredModules, type ModuleSpec, type ModuleCodec } from './nn/registry.js';
export {
  saveModel, loadModel, loadWeights, saveCheckpoint, loadCheckpoint, MODEL_FORMAT, CHECKPOINT_FORMAT,
  type SaveModelOptions, type LoadWeightsOptions, type SaveCheckpointOptions, type CheckpointInfo,
} from './io/model.js';
export {
  loadTorchStateDict, exportTorchStateDict, registerTorchMapping, torchEntries, sameLayout, transposed, transpose2d,
  type TorchEntry, type TorchMapping, type TorchLoadOptions,
} from './io/torch.js';
export { readBytes, writeBytes, downloadBytes, type ByteSource } from './io/source.js';
export {
  trainInWorker, type TrainInWorkerOptions, type TrainingJob, type WorkerTrainResult, type WorkerData, type JobState,
} from './worker/train-in-worker.js';
export { serveTraining, type ServeTrainingOptions, type WorkerDatasetSource } from './worker/serve-training.js';
export {
  OPTIMIZER_NAMES, type DataPair, type OptimizerSpec, type TensorData, type WeightSnapshot, type WorkerFitOptions,
  type WorkerHistory, type WorkerLike, type WorkerProgress,
} from './worker/protocol.js';
export {
  Conv2d, Conv1d, CONV_LAYER_DEFAULTS, type Conv2dLayerOptions, type Conv1dLayerOptions, type ConvLayerOptions,
} from './nn/conv.js';
export { MaxPool2d, AvgPool2d, GlobalAvgPool2d } from './nn/pool.js';
export { BatchNorm2d, BatchNorm1d, BATCHNORM_LAYER_DEFAULTS, type BatchNormLayerOptions } from './nn/batchnorm.js';
export { captureFeatures, channelGrid, type ChannelGridOptions, type GreyImage } from './nn/features.js';
export { LayerNorm, RMSNorm, LAYER_NORM_DEFAULTS, RMS_NORM_DEFAULTS, type LayerNormOptions, type RMSNormOptions } from './nn/layernorm.js';
export {
  Embedding, SinusoidalPositionalEncoding, LearnedPositionalEmbedding, type EmbeddingOptions, type LearnedPositionalEmbeddingOptions,
} from './nn/embedding.js';
export {
  MultiHeadAttention, AttentionCache, MULTI_HEAD_ATTENTION_DEFAULTS, type MultiHeadAttentionOptions,
  type MultiHeadAttentionCallOptions, type MultiHeadAttentionResult,
} from './nn/attention.js';
export {
  TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder, TransformerDecoder, Transformer, TransformerLM,
  Seq2SeqTransformer, TRANSFORMER_LAYER_DEFAULTS, type TransformerLayerOptions, type DecoderLayerOptions,
  type EncoderLayerCallOptions, type DecoderLayerCallOptions, type DecoderCallOptions, type TransformerStackOptions,
  type TransformerOptions, type TransformerCallOptions, type TransformerLMOptions, type Seq2SeqTransformerOptions,
  type Seq2SeqCallOptions, type TransformerActivation,
} from './nn/transformer.js';
export { generate, KVCache, GENERATE_DEFAULTS, type GenerateOptions, type Decodable } from './nn/generate.js';
