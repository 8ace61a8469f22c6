/**
 * add, sub, mul, div: tensor∘tensor (same shape) and tensor∘scalar, with their
 * backward rules.
 *
 *   d(a+b) = (gy, gy)        d(a−b) = (gy, −gy)
 *   d(a·b) = (gy·b, gy·a)    d(a/b) = (gy/b, −gy·a/b²)
 *
 * Kernels: assembly/elementwise.ts (wasm) and src/backend/js/elementwise.ts.
 */

import { defineOp, record } from '../autograd.js';
import { empty, type Tensor } from '../tensor.js';
import { checkBackends, checkFiniteScalar, checkFloat, checkSameShape } from './checks.js';

type VVKernel = 'add_f32' | 'sub_f32' | 'mul_f32' | 'div_f32';
type VSKernel = 'adds_f32' | 'subs_f32' | 'muls_f32' | 'divs_f32';

/** @internal out = a ∘ b elementwise (same shape, checked by the caller). */
export function vv(kernel: VVKernel, a: Tensor, b: Tensor): Tensor {
  const out = empty(a.shape, { backend: a.backend });
  a.backend.k[kernel](out.ptr, a.ptr, b.ptr, a.size);
  return out;
}

/** @internal out = a ∘ s elementwise. */
export function vs(kernel: VSKernel, a: Tensor, s: number): Tensor {
  const out = empty(a.shape, { backend: a.backend });
  a.backend.k[kernel](out.ptr, a.ptr, a.size, s);
  return out;
}

/** @internal A fresh copy of `t`. */
export function clone(t: Tensor): Tensor {
  const out = empty(t.shape, { backend: t.backend, dtype: t.dtype });
  t.backend.k.copy_f32(out.ptr, t.ptr, t.size);
  return out;
}

const addOp = defineOp({
  name: 'add',
  backward: (gy, _n, needs) => [needs[0] ? clone(gy) : null, needs[1] ? clone(gy) : null],
});
const subOp = defineOp({
  name: 'sub',
  backward: (gy, _n, needs) => [needs[0] ? clone(gy) : null, needs[1] ? vs('muls_f32', gy, -1) : null],
});
const mulOp = defineOp({
  name: 'mul',
  backward: (gy, { inputs: [a, b] }, needs) => [
    needs[0] ? vv('mul_f32', gy, b) : null,
    needs[1] ? vv('mul_f32', gy, a) : null,
  ],
});
const divOp = defineOp({
  name: 'div',
  backward: (gy, { inputs: [a, b] }, needs) => {
    const gyb = vv('div_f32', gy, b); // gy / b
    let gb: Tensor | null = null;
    if (needs[1]) {
      const t = vv('mul_f32', gyb, a); // gy·a/b
      gb = vv('div_f32', t, b); // gy·a/b²
      t.dispose();
      b.backend.k.muls_f32(gb.ptr, gb.ptr, gb.size, -1);
    }
    if (!needs[0]) gyb.dispose();
    return [needs[0] ? gyb : null, gb];
  },
});

const addsOp = defineOp({ name: 'add_scalar', backward: (gy) => [clone(gy)] });
const mulsOp = defineOp<number>({ name: 'mul_scalar', backward: (gy, { saved }) => [vs('muls_f32', gy, saved)] });

function binary(
  op: string,
  a: Tensor,
  b: Tensor | number,
  vvKernel: VVKernel,
  vsKernel: VSKernel,
  node: typeof addOp,
): Tensor {
  if (typeof b === 'number') {
    checkBackends(op, a);
    checkFloat(op, a);
    checkFiniteScalar(op, 'the scalar operand', b);
    if (vsKernel === 'divs_f32' && b === 0) checkFiniteScalar(op, 'the divisor', 1 / b);
    const out = vs(vsKernel, a, b);
    // a+s and a−s have gradient gy; a·s and a/s have gradient gy·s and gy/s.
    if (vsKernel === 'adds_f32' || vsKernel === 'subs_f32') return record(addsOp, out, [a], undefined);
    return record(mulsOp, out, [a], vsKernel === 'muls_f32' ? b : 1 / b);
  }
  checkBackends(op, a, b);
  checkFloat(op, a, b);
  checkSameShape(op, a, b);
  return record(node, vv(vvKernel, a, b), [a, b], undefined);
}

/** a + b (elementwise; b may be a number). */
export function add(a: Tensor, b: Tensor | number): Tensor {
  return binary('add', a, b, 'add_f32', 'adds_f32', addOp);
}

/** a − b (elementwise; b may be a number). */
export function sub(a: Tensor, b: Tensor | number): Tensor {
  return binary('sub', a, b, 'sub_f32', 'subs_f32', subOp);
}

/** a · b (elementwise; b may be a number). */
export function mul(a: Tensor, b: Tensor | number): Tensor {
  return binary('mul', a, b, 'mul_f32', 'muls_f32', mulOp);
}

/** a / b (elementwise; b may be a nonzero number). */
export function div(a: Tensor, b: Tensor | number): Tensor {
  return binary('div', a, b, 'div_f32', 'divs_f32', divOp);
}
