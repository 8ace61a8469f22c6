// matmul case: C[M,N] = A[M,K]·B[K,N], float32, GFLOPS = 2·M·N·K / time.
// Square 64…1024 and the MLP's first layer, (64×784)·(784×256).
// Every contender multiplies the same two matrices every step (its own copy,
// resident in its own memory), and frees the result.

import { randomUniform } from '../common.mjs';

export function matmulCases(quick) {
  const square = quick ? [64, 128, 256, 512] : [64, 128, 256, 512, 1024];
  return [
    ...square.map((s) => ({ label: `${s}`, m: s, n: s, k: s })),
    { label: '(64×784)·(784×256)', m: 64, n: 256, k: 784 },
  ].map(({ label, m, n, k }) => ({
    id: `matmul-${label.replace(/[^0-9a-z]+/gi, '-').replace(/^-|-$/g, '')}`,
    group: 'matmul',
    title: `matmul ${label}`,
    unit: 'GFLOPS',
    m, n, k,
    workPerStep: (2 * m * n * k) / 1e9,
  }));
}

/** Deterministic uniform values in [-0.5, 0.5) (an LCG: same data in every contender). */
export const randomMatrix = (n, seed) => randomUniform(n, seed);
