/**
 * Tensors filled with a constant: zeros, ones, full (and the *Like forms).
 * Non-differentiable: they have no inputs. Kernel: fill_f32.
 */

import { empty, type CreateOptions, type Shape, type Tensor } from '../tensor.js';
import { checkFiniteScalar } from './checks.js';

/** A tensor of `shape` with every element `value`. int32 tensors take integer values. */
export function full(shape: Shape, value: number, opts: CreateOptions = {}): Tensor {
  if (typeof value !== 'number' || Number.isNaN(value)) checkFiniteScalar('full', 'value', value);
  const t = empty(shape, opts);
  if (t.dtype === 'int32') {
    if (!Number.isInteger(value)) {
      t.dispose();
      checkFiniteScalar('full', 'an int32 value', NaN);
    }
    const p = t.ptr >>> 2;
    t.backend.heap.i32.fill(value, p, p + t.size);
  } else {
    t.backend.k.fill_f32(t.ptr, t.size, value);
  }
  return t;
}

export function zeros(shape: Shape, opts: CreateOptions = {}): Tensor {
  return full(shape, 0, opts);
}

export function ones(shape: Shape, opts: CreateOptions = {}): Tensor {
  return full(shape, 1, opts);
}

export function zerosLike(t: Tensor): Tensor {
  return full(t.shape, 0, { backend: t.backend, dtype: t.dtype });
}

export function onesLike(t: Tensor): Tensor {
  return full(t.shape, 1, { backend: t.backend, dtype: t.dtype });
}
