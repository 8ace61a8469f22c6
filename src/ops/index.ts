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
export * from './rnn.js';
