import type { Heap } from './heap.js';
import type { Kernels } from './kernels.js';

/** Which kernel set runs: the relaxed-SIMD wasm build, the plain-SIMD wasm build, or plain JavaScript. */
export type BackendName = 'wasm-relaxed-simd' | 'wasm-simd' | 'js';

/** A loaded backend: a heap and the kernels that work on it. */
export interface Backend {
  readonly name: BackendName;
  readonly heap: Heap;
  readonly k: Kernels;
  /** Workspace for `gemm` (packed panels), allocated once. */
  readonly gemmWs: number;
}
