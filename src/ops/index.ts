/** Every op. */

export * from './arithmetic.js';
export * from './creation.js';
export * from './matmul.js';
export * from './penalty.js';
