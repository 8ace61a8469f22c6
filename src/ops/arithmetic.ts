/**
 * add, sub, mul, div with numpy/PyTorch broadcasting (tensor∘tensor,
 * tensor∘scalar, scalar∘tensor), and their backward rules:
 *
 *   d(a+b) = (gy, gy)        d(a−b) = (gy, −gy)
 *   d(a·b) = (gy·b, gy·a)    d(a/b) = (gy/b, −gy·a/b²)
 *
 * each reduced back to its operand's shape (`sumTo`) where it was broadcast.
 *
 * Kernels: add/sub/mul/div_f32 for equal shapes, adds/…_f32 for a scalar, and
 * binary_bcast for everything else (assembly/elementwise.ts,
 * src/backend/js/elementwise.ts).
 */

import { defineOp, record } from '../autograd.js';
import { ValueError } from '../errors.js';
import { empty, tensor, view, type Tensor } from '../tensor.js';
import { checkBackends, checkFiniteScalar, checkFloat, sameShape } from './checks.js';
import { sumTo } from './reduce.js';
import { broadcastShapes, broadcastStrides, collapse, contiguousStrides, forEach4 } from './strided.js';

type VVKernel = 'add_f32' | 'sub_f32' | 'mul_f32' | 'div_f32';
type VSKernel = 'adds_f32' | 'subs_f32' | 'muls_f32' | 'divs_f32';
type OpCode = 0 | 1 | 2 | 3;
const VV: VVKernel[] = ['add_f32', 'sub_f32', 'mul_f32', 'div_f32'];

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

/** @internal out = a ∘ b with broadcasting, not recorded (shapes checked by the caller). */
export function bcast(op: OpCode, a: Tensor, b: Tensor, outShape: readonly number[] = broadcastShapes('binary', a.shape, b.shape)): Tensor {
  if (sameShape(a.shape, b.shape)) return vv(VV[op], a, b);
  const out = empty(outShape, { backend: a.backend });
  const plan = collapse(outShape, [contiguousStrides(outShape), broadcastStrides(a.shape, outShape), broadcastStrides(b.shape, outShape)]);
  const k = a.backend.k;
  const [po, pa, pb] = [out.ptr, a.ptr, b.ptr];
  forEach4(plan, ([oo, oa, ob], d, [, sa, sb]) => {
    k.binary_bcast(po + 4 * oo, pa + 4 * oa, pb + 4 * ob, d[0], d[1], d[2], d[3], sa[0], sa[1], sa[2], sa[3], sb[0], sb[1], sb[2], sb[3], op);
  });
  return out;
}

/**
 * gy reduced to `x`'s shape: gy itself (a view sharing its storage — autograd
 * copies or accumulates out of place when storage is shared, see
 * src/autograd.ts) when no reduction is needed, else a fresh sum. Passing
 * the gradient through instead of copying it saves one pass per residual
 * add in backward (five [1024, 64] copies per step of the bench transformer).
 */
function gradFor(gy: Tensor, x: Tensor): Tensor {
  return sameShape(gy.shape, x.shape) ? view(gy, gy.shape) : sumTo(gy, x.shape);
}

function negate(t: Tensor): Tensor {
  t.backend.k.muls_f32(t.ptr, t.ptr, t.size, -1);
  return t;
}

const addOp = defineOp({
  name: 'add',
  backward: (gy, { inputs: [a, b] }, needs) => [needs[0] ? gradFor(gy, a) : null, needs[1] ? gradFor(gy, b) : null],
});
const subOp = defineOp({
  name: 'sub',
  backward: (gy, { inputs: [a, b] }, needs) => [
    needs[0] ? gradFor(gy, a) : null,
    needs[1] ? (sameShape(gy.shape, b.shape) ? vs('muls_f32', gy, -1) : negate(sumTo(gy, b.shape))) : null,
  ],
});
const mulOp = defineOp({
  name: 'mul',
  backward: (gy, { inputs: [a, b] }, needs) => {
    const part = (other: Tensor, self: Tensor) => {
      const t = bcast(2, gy, other, gy.shape);
      if (sameShape(t.shape, self.shape)) return t;
      const r = sumTo(t, self.shape);
      t.dispose();
      return r;
    };
    return [needs[0] ? part(b, a) : null, needs[1] ? part(a, b) : null];
  },
});
const divOp = defineOp({
  name: 'div',
  backward: (gy, { inputs: [a, b] }, needs) => {
    const gyb = bcast(3, gy, b, gy.shape); // gy / b, output-shaped
    let gb: Tensor | null = null;
    if (needs[1]) {
      const t = bcast(2, gyb, a, gy.shape); // gy·a/b
      const u = bcast(3, t, b, gy.shape); // gy·a/b²
      t.dispose();
      gb = negate(sameShape(u.shape, b.shape) ? u : sumTo(u, b.shape));
      if (gb !== u) u.dispose();
    }
    let ga: Tensor | null = null;
    if (needs[0]) ga = sameShape(gyb.shape, a.shape) ? gyb : sumTo(gyb, a.shape);
    if (ga !== gyb) gyb.dispose();
    return [ga, gb];
  },
});

// Scalar forms: x∘s has gradient gy (add, sub) or gy·s (mul; div by s is mul by 1/s);
// s−x has −gy; s/x has −gy·s/x² = −gy·out/x.
const addsOp = defineOp({ name: 'add_scalar', backward: (gy) => [view(gy, gy.shape)] });
const mulsOp = defineOp<number>({ name: 'mul_scalar', backward: (gy, { saved }) => [vs('muls_f32', gy, saved)] });
const rdivOp = defineOp<Tensor>({
  name: 'rdiv_scalar',
  backward: (gy, { inputs: [x], saved: out }) => {
    const t = vv('mul_f32', gy, out);
    const r = vv('div_f32', t, x);
    t.dispose();
    return [negate(r)];
  },
});

const NAMES = ['add', 'sub', 'mul', 'div'] as const;
const NODES = [addOp, subOp, mulOp, divOp];
const VS: VSKernel[] = ['adds_f32', 'subs_f32', 'muls_f32', 'divs_f32'];

function binary(op: OpCode, a: Tensor | number, b: Tensor | number): Tensor {
  const name = NAMES[op];
  if (typeof a === 'number' && typeof b === 'number') {
    throw new ValueError(`${name}: at least one operand must be a tensor; got two numbers`);
  }
  if (typeof b === 'number') {
    const x = a as Tensor;
    checkBackends(name, x);
    checkFloat(name, x);
    checkFiniteScalar(name, 'the scalar operand', b);
    if (op === 3 && b === 0) throw new ValueError(`${name}: the divisor must be a finite nonzero number; got 0`);
    const out = vs(VS[op], x, b);
    if (op <= 1) return record(addsOp, out, [x], undefined);
    return record(mulsOp, out, [x], op === 2 ? b : 1 / b);
  }
  if (typeof a === 'number') {
    checkBackends(name, b);
    checkFloat(name, b);
    checkFiniteScalar(name, 'the scalar operand', a);
    if (op === 0 || op === 2) return binary(op, b, a); // commutative
    if (op === 1) {
      // s − x = −x + s
      const out = vs('muls_f32', b, -1);
      b.backend.k.adds_f32(out.ptr, out.ptr, out.size, a);
      return record(mulsOp, out, [b], -1);
    }
    // s / x
    const s = tensor([a], [], { backend: b.backend });
    const out = bcast(3, s, b, b.shape);
    s.dispose();
    return record(rdivOp, out, [b], out);
  }
  checkBackends(name, a, b);
  checkFloat(name, a, b);
  const shape = sameShape(a.shape, b.shape) ? a.shape : broadcastShapes(name, a.shape, b.shape);
  return record(NODES[op], bcast(op, a, b, shape), [a, b], undefined);
}

/** a + b, elementwise with broadcasting; either side may be a number. */
export function add(a: Tensor | number, b: Tensor | number): Tensor {
  return binary(0, a, b);
}

/** a − b, elementwise with broadcasting; either side may be a number. */
export function sub(a: Tensor | number, b: Tensor | number): Tensor {
  return binary(1, a, b);
}

/** a · b, elementwise with broadcasting; either side may be a number. */
export function mul(a: Tensor | number, b: Tensor | number): Tensor {
  return binary(2, a, b);
}

/** a / b, elementwise with broadcasting; either side may be a number (a number divisor must be nonzero). */
export function div(a: Tensor | number, b: Tensor | number): Tensor {
  return binary(3, a, b);
}
