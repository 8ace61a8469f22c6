/**
 * The kernel ABI: every kernel both backends implement, declared once.
 *
 * A kernel takes byte pointers into the backend's heap (`ptr`), integer sizes
 * (`i32`) and float hyper-parameters (`f32`), in the order: outputs, inputs,
 * workspace, sizes, hyper-parameters. Kernels never allocate and never
 * validate: the ops in src/ops check everything first.
 *
 * The wasm backend binds these names to the module's exports (checking the
 * arity at load time); the js backend implements the same `Kernels` type in
 * plain JavaScript, so TypeScript checks both against this one table.
 */

type ArgKind = 'ptr' | 'i32' | 'f32';

export const KERNEL_SIGNATURES = {
  // elementwise.ts
  fill_f32: ['ptr', 'i32', 'f32'], // (out, n, value)
  copy_f32: ['ptr', 'ptr', 'i32'], // (out, x, n)
  add_f32: ['ptr', 'ptr', 'ptr', 'i32'], // (out, a, b, n)
  sub_f32: ['ptr', 'ptr', 'ptr', 'i32'],
  mul_f32: ['ptr', 'ptr', 'ptr', 'i32'],
  div_f32: ['ptr', 'ptr', 'ptr', 'i32'],
  adds_f32: ['ptr', 'ptr', 'i32', 'f32'], // (out, a, n, s)
  subs_f32: ['ptr', 'ptr', 'i32', 'f32'],
  muls_f32: ['ptr', 'ptr', 'i32', 'f32'],
  divs_f32: ['ptr', 'ptr', 'i32', 'f32'],
  // (out, a, b, d0, d1, d2, d3, sa0, sa1, sa2, sa3, sb0, sb1, sb2, sb3, op: 0 add | 1 sub | 2 mul | 3 div)
  binary_bcast: ['ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'],
  // reduce.ts: x viewed as [outer, n, inner], reduced over n
  sum_axis: ['ptr', 'ptr', 'i32', 'i32', 'i32'], // (out, x, outer, n, inner)
  max_axis: ['ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32'], // (out, idx, x, outer, n, inner)
  max_axis_bwd: ['ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32'], // (dx, idx, dy, outer, n, inner)
  // layout.ts: (out, x, d0, d1, d2, d3, so0, so1, so2, so3, sx0, sx1, sx2, sx3)
  copy_strided: ['ptr', 'ptr', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'],
  // gather.ts: rows of rowLen elements; idx int32
  gather_rows: ['ptr', 'ptr', 'ptr', 'i32', 'i32'], // (out, x, idx, n, rowLen)
  scatter_add_rows: ['ptr', 'ptr', 'ptr', 'i32', 'i32'], // (dx, idx, dy, n, rowLen)
  // activations.ts: forward (out, x, n[, hyper]); backward (dx, x or y, dy, n[, hyper])
  relu_fwd: ['ptr', 'ptr', 'i32'],
  relu_bwd: ['ptr', 'ptr', 'ptr', 'i32'], // (dx, x, dy, n)
  leaky_relu_fwd: ['ptr', 'ptr', 'i32', 'f32'], // (out, x, n, slope)
  leaky_relu_bwd: ['ptr', 'ptr', 'ptr', 'i32', 'f32'], // (dx, x, dy, n, slope)
  sigmoid_fwd: ['ptr', 'ptr', 'i32'],
  sigmoid_bwd: ['ptr', 'ptr', 'ptr', 'i32'], // (dx, y, dy, n)
  tanh_fwd: ['ptr', 'ptr', 'i32'],
  tanh_bwd: ['ptr', 'ptr', 'ptr', 'i32'], // (dx, y, dy, n)
  gelu_fwd: ['ptr', 'ptr', 'i32'],
  gelu_bwd: ['ptr', 'ptr', 'ptr', 'i32'], // (dx, x, dy, n)
  gelu_tanh_fwd: ['ptr', 'ptr', 'i32'],
  gelu_tanh_bwd: ['ptr', 'ptr', 'ptr', 'i32'], // (dx, x, dy, n)
  silu_fwd: ['ptr', 'ptr', 'i32'],
  silu_bwd: ['ptr', 'ptr', 'ptr', 'i32'], // (dx, x, dy, n)
  exp_fwd: ['ptr', 'ptr', 'i32'], // backward: mul_f32(dx, dy, y)
  log_fwd: ['ptr', 'ptr', 'i32'], // backward: div_f32(dx, dy, x)
  sqrt_fwd: ['ptr', 'ptr', 'i32'],
  sqrt_bwd: ['ptr', 'ptr', 'ptr', 'i32'], // (dx, y, dy, n)
  neg_fwd: ['ptr', 'ptr', 'i32'], // backward: neg_fwd(dx, dy)
  abs_fwd: ['ptr', 'ptr', 'i32'],
  abs_bwd: ['ptr', 'ptr', 'ptr', 'i32'], // (dx, x, dy, n)
  // softmax.ts: x viewed as [outer, n, inner], softmax over n
  softmax_fwd: ['ptr', 'ptr', 'i32', 'i32', 'i32'], // (out, x, outer, n, inner)
  softmax_bwd: ['ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32'], // (dx, y, dy, outer, n, inner)
  log_softmax_fwd: ['ptr', 'ptr', 'i32', 'i32', 'i32'], // (out, x, outer, n, inner)
  log_softmax_bwd: ['ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32'], // (dx, y, dy, outer, n, inner)
  // (loss, probs, logits, labels, n, c, reduce, scale, smoothing)
  cross_entropy_fwd: ['ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32', 'f32', 'f32'],
  // (dlogits, probs, labels, dy, n, c, reduce, scale, smoothing)
  cross_entropy_bwd: ['ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32', 'f32', 'f32'],
  // losses.ts: reduce = 0 → per element, else out[0] = scale·Σ
  bce_logits_fwd: ['ptr', 'ptr', 'ptr', 'i32', 'i32', 'f32'], // (out, x, t, n, reduce, scale)
  bce_logits_bwd: ['ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'f32'], // (dx, x, t, dy, n, reduce, scale)
  mse_fwd: ['ptr', 'ptr', 'ptr', 'i32', 'i32', 'f32'], // (out, p, t, n, reduce, scale)
  mse_bwd: ['ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'f32'], // (dp, p, t, dy, n, reduce, scale)
  // dropout.ts
  dropout_fwd: ['ptr', 'ptr', 'ptr', 'i32', 'f32', 'i32'], // (out, mask, x, n, p, seed)
  // gemm.ts
  gemm_workspace_bytes: [],
  // (c, a, b, ws, m, n, k, lda, ldb, ldc, transA, transB, alpha, beta)
  gemm: ['ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'f32', 'f32'],
  // (c, a, b, ws, bias | 0, m, n, k, lda, ldb, ldc, transA, transB, act, res | 0):
  // C = act(op(A)·op(B) + bias) + res, act 0 none, 1 relu; res [m, n] with stride ldc
  gemm_bias_act: ['ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'ptr'],
  // (dw, db | 0, x, g, ws, inF, outF, rows): dw = xᵀ·g, db = Σ_rows g
  gemm_wgrad: ['ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32'],
  // (c, a, b, ws, batch, m, n, k, lda, ldb, ldc, strideA, strideB, strideC, transA, transB, alpha, beta)
  gemm_batched: [
    'ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32',
    'f32', 'f32',
  ],
  // optim.ts: in/out buffers first, then the gradient, then n and hyper-parameters.
  // (p, buf, g, n, lr, momentum, dampening, weightDecay, nesterov, firstStep)
  sgd_step: ['ptr', 'ptr', 'ptr', 'i32', 'f32', 'f32', 'f32', 'f32', 'i32', 'i32'],
  // (p, m, v, vmax, g, n, lr, b1, b2, eps, weightDecay, decoupled, amsgrad, bc1, bc2)
  adam_step: ['ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'i32', 'f32', 'f32', 'f32', 'f32', 'f32', 'i32', 'i32', 'f32', 'f32'],
  // (p, sq, buf, gavg, g, n, lr, alpha, eps, weightDecay, momentum, centered)
  rmsprop_step: ['ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'i32', 'f32', 'f32', 'f32', 'f32', 'f32', 'i32'],
  // (p, sum, g, n, clr, eps, weightDecay)
  adagrad_step: ['ptr', 'ptr', 'ptr', 'i32', 'f32', 'f32', 'f32'],
  sumsq_f32: ['ptr', 'ptr', 'i32'], // (out, x, n): out[0] = Σx²
  sumabs_f32: ['ptr', 'ptr', 'i32'], // (out, x, n): out[0] = Σ|x|
  absmax_f32: ['ptr', 'ptr', 'i32'], // (out, x, n): out[0] = max|x|
  clamp_f32: ['ptr', 'ptr', 'i32', 'f32', 'f32'], // (out, x, n, lo, hi)
  sign_scale_f32: ['ptr', 'ptr', 'i32', 'f32'], // (out, x, n, s): out = s·sign(x)
  // conv.ts: (cols | dx, x | cols, H, W, C, kH, kW, OH, OW, sH, sW, pT, pL, dH, dW, row0, rows), NHWC
  im2col: ['ptr', 'ptr', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'],
  col2im: ['ptr', 'ptr', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'],
  // direct conv over a padded input: (y, xp, w, bias | 0, N, Hp, Wp, C, kH, kW, OH, OW, sH, sW, dH, dW, O)
  conv2d_direct: ['ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'],
  // (dw, db | 0, xp, dy, N, Hp, Wp, C, kH, kW, OH, OW, sH, sW, dH, dW, O, beta)
  conv2d_filter_grad: ['ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'],
  conv_filter_flip: ['ptr', 'ptr', 'i32', 'i32', 'i32'], // (out, w, T, C, O): out[t, o, c] = w[T−1−t, c, o]
  pad_nhwc: ['ptr', 'ptr', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], // (out, x, N, H, W, C, Hp, Wp, top, left)
  // pool.ts, NHWC: (out | dx, idx, x | dy, N, H, W, C, kH, kW, OH, OW, sH, sW, pT, pL)
  maxpool2d_fwd: ['ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'],
  relu_pool_mask: ['ptr', 'ptr', 'i32'], // (out, idx, n): out = max(out, 0), idx = −1 where out ≤ 0
  maxpool2d_bwd: ['ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'],
  // (out | dx, x | dy, N, H, W, C, kH, kW, OH, OW, sH, sW, pT, pL, countIncludePad)
  avgpool2d_fwd: ['ptr', 'ptr', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'],
  avgpool2d_bwd: ['ptr', 'ptr', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'],
  // batchnorm.ts over x [R, C]; pointer 0 = absent (γ, β) or not needed (dx, dγ, dβ); ws 28·C bytes
  // (mean, invstd, runMean, runVar, ws, x, R, C, momentum, eps, mode: 0 batch | 1 batch + update running | 2 running)
  batchnorm_stats: ['ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'f32', 'f32', 'i32'],
  batchnorm_fwd: ['ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32'], // (y, x, mean, invstd, gamma, beta, R, C)
  // (dx, dgamma, dbeta, ws, x, mean, invstd, gamma, dy, R, C, training)
  batchnorm_bwd: ['ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32'],
  // layernorm.ts: rows of n; a γ/β/dγ/dβ pointer of 0 means absent
  layernorm_fwd: ['ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'f32'], // (y, mean, rstd, x, gamma, beta, rows, n, eps)
  layernorm_bwd: ['ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32'], // (dx, dgamma, dbeta, dy, x, mean, rstd, gamma, rows, n, accDx)
  rmsnorm_fwd: ['ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'f32'], // (y, rstd, x, gamma, rows, n, eps)
  rmsnorm_bwd: ['ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32'], // (dx, dgamma, dy, x, rstd, gamma, rows, n, accDx)
  // attention.ts: (out, lse, probs, q, k, v, mask, ws, B, H, Tq, Tk, D, ldq, sqB, ldkv, skvB, mB, mH, mQ, causal, scale, dropP, seed,
  // probsPrivate (≠ 0: probs only for attention_bwd, in a layout of the kernels' choosing))
  attention_fwd: [
    'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr',
    'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'f32', 'f32', 'i32', 'i32',
  ],
  // (dq, dk, dv, dmask, q, k, v, out, dout, lse, probs | 0 (stored P: not recomputed), mask, ws, B, H, Tq, Tk, D, ldq, sqB, ldkv, skvB, mB, mH, mQ, causal, scale, dropP, seed,
  // probsPrivate (as given to the forward))
  attention_bwd: [
    'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr',
    'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'f32', 'f32', 'i32', 'i32',
  ],
  // rnn.ts: fused recurrent cells, n rows of `hidden` units; y has row stride ldy (0 = no y); mask int32 [n] or 0
  // (h, c, tc, y, act, gates, bias, hPrev, cPrev, mask, n, hidden, ldy)
  lstm_cell_fwd: ['ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32'],
  // (dgates, dh, dc, dy, act, tc, cPrev, mask, n, hidden, ldy); dh, dc in/out
  lstm_cell_bwd: ['ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32'],
  // (h, y, act, gx, gh, bih, bhh, hPrev, mask, n, hidden, ldy)
  gru_cell_fwd: ['ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32'],
  // (dgx, dgh, dh, dy, act, hPrev, mask, n, hidden, ldy); dh in/out
  gru_cell_bwd: ['ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32'],
  // (h, y, pre, bias, hPrev, mask, n, hidden, ldy, relu)
  rnn_cell_fwd: ['ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32', 'i32'],
  // (dpre, dh, dy, h, mask, n, hidden, ldy, relu); dh in/out
  rnn_cell_bwd: ['ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32', 'i32'],
  // (dst, b, k, n, ldb, transB): op(B) [k, n] → 8-column panels, ceil(n/8)·8·k floats
  rnn_pack_weights: ['ptr', 'ptr', 'i32', 'i32', 'i32', 'i32'],
  // (c, a, bp, ws, m, n, k, lda, ldc, transA, beta): C = op(A)·op(B) + beta·C, op(B) packed by
  // rnn_pack_weights, ws: ceil(m/4)·4·k floats of scratch
  rnn_matmul_packed: ['ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'f32'],
} as const satisfies Record<string, readonly ArgKind[]>;

export type KernelName = keyof typeof KERNEL_SIGNATURES;

type NumberArgs<T extends readonly unknown[]> = { [I in keyof T]: number };

/** The kernel table both backends provide. */
export type Kernels = {
  [K in KernelName]: (...args: NumberArgs<(typeof KERNEL_SIGNATURES)[K]>) => K extends 'gemm_workspace_bytes' ? number : void;
};
