/**
 * Every error wasmgrad throws, in one file. Each carries a message a user can
 * act on: the op or layer, the rule that was broken, the values on both sides,
 * and a `hint:` where the fix is known.
 */

/** Base class: `err instanceof WasmgradError` catches everything the library throws on purpose. */
export class WasmgradError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Shapes that do not fit the op: `matmul: inner dimensions differ: a is [4,3], b is [2,5]`. */
export class ShapeError extends WasmgradError {}

/** A tensor of the wrong dtype (float32 where int32 labels were expected, …). */
export class DTypeError extends WasmgradError {}

/** A value out of its allowed range: a negative size, a non-finite scalar, a label ≥ classes. */
export class ValueError extends WasmgradError {}

/** An unknown option or an invalid configuration; the message lists the valid ones. */
export class ConfigError extends WasmgradError {}

/** A tensor used after `dispose()` (or after the scope that owned it ended). */
export class DisposedError extends WasmgradError {}

/** The heap cannot grow to hold a requested block. */
export class OutOfMemoryError extends WasmgradError {}

/** The WebAssembly module could not be loaded or lacks a kernel. */
export class WasmError extends WasmgradError {}

/** Bytes that break their file format (a safetensors header that lies, truncated data, …). */
export class FormatError extends WasmgradError {}

/** `[4,3]` — the way every message prints a shape. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
