/**
 * PyTorch interop: load a PyTorch `state_dict` saved as safetensors into
 * wasmgrad modules, and export a model back in PyTorch's names and layouts.
 *
 * Names: a wasmgrad module tree mirrors a PyTorch one when the fields have the
 * same names (`fc1`, `conv1`, …) and Sequential children are numbered, as
 * in `nn.Sequential`; each layer type then says how its tensors map:
 *
 *   Linear        weight [in, out]  ↔  weight [out, in]   (transposed)
 *                 bias   [out]      ↔  bias   [out]
 *
 * Other layer types register their own mapping with `registerTorchMapping`
 * (Conv2d's filter transpose, LSTM's gate matrices, MultiheadAttention's
 * `in_proj_weight` split into WQ, WK, WV …). A user with a differently named
 * PyTorch model passes `rename` to translate names.
 */

import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import type { Module } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import type { Tensor } from '../tensor.js';
import { parseSafetensors, serializeSafetensors } from './safetensors.js';
import { decodeFloat32 } from './dtype.js';

/** One PyTorch tensor as seen by a mapping: its name, shape and how values convert. */
export interface TorchEntry {
  /** PyTorch's name, e.g. `fc1.weight`. */
  torchName: string;
  /** PyTorch's shape. */
  torchShape: number[];
  /** wasmgrad values (the module's tensor data, flat) → PyTorch values (flat). */
  toTorch(): Float32Array;
  /** Writes PyTorch values (flat, torchShape) into the module. */
  fromTorch(values: Float32Array): void;
}

/** How a layer type maps its tensors: (module, PyTorch name prefix like 'fc1.') → entries. */
export type TorchMapping<M extends Module = Module> = (m: M, prefix: string) => TorchEntry[];

type AnyCtor = abstract new (...args: never[]) => Module;
const mappings = new Map<AnyCtor, TorchMapping>();

/** Registers (or replaces) how a layer type's tensors map to PyTorch's. */
export function registerTorchMapping<M extends Module>(ctor: abstract new (...args: never[]) => M, mapping: TorchMapping<M>): void {
  mappings.set(ctor, mapping as TorchMapping);
}

/** @internal Reads a tensor's values (flat copy). */
export function valuesOf(t: Tensor): Float32Array {
  return t.data() as Float32Array;
}

/** @internal Writes flat values into a tensor in place. */
export function writeValues(t: Tensor, v: Float32Array): void {
  t.backend.heap.f32.set(v, t.ptr >>> 2);
}

/** [rows, cols] row-major → [cols, rows] row-major. */
export function transpose2d(v: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = v[r * cols + c];
  return out;
}

/** An entry for a tensor stored identically in both libraries. */
export function sameLayout(t: Tensor, torchName: string): TorchEntry {
  return {
    torchName,
    torchShape: [...t.shape],
    toTorch: () => valuesOf(t),
    fromTorch: (v) => writeValues(t, v),
  };
}

/** An entry for a wasmgrad [a, b] matrix that PyTorch stores as [b, a]. */
export function transposed(t: Tensor, torchName: string): TorchEntry {
  const [a, b] = t.shape;
  return {
    torchName,
    torchShape: [b, a],
    toTorch: () => transpose2d(valuesOf(t), a, b),
    fromTorch: (v) => writeValues(t, transpose2d(v, b, a)),
  };
}

registerTorchMapping(Linear, (m, p) => [
  transposed(m.weight, `${p}weight`),
  ...(m.bias ? [sameLayout(m.bias, `${p}bias`)] : []),
]);

/** Every PyTorch entry of a model: registered layer mappings, recursing into containers by field name. */
export function torchEntries(model: Module, prefix = ''): TorchEntry[] {
  const own = mappings.get(model.constructor as AnyCtor);
  if (own) return own(model, prefix);
  const out: TorchEntry[] = [];
  for (const [key, value] of Object.entries(model)) {
    const visit = (name: string, v: unknown) => {
      if (v !== null && typeof v === 'object' && 'namedParameters' in v && 'forward' in v) {
        out.push(...torchEntries(v as Module, `${prefix}${name}.`));
      }
    };
    if (Array.isArray(value)) value.forEach((v, i) => visit(`${key}.${i}`, v));
    else visit(key, value);
  }
  // Parameters and buffers held directly by a container (not in a child layer) keep their name and layout.
  const childNames = new Set(out.map((e) => e.torchName));
  for (const [name, t] of [...model.namedParameters(), ...model.namedBuffers()]) {
    if (!name.includes('.') && !childNames.has(`${prefix}${name}`)) out.push(sameLayout(t, `${prefix}${name}`));
  }
  return out;
}

export interface TorchLoadOptions {
  /** Translate PyTorch names before matching (e.g. `(n) => n.replace(/^model\./, '')`). */
  rename?: (torchName: string) => string;
  /** Require every tensor on both sides to match (default true); false skips missing and extra ones. */
  strict?: boolean;
}

/**
 * Loads a PyTorch state_dict saved with `safetensors.torch.save_file(model.state_dict(), …)`
 * into `model`, converting layouts. Every mismatch (missing, unexpected, wrong
 * shape) is listed in one error and nothing is written unless all match.
 * F32, F16, BF16 and F64 values are accepted.
 *
 * @example loadTorchStateDict(model, fs.readFileSync('mlp.safetensors'));
 */
export function loadTorchStateDict(model: Module, bytes: Uint8Array | ArrayBuffer, options: TorchLoadOptions = {}): void {
  for (const key of Object.keys(options)) {
    if (key !== 'rename' && key !== 'strict') throw new ConfigError(`loadTorchStateDict: unknown option '${key}'; valid: rename, strict`);
  }
  const strict = options.strict !== false;
  const parsed = parseSafetensors(bytes);
  const byName = new Map<string, { dtype: string; shape: number[]; data: Uint8Array }>();
  for (const [name, t] of parsed.tensors) byName.set(options.rename ? options.rename(name) : name, t);
  const entries = torchEntries(model);
  const problems: string[] = [];
  const ready: [TorchEntry, Float32Array][] = [];
  for (const e of entries) {
    const t = byName.get(e.torchName);
    if (!t) {
      if (strict) problems.push(`missing '${e.torchName}' ${fmtShape(e.torchShape)}`);
      continue;
    }
    if (t.shape.join() !== e.torchShape.join()) {
      problems.push(`'${e.torchName}': file has ${fmtShape(t.shape)}, the model expects ${fmtShape(e.torchShape)} (PyTorch layout)`);
      continue;
    }
    try {
      ready.push([e, decodeFloat32(t.dtype as never, t.data)]);
    } catch (err) {
      problems.push(`'${e.torchName}': ${(err as Error).message}`);
    }
  }
  if (strict) {
    const known = new Set(entries.map((e) => e.torchName));
    for (const name of byName.keys()) {
      if (!known.has(name) && !name.endsWith('num_batches_tracked')) problems.push(`unexpected '${name}'`);
    }
  }
  if (problems.length > 0) {
    throw new ShapeError(
      `loadTorchStateDict: the state_dict does not match the model (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n  ` +
        problems.join('\n  '),
    );
  }
  for (const [e, v] of ready) e.fromTorch(v);
}

/** The model's tensors under PyTorch's names and layouts, as a safetensors file PyTorch can load. */
export function exportTorchStateDict(model: Module, metadata?: Record<string, string>): Uint8Array {
  const out = new Map<string, { dtype: 'F32'; shape: number[]; data: Float32Array }>();
  for (const e of torchEntries(model)) out.set(e.torchName, { dtype: 'F32', shape: e.torchShape, data: e.toTorch() });
  return serializeSafetensors(out, metadata);
}
