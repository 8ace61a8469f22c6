/**
 * PyTorch interop: load a PyTorch `state_dict` saved as safetensors into
 * wasmgrad modules, and export a model back in PyTorch's names and layouts.
 *
 *   loadTorchStateDict(model, bytes, { rename?, strict? })   // PyTorch → wasmgrad, in place
 *   exportTorchStateDict(model)                               // wasmgrad → safetensors PyTorch loads
 *
 * ## Names
 *
 * A wasmgrad module tree mirrors a PyTorch one: Sequential children are
 * numbered (`0.weight`, as nn.Sequential), other children are found by field
 * name (`fc1.weight`, `encoder.layers.0.…`, arrays as `layers.<i>`), and each
 * layer type says how its own tensors map. Where wasmgrad's camelCase field
 * names differ from PyTorch's, the layer's mapping translates them.
 *
 * ## Per-layer mapping (wasmgrad tensor → PyTorch name: layout)
 *
 *   Linear                weight [in, out]          → weight [out, in]             (transposed)
 *                         bias [out]                → bias [out]
 *   Conv2d                weight [kH, kW, in, out]  → weight [out, in, kH, kW]     (filterToTorch / filterFromTorch)
 *   Conv1d                weight [k, in, out]       → weight [out, in, k]
 *                         bias [out]                → bias [out]
 *   BatchNorm1d/2d        weight, bias [C]          → weight, bias                 (affine)
 *                         runningMean, runningVar   → running_mean, running_var    (trackRunningStats)
 *                         —                         → num_batches_tracked          (I64 scalar: written as 0 on
 *                                                      export, accepted and ignored on load; wasmgrad does not count)
 *   LayerNorm             weight, bias              → weight, bias
 *   RMSNorm               weight                    → weight   (nn.RMSNorm of PyTorch ≥ 2.4; 1.13 has none —
 *                                                      a hand-written RMSNorm with a `weight` parameter matches)
 *   Embedding             weight [n, d]             → weight [n, d]
 *   LearnedPositionalEmbedding  weight [maxLen, d]  → weight (as an nn.Embedding(maxLen, d))
 *   SinusoidalPositionalEncoding  (a fixed table, recomputed from dModel/maxLen: no tensors)
 *   MultiHeadAttention    [wq | wk | wv]ᵀ stacked   → in_proj_weight [3d, d]       (kdim = vdim = dModel)
 *                         wq, wk, wvᵀ               → q_proj_weight [d, d], k_proj_weight [d, kdim],
 *                                                      v_proj_weight [d, vdim]      (kdim or vdim ≠ dModel)
 *                         [bq | bk | bv]            → in_proj_bias [3d]
 *                         wo, bo                    → out_proj.weight [d, d] (transposed), out_proj.bias
 *   TransformerEncoderLayer  selfAttn → self_attn.…; linear1, linear2, norm1, norm2 as named
 *   TransformerDecoderLayer  selfAttn → self_attn.…, crossAttn → multihead_attn.…; linear1, linear2, norm1..3
 *   TransformerEncoder/Decoder  layers.<i>.…, norm.…   (nn.TransformerEncoder / nn.TransformerDecoder)
 *   Transformer           encoder.…, decoder.…      (nn.Transformer)
 *
 * Containers without a mapping (Sequential, TransformerLM, Seq2SeqTransformer,
 * your own modules) recurse into their children by field name; a parameter
 * or buffer a container holds directly keeps its name and layout.
 *
 * Layouts of activations differ too: wasmgrad images are NHWC and PyTorch's
 * NCHW (`nchwToNhwc`), and `Flatten` of NHWC maps orders features (h, w, c)
 * where PyTorch's order is (c, h, w), so the rows of the first Linear after a
 * Flatten must be permuted (tests/torch-interop.test.ts shows how).
 *
 * ## Extending it
 *
 * A layer type registers how its tensors map with `registerTorchMapping(Class,
 * (m, prefix) => entries)`, using `sameLayout` and `transposed` for tensors
 * and `torchEntries(child, prefix + 'torch_name.')` for child modules (all
 * exported from the package). Inside the library, `concatenated` (several
 * tensors stacked into one PyTorch tensor: in_proj_weight, an LSTM's gate
 * matrices), `filterLayout` (conv filters) and `renamedFields` (children
 * whose field names differ, as `selfAttn` → `self_attn`) help too:
 *
 *   class Block extends Module {                 // PyTorch: self.attn_norm, self.qkv (nn.Linear), self.scale
 *     attnNorm = new LayerNorm(64);
 *     qkv = new Linear(64, 192);
 *     scale = parameter(ones([64]));
 *     …
 *   }
 *   registerTorchMapping(Block, (m, p) => [
 *     ...torchEntries(m.attnNorm, `${p}attn_norm.`),
 *     ...torchEntries(m.qkv, `${p}qkv.`),
 *     sameLayout(m.scale, `${p}scale`),
 *   ]);
 *
 * A model whose PyTorch names merely have a different prefix or spelling
 * needs no mapping: pass `rename` (e.g. `(n) => n.replace(/^model\./, '')`).
 * Every mismatch — missing, unexpected, wrong shape — is listed in one error.
 */

import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import { MultiHeadAttention } from '../nn/attention.js';
import { BatchNorm1d, BatchNorm2d } from '../nn/batchnorm.js';
import { Conv1d, Conv2d } from '../nn/conv.js';
import { Embedding, LearnedPositionalEmbedding, SinusoidalPositionalEncoding } from '../nn/embedding.js';
import { LayerNorm, RMSNorm } from '../nn/layernorm.js';
import { Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import { GRU, GRUCell, LSTM, LSTMCell, RNN, RNNCell } from '../nn/rnn.js';
import { TransformerDecoderLayer, TransformerEncoderLayer } from '../nn/transformer.js';
import { filterFromTorch, filterToTorch } from '../ops/conv.js';
import { tensor, type Tensor } from '../tensor.js';
import { decodeFloat32 } from './dtype.js';
import { parseSafetensors, serializeSafetensors, type SafetensorsInput } from './safetensors.js';

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
  /** The dtype `exportTorchStateDict` writes. Default 'F32'; 'I64' for integer state such as num_batches_tracked. */
  dtype?: 'F32' | 'I64';
  /**
   * Written by export but not read on load: the tensor may be missing from a
   * state_dict, and when present its values are ignored (num_batches_tracked).
   */
  exportOnly?: boolean;
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

/**
 * An entry for a convolution filter: wasmgrad HWIO [kH, kW, in, out] (or
 * [k, in, out]) ↔ PyTorch [out, in, kH, kW] (or [out, in, k]), converted with
 * `filterToTorch` / `filterFromTorch`.
 */
export function filterLayout(w: Tensor, torchName: string): TorchEntry {
  const convert = (values: Float32Array, shape: number[], fn: (t: Tensor) => Tensor): Float32Array => {
    const t = tensor(values, shape, { backend: w.backend });
    const r = fn(t);
    const out = r.data() as Float32Array;
    t.dispose();
    r.dispose();
    return out;
  };
  const torchShape = w.rank === 4 ? [w.shape[3], w.shape[2], w.shape[0], w.shape[1]] : [w.shape[2], w.shape[1], w.shape[0]];
  return {
    torchName,
    torchShape,
    toTorch: () => convert(valuesOf(w), [...w.shape], filterToTorch),
    fromTorch: (v) => writeValues(w, convert(v, torchShape, filterFromTorch)),
  };
}

/**
 * One PyTorch tensor that is several wasmgrad tensors stacked along PyTorch's
 * first axis: `parts` (entries in PyTorch layout, e.g. from `transposed`)
 * must agree on every other axis. MultiheadAttention's in_proj_weight is
 * concatenated([transposed(wq), transposed(wk), transposed(wv)]); an LSTM's
 * weight_ih_l0 stacks its four gate matrices the same way.
 */
export function concatenated(parts: TorchEntry[], torchName: string): TorchEntry {
  const rest = parts[0].torchShape.slice(1);
  for (const p of parts) {
    if (p.torchShape.slice(1).join() !== rest.join()) {
      throw new ShapeError(
        `concatenated '${torchName}': parts differ beyond the first axis: ${parts.map((q) => fmtShape(q.torchShape)).join(', ')}`,
      );
    }
  }
  const sizes = parts.map((p) => p.torchShape.reduce((a, b) => a * b, 1));
  return {
    torchName,
    torchShape: [parts.reduce((n, p) => n + p.torchShape[0], 0), ...rest],
    toTorch: () => {
      const out = new Float32Array(sizes.reduce((a, b) => a + b, 0));
      let at = 0;
      parts.forEach((p, i) => {
        out.set(p.toTorch(), at);
        at += sizes[i];
      });
      return out;
    },
    fromTorch: (v) => {
      let at = 0;
      parts.forEach((p, i) => {
        p.fromTorch(v.subarray(at, at + sizes[i]));
        at += sizes[i];
      });
    },
  };
}

/** An I64 scalar PyTorch keeps and wasmgrad does not (num_batches_tracked): exported as 0, ignored on load. */
function exportOnlyScalar(torchName: string): TorchEntry {
  return { torchName, torchShape: [], toTorch: () => new Float32Array(1), fromTorch: () => {}, dtype: 'I64', exportOnly: true };
}

const isModule = (v: unknown): v is Module => v instanceof Module;

/**
 * The entries of a module's children by field name (arrays as `field.<i>`),
 * with field names translated by `names` (wasmgrad field → PyTorch name),
 * plus the parameters and buffers the module holds directly.
 */
function childEntries(model: Module, prefix: string, names: Record<string, string> = {}): TorchEntry[] {
  const out: TorchEntry[] = [];
  for (const [key, value] of Object.entries(model)) {
    const k = names[key] ?? key;
    if (Array.isArray(value)) value.forEach((v, i) => isModule(v) && out.push(...torchEntries(v, `${prefix}${k}.${i}.`)));
    else if (isModule(value)) out.push(...torchEntries(value, `${prefix}${k}.`));
  }
  // Parameters and buffers held directly by a container (not in a child layer) keep their name and layout.
  const childNames = new Set(out.map((e) => e.torchName));
  for (const [name, t] of [...model.namedParameters(), ...model.namedBuffers()]) {
    if (!name.includes('.') && !childNames.has(`${prefix}${name}`)) out.push(sameLayout(t, `${prefix}${name}`));
  }
  return out;
}

/**
 * A mapping for a module whose children only need renaming: wasmgrad field
 * name → PyTorch attribute name (`{ selfAttn: 'self_attn' }`); other fields
 * keep their names, and each child maps by its own type.
 */
export function renamedFields<M extends Module>(names: Record<string, string>): TorchMapping<M> {
  return (m, prefix) => childEntries(m, prefix, names);
}

// ─── built-in mappings ──────────────────────────────────────────────────────

const biasOf = (b: Tensor | undefined, name: string): TorchEntry[] => (b ? [sameLayout(b, name)] : []);

registerTorchMapping(Linear, (m, p) => [transposed(m.weight, `${p}weight`), ...biasOf(m.bias, `${p}bias`)]);

const convMapping: TorchMapping<Conv2d | Conv1d> = (m, p) => [filterLayout(m.weight, `${p}weight`), ...biasOf(m.bias, `${p}bias`)];
registerTorchMapping(Conv2d, convMapping);
registerTorchMapping(Conv1d, convMapping);

for (const BN of [BatchNorm2d, BatchNorm1d]) {
  registerTorchMapping(BN, (m, p) => [
    ...(m.weight ? [sameLayout(m.weight, `${p}weight`)] : []),
    ...biasOf(m.bias, `${p}bias`),
    ...(m.runningMean && m.runningVar
      ? [sameLayout(m.runningMean, `${p}running_mean`), sameLayout(m.runningVar, `${p}running_var`), exportOnlyScalar(`${p}num_batches_tracked`)]
      : []),
  ]);
}

registerTorchMapping(LayerNorm, (m, p) => [...(m.weight ? [sameLayout(m.weight, `${p}weight`)] : []), ...biasOf(m.bias, `${p}bias`)]);
registerTorchMapping(RMSNorm, (m, p) => (m.weight ? [sameLayout(m.weight, `${p}weight`)] : []));
registerTorchMapping(Embedding, (m, p) => [sameLayout(m.weight, `${p}weight`)]);
registerTorchMapping(LearnedPositionalEmbedding, (m, p) => [sameLayout(m.weight, `${p}weight`)]);
registerTorchMapping(SinusoidalPositionalEncoding, () => []);

registerTorchMapping(MultiHeadAttention, (m, p) => {
  const packed = m.kdim === m.dModel && m.vdim === m.dModel;
  const weights = packed
    ? [concatenated([transposed(m.wq, 'wq'), transposed(m.wk, 'wk'), transposed(m.wv, 'wv')], `${p}in_proj_weight`)]
    : [transposed(m.wq, `${p}q_proj_weight`), transposed(m.wk, `${p}k_proj_weight`), transposed(m.wv, `${p}v_proj_weight`)];
  const biases = m.bq && m.bk && m.bv
    ? [concatenated([sameLayout(m.bq, 'bq'), sameLayout(m.bk, 'bk'), sameLayout(m.bv, 'bv')], `${p}in_proj_bias`)]
    : [];
  return [...weights, ...biases, transposed(m.wo, `${p}out_proj.weight`), ...biasOf(m.bo, `${p}out_proj.bias`)];
});

// Recurrent layers and cells use PyTorch's parameter names (weight_ih_l0, bias_hh_l1_reverse, …)
// and gate order (LSTM i,f,g,o; GRU r,z,n); weights are stored [in, gates·hidden], PyTorch's transposed.
const recurrentMapping = (m: Module, p: string): TorchEntry[] =>
  m.namedParameters().map(([name, t]) => (name.startsWith('weight_') ? transposed(t, `${p}${name}`) : sameLayout(t, `${p}${name}`)));
for (const ctor of [RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell]) registerTorchMapping(ctor, recurrentMapping);

registerTorchMapping(TransformerEncoderLayer, renamedFields({ selfAttn: 'self_attn' }));
registerTorchMapping(TransformerDecoderLayer, renamedFields({ selfAttn: 'self_attn', crossAttn: 'multihead_attn' }));

/** Every PyTorch entry of a model: registered layer mappings, recursing into containers by field name. */
export function torchEntries(model: Module, prefix = ''): TorchEntry[] {
  const own = mappings.get(model.constructor as AnyCtor);
  return own ? own(model, prefix) : childEntries(model, prefix);
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
      if (strict && !e.exportOnly) problems.push(`missing '${e.torchName}' ${fmtShape(e.torchShape)}`);
      continue;
    }
    if (t.shape.join() !== e.torchShape.join()) {
      problems.push(`'${e.torchName}': file has ${fmtShape(t.shape)}, the model expects ${fmtShape(e.torchShape)} (PyTorch layout)`);
      continue;
    }
    if (e.exportOnly) continue;
    try {
      ready.push([e, decodeFloat32(t.dtype as never, t.data)]);
    } catch (err) {
      problems.push(`'${e.torchName}': ${(err as Error).message}`);
    }
  }
  if (strict) {
    const known = new Set(entries.map((e) => e.torchName));
    for (const name of byName.keys()) if (!known.has(name)) problems.push(`unexpected '${name}'`);
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
  const out = new Map<string, SafetensorsInput>();
  for (const e of torchEntries(model)) {
    if (out.has(e.torchName)) throw new ConfigError(`exportTorchStateDict: two tensors map to '${e.torchName}'`);
    const v = e.toTorch();
    out.set(
      e.torchName,
      e.dtype === 'I64'
        ? { dtype: 'I64', shape: e.torchShape, data: BigInt64Array.from(v, (x) => BigInt(Math.round(x))) }
        : { dtype: 'F32', shape: e.torchShape, data: v },
    );
  }
  return serializeSafetensors(out, metadata);
}
