/**
 * L1 and L2 penalties: scalar terms to add to a loss, with their backward rules.
 *
 *   l1Penalty(W, λ) = λ·Σ_w Σ_i |w_i|      d/dw = λ·sign(w)·gy   (sign(0) = 0)
 *   l2Penalty(W, λ) = λ·Σ_w Σ_i w_i²       d/dw = 2λ·w·gy
 *
 * The L2 penalty has no ½ (as `lambda * sum(p.pow(2))` in PyTorch code): its
 * gradient 2λ·w equals SGD's `weightDecay: 2λ`. Decoupled weight decay
 * (AdamW) lives in the optimizers, not here.
 *
 * W is a list of tensors, one tensor, or a Module (anything with
 * `parameters()`); the result is a 0-d tensor. Parameters that sit back to
 * back in memory — an optimizer's slab — are reduced in one kernel call.
 *
 * Kernels: sumabs_f32 / sumsq_f32 (forward), sign_scale_f32 / muls_f32
 * (backward), in assembly/optim.ts and src/backend/js/optim.ts.
 */

import { defineOp, record } from '../autograd.js';
import { ValueError } from '../errors.js';
import { coalesce, collectParams, type ParamSource } from '../optim/slab.js';
import { empty, type Tensor } from '../tensor.js';
import { checkBackends, checkFiniteScalar, checkFloat } from './checks.js';

/** out = s·f(w) for one parameter, as a fresh tensor for autograd. */
function scaled(w: Tensor, kernel: 'sign_scale_f32' | 'muls_f32', s: number): Tensor {
  const out = empty(w.shape, { backend: w.backend });
  w.backend.k[kernel](out.ptr, w.ptr, w.size, s);
  return out;
}

const l1Op = defineOp<number>({
  name: 'l1_penalty',
  backward: (gy, { inputs, saved: lambda }, needs) => {
    const s = lambda * gy.item();
    return inputs.map((w, i) => (needs[i] ? scaled(w, 'sign_scale_f32', s) : null));
  },
});

const l2Op = defineOp<number>({
  name: 'l2_penalty',
  backward: (gy, { inputs, saved: lambda }, needs) => {
    const s = 2 * lambda * gy.item();
    return inputs.map((w, i) => (needs[i] ? scaled(w, 'muls_f32', s) : null));
  },
});

function penalty(where: string, params: ParamSource, lambda: number, kernel: 'sumabs_f32' | 'sumsq_f32', op: typeof l1Op): Tensor {
  const ps = collectParams(params, where);
  if (ps.length === 0) throw new ValueError(`${where}: got no parameters`);
  checkBackends(where, ...ps);
  checkFloat(where, ...ps);
  checkFiniteScalar(where, 'lambda', lambda);
  const be = ps[0].backend;
  const out = empty([], { backend: be });
  const at = out.ptr;
  let total = 0;
  for (const r of coalesce(ps)) {
    be.k[kernel](at, r.ptr, r.n);
    total += be.heap.f32[at >>> 2];
  }
  be.heap.f32[at >>> 2] = lambda * total;
  return record(op, out, ps, lambda);
}

/**
 * λ·Σ|w| over every element of every parameter: a 0-d tensor to add to the loss.
 *
 * @example
 * const total = add(loss, l1Penalty(model, 1e-5));
 */
export function l1Penalty(params: ParamSource, lambda: number): Tensor {
  return penalty('l1Penalty', params, lambda, 'sumabs_f32', l1Op);
}

/**
 * λ·Σw² over every element of every parameter (no ½): a 0-d tensor to add to the loss.
 *
 * @example
 * const total = add(loss, l2Penalty([fc1.weight, fc2.weight], 1e-4));
 */
export function l2Penalty(params: ParamSource, lambda: number): Tensor {
  return penalty('l2Penalty', params, lambda, 'sumsq_f32', l2Op);
}
