/**
 * Unary activations and elementwise math, with their backward rules:
 *
 *   relu(x)            max(x, 0)                     dx = dy·[x > 0]
 *   leakyRelu(x, a)    x > 0 ? x : a·x               dx = dy·(x > 0 ? 1 : a)
 *   sigmoid(x)         1/(1 + e^{−x})                dx = dy·y(1 − y)
 *   tanh(x)                                          dx = dy·(1 − y²)
 *   gelu(x)            x·Φ(x)  (erf form)            dx = dy·(Φ(x) + x·φ(x))
 *   geluTanh(x)        ½x(1 + tanh(√(2/π)(x + 0.044715x³)))
 *   silu(x)            x·σ(x)                        dx = dy·σ(x)(1 + x(1 − σ(x)))
 *   exp(x)                                           dx = dy·y
 *   log(x)                                           dx = dy/x
 *   sqrt(x)                                          dx = dy/(2y)
 *   neg(x)             −x                            dx = −dy
 *   abs(x)             |x|                           dx = dy·sign(x)  (0 at 0)
 *
 * Each forward is one kernel call; backward rules that need the output (y)
 * save the output tensor, the others read the input.
 * Kernels: assembly/activations.ts (wasm) and src/backend/js/activations.ts.
 */

import { defineOp, record, type OpDef } from '../autograd.js';
import type { KernelName } from '../backend/kernels.js';
import { ConfigError } from '../errors.js';
import { empty, type Tensor } from '../tensor.js';
import { checkBackends, checkFiniteScalar, checkFloat } from './checks.js';

type UnaryKernel =
  | 'relu_fwd' | 'sigmoid_fwd' | 'tanh_fwd' | 'gelu_fwd' | 'gelu_tanh_fwd' | 'silu_fwd'
  | 'exp_fwd' | 'log_fwd' | 'sqrt_fwd' | 'neg_fwd' | 'abs_fwd';
type UnaryBackwardKernel =
  | 'relu_bwd' | 'sigmoid_bwd' | 'tanh_bwd' | 'gelu_bwd' | 'gelu_tanh_bwd' | 'silu_bwd' | 'sqrt_bwd' | 'abs_bwd'
  | Extract<KernelName, 'mul_f32' | 'div_f32'>;

/** dx = kernel(a, gy): a is the op's input or its output (y). */
function backwardWith(kernel: UnaryBackwardKernel, a: Tensor, gy: Tensor): Tensor {
  const dx = empty(gy.shape, { backend: gy.backend });
  const k = gy.backend.k;
  if (kernel === 'mul_f32' || kernel === 'div_f32') k[kernel](dx.ptr, gy.ptr, a.ptr, gy.size); // dy·y, dy/x
  else k[kernel](dx.ptr, a.ptr, gy.ptr, gy.size);
  return dx;
}

/** Ops whose backward reads the output y: the forward saves it. */
const SAVES_OUTPUT = new Set<OpDef<Tensor | undefined>>();

/** A unary op whose backward reads its input x. */
function fromInput(name: string, kernel: UnaryBackwardKernel): OpDef<Tensor | undefined> {
  return defineOp<Tensor | undefined>({ name, backward: (gy, { inputs: [x] }) => [backwardWith(kernel, x, gy)] });
}

/** A unary op whose backward reads its output y (saved by the forward). */
function fromOutput(name: string, kernel: UnaryBackwardKernel): OpDef<Tensor | undefined> {
  const op = defineOp<Tensor | undefined>({ name, backward: (gy, { saved: y }) => [backwardWith(kernel, y!, gy)] });
  SAVES_OUTPUT.add(op);
  return op;
}

const reluOp = fromInput('relu', 'relu_bwd');
const sigmoidOp = fromOutput('sigmoid', 'sigmoid_bwd');
const tanhOp = fromOutput('tanh', 'tanh_bwd');
const geluOp = fromInput('gelu', 'gelu_bwd');
const geluTanhOp = fromInput('gelu_tanh', 'gelu_tanh_bwd');
const siluOp = fromInput('silu', 'silu_bwd');
const expOp = fromOutput('exp', 'mul_f32');
const logOp = fromInput('log', 'div_f32');
const sqrtOp = fromOutput('sqrt', 'sqrt_bwd');
const absOp = fromInput('abs', 'abs_bwd');
const negOp = defineOp<Tensor | undefined>({
  name: 'neg',
  backward: (gy) => {
    const dx = empty(gy.shape, { backend: gy.backend });
    gy.backend.k.neg_fwd(dx.ptr, gy.ptr, gy.size);
    return [dx];
  },
});
const leakyReluOp = defineOp<number>({
  name: 'leaky_relu',
  backward: (gy, { inputs: [x], saved: slope }) => {
    const dx = empty(gy.shape, { backend: gy.backend });
    gy.backend.k.leaky_relu_bwd(dx.ptr, x.ptr, gy.ptr, gy.size, slope);
    return [dx];
  },
});

function unary(name: string, kernel: UnaryKernel, op: OpDef<Tensor | undefined>, x: Tensor): Tensor {
  checkBackends(name, x);
  checkFloat(name, x);
  const out = empty(x.shape, { backend: x.backend });
  x.backend.k[kernel](out.ptr, x.ptr, x.size);
  return record(op, out, [x], SAVES_OUTPUT.has(op) ? out : undefined);
}

/** max(x, 0), elementwise. */
export function relu(x: Tensor): Tensor {
  return unary('relu', 'relu_fwd', reluOp, x);
}

/**
 * x for x > 0, negativeSlope·x otherwise.
 * @param negativeSlope  Default 0.01 (as PyTorch).
 */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  checkBackends('leakyRelu', x);
  checkFloat('leakyRelu', x);
  checkFiniteScalar('leakyRelu', 'negativeSlope', negativeSlope);
  const out = empty(x.shape, { backend: x.backend });
  x.backend.k.leaky_relu_fwd(out.ptr, x.ptr, x.size, negativeSlope);
  return record(leakyReluOp, out, [x], negativeSlope);
}

/** σ(x) = 1/(1 + e^{−x}); exactly 0 or 1 only where float32 cannot tell. */
export function sigmoid(x: Tensor): Tensor {
  return unary('sigmoid', 'sigmoid_fwd', sigmoidOp, x);
}

/** Hyperbolic tangent. */
export function tanh(x: Tensor): Tensor {
  return unary('tanh', 'tanh_fwd', tanhOp, x);
}

export interface GeluOptions {
  /** 'none' (default): the exact x·Φ(x) with erf; 'tanh': the tanh approximation (see geluTanh). */
  approximate?: 'none' | 'tanh';
}

/**
 * GELU, x·Φ(x) with Φ the standard normal CDF (the exact, erf form; PyTorch's
 * default). `{ approximate: 'tanh' }` selects geluTanh.
 */
export function gelu(x: Tensor, options: GeluOptions = {}): Tensor {
  for (const key of Object.keys(options)) {
    if (key !== 'approximate') throw new ConfigError(`gelu: unknown option '${key}'; valid: approximate`);
  }
  const a = options.approximate ?? 'none';
  if (a !== 'none' && a !== 'tanh') {
    throw new ConfigError(`gelu: unknown approximate '${String(a)}'; valid: 'none', 'tanh'`);
  }
  return a === 'tanh' ? geluTanh(x) : unary('gelu', 'gelu_fwd', geluOp, x);
}

/** GELU, tanh approximation: ½x(1 + tanh(√(2/π)(x + 0.044715x³))) (GPT-2's). */
export function geluTanh(x: Tensor): Tensor {
  return unary('geluTanh', 'gelu_tanh_fwd', geluTanhOp, x);
}

/** SiLU (swish): x·σ(x). */
export function silu(x: Tensor): Tensor {
  return unary('silu', 'silu_fwd', siluOp, x);
}

/** eˣ, elementwise (+Inf above ≈ 88.72, as float32). */
export function exp(x: Tensor): Tensor {
  return unary('exp', 'exp_fwd', expOp, x);
}

/** Natural logarithm, elementwise (log 0 = −Inf, log of a negative = NaN). */
export function log(x: Tensor): Tensor {
  return unary('log', 'log_fwd', logOp, x);
}

/** Square root, elementwise (NaN for negatives). */
export function sqrt(x: Tensor): Tensor {
  return unary('sqrt', 'sqrt_fwd', sqrtOp, x);
}

/** −x, elementwise. */
export function neg(x: Tensor): Tensor {
  return unary('neg', 'neg_fwd', negOp, x);
}

/** |x|, elementwise (gradient 0 at 0). */
export function abs(x: Tensor): Tensor {
  return unary('abs', 'abs_fwd', absOp, x);
}
