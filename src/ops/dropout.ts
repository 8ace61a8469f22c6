/**
 * dropout: inverted dropout with an explicit seed, and its backward rule.
 *
 *   mask_i = keep_i / (1 − p),  keep_i = [hash(seed, i) ≥ p·2³²]
 *   y = x·mask,   dx = dy·mask
 *
 * The mask is a pure function of (seed, element index), a counter-based u32
 * hash computed the same way by both backends: the same seed drops the same
 * elements on wasm and js. Each element is kept with probability 1 − p
 * (up to 2⁻³²), and E[y] = x. The mask is kept for the backward only.
 * Kernel: dropout_fwd (assembly/dropout.ts, src/backend/js/dropout.ts);
 * backward: mul_f32.
 */

import { defineOp, record } from '../autograd.js';
import { ValueError } from '../errors.js';
import { empty, type Tensor } from '../tensor.js';
import { checkBackends, checkFloat } from './checks.js';

const dropoutOp = defineOp<Tensor>({
  name: 'dropout',
  backward: (gy, { saved: mask }) => {
    const dx = empty(gy.shape, { backend: gy.backend });
    gy.backend.k.mul_f32(dx.ptr, gy.ptr, mask.ptr, gy.size);
    return [dx];
  },
});

/**
 * Zeroes each element with probability p and scales the rest by 1/(1 − p).
 * Always active: a module decides between training and evaluation.
 *
 * @param p     drop probability in [0, 1); 0 returns a copy of x.
 * @param seed  integer in [0, 2³²); the same seed gives the same mask on every backend.
 * @example
 * const h = dropout(relu(matmul(x, w)), 0.1, step);
 */
export function dropout(x: Tensor, p: number, seed: number): Tensor {
  checkBackends('dropout', x);
  checkFloat('dropout', x);
  // p must stay below 1 after rounding to float32 (the kernel's parameter type).
  if (typeof p !== 'number' || !(p >= 0 && Math.fround(p) < 1)) {
    throw new ValueError(`dropout: p must be a number in [0, 1); got ${p}`);
  }
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new ValueError(`dropout: seed must be an integer in [0, 2^32); got ${seed}`);
  }
  const out = empty(x.shape, { backend: x.backend });
  const mask = empty(x.shape, { backend: x.backend });
  x.backend.k.dropout_fwd(out.ptr, mask.ptr, x.ptr, x.size, p, seed | 0);
  return record(dropoutOp, out, [x], mask, [mask]);
}
