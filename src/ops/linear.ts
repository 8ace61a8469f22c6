/**
 * linear: y = x·W + b in one op (the dense layer's forward), with a fused bias.
 *
 *   x [..., IN] · W [IN, OUT] + b [OUT]  →  y [..., OUT]
 *
 * Forward copies b into every row of y, then runs GEMM with beta = 1 so the
 * product accumulates onto the bias: no separate bias pass.
 * Backward (rows R = product of x's leading dimensions):
 *   dx = dy·Wᵀ        one GEMM (A·Bᵀ)
 *   dW = xᵀ·dy        one GEMM (Aᵀ·B) over all R rows
 *   db = Σ_rows dy    one sum_axis
 * Only the gradients that are needed are computed (the input layer's dx is not).
 */

import { defineOp, record } from '../autograd.js';
import { ShapeError, fmtShape } from '../errors.js';
import { empty, type Tensor } from '../tensor.js';
import { checkBackends, checkFloat, product } from './checks.js';

const linearOp = defineOp({
  name: 'linear',
  backward: (gy, { inputs: [x, w, b] }, needs) => {
    const be = gy.backend;
    const [inF, outF] = w.shape;
    const rows = x.size / inF;
    let dx: Tensor | null = null, dw: Tensor | null = null, db: Tensor | null = null;
    if (needs[0]) {
      dx = empty(x.shape, { backend: be });
      be.k.gemm(dx.ptr, gy.ptr, w.ptr, be.gemmWs, rows, inF, outF, outF, outF, inF, 0, 1, 1, 0);
    }
    if (needs[1]) {
      dw = empty(w.shape, { backend: be });
      be.k.gemm(dw.ptr, x.ptr, gy.ptr, be.gemmWs, inF, outF, rows, inF, outF, outF, 1, 0, 1, 0);
    }
    if (b !== undefined && needs[2]) {
      db = empty(b.shape, { backend: be });
      be.k.sum_axis(db.ptr, gy.ptr, 1, rows, outF);
    }
    return [dx, dw, db];
  },
});

/**
 * y = x·W + b. `weight` is [in, out] (a layer from 3 inputs to 2 outputs owns
 * a 3×2 matrix); `bias` is [out] or omitted.
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  checkBackends('linear', x, weight, ...(bias ? [bias] : []));
  checkFloat('linear', x, weight, ...(bias ? [bias] : []));
  if (weight.rank !== 2) throw new ShapeError(`linear: weight must be [in, out]; got ${fmtShape(weight.shape)}`);
  const [inF, outF] = weight.shape;
  if (x.rank < 1 || x.shape[x.rank - 1] !== inF) {
    throw new ShapeError(
      `linear: input features differ: x is ${fmtShape(x.shape)}, weight is ${fmtShape(weight.shape)} ` +
        `(expected x [..., ${inF}])`,
    );
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== outF)) {
    throw new ShapeError(`linear: bias must be [${outF}] for weight ${fmtShape(weight.shape)}; got ${fmtShape(bias.shape)}`);
  }
  const be = x.backend;
  const rows = product(x.shape.slice(0, -1));
  const y = empty([...x.shape.slice(0, -1), outF], { backend: be });
  if (bias) {
    be.k.copy_strided(y.ptr, bias.ptr, 1, 1, rows, outF, 0, 0, outF, 1, 0, 0, 0, 1);
  }
  be.k.gemm(y.ptr, x.ptr, weight.ptr, be.gemmWs, rows, outF, inF, inF, outF, outF, 0, 0, 1, bias ? 1 : 0);
  return record(linearOp, y, bias ? [x, weight, bias] : [x, weight], undefined);
}
