/**
 * linear: y = x·W + b in one op (the dense layer's forward), with a fused bias;
 * linearRelu: y = relu(x·W + b), the same op with the activation fused too;
 * linearAdd: y = r + (x·W + b), the same op with a residual input fused (the
 * last projection of a transformer block's branch and the skip around it).
 *
 *   x [..., IN] · W [IN, OUT] + b [OUT]  →  y [..., OUT]
 *
 * Forward is one `gemm_bias_act` call: the bias seeds the GEMM's
 * accumulators and relu (linearRelu) runs on each tile as it is stored, so y
 * is written once — no bias copy, no read-back of y, no separate relu pass.
 * Backward (rows R = product of x's leading dimensions):
 *   g  = dy                (linear)   or   dy·[y > 0]   (linearRelu: one relu_bwd pass)
 *   dx = g·Wᵀ              one GEMM (A·Bᵀ)
 *   dW = xᵀ·g              one GEMM (Aᵀ·B) over all R rows
 *   db = Σ_rows g          summed by that GEMM while it packs g (gemm_wgrad)
 * Only the gradients that are needed are computed (the input layer's dx is not).
 *
 * Why fuse relu: a transformer's feed-forward block and an MLP's hidden
 * layers are Linear → ReLU; on the bench transformer (x [1024, 64] → 128) the
 * fused forward skips a relu pass over the [1024, 128] activations (≈50 µs)
 * and the bias copy (≈45 µs), at no cost to the GEMM — see README
 * ("Training throughput").
 * Modules use it through `Sequential` (a Linear directly followed by a ReLU)
 * and the transformer layers' feed-forward block; `y > 0` equals `x > 0` for
 * the pre-activation x (NaN included), so the gradient is relu's.
 *
 * Why fuse the residual: the GEMM adds r to each tile of y while the tile is
 * still in L1, instead of an add pass that reads y and r and writes a third
 * tensor (≈25 µs per [1024, 64] add on the bench transformer, two per
 * layer). Same bits as linear then add. r's gradient is dy itself (a view).
 */

import { defineOp, record } from '../autograd.js';
import { ShapeError, fmtShape } from '../errors.js';
import { empty, view, type Tensor } from '../tensor.js';
import { checkBackends, checkFloat, product, sameShape } from './checks.js';

/**
 * dx, dW, db of y = x·W + b given g = dL/d(x·W + b). Where W's (and b's, if
 * needed) `.grad` is stale after zeroGrad (`fresh`, see autograd's
 * acceptsPrior), dW and db are written straight into them: no fill before
 * and no add after. (Adding into a live gradient instead — a beta = 1 GEMM —
 * was 5–14% slower than a fresh GEMM plus the add on the bench transformer's
 * shapes, so a live gradient gets a new tensor, added by autograd.)
 */
function linearGrads(
  g: Tensor, x: Tensor, w: Tensor, b: Tensor | undefined, needs: readonly boolean[],
  prior: readonly (Tensor | null)[], fresh: readonly boolean[],
): (Tensor | null)[] {
  const be = g.backend;
  const [inF, outF] = w.shape;
  const rows = x.size / inF;
  let dx: Tensor | null = null, dw: Tensor | null = null, db: Tensor | null = null;
  if (needs[0]) {
    dx = empty(x.shape, { backend: be });
    be.k.gemm(dx.ptr, g.ptr, w.ptr, be.gemmWs, rows, inF, outF, outF, outF, inF, 0, 1, 1, 0);
  }
  const needDb = b !== undefined && needs[2];
  const direct = needs[1] ? fresh[1] === true && (!needDb || fresh[2] === true) : needDb && fresh[2] === true;
  if (needDb) db = direct ? prior[2]! : empty(b.shape, { backend: be });
  if (needs[1]) {
    dw = direct ? prior[1]! : empty(w.shape, { backend: be });
    be.k.gemm_wgrad(dw.ptr, db?.ptr ?? 0, x.ptr, g.ptr, be.gemmWs, inF, outF, rows); // db taken while packing g
  } else if (db) {
    be.k.sum_axis(db.ptr, g.ptr, 1, rows, outF);
  }
  return [dx, dw, db];
}

const linearOp = defineOp({
  name: 'linear',
  acceptsPrior: true,
  backward: (gy, { inputs: [x, w, b] }, needs, prior, fresh) => linearGrads(gy, x, w, b, needs, prior, fresh),
});

const linearAddOp = defineOp({
  name: 'linear_add',
  acceptsPrior: true,
  backward: (gy, { inputs }, needs, prior, fresh) => {
    const hasBias = inputs.length === 4;
    const [x, w] = inputs;
    const grads = linearGrads(gy, x, w, hasBias ? inputs[2] : undefined, needs, prior, fresh);
    const gr = needs[inputs.length - 1] ? view(gy, gy.shape) : null; // d(residual) = dy
    return hasBias ? [...grads, gr] : [grads[0], grads[1], gr];
  },
});

const linearReluOp = defineOp<Tensor>({
  name: 'linear_relu',
  acceptsPrior: true,
  backward: (gy, { inputs: [x, w, b], saved: y }, needs, prior, fresh) => {
    const g = empty(gy.shape, { backend: gy.backend });
    gy.backend.k.relu_bwd(g.ptr, y.ptr, gy.ptr, gy.size);
    const grads = linearGrads(g, x, w, b, needs, prior, fresh);
    g.dispose();
    return grads;
  },
});

function checkLinear(where: string, x: Tensor, weight: Tensor, bias: Tensor | undefined): void {
  checkBackends(where, x, weight, ...(bias ? [bias] : []));
  checkFloat(where, x, weight, ...(bias ? [bias] : []));
  if (weight.rank !== 2) throw new ShapeError(`${where}: weight must be [in, out]; got ${fmtShape(weight.shape)}`);
  const [inF, outF] = weight.shape;
  if (x.rank < 1 || x.shape[x.rank - 1] !== inF) {
    throw new ShapeError(
      `${where}: input features differ: x is ${fmtShape(x.shape)}, weight is ${fmtShape(weight.shape)} ` +
        `(expected x [..., ${inF}])`,
    );
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== outF)) {
    throw new ShapeError(`${where}: bias must be [${outF}] for weight ${fmtShape(weight.shape)}; got ${fmtShape(bias.shape)}`);
  }
}

function forward(x: Tensor, weight: Tensor, bias: Tensor | undefined, act: 0 | 1, res?: Tensor): Tensor {
  const be = x.backend;
  const [inF, outF] = weight.shape;
  const rows = product(x.shape.slice(0, -1));
  const y = empty([...x.shape.slice(0, -1), outF], { backend: be });
  be.k.gemm_bias_act(
    y.ptr, x.ptr, weight.ptr, be.gemmWs, bias ? bias.ptr : 0, rows, outF, inF, inF, outF, outF, 0, 0, act, res ? res.ptr : 0,
  );
  return y;
}

/**
 * y = x·W + b. `weight` is [in, out] (a layer from 3 inputs to 2 outputs owns
 * a 3×2 matrix); `bias` is [out] or omitted.
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  checkLinear('linear', x, weight, bias);
  const y = forward(x, weight, bias, 0);
  return record(linearOp, y, bias ? [x, weight, bias] : [x, weight], undefined);
}

/** @internal y = relu(x·W + b) as one op (see the file header); same arguments as `linear`. */
export function linearRelu(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  checkLinear('linear', x, weight, bias);
  const y = forward(x, weight, bias, 1);
  return record(linearReluOp, y, bias ? [x, weight, bias] : [x, weight], y);
}

/**
 * @internal y = residual + (x·W + b) as one op (see the file header): the
 * same bits as `add(residual, linear(x, weight, bias))`. `residual` has y's
 * shape, [..., out].
 */
export function linearAdd(x: Tensor, weight: Tensor, bias: Tensor | undefined, residual: Tensor): Tensor {
  checkLinear('linear', x, weight, bias);
  checkBackends('linear', x, residual);
  checkFloat('linear', residual);
  const yShape = [...x.shape.slice(0, -1), weight.shape[1]];
  if (!sameShape(residual.shape, yShape)) {
    throw new ShapeError(`linear: residual must have the output's shape ${fmtShape(yShape)}; got ${fmtShape(residual.shape)}`);
  }
  const y = forward(x, weight, bias, 0, residual);
  return record(linearAddOp, y, bias ? [x, weight, bias, residual] : [x, weight, residual], undefined);
}
