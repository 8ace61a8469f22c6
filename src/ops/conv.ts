/**
 * conv2d / conv1d: learned filters sliding over images, with the input,
 * filter and bias gradients — and the layout helpers.
 *
 * Layouts (one convention everywhere in wasmgrad):
 *
 *   images   NHWC  x [N, H, W, C]        sequences  NLC  x [N, L, C]
 *   filters  HWIO  w [kH, kW, C, O]      1-D        LIO  w [k, C, O]
 *   output   NHWC  y [N, OH, OW, O]                 NLC  y [N, OL, O]
 *
 * PyTorch is NCHW with filters [O, C, kH, kW]: `nchwToNhwc` / `nhwcToNchw`
 * convert images, `filterFromTorch` / `filterToTorch` convert filters (both
 * also take the 3-D, 1-D-convolution forms).
 *
 * Algorithms (both in assembly/conv.ts; `convWorkspace.algorithm` can force one):
 *
 *   direct (default while the filter is ≤ 256 KiB): an implicit GEMM that
 *   reads the zero-padded input xp in place with the GEMM's 4×8 register tile
 *     y  = conv2d_direct(xp, w) + b
 *     dw, db = conv2d_filter_grad(xp, dy)             (Σ over pixels of patchᵀ·dy, and of dy)
 *     dx = conv2d_direct(pad(dy), flip(w))            (stride 1; else as im2col)
 *
 *   im2col + the SIMD GEMM (larger filters, and strided input gradients)
 *     cols [N·OH·OW, kH·kW·C] = im2col(x)             (patch matrix; pixel rows)
 *     y    [N·OH·OW, O]       = cols · w[kH·kW·C, O] + b
 *     dw                      = colsᵀ · dy            one GEMM, Aᵀ·B
 *     dx                      = col2im(dy · wᵀ)       one GEMM, A·Bᵀ, then scatter-add
 *   db = Σ_rows dy (sum_axis; the direct filter-gradient kernel sums it in passing).
 *
 * With NHWC images and HWIO filters nothing is transposed: the filter is the
 * GEMM's B operand as stored and the output rows are the NHWC output. A 1×1
 * convolution with stride 1 and no padding is a plain GEMM (x is the patch matrix).
 *
 * Why direct by default: interleaved A/B runs on the benchmark CNN's layers
 * (wasm-relaxed-simd) — conv 1→16 on 28×28: 2.4× faster forward, 1.2×
 * backward; conv 16→32 on 14×14: 1.6× / 1.3×; the whole training step 1.35×.
 * im2col writes a patch matrix kH·kW times the size of the input and the GEMM
 * then packs it again; the direct kernel's inner loop is the GEMM
 * micro-kernel without either pass. With a 128→128 3×3 filter (590 KiB) the
 * packed GEMM's cache blocking wins (1.05× forward, 1.2× backward), hence the
 * filter-size switch.
 *
 * Memory: workspaces are tensors allocated per call (kernels never
 * allocate). Direct: the padded input (kept for the filter gradient) and, in
 * the backward, the padded dy. im2col: when the patch matrix fits in
 * `convWorkspace.maxBytes` (64 MiB) the forward keeps it for the backward;
 * larger problems are processed in chunks of output pixels and the backward
 * recomputes the patches chunk by chunk.
 *
 * Padding: a number or [pH, pW] (zeros on both sides), 'valid' (none) or
 * 'same' (output = ⌈input / stride⌉, the total padding split with the extra
 * row/column at the bottom/right, as TensorFlow and PyTorch do).
 */

import { defineOp, record, type OpDef } from '../autograd.js';
import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import { empty, type Tensor } from '../tensor.js';
import { checkBackends, checkFloat } from './checks.js';
import { permute } from './shape.js';

// ─── options and geometry ──────────────────────────────────────────────────

/** A size for both spatial dimensions, or [height, width]. */
export type Pair = number | readonly [number, number];
/** Zero padding: a number or [pH, pW] per side, 'valid' (none) or 'same' (output = ⌈input/stride⌉). */
export type Padding = number | readonly [number, number] | 'same' | 'valid';

export interface Conv2dOptions {
  /** Step between filter positions. Default 1. */
  stride?: Pair;
  /** Default 0 (= 'valid'). */
  padding?: Padding;
  /** Spacing between filter taps (atrous convolution). Default 1. */
  dilation?: Pair;
}

export interface Conv1dOptions {
  /** Default 1. */
  stride?: number;
  /** A number (per side), 'valid' or 'same'. Default 0. */
  padding?: number | 'same' | 'valid';
  /** Default 1. */
  dilation?: number;
}

export const CONV_DEFAULTS = Object.freeze({ stride: 1, padding: 0, dilation: 1 });
const CONV_KEYS = ['stride', 'padding', 'dilation'];

/** @internal Everything a conv or pooling kernel call needs, resolved and validated. */
export interface Geometry {
  N: number; H: number; W: number; C: number;
  kH: number; kW: number; OH: number; OW: number;
  sH: number; sW: number; dH: number; dW: number;
  pT: number; pB: number; pL: number; pR: number;
}

const fmtPair = (a: number, b: number) => `${a}×${b}`;

/** @internal [h, w] from a number or a pair of positive integers (or ≥ 0 with allowZero). */
export function pairOf(where: string, name: string, v: unknown, allowZero = false): [number, number] {
  const ok = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && (allowZero ? n >= 0 : n > 0);
  if (ok(v)) return [v as number, v as number];
  if (Array.isArray(v) && v.length === 2 && ok(v[0]) && ok(v[1])) return [v[0], v[1]];
  const what = allowZero ? 'a non-negative integer' : 'a positive integer';
  throw new ConfigError(`${where}: ${name} must be ${what} or a pair [h, w] of them; got ${JSON.stringify(v) ?? String(v)}`);
}

/** @internal A positive integer (or ≥ 0 with allowZero). */
export function intOf(where: string, name: string, v: unknown, allowZero = false): number {
  if (typeof v === 'number' && Number.isInteger(v) && (allowZero ? v >= 0 : v > 0)) return v;
  throw new ConfigError(`${where}: ${name} must be ${allowZero ? 'a non-negative' : 'a positive'} integer; got ${JSON.stringify(v) ?? String(v)}`);
}

/** @internal Runs `fn`, appending `context` (the shapes involved) to any ConfigError it throws. */
export function withContext<T>(context: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(`${e.message} ${context}`);
    throw e;
  }
}

/** @internal Validates a padding option (before shapes are known). */
export function checkPadding(where: string, padding: unknown): void {
  if (padding === 'same' || padding === 'valid') return;
  if (typeof padding === 'string') {
    throw new ConfigError(`${where}: padding must be a number, [pH, pW], 'same' or 'valid'; got '${padding}'`);
  }
  pairOf(where, 'padding', padding, true);
}

/** @internal Per-side padding [lo, hi] along one dimension. */
function padAlong(padding: Padding, i: 0 | 1, size: number, span: number, stride: number): [number, number] {
  if (padding === 'valid') return [0, 0];
  if (padding === 'same') {
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + span - size, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  }
  const p = typeof padding === 'number' ? padding : padding[i];
  return [p, p];
}

function describePadding(padding: Padding): string {
  return typeof padding === 'string' ? `'${padding}'` : typeof padding === 'number' ? String(padding) : fmtShape(padding);
}

/**
 * @internal Output size and padding of a sliding window over [N, H, W, C].
 * Throws (naming `where` and the shapes) when the window does not fit.
 */
export function slidingGeometry(
  where: string, xShape: readonly number[], kH: number, kW: number,
  stride: [number, number], padding: Padding, dilation: [number, number], kernelWord = 'kernel',
): Geometry {
  const [N, H, W, C] = xShape;
  const [sH, sW] = stride;
  const [dH, dW] = dilation;
  const spanH = (kH - 1) * dH + 1;
  const spanW = (kW - 1) * dW + 1;
  const [pT, pB] = padAlong(padding, 0, H, spanH, sH);
  const [pL, pR] = padAlong(padding, 1, W, spanW, sW);
  const inH = H + pT + pB;
  const inW = W + pL + pR;
  if (spanH > inH || spanW > inW) {
    const dil = dH > 1 || dW > 1 ? ` with dilation ${fmtPair(dH, dW)} (spanning ${fmtPair(spanH, spanW)})` : '';
    throw new ShapeError(
      `${where}: ${kernelWord} ${fmtPair(kH, kW)}${dil} is larger than the padded input ${fmtPair(inH, inW)} ` +
        `(input ${fmtShape(xShape)}, padding ${describePadding(padding)})`,
    );
  }
  const OH = Math.floor((inH - spanH) / sH) + 1;
  const OW = Math.floor((inW - spanW) / sW) + 1;
  return { N, H, W, C, kH, kW, OH, OW, sH, sW, dH, dW, pT, pB, pL, pR };
}

function checkOptionKeys(where: string, options: object, keys: readonly string[]): void {
  if (options === null || typeof options !== 'object') throw new ConfigError(`${where}: options must be an object`);
  for (const k of Object.keys(options)) {
    if (!keys.includes(k)) throw new ConfigError(`${where}: unknown option '${k}'; valid: ${keys.join(', ')}`);
  }
}

// ─── the op ────────────────────────────────────────────────────────────────

/** Which kernels a convolution runs (see the file header). */
export type ConvAlgorithm = 'direct' | 'im2col';

/**
 * @internal Tuning and test hooks: `algorithm` forces one path ('auto' picks
 * per layer), `maxBytes` bounds the im2col patch matrix (larger problems run
 * in chunks), `directMaxFilterBytes` is the largest filter the direct kernels
 * take under 'auto' (beyond it the packed GEMM's cache blocking wins).
 */
export const convWorkspace = {
  algorithm: 'auto' as 'auto' | ConvAlgorithm,
  maxBytes: 64 * 1024 * 1024,
  directMaxFilterBytes: 256 * 1024,
};

interface ConvSaved {
  g: Geometry;
  /** Output channels. */
  O: number;
  algo: ConvAlgorithm;
  /** im2col: the forward's patch matrix [N·OH·OW, kH·kW·C] when it was kept (else recomputed in chunks). */
  cols: Tensor | null;
  /** direct: the zero-padded input [N, Hp, Wp, C] (x itself when there is no padding). */
  xp: Tensor | null;
}

function isPointwise(g: Geometry): boolean {
  return g.kH === 1 && g.kW === 1 && g.sH === 1 && g.sW === 1 && g.pT + g.pB + g.pL + g.pR === 0;
}

function chooseAlgorithm(g: Geometry, O: number): ConvAlgorithm {
  if (convWorkspace.algorithm !== 'auto') return convWorkspace.algorithm;
  return g.kH * g.kW * g.C * O * 4 <= convWorkspace.directMaxFilterBytes ? 'direct' : 'im2col';
}

/** Rows of the patch matrix processed per chunk. */
function chunkRows(rows: number, K: number): number {
  return Math.max(1, Math.min(rows, Math.floor(convWorkspace.maxBytes / (4 * K))));
}

type Be = Tensor['backend'];

function im2colCall(be: Be, cols: number, x: number, g: Geometry, row0: number, rows: number): void {
  be.k.im2col(cols, x, g.H, g.W, g.C, g.kH, g.kW, g.OH, g.OW, g.sH, g.sW, g.pT, g.pL, g.dH, g.dW, row0, rows);
}

function col2imCall(be: Be, dx: number, cols: number, g: Geometry, row0: number, rows: number): void {
  be.k.col2im(dx, cols, g.H, g.W, g.C, g.kH, g.kW, g.OH, g.OW, g.sH, g.sW, g.pT, g.pL, g.dH, g.dW, row0, rows);
}

/** x zero-padded by the geometry's padding: [N, H + pT + pB, W + pL + pR, C] (x itself without padding). */
function padded(x: Tensor, g: Geometry): Tensor {
  if (g.pT + g.pB + g.pL + g.pR === 0) return x;
  const Hp = g.H + g.pT + g.pB, Wp = g.W + g.pL + g.pR;
  const xp = empty([g.N, Hp, Wp, g.C], { backend: x.backend });
  x.backend.k.pad_nhwc(xp.ptr, x.ptr, g.N, g.H, g.W, g.C, Hp, Wp, g.pT, g.pL);
  return xp;
}

/** dx = dy·wᵀ scattered back through col2im (any stride), in chunks of the patch matrix. dx is zero-filled here. */
function inputGradIm2col(be: Be, dx: Tensor, gy: Tensor, w: Tensor, g: Geometry, O: number): void {
  const rows = g.N * g.OH * g.OW;
  const K = g.kH * g.kW * g.C;
  be.k.fill_f32(dx.ptr, dx.size, 0);
  const chunk = chunkRows(rows, K);
  const buf = empty([chunk, K], { backend: be });
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const m = Math.min(chunk, rows - r0);
    be.k.gemm(buf.ptr, gy.ptr + 4 * r0 * O, w.ptr, be.gemmWs, m, K, O, O, O, K, 0, 1, 1, 0);
    col2imCall(be, dx.ptr, buf.ptr, g, r0, m);
  }
  buf.dispose();
}

/**
 * Stride-1 input gradient as a direct convolution:
 *   dx = conv(pad(dy), flip(w)),  pad = dilation·(k − 1) − padding on the top/left
 * (negative: a crop), flip(w)[kh, kw, o, c] = w[kH−1−kh, kW−1−kw, c, o].
 */
function inputGradDirect(be: Be, dx: Tensor, gy: Tensor, w: Tensor, g: Geometry, O: number): void {
  const spanH = g.dH * (g.kH - 1), spanW = g.dW * (g.kW - 1);
  const Hq = g.H + spanH, Wq = g.W + spanW;
  const gyp = empty([g.N, Hq, Wq, O], { backend: be });
  be.k.pad_nhwc(gyp.ptr, gy.ptr, g.N, g.OH, g.OW, O, Hq, Wq, spanH - g.pT, spanW - g.pL);
  const wf = empty([g.kH * g.kW, O, g.C], { backend: be });
  be.k.conv_filter_flip(wf.ptr, w.ptr, g.kH * g.kW, g.C, O);
  be.k.conv2d_direct(dx.ptr, gyp.ptr, wf.ptr, 0, g.N, Hq, Wq, O, g.kH, g.kW, g.H, g.W, 1, 1, g.dH, g.dW, g.C);
  gyp.dispose();
  wf.dispose();
}

function convBackward(gy: Tensor, node: { inputs: readonly Tensor[]; saved: ConvSaved }, needs: readonly boolean[]): (Tensor | null)[] {
  const [x, w, b] = node.inputs;
  const { g, O, algo, cols, xp } = node.saved;
  const be = gy.backend;
  const rows = g.N * g.OH * g.OW;
  const K = g.kH * g.kW * g.C;
  let dx: Tensor | null = null, dw: Tensor | null = null, db: Tensor | null = null;
  if (needs[1]) dw = empty(w.shape, { backend: be });
  if (needs[0]) dx = empty(x.shape, { backend: be });
  if (b !== undefined && needs[2]) {
    db = empty(b.shape, { backend: be });
    // The direct filter-gradient kernel sums db on its way through dy; every other path uses sum_axis.
    if (!(algo === 'direct' && dw && rows > 0 && !isPointwise(g))) be.k.sum_axis(db.ptr, gy.ptr, 1, rows, O);
  }
  if (rows === 0) {
    if (dw) be.k.fill_f32(dw.ptr, dw.size, 0);
    if (dx) be.k.fill_f32(dx.ptr, dx.size, 0);
    return [dx, dw, db];
  }
  if (isPointwise(g)) {
    // x is the patch matrix [rows, C]: dw = xᵀ·dy, dx = dy·wᵀ.
    if (dw) be.k.gemm(dw.ptr, x.ptr, gy.ptr, be.gemmWs, K, O, rows, K, O, O, 1, 0, 1, 0);
    if (dx) be.k.gemm(dx.ptr, gy.ptr, w.ptr, be.gemmWs, rows, K, O, O, O, K, 0, 1, 1, 0);
    return [dx, dw, db];
  }
  if (algo === 'direct') {
    if (dw) {
      const src = xp ?? x;
      const Hp = g.H + g.pT + g.pB, Wp = g.W + g.pL + g.pR;
      be.k.conv2d_filter_grad(dw.ptr, db?.ptr ?? 0, src.ptr, gy.ptr, g.N, Hp, Wp, g.C, g.kH, g.kW, g.OH, g.OW, g.sH, g.sW, g.dH, g.dW, O, 0);
    }
    if (dx) {
      if (g.sH === 1 && g.sW === 1) inputGradDirect(be, dx, gy, w, g, O);
      else inputGradIm2col(be, dx, gy, w, g, O);
    }
    return [dx, dw, db];
  }
  if (cols !== null) {
    // The forward's patches: one GEMM for dw, one for dcols, then col2im.
    if (dw) be.k.gemm(dw.ptr, cols.ptr, gy.ptr, be.gemmWs, K, O, rows, K, O, O, 1, 0, 1, 0);
  } else if (dw) {
    // Chunked: recompute each chunk's patches.
    const chunk = chunkRows(rows, K);
    const buf = empty([chunk, K], { backend: be });
    for (let r0 = 0; r0 < rows; r0 += chunk) {
      const m = Math.min(chunk, rows - r0);
      im2colCall(be, buf.ptr, x.ptr, g, r0, m);
      be.k.gemm(dw.ptr, buf.ptr, gy.ptr + 4 * r0 * O, be.gemmWs, K, O, m, K, O, O, 1, 0, 1, r0 === 0 ? 0 : 1);
    }
    buf.dispose();
  }
  if (dx) inputGradIm2col(be, dx, gy, w, g, O);
  return [dx, dw, db];
}

const conv2dOp = defineOp<ConvSaved>({ name: 'conv2d', backward: convBackward });
const conv1dOp = defineOp<ConvSaved>({ name: 'conv1d', backward: convBackward });

/** y = conv(x, w) + b over validated geometry; `outShape` is NHWC or NLC. */
function convForward(op: OpDef<ConvSaved>, x: Tensor, w: Tensor, b: Tensor | undefined, g: Geometry, O: number, outShape: number[]): Tensor {
  const be = x.backend;
  const rows = g.N * g.OH * g.OW;
  const K = g.kH * g.kW * g.C;
  const algo = chooseAlgorithm(g, O);
  const y = empty(outShape, { backend: be });
  const owned: Tensor[] = [];
  let cols: Tensor | null = null;
  let xp: Tensor | null = null;
  if (rows > 0) {
    const gemmPath = isPointwise(g) || algo === 'im2col';
    // The GEMM paths accumulate onto the bias (beta = 1); the direct kernel starts from it.
    if (b && gemmPath) be.k.copy_strided(y.ptr, b.ptr, 1, 1, rows, O, 0, 0, O, 1, 0, 0, 0, 1);
    const beta = b ? 1 : 0;
    if (isPointwise(g)) {
      be.k.gemm(y.ptr, x.ptr, w.ptr, be.gemmWs, rows, O, K, K, O, O, 0, 0, 1, beta);
    } else if (algo === 'direct') {
      const src = padded(x, g);
      const Hp = g.H + g.pT + g.pB, Wp = g.W + g.pL + g.pR;
      be.k.conv2d_direct(y.ptr, src.ptr, w.ptr, b?.ptr ?? 0, g.N, Hp, Wp, g.C, g.kH, g.kW, g.OH, g.OW, g.sH, g.sW, g.dH, g.dW, O);
      if (src !== x) {
        xp = src; // kept for the filter gradient (record frees it when no gradient is needed)
        owned.push(src);
      }
    } else {
      const chunk = chunkRows(rows, K);
      const buf = empty([chunk, K], { backend: be });
      for (let r0 = 0; r0 < rows; r0 += chunk) {
        const m = Math.min(chunk, rows - r0);
        im2colCall(be, buf.ptr, x.ptr, g, r0, m);
        be.k.gemm(y.ptr + 4 * r0 * O, buf.ptr, w.ptr, be.gemmWs, m, O, K, K, O, O, 0, 0, 1, beta);
      }
      if (chunk === rows) {
        cols = buf; // kept for the backward (record frees it when no gradient is needed)
        owned.push(buf);
      } else {
        buf.dispose();
      }
    }
  }
  return record(op, y, b ? [x, w, b] : [x, w], { g, O, algo, cols, xp }, owned);
}

function checkBias(where: string, b: Tensor | undefined, O: number, w: Tensor): void {
  if (b && (b.rank !== 1 || b.shape[0] !== O)) {
    throw new ShapeError(`${where}: bias must be [${O}] for filter ${fmtShape(w.shape)}; got ${fmtShape(b.shape)}`);
  }
}

/**
 * @internal conv2d with the name used in error messages (the Conv2d layer
 * passes its own description).
 */
export function conv2dNamed(where: string, x: Tensor, weight: Tensor, bias: Tensor | undefined, options: Conv2dOptions): Tensor {
  checkOptionKeys(where, options, CONV_KEYS);
  const ts = bias ? [x, weight, bias] : [x, weight];
  checkBackends(where, ...ts);
  checkFloat(where, ...ts);
  const [stride, dilation, padding] = withContext(`(input ${fmtShape(x.shape)}, filter ${fmtShape(weight.shape)})`, () => {
    const padding = options.padding ?? CONV_DEFAULTS.padding;
    checkPadding(where, padding);
    return [
      pairOf(where, 'stride', options.stride ?? CONV_DEFAULTS.stride),
      pairOf(where, 'dilation', options.dilation ?? CONV_DEFAULTS.dilation),
      padding,
    ] as const;
  });
  if (x.rank !== 4) {
    throw new ShapeError(
      `${where}: input must be [N, H, W, C] (NHWC); got ${fmtShape(x.shape)}` +
        (x.rank === 3 ? '; hint: add a batch dimension with unsqueeze(x, 0)' : ''),
    );
  }
  if (weight.rank !== 4) {
    throw new ShapeError(
      `${where}: filter must be [kH, kW, inChannels, outChannels] (HWIO); got ${fmtShape(weight.shape)}; ` +
        `hint: filterFromTorch converts PyTorch's [out, in, kH, kW]`,
    );
  }
  const [kH, kW, C, O] = weight.shape;
  if (C < 1 || O < 1 || kH < 1 || kW < 1) {
    throw new ShapeError(`${where}: filter ${fmtShape(weight.shape)} has an empty dimension`);
  }
  if (x.shape[3] !== C) {
    throw new ShapeError(
      `${where}: input has ${x.shape[3]} channels but the filter expects ${C} ` +
        `(input ${fmtShape(x.shape)} NHWC, filter ${fmtShape(weight.shape)} HWIO)`,
    );
  }
  checkBias(where, bias, O, weight);
  const g = slidingGeometry(where, x.shape, kH, kW, stride, padding, dilation);
  return convForward(conv2dOp, x, weight, bias, g, O, [g.N, g.OH, g.OW, O]);
}

/**
 * 2-D convolution (cross-correlation, as in every deep-learning library) of
 * NHWC images with HWIO filters, plus an optional bias per output channel.
 *
 *   x [N, H, W, C] ⋆ w [kH, kW, C, O] + b [O]  →  y [N, OH, OW, O]
 *   OH = ⌊(H + pT + pB − dH·(kH − 1) − 1) / sH⌋ + 1   (likewise OW)
 *
 * Differentiable in x, w and b.
 *
 * @example
 * const y = conv2d(x, w, b, { padding: 'same' });             // 3×3 'same': OH = H
 * const z = conv2d(x, w, undefined, { stride: 2, padding: 1 });
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor, options: Conv2dOptions = {}): Tensor {
  return conv2dNamed('conv2d', x, weight, bias, options);
}

/** @internal conv1d with the name used in error messages. */
export function conv1dNamed(where: string, x: Tensor, weight: Tensor, bias: Tensor | undefined, options: Conv1dOptions): Tensor {
  checkOptionKeys(where, options, CONV_KEYS);
  const ts = bias ? [x, weight, bias] : [x, weight];
  checkBackends(where, ...ts);
  checkFloat(where, ...ts);
  const [stride, dilation, padding] = withContext(`(input ${fmtShape(x.shape)}, filter ${fmtShape(weight.shape)})`, () => {
    const padding = options.padding ?? CONV_DEFAULTS.padding;
    if (typeof padding !== 'string' && typeof padding !== 'number') {
      throw new ConfigError(`${where}: padding must be a number, 'same' or 'valid'; got ${JSON.stringify(padding)}`);
    }
    checkPadding(where, padding);
    return [
      intOf(where, 'stride', options.stride ?? CONV_DEFAULTS.stride),
      intOf(where, 'dilation', options.dilation ?? CONV_DEFAULTS.dilation),
      padding,
    ] as const;
  });
  if (x.rank !== 3) {
    throw new ShapeError(
      `${where}: input must be [N, L, C] (channels last); got ${fmtShape(x.shape)}` +
        (x.rank === 2 ? '; hint: add a batch dimension with unsqueeze(x, 0)' : ''),
    );
  }
  if (weight.rank !== 3) {
    throw new ShapeError(
      `${where}: filter must be [k, inChannels, outChannels]; got ${fmtShape(weight.shape)}; ` +
        `hint: filterFromTorch converts PyTorch's [out, in, k]`,
    );
  }
  const [k, C, O] = weight.shape;
  if (C < 1 || O < 1 || k < 1) throw new ShapeError(`${where}: filter ${fmtShape(weight.shape)} has an empty dimension`);
  if (x.shape[2] !== C) {
    throw new ShapeError(
      `${where}: input has ${x.shape[2]} channels but the filter expects ${C} ` +
        `(input ${fmtShape(x.shape)} NLC, filter ${fmtShape(weight.shape)} [k, in, out])`,
    );
  }
  checkBias(where, bias, O, weight);
  const [N, L] = x.shape;
  // A 1-D convolution is a 2-D one over images of height 1 (padding only along the length).
  const pad: Padding = typeof padding === 'number' ? [0, padding] : padding;
  let g: Geometry;
  try {
    g = slidingGeometry(where, [N, 1, L, C], 1, k, [1, stride], pad, [1, dilation]);
  } catch (e) {
    if (!(e instanceof ShapeError)) throw e;
    const span = (k - 1) * dilation + 1;
    const [pl, pr] = padAlong(pad, 1, L, span, stride);
    throw new ShapeError(
      `${where}: kernel ${k}${dilation > 1 ? ` with dilation ${dilation} (spanning ${span})` : ''} is longer than the padded ` +
        `input ${L + pl + pr} (input ${fmtShape(x.shape)}, padding ${describePadding(padding)})`,
    );
  }
  return convForward(conv1dOp, x, weight, bias, g, O, [N, g.OW, O]);
}

/**
 * 1-D convolution over channels-last sequences:
 *
 *   x [N, L, C] ⋆ w [k, C, O] + b [O]  →  y [N, OL, O]
 *
 * Runs as a 2-D convolution over images of height 1. Differentiable in x, w, b.
 */
export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor, options: Conv1dOptions = {}): Tensor {
  return conv1dNamed('conv1d', x, weight, bias, options);
}

// ─── layout helpers ────────────────────────────────────────────────────────

/** NCHW [N, C, H, W] → NHWC [N, H, W, C] (and NCL → NLC for rank 3). A differentiable copy. */
export function nchwToNhwc(x: Tensor): Tensor {
  if (x.rank === 4) return permute(x, [0, 2, 3, 1]);
  if (x.rank === 3) return permute(x, [0, 2, 1]);
  throw new ShapeError(`nchwToNhwc: expected [N, C, H, W] (or [N, C, L]); got ${fmtShape(x.shape)}`);
}

/** NHWC [N, H, W, C] → NCHW [N, C, H, W] (and NLC → NCL for rank 3). A differentiable copy. */
export function nhwcToNchw(x: Tensor): Tensor {
  if (x.rank === 4) return permute(x, [0, 3, 1, 2]);
  if (x.rank === 3) return permute(x, [0, 2, 1]);
  throw new ShapeError(`nhwcToNchw: expected [N, H, W, C] (or [N, L, C]); got ${fmtShape(x.shape)}`);
}

/**
 * A PyTorch filter in wasmgrad's layout: [out, in, kH, kW] → [kH, kW, in, out]
 * (Conv2d), or [out, in, k] → [k, in, out] (Conv1d). A copy.
 *
 * @example
 * conv.weight ← filterFromTorch(tensor(torchWeights, [16, 1, 3, 3]))   // → [3, 3, 1, 16]
 */
export function filterFromTorch(w: Tensor): Tensor {
  if (w.rank === 4) return permute(w, [2, 3, 1, 0]);
  if (w.rank === 3) return permute(w, [2, 1, 0]);
  throw new ShapeError(`filterFromTorch: expected [out, in, kH, kW] (or [out, in, k]); got ${fmtShape(w.shape)}`);
}

/** A wasmgrad filter in PyTorch's layout: [kH, kW, in, out] → [out, in, kH, kW], or [k, in, out] → [out, in, k]. A copy. */
export function filterToTorch(w: Tensor): Tensor {
  if (w.rank === 4) return permute(w, [3, 2, 0, 1]);
  if (w.rank === 3) return permute(w, [2, 1, 0]);
  throw new ShapeError(`filterToTorch: expected [kH, kW, in, out] (or [k, in, out]); got ${fmtShape(w.shape)}`);
}
