// The wasm module's export list: every kernel family, plus the heap base the
// TypeScript allocator starts from. Kernels take pointers (byte offsets into
// this module's memory), sizes and hyper-parameters; they never allocate.

export function heap_base(): usize {
  return (__heap_base + 15) & ~15;
}

export * from "./gemm";
export * from "./elementwise";
export * from "./reduce";
export * from "./layout";
export * from "./gather";
export * from "./optim";
export * from "./activations";
export * from "./softmax";
export * from "./losses";
export * from "./dropout";
export * from "./conv";
export * from "./pool";
export * from "./batchnorm";
export * from "./layernorm";
export * from "./attention";
export * from "./rnn";
