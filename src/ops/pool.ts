/**
 * Pooling over NHWC images: max, average and global average, with their
 * backward rules.
 *
 *   maxPool2d  y[n, oh, ow, c] = max of x over the window        dx: dy routed to the argmax
 *   avgPool2d  y = Σ window / div                                dx: dy/div spread over the window
 *   globalAvgPool2d  [N, H, W, C] → [N, C] = mean over H and W   (the reduce op `mean`)
 *
 * The window of output pixel (oh, ow) starts at (oh·sH − pT, ow·sW − pL) and
 * is kH × kW; taps in the zero padding are skipped (max) or count as zeros
 * (avg with countIncludePad, PyTorch's default). As in PyTorch the padding
 * may be at most half the window, so every window holds at least one pixel.
 *
 * Kernels: maxpool2d_fwd/bwd, avgpool2d_fwd/bwd (assembly/pool.ts, SIMD
 * across channels). The max-pool forward records the flat index of each
 * maximum for the backward.
 */

import { defineOp, record } from '../autograd.js';
import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import { empty, type Tensor } from '../tensor.js';
import { checkBackends, checkFloat } from './checks.js';
import { checkPadding, pairOf, slidingGeometry, withContext, type Geometry, type Pair, type Padding } from './conv.js';
import { mean } from './reduce.js';

export interface Pool2dOptions {
  /** Step between windows. Default: the window size (non-overlapping windows). */
  stride?: Pair;
  /** A number or [pH, pW] (at most half the window), 'valid' or 'same'. Default 0. */
  padding?: Padding;
}

export interface AvgPool2dOptions extends Pool2dOptions {
  /** Divide by the full window size, padding included (PyTorch's default), rather than by the pixels inside. Default true. */
  countIncludePad?: boolean;
}

export const POOL_DEFAULTS = Object.freeze({ padding: 0, countIncludePad: true });

/** @internal Validates everything and returns the window geometry. */
export function poolGeometry(
  where: string, x: Tensor, kernelSize: Pair, options: AvgPool2dOptions, keys: readonly string[],
): Geometry {
  if (options === null || typeof options !== 'object') throw new ConfigError(`${where}: options must be an object`);
  for (const k of Object.keys(options)) {
    if (!keys.includes(k)) throw new ConfigError(`${where}: unknown option '${k}'; valid: ${keys.join(', ')}`);
  }
  checkBackends(where, x);
  checkFloat(where, x);
  const [kH, kW, stride, padding] = withContext(`(input ${fmtShape(x.shape)})`, () => {
    const [kH, kW] = pairOf(where, 'kernelSize', kernelSize);
    const stride = pairOf(where, 'stride', options.stride ?? [kH, kW]);
    const padding = options.padding ?? POOL_DEFAULTS.padding;
    checkPadding(where, padding);
    if (typeof padding !== 'string') {
      const [pH, pW] = pairOf(where, 'padding', padding, true);
      if (pH > kH / 2 || pW > kW / 2) {
        throw new ConfigError(
          `${where}: padding ${fmtPadding(padding)} is more than half the window ${kH}×${kW}; ` +
            `every window must hold at least one pixel`,
        );
      }
    }
    return [kH, kW, stride, padding] as const;
  });
  if (x.rank !== 4) {
    throw new ShapeError(
      `${where}: input must be [N, H, W, C] (NHWC); got ${fmtShape(x.shape)}` +
        (x.rank === 3 ? '; hint: add a batch dimension with unsqueeze(x, 0)' : ''),
    );
  }
  return slidingGeometry(where, x.shape, kH, kW, stride, padding, [1, 1], 'window');
}

function fmtPadding(p: Padding): string {
  return typeof p === 'number' ? String(p) : typeof p === 'string' ? `'${p}'` : fmtShape(p);
}

// ─── max ───────────────────────────────────────────────────────────────────

function maxPoolBackward(gy: Tensor, x: Tensor, g: Geometry, idx: Tensor): Tensor[] {
  const be = x.backend;
  const dx = empty(x.shape, { backend: be });
  // Non-overlapping windows that tile the image write every element of dx themselves.
  const tiles = g.sH === g.kH && g.sW === g.kW && g.pT === 0 && g.pL === 0 && g.OH * g.kH === g.H && g.OW * g.kW === g.W;
  if (!tiles) be.k.fill_f32(dx.ptr, dx.size, 0);
  be.k.maxpool2d_bwd(dx.ptr, idx.ptr, gy.ptr, g.N, g.H, g.W, g.C, g.kH, g.kW, g.OH, g.OW, g.sH, g.sW, g.pT, g.pL);
  return [dx];
}

const maxPool2dOp = defineOp<Geometry>({
  name: 'max_pool2d',
  backward: (gy, { inputs: [x], saved: g, owned: [idx] }) => maxPoolBackward(gy, x, g, idx),
});

// maxPool2d(relu(x)) as one op: relu commutes with max, so it runs on the
// pooled output (relu_pool_mask), and windows whose maximum is ≤ 0 get idx −1:
// the pooling backward then gives them no gradient, which is relu's backward.
const reluMaxPool2dOp = defineOp<Geometry>({
  name: 'relu_max_pool2d',
  backward: (gy, { inputs: [x], saved: g, owned: [idx] }) => maxPoolBackward(gy, x, g, idx),
});

/**
 * @internal maxPool2d(relu(x)) in one op, equal in values and gradients to
 * the two ops (relu is monotone, so the first maximum of relu(x) is that of x
 * when it is positive; when it is ≤ 0 both give a zero gradient). Sequential
 * uses it for a ReLU directly followed by a MaxPool2d: on the benchmark CNN
 * that removes a relu pass over each convolution's full-size output, forward
 * and backward (the two largest elementwise passes of the step).
 */
export function reluMaxPool2dNamed(where: string, x: Tensor, kernelSize: Pair, options: Pool2dOptions = {}): Tensor {
  return maxPoolForward(where, x, kernelSize, options, true);
}

/** @internal maxPool2d with the name used in error messages. */
export function maxPool2dNamed(where: string, x: Tensor, kernelSize: Pair, options: Pool2dOptions = {}): Tensor {
  return maxPoolForward(where, x, kernelSize, options, false);
}

/** The forward of maxPool2d (and, with `relu`, of relu → maxPool2d): outputs and the argmax indices the backward uses. */
function maxPoolForward(where: string, x: Tensor, kernelSize: Pair, options: Pool2dOptions, relu: boolean): Tensor {
  const g = poolGeometry(where, x, kernelSize, options, ['stride', 'padding']);
  const be = x.backend;
  const shape = [g.N, g.OH, g.OW, g.C];
  const out = empty(shape, { backend: be });
  const idx = empty(shape, { backend: be, dtype: 'int32' });
  be.k.maxpool2d_fwd(out.ptr, idx.ptr, x.ptr, g.N, g.H, g.W, g.C, g.kH, g.kW, g.OH, g.OW, g.sH, g.sW, g.pT, g.pL);
  if (relu) be.k.relu_pool_mask(out.ptr, idx.ptr, out.size);
  return record(relu ? reluMaxPool2dOp : maxPool2dOp, out, [x], g, [idx]);
}

/**
 * Max pooling over NHWC images: [N, H, W, C] → [N, OH, OW, C].
 * The gradient goes to the (first) maximum of each window.
 *
 * @example
 * maxPool2d(x, 2);                            // 2×2 windows, stride 2: halves H and W
 * maxPool2d(x, 3, { stride: 2, padding: 1 });
 */
export function maxPool2d(x: Tensor, kernelSize: Pair, options: Pool2dOptions = {}): Tensor {
  return maxPool2dNamed('maxPool2d', x, kernelSize, options);
}

// ─── average ───────────────────────────────────────────────────────────────

interface AvgSaved {
  g: Geometry;
  countIncludePad: boolean;
}

const avgPool2dOp = defineOp<AvgSaved>({
  name: 'avg_pool2d',
  backward: (gy, { inputs: [x], saved: { g, countIncludePad } }) => {
    const be = x.backend;
    const dx = empty(x.shape, { backend: be });
    be.k.fill_f32(dx.ptr, dx.size, 0);
    be.k.avgpool2d_bwd(dx.ptr, gy.ptr, g.N, g.H, g.W, g.C, g.kH, g.kW, g.OH, g.OW, g.sH, g.sW, g.pT, g.pL, +countIncludePad);
    return [dx];
  },
});

/** @internal avgPool2d with the name used in error messages. */
export function avgPool2dNamed(where: string, x: Tensor, kernelSize: Pair, options: AvgPool2dOptions = {}): Tensor {
  const g = poolGeometry(where, x, kernelSize, options, ['stride', 'padding', 'countIncludePad']);
  const countIncludePad = options.countIncludePad ?? POOL_DEFAULTS.countIncludePad;
  if (typeof countIncludePad !== 'boolean') {
    throw new ConfigError(`${where}: countIncludePad must be true or false; got ${String(countIncludePad)}`);
  }
  const be = x.backend;
  const out = empty([g.N, g.OH, g.OW, g.C], { backend: be });
  be.k.avgpool2d_fwd(out.ptr, x.ptr, g.N, g.H, g.W, g.C, g.kH, g.kW, g.OH, g.OW, g.sH, g.sW, g.pT, g.pL, +countIncludePad);
  return record(avgPool2dOp, out, [x], { g, countIncludePad });
}

/**
 * Average pooling over NHWC images: [N, H, W, C] → [N, OH, OW, C].
 *
 * @example
 * avgPool2d(x, 2);
 * avgPool2d(x, 3, { stride: 1, padding: 1, countIncludePad: false });
 */
export function avgPool2d(x: Tensor, kernelSize: Pair, options: AvgPool2dOptions = {}): Tensor {
  return avgPool2dNamed('avgPool2d', x, kernelSize, options);
}

/**
 * Global average pooling: the mean of each channel over the whole image,
 * [N, H, W, C] → [N, C] (or [N, 1, 1, C] with keepDims).
 */
export function globalAvgPool2d(x: Tensor, keepDims = false): Tensor {
  checkBackends('globalAvgPool2d', x);
  if (x.rank !== 4) throw new ShapeError(`globalAvgPool2d: input must be [N, H, W, C] (NHWC); got ${fmtShape(x.shape)}`);
  return mean(x, [1, 2], keepDims);
}
