/**
 * Feature maps: read what any layer of a model produces for an input, and lay
 * channels out as a picture (for visualising filters and feature maps).
 *
 *   const maps = captureFeatures(model, x, ['0', '3']);   // Map name → output tensor
 *   const img = channelGrid(reshape(maps.get('0'), [28, 28, 16]), { scale: 4 });
 *   // img.data: Uint8ClampedArray of img.width × img.height grey levels
 *
 * Names are the module names of `model.namedModules()` — '0', '1', … in a
 * Sequential, field names ('conv1', 'block.conv') in a custom Module.
 *
 * captureFeatures runs the model once, in eval mode and without gradients,
 * temporarily wrapping the `forward` of the named modules; the wrappers are
 * removed before it returns, even when the forward throws.
 */

import { noGrad } from '../autograd.js';
import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import { tidy, type Tensor } from '../tensor.js';
import type { Module } from './module.js';

/**
 * Runs `model.forward(x)` and returns the outputs of the named sub-modules
 * (default: every sub-module), keyed by name, in the order given. The tensors
 * are the caller's to dispose (or let a surrounding `tidy` free). A module
 * called several times in one forward reports its last output.
 *
 * @example
 * const model = new Sequential(new Conv2d(1, 16, 3, { padding: 1 }), new ReLU(), new MaxPool2d(2));
 * const maps = captureFeatures(model, x, ['1']);   // after the ReLU: [N, 28, 28, 16]
 */
export function captureFeatures(model: Module, x: Tensor, names?: readonly string[]): Map<string, Tensor> {
  const modules = new Map(model.namedModules());
  const wanted = names ?? [...modules.keys()];
  if (!Array.isArray(wanted)) throw new ConfigError(`captureFeatures: names must be an array of module names`);
  for (const n of wanted) {
    if (!modules.has(n)) {
      throw new ConfigError(
        `captureFeatures: the model has no module '${n}'; valid: ${[...modules.keys()].map((k) => `'${k}'`).join(', ') || '(none)'}`,
      );
    }
  }
  const captured = new Map<string, Tensor>();
  const restore: (() => void)[] = [];
  for (const name of new Set(wanted)) {
    const m = modules.get(name)! as Module & { forward: Module['forward'] };
    const own = Object.prototype.hasOwnProperty.call(m, 'forward');
    const previous = m.forward;
    m.forward = function (this: Module, ...inputs: Tensor[]): Tensor {
      const y = previous.apply(m, inputs);
      captured.set(name, y);
      return y;
    };
    restore.push(() => {
      if (own) m.forward = previous;
      else delete (m as { forward?: unknown }).forward;
    });
  }
  const modes: [Module, boolean][] = [[model, model.training], ...[...modules.values()].map((m): [Module, boolean] => [m, m.training])];
  model.eval();
  try {
    const found = noGrad(() =>
      tidy(() => {
        model.forward(x);
        const out = new Map<string, Tensor>();
        for (const n of wanted) {
          const t = captured.get(n);
          if (t !== undefined) out.set(n, t);
        }
        return out;
      }),
    );
    const missing = wanted.filter((n) => !found.has(n));
    if (missing.length > 0) {
      for (const t of new Set(found.values())) if (t !== x) t.dispose();
      throw new ConfigError(`captureFeatures: module${missing.length > 1 ? 's' : ''} ${missing.map((n) => `'${n}'`).join(', ')} did not run in model.forward`);
    }
    return found;
  } finally {
    for (const r of restore.reverse()) r();
    for (const [m, mode] of modes) m.training = mode; // each module's own mode, as it was

  }
}

export interface ChannelGridOptions {
  /** Tiles per row. Default ⌈√C⌉. */
  columns?: number;
  /** Pixels of background between tiles. Default 1. */
  pad?: number;
  /** Each pixel drawn as a scale×scale block (nearest neighbour). Default 1. */
  scale?: number;
  /** Contrast: stretch each tile to its own min…max ('each', default) or all tiles to the global range ('all'). */
  normalize?: 'each' | 'all';
  /** Grey level of the background between tiles, 0–255. Default 255 (white). */
  background?: number;
}

/** A greyscale picture: `width × height` bytes, row-major. */
export interface GreyImage {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

/**
 * Lays the C channels of an [H, W, C] tensor out as a grid of greyscale
 * tiles (black = low, white = high). Feature maps of one image are
 * `reshape(map, map.shape.slice(1))` of a [1, H, W, C] output; first-layer
 * filters of a Conv2d(1, O, k) are `reshape(conv.weight, [kH, kW, O])`.
 */
export function channelGrid(t: Tensor, options: ChannelGridOptions = {}): GreyImage {
  if (t.rank !== 3) {
    throw new ShapeError(`channelGrid: expected [H, W, C]; got ${fmtShape(t.shape)}; hint: reshape away the batch or in-channel axis`);
  }
  const [H, W, C] = t.shape;
  const columns = options.columns ?? Math.max(1, Math.ceil(Math.sqrt(C)));
  const pad = options.pad ?? 1;
  const scale = options.scale ?? 1;
  const normalize = options.normalize ?? 'each';
  const background = options.background ?? 255;
  for (const [k, v, min] of [['columns', columns, 1], ['pad', pad, 0], ['scale', scale, 1]] as const) {
    if (!Number.isInteger(v) || v < min) throw new ConfigError(`channelGrid: ${k} must be an integer ≥ ${min}; got ${v}`);
  }
  if (normalize !== 'each' && normalize !== 'all') throw new ConfigError(`channelGrid: normalize must be 'each' or 'all'; got '${normalize}'`);
  const v = t.data();
  const rows = Math.ceil(C / columns);
  const tw = W * scale, th = H * scale;
  const width = columns * tw + (columns + 1) * pad;
  const height = rows * th + (rows + 1) * pad;
  const data = new Uint8ClampedArray(width * height).fill(background);
  const range = (c0: number, c1: number): [number, number] => {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < H * W; i++) {
      for (let c = c0; c < c1; c++) {
        const x = v[i * C + c];
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
    }
    return [lo, hi];
  };
  const global = normalize === 'all' ? range(0, C) : null;
  for (let c = 0; c < C; c++) {
    const [lo, hi] = global ?? range(c, c + 1);
    const span = hi > lo ? hi - lo : 1;
    const ox = pad + (c % columns) * (tw + pad);
    const oy = pad + Math.floor(c / columns) * (th + pad);
    for (let y = 0; y < th; y++) {
      for (let x = 0; x < tw; x++) {
        const val = v[(Math.floor(y / scale) * W + Math.floor(x / scale)) * C + c];
        data[(oy + y) * width + ox + x] = Math.round(((val - lo) / span) * 255);
      }
    }
  }
  return { width, height, data };
}
