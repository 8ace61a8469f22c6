/**
 * The js backend: the same kernel table as the wasm build, in plain
 * JavaScript, over an ArrayBuffer heap managed by the same allocator.
 */

import { ArrayBufferMemory, Heap, MAX_HEAP_BYTES } from '../heap.js';
import type { Kernels } from '../kernels.js';
import { activationKernels } from './activations.js';
import { dropoutKernels } from './dropout.js';
import { elementwiseKernels } from './elementwise.js';
import { gatherKernels } from './gather.js';
import { gemmKernels } from './gemm.js';
import { layoutKernels } from './layout.js';
import { reduceKernels } from './reduce.js';
import { optimKernels } from './optim.js';
import { lossKernels } from './losses.js';
import { softmaxKernels } from './softmax.js';
import { convKernels } from './conv.js';
import { poolKernels } from './pool.js';
import { batchnormKernels } from './batchnorm.js';
import { layernormKernels } from './layernorm.js';
import { attentionKernels } from './attention.js';
import { rnnKernels } from './rnn.js';

export function createJsKernels(heap: Heap): Kernels {
  return {
    ...elementwiseKernels(heap),
    ...gemmKernels(heap),
    ...reduceKernels(heap),
    ...layoutKernels(heap),
    ...gatherKernels(heap),
    ...optimKernels(heap),
    ...activationKernels(heap),
    ...softmaxKernels(heap),
    ...lossKernels(heap),
    ...dropoutKernels(heap),
    ...convKernels(heap),
    ...poolKernels(heap),
    ...batchnormKernels(heap),
    ...layernormKernels(heap),
    ...attentionKernels(heap),
    ...rnnKernels(heap),
  };
}

export function createJsHeap(maxBytes = MAX_HEAP_BYTES): Heap {
  return new Heap(new ArrayBufferMemory(16), 16, maxBytes);
}
