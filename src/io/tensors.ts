/**
 * Tensors ↔ safetensors bytes: thin glue over the byte format
 * (src/io/safetensors.ts) and the element conversions (src/io/dtype.ts).
 *
 *   saveTensors: float32 → F32 (bit-exact, NaN payloads included; or F16/BF16 on request),
 *                int32 → I32.
 *   loadTensors: F32, F16, BF16 → float32 exactly; F64 → float32 rounded;
 *                BOOL, U8, I8, U16, I16, I32 → int32; U32, I64, U64 → int32 when
 *                every value fits, else a ValueError naming the tensor and element.
 *
 * Bytes move as bit patterns (typed-array copies between arrays of the same
 * type copy bytes), never through JS numbers, so a save → load round trip of
 * float32 tensors is bit-exact.
 */

import type { Backend } from '../backend/index.js';
import { ConfigError, fmtShape, ShapeError, ValueError } from '../errors.js';
import { Tensor, tensor } from '../tensor.js';
import { decodeFloat32, decodeInt32, encodeFloat32, encodeInt32, FLOAT_DTYPES } from './dtype.js';
import { parseSafetensors, serializeSafetensors, setOwn, type ParseOptions, type SafetensorsInput } from './safetensors.js';

export interface SaveOptions {
  /** The dtype float32 tensors are written as. Default: 'F32' (bit-exact); 'F16' and 'BF16' round to nearest even. */
  floatDtype?: 'F32' | 'F16' | 'BF16';
}

export interface LoadOptions extends ParseOptions {
  /** The backend the tensors are created on. Default: the current backend. */
  backend?: Backend;
}

export interface LoadedTensors {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

/** The largest element count of a Tensor (see checkShape in src/tensor.ts). */
const MAX_ELEMENTS = 2 ** 31 - 1;

const SAVE_DEFAULTS = Object.freeze({ floatDtype: 'F32' as const });

/**
 * A safetensors file of the given tensors (and string metadata), readable by
 * PyTorch's `safetensors.torch.load`. Layout: see `serializeSafetensors`.
 *
 * @example
 * fs.writeFileSync('model.safetensors', saveTensors({ 'fc.weight': w, 'fc.bias': b }, { epoch: '3' }));
 */
export function saveTensors(
  record: Record<string, Tensor> | Map<string, Tensor>,
  metadata?: Record<string, string>,
  options: SaveOptions = {},
): Uint8Array {
  const floatDtype = options.floatDtype ?? SAVE_DEFAULTS.floatDtype;
  if (floatDtype !== 'F32' && floatDtype !== 'F16' && floatDtype !== 'BF16') {
    throw new ConfigError(`saveTensors: floatDtype must be 'F32', 'F16' or 'BF16'; got ${String(floatDtype)}`);
  }
  for (const key of Object.keys(options ?? {})) {
    if (key !== 'floatDtype') throw new ConfigError(`saveTensors: unknown option '${key}'; valid: floatDtype`);
  }
  const list = record instanceof Map ? [...record] : Object.entries(record ?? {});
  const entries = new Map<string, SafetensorsInput>();
  for (const [name, t] of list) {
    if (!(t instanceof Tensor)) throw new ValueError(`saveTensors: ${JSON.stringify(name)} is not a Tensor`);
    const values = t.data(); // a copy; throws DisposedError for a disposed tensor
    entries.set(
      name,
      values instanceof Float32Array
        ? { dtype: floatDtype, shape: t.shape, data: encodeFloat32(values, floatDtype) }
        : { dtype: 'I32', shape: t.shape, data: encodeInt32(values) },
    );
  }
  return serializeSafetensors(entries, metadata);
}

/**
 * Tensors from a safetensors file. The whole file is validated before any
 * tensor is created; if creating one fails (out of memory), the ones already
 * created are disposed. Each tensor is named after its key.
 *
 * @throws FormatError for a malformed file; ValueError for integers that do not fit int32.
 * @example
 * const { tensors, metadata } = loadTensors(fs.readFileSync('model.safetensors'));
 */
export function loadTensors(bytes: Uint8Array | ArrayBuffer, options: LoadOptions = {}): LoadedTensors {
  for (const key of Object.keys(options ?? {})) {
    if (key !== 'backend' && key !== 'maxHeaderBytes') {
      throw new ConfigError(`loadTensors: unknown option '${key}'; valid: backend, maxHeaderBytes`);
    }
  }
  const { backend, ...parseOpts } = options;
  const parsed = parseSafetensors(bytes, parseOpts);

  // Check what the file can hold but a tensor cannot before anything is allocated: sizes, then
  // integers that may not fit int32.
  for (const [name, e] of parsed.tensors) {
    const size = e.shape.reduce((a, b) => a * b, 1);
    if (size > MAX_ELEMENTS) {
      throw new ShapeError(
        `loadTensors: tensor ${JSON.stringify(name)} has shape ${fmtShape(e.shape)}, ${size} elements; ` +
          `wasmgrad tensors hold at most 2^31-1`,
      );
    }
  }
  for (const [name, e] of parsed.tensors) {
    if (e.dtype === 'U32' || e.dtype === 'I64' || e.dtype === 'U64') decodeInt32(e.dtype, e.data, `loadTensors: tensor ${JSON.stringify(name)}`);
  }

  const tensors: Record<string, Tensor> = {};
  const created: Tensor[] = [];
  try {
    for (const [name, e] of parsed.tensors) {
      const isFloat = FLOAT_DTYPES.has(e.dtype);
      const values = isFloat ? decodeFloat32(e.dtype, e.data) : decodeInt32(e.dtype, e.data, `loadTensors: tensor ${JSON.stringify(name)}`);
      const t = tensor(values, e.shape, { dtype: isFloat ? 'float32' : 'int32', backend, name });
      created.push(t);
      setOwn(tensors, name, t);
    }
  } catch (err) {
    for (const t of created) t.dispose();
    throw err;
  }
  return { tensors, metadata: parsed.metadata };
}
