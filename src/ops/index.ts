/** Every op. */

export * from './arithmetic.js';
export * from './creation.js';
export * from './matmul.js';
export * from './activations.js';
export * from './softmax.js';
export * from './losses.js';
export * from './dropout.js';
