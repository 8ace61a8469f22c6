/**
 * The safetensors byte format: a hardened parser and a deterministic writer.
 * Pure bytes — no tensors here (src/io/tensors.ts turns entries into Tensors).
 *
 * Layout (https://github.com/huggingface/safetensors):
 *
 *   0           8                   8+N                                  end
 *   ├───────────┼───────────────────┼─────────────────────────────────────┤
 *   │ N: u64 LE │ header: N bytes   │ data buffer: raw little-endian      │
 *   │           │ of UTF-8 JSON     │ tensor bytes, row-major             │
 *
 *   header = { "__metadata__"?: { string: string },
 *              "<name>": { "dtype": "F32", "shape": [2,3], "data_offsets": [begin, end] }, … }
 *
 * `data_offsets` are relative to the data buffer. The reference implementation
 * (the Rust `safetensors` crate) requires, and so does this parser: the
 * tensors' byte ranges tile the data buffer exactly — no gap, no overlap, the
 * last one ends at the end of the file — in any order in the JSON; each range
 * holds product(shape) × dtype size bytes; the header may be padded with
 * trailing spaces; the header is at most 100 MB.
 *
 * Hardening: a file is untrusted input. Every check runs before anything is
 * allocated from a declared size or copied, every number is checked to be a
 * safe integer before arithmetic, and every failure is a `FormatError` naming
 * the rule, the tensor and the numbers. The JSON header is read by a small
 * strict parser (below) instead of `JSON.parse`, which silently keeps the last
 * of duplicate keys and turns `1e400` or 2^64 into imprecise numbers; this
 * one rejects duplicate keys, keeps number literals as text until they are
 * checked, and bounds nesting so a hostile header cannot overflow the stack.
 *
 * Not supported (rejected with a message saying so): the sub-byte and 8-bit
 * float dtypes (F4, F6_*, F8_*) and C64.
 */

import { ConfigError, DTypeError, FormatError, ShapeError, ValueError } from '../errors.js';

/** The dtypes this library reads and writes. */
export type SafetensorsDType =
  | 'BOOL' | 'U8' | 'I8' | 'U16' | 'I16' | 'F16' | 'BF16' | 'U32' | 'I32' | 'F32' | 'F64' | 'U64' | 'I64';

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<SafetensorsDType, number>> = Object.freeze({
  BOOL: 1, U8: 1, I8: 1, U16: 2, I16: 2, F16: 2, BF16: 2, U32: 4, I32: 4, F32: 4, F64: 8, U64: 8, I64: 8,
});

const DTYPE_LIST = Object.keys(DTYPE_BYTES).join(', ');

/** Dtypes of the format this library knows of but does not handle. */
const UNSUPPORTED_DTYPES = new Set(['F4', 'F6_E2M3', 'F6_E3M2', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'C64']);

/** One tensor of a parsed file. */
export interface SafetensorsEntry {
  dtype: SafetensorsDType;
  shape: number[];
  /** The tensor's bytes: a view into the parsed input (no copy), little-endian, row-major. */
  data: Uint8Array;
}

/** One tensor to write. */
export interface SafetensorsInput {
  dtype: SafetensorsDType;
  shape: readonly number[];
  /** product(shape) × DTYPE_BYTES[dtype] bytes, little-endian (any typed array on a little-endian host), row-major. */
  data: ArrayBufferView;
}

export interface ParsedSafetensors {
  /** The `__metadata__` entry (empty when absent or null). */
  metadata: Record<string, string>;
  /** Tensors in the order the header lists them. */
  tensors: Map<string, SafetensorsEntry>;
}

export interface ParseOptions {
  /** Largest header (JSON) length accepted, in bytes. Default: 100,000,000 (the reference implementation's limit). */
  maxHeaderBytes?: number;
}

export const PARSE_DEFAULTS: Readonly<Required<ParseOptions>> = Object.freeze({ maxHeaderBytes: 100_000_000 });

/** Deepest JSON nesting accepted in a header (the schema itself needs 3 levels). */
const MAX_JSON_DEPTH = 64;

// ─── parsing ───────────────────────────────────────────────────────────────

/**
 * Parses and validates a safetensors file. The returned tensors' `data` are
 * views into `bytes` (no copy): keep `bytes` unchanged while you use them.
 *
 * @throws FormatError for any byte sequence that is not a valid safetensors
 *   file (and only for that): the message names the rule, the tensor and the numbers.
 * @example
 * const { tensors, metadata } = parseSafetensors(fs.readFileSync('model.safetensors'));
 * tensors.get('fc1.weight'); // { dtype: 'F32', shape: [784, 256], data: Uint8Array(802816) }
 */
export function parseSafetensors(bytes: Uint8Array | ArrayBuffer, options: ParseOptions = {}): ParsedSafetensors {
  const u8 = asBytes(bytes);
  const { maxHeaderBytes } = parseOptions(options);
  const fileLen = u8.byteLength;

  // 1. The u64 header length.
  if (fileLen < 8) {
    throw new FormatError(`safetensors: file is ${fileLen} bytes, shorter than the 8-byte header length prefix`);
  }
  const lo = u8[0] | (u8[1] << 8) | (u8[2] << 16) | (u8[3] << 24);
  const hi = u8[4] | (u8[5] << 8) | (u8[6] << 16) | (u8[7] << 24);
  if (hi >>> 0 > 0x1fffff) {
    const exact = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    throw new FormatError(
      `safetensors: header length ${exact} (the u64 in bytes 0-7) is over 2^53-1 and does not fit a JS number safely; ` +
        `the file is corrupt or not safetensors`,
    );
  }
  const n = (hi >>> 0) * 2 ** 32 + (lo >>> 0);
  if (n > maxHeaderBytes) {
    throw new FormatError(
      `safetensors: header length ${n} exceeds the limit of ${maxHeaderBytes} bytes ` +
        `(hint: raise options.maxHeaderBytes if the file is genuine)`,
    );
  }
  if (8 + n > fileLen) {
    throw new FormatError(
      `safetensors: header length ${n} runs past the end of the file: 8 + ${n} = ${8 + n} > ${fileLen} bytes`,
    );
  }
  const dataStart = 8 + n;
  const dataLen = fileLen - dataStart;

  // 2. The header: UTF-8, then strict JSON.
  const text = decodeUtf8(u8.subarray(8, dataStart));
  const root = new JsonParser(text).parseDocument();
  if (!(root instanceof JsonObject)) {
    throw new FormatError(`safetensors: header must be a JSON object; got ${jsonTypeName(root)}`);
  }

  // 3. Every entry, checked on its own.
  let metadata: Record<string, string> = {};
  const infos: TensorInfo[] = [];
  for (const [name, value] of root.entries) {
    if (name === '__metadata__') metadata = readMetadata(value);
    else infos.push(readTensorInfo(name, value, dataLen));
  }

  // 4. Together, the byte ranges must tile the data buffer.
  const byOffset = infos.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let prev: TensorInfo | null = null;
  for (const t of byOffset) {
    if (t.begin < covered) {
      throw new FormatError(
        `safetensors: tensors ${quote(prev!.name)} ${fmtRange(prev!)} and ${quote(t.name)} ${fmtRange(t)} overlap ` +
          `(${covered - t.begin} bytes shared)`,
      );
    }
    if (t.begin > covered) {
      const after = prev === null ? 'the start of the data buffer' : `${quote(prev.name)} ${fmtRange(prev)}`;
      throw new FormatError(
        `safetensors: gap of ${t.begin - covered} bytes in the data buffer between ${after} ` +
          `and ${quote(t.name)} ${fmtRange(t)}; tensors must be contiguous`,
      );
    }
    covered = t.end;
    prev = t;
  }
  if (covered !== dataLen) {
    throw new FormatError(
      `safetensors: the tensors cover ${covered} of the ${dataLen} bytes of the data buffer; ` +
        `${dataLen - covered} trailing bytes belong to no tensor`,
    );
  }

  // 5. Only now: views into the input.
  const tensors = new Map<string, SafetensorsEntry>();
  for (const t of infos) {
    tensors.set(t.name, {
      dtype: t.dtype,
      shape: t.shape,
      data: new Uint8Array(u8.buffer, u8.byteOffset + dataStart + t.begin, t.end - t.begin),
    });
  }
  return { metadata, tensors };
}

/** `safetensors: tensor 'w'`, built only when a message needs it (headers can list many thousands of tensors). */
class Where {
  constructor(private readonly name: string) {}
  toString(): string {
    return `safetensors: tensor ${quote(this.name)}`;
  }
}

interface TensorInfo {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

function asBytes(bytes: unknown): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && bytes instanceof SharedArrayBuffer)) {
    return new Uint8Array(bytes);
  }
  if (ArrayBuffer.isView(bytes)) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  throw new ValueError(`parseSafetensors: expected a Uint8Array or an ArrayBuffer; got ${describeValue(bytes)}`);
}

function parseOptions(options: ParseOptions): Required<ParseOptions> {
  if (options === null || typeof options !== 'object') {
    throw new ConfigError(`parseSafetensors: options must be an object; got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!(key in PARSE_DEFAULTS)) {
      throw new ConfigError(`parseSafetensors: unknown option '${key}'; valid: ${Object.keys(PARSE_DEFAULTS).join(', ')}`);
    }
  }
  const maxHeaderBytes = options.maxHeaderBytes ?? PARSE_DEFAULTS.maxHeaderBytes;
  if (!Number.isSafeInteger(maxHeaderBytes) || maxHeaderBytes < 0) {
    throw new ConfigError(`parseSafetensors: maxHeaderBytes must be a non-negative integer; got ${String(maxHeaderBytes)}`);
  }
  return { maxHeaderBytes };
}

function decodeUtf8(header: Uint8Array): string {
  // TextDecoder refuses views of a SharedArrayBuffer in browsers; the header is bounded by the input size.
  const src = header.buffer instanceof ArrayBuffer ? header : header.slice();
  try {
    // ignoreBOM: keep a leading U+FEFF so the JSON parser rejects it, as the reference does.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(src);
  } catch {
    const at = firstInvalidUtf8(header);
    throw new FormatError(
      `safetensors: header is not valid UTF-8: invalid sequence at header byte ${at} (file byte ${8 + at}), ` +
        `byte 0x${header[at].toString(16).padStart(2, '0')}`,
    );
  }
}

/** Index of the first byte that starts an ill-formed UTF-8 sequence (Unicode 15, table 3-7). */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let len: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f; // no surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    if (i + len > b.length) return i;
    if (b[i + 1] < lo || b[i + 1] > hi) return i;
    for (let k = 2; k < len; k++) if (b[i + k] < 0x80 || b[i + k] > 0xbf) return i;
    i += len;
  }
  return Math.max(0, b.length - 1); // not reached when TextDecoder failed
}

function readMetadata(value: JsonValue): Record<string, string> {
  const out: Record<string, string> = {};
  if (value === null) return out; // the reference accepts `"__metadata__": null` as no metadata
  if (!(value instanceof JsonObject)) {
    throw new FormatError(`safetensors: __metadata__ must be an object of strings; got ${jsonTypeName(value)}`);
  }
  for (const [key, v] of value.entries) {
    if (typeof v !== 'string') {
      throw new FormatError(
        `safetensors: __metadata__ must be an object of strings; the value of ${quote(key)} is ${jsonTypeName(v)}`,
      );
    }
    setOwn(out, key, v);
  }
  return out;
}

function readTensorInfo(name: string, value: JsonValue, dataLen: number): TensorInfo {
  const where = new Where(name);
  if (!(value instanceof JsonObject)) {
    throw new FormatError(`${where}: entry must be an object with dtype, shape and data_offsets; got ${jsonTypeName(value)}`);
  }
  const field = (key: string): JsonValue => {
    const v = value.get(key);
    if (v === undefined) throw new FormatError(`${where}: entry has no '${key}'`);
    return v;
  };

  // dtype
  const dt = field('dtype');
  if (typeof dt !== 'string') throw new FormatError(`${where}: 'dtype' must be a string; got ${jsonTypeName(dt)}`);
  if (!Object.prototype.hasOwnProperty.call(DTYPE_BYTES, dt)) {
    if (UNSUPPORTED_DTYPES.has(dt)) {
      throw new FormatError(`${where}: dtype '${dt}' is not supported by wasmgrad; supported: ${DTYPE_LIST}`);
    }
    throw new FormatError(`${where}: unknown dtype ${quote(dt)}; valid: ${DTYPE_LIST}`);
  }
  const dtype = dt as SafetensorsDType;

  // shape
  const sh = field('shape');
  if (!Array.isArray(sh)) throw new FormatError(`${where}: 'shape' must be an array of integers; got ${jsonTypeName(sh)}`);
  const shape: number[] = [];
  for (let i = 0; i < sh.length; i++) shape.push(readUint(sh[i], where, `shape[${i}]`));
  let elements = 1;
  for (const d of shape) {
    if (d !== 0 && elements > Number.MAX_SAFE_INTEGER / d) {
      throw new FormatError(`${where}: shape ${fmtShapeShort(shape)} has more than 2^53-1 elements (the product overflows)`);
    }
    elements *= d;
  }
  const size = DTYPE_BYTES[dtype];
  if (elements > Number.MAX_SAFE_INTEGER / size) {
    throw new FormatError(
      `${where}: shape ${fmtShapeShort(shape)} of ${dtype} needs more than 2^53-1 bytes (${elements} elements × ${size} bytes)`,
    );
  }
  const nbytes = elements * size;

  // data_offsets
  const off = field('data_offsets');
  if (!Array.isArray(off) || off.length !== 2) {
    const got = Array.isArray(off) ? `an array of ${off.length} elements` : jsonTypeName(off);
    throw new FormatError(`${where}: 'data_offsets' must be [begin, end]; got ${got}`);
  }
  const begin = readUint(off[0], where, 'data_offsets[0] (begin)');
  const end = readUint(off[1], where, 'data_offsets[1] (end)');
  if (end < begin) {
    throw new FormatError(`${where}: data_offsets [${begin},${end}] are reversed (end ${end} < begin ${begin})`);
  }
  if (end > dataLen) {
    throw new FormatError(
      `${where}: data_offsets [${begin},${end}] run past the end of the ${dataLen}-byte data buffer by ${end - dataLen} bytes`,
    );
  }
  if (end - begin !== nbytes) {
    throw new FormatError(
      `${where}: data_offsets [${begin},${end}] hold ${end - begin} bytes but shape ${fmtShapeShort(shape)} of ${dtype} ` +
        `needs ${nbytes} (${elements} elements × ${size} bytes)`,
    );
  }
  return { name, dtype, shape, begin, end };
}

function isUintLiteral(text: string): boolean {
  if (text.length > 1 && text.charCodeAt(0) === 0x30) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return text.length > 0;
}

/** A JSON number that is a plain non-negative integer literal ≤ 2^53-1 (as the reference's usize, within JS's safe range). */
function readUint(v: JsonValue | undefined, where: Where, label: string): number {
  if (!(v instanceof JsonNumber)) {
    throw new FormatError(`${where}: ${label} must be a non-negative integer; got ${v === undefined ? 'nothing' : jsonTypeName(v)}`);
  }
  const text = v.text;
  if (!isUintLiteral(text)) {
    const why = text.startsWith('-') && /^-(0|[1-9][0-9]*)$/.test(text) ? 'negative' : 'not an integer literal';
    throw new FormatError(`${where}: ${label} is ${clip(text)}: ${why}; must be a non-negative integer`);
  }
  const x = Number(text);
  if (!Number.isSafeInteger(x)) {
    // Any integer literal ≥ 2^53 rounds to a double ≥ 2^53, so this test is exact.
    throw new FormatError(`${where}: ${label} is ${clip(text)}, over 2^53-1 (the largest integer a JS number holds exactly)`);
  }
  return x;
}

// ─── writing ───────────────────────────────────────────────────────────────

/**
 * Writes tensors and optional string metadata as a safetensors file.
 *
 * Layout (deterministic, as the reference writer): tensors sorted by element
 * size, largest first, then by name (Unicode code point order, which is the
 * UTF-8 byte order the reference uses); the header lists `__metadata__`
 * (keys sorted the same way; omitted when empty) and then the tensors in that
 * order, and is padded with spaces to a multiple of 8 bytes. So every
 * tensor's data starts at a multiple of its element size in the file, and a
 * reader can view it as a typed array without copying.
 *
 * The data bytes are copied as they are: pass little-endian data (every
 * typed array on a little-endian host — all current JS engines).
 *
 * @throws DTypeError, ShapeError or ValueError for inputs that cannot be written.
 * @example
 * const bytes = serializeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } }, { format: 'pt' });
 */
export function serializeSafetensors(
  entries: Record<string, SafetensorsInput> | Map<string, SafetensorsInput>,
  metadata?: Record<string, string> | Map<string, string>,
): Uint8Array {
  const W = 'serializeSafetensors';
  const list = entries instanceof Map ? [...entries] : entriesOf(entries, 'entries', W);
  const items: { name: string; dtype: SafetensorsDType; shape: number[]; bytes: Uint8Array }[] = [];
  for (const [name, e] of list) {
    checkName(name, W);
    const where = `${W}: tensor ${quote(name)}`;
    if (e === null || typeof e !== 'object') throw new ValueError(`${where}: expected { dtype, shape, data }; got ${describeValue(e)}`);
    const { dtype, shape, data } = e;
    if (typeof dtype !== 'string' || !Object.prototype.hasOwnProperty.call(DTYPE_BYTES, dtype)) {
      throw new DTypeError(`${where}: unknown dtype ${quote(String(dtype))}; valid: ${DTYPE_LIST}`);
    }
    if (!Array.isArray(shape)) throw new ShapeError(`${where}: shape must be an array; got ${describeValue(shape)}`);
    let elements = 1;
    for (const d of shape) {
      if (!Number.isSafeInteger(d) || d < 0) {
        throw new ShapeError(`${where}: dimensions must be non-negative integers; got ${fmtShapeShort(shape)}`);
      }
      elements *= d;
    }
    const nbytes = elements * DTYPE_BYTES[dtype];
    if (!ArrayBuffer.isView(data)) throw new ValueError(`${where}: data must be a typed array or DataView; got ${describeValue(data)}`);
    if (data.byteLength !== nbytes) {
      throw new ShapeError(
        `${where}: data has ${data.byteLength} bytes but shape ${fmtShapeShort(shape)} of ${dtype} needs ${nbytes} ` +
          `(${elements} elements × ${DTYPE_BYTES[dtype]} bytes)`,
      );
    }
    items.push({ name, dtype, shape: shape.slice(), bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
  }
  items.sort((a, b) => DTYPE_BYTES[b.dtype] - DTYPE_BYTES[a.dtype] || compareCodePoints(a.name, b.name));

  const meta = metadata === undefined ? [] : metadata instanceof Map ? [...metadata] : entriesOf(metadata, 'metadata', W);
  for (const [k, v] of meta) {
    checkWellFormed(k, `${W}: metadata key`);
    if (typeof v !== 'string') throw new ValueError(`${W}: metadata values must be strings; ${quote(k)} is ${describeValue(v)}`);
    checkWellFormed(v, `${W}: metadata value of ${quote(k)}`);
  }
  meta.sort((a, b) => compareCodePoints(a[0], b[0]));

  // Header JSON, compact, in layout order.
  const parts: string[] = [];
  if (meta.length > 0) {
    parts.push(`"__metadata__":{${meta.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`);
  }
  let offset = 0;
  for (const it of items) {
    const end = offset + it.bytes.byteLength;
    parts.push(`${JSON.stringify(it.name)}:{"dtype":"${it.dtype}","shape":[${it.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLen = Math.ceil(json.byteLength / 8) * 8;
  const total = 8 + headerLen + offset;
  if (!Number.isSafeInteger(total)) throw new ValueError(`${W}: the file would be ${total} bytes, over 2^53-1`);

  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, headerLen % 2 ** 32, true);
  dv.setUint32(4, Math.floor(headerLen / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.byteLength, 8 + headerLen);
  let at = 8 + headerLen;
  for (const it of items) {
    out.set(it.bytes, at);
    at += it.bytes.byteLength;
  }
  return out;
}

function entriesOf<T>(obj: Record<string, T>, what: string, where: string): [string, T][] {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new ValueError(`${where}: ${what} must be a plain object or a Map; got ${describeValue(obj)}`);
  }
  return Object.entries(obj);
}

function checkName(name: string, where: string): void {
  if (name === '__metadata__') {
    throw new ValueError(`${where}: a tensor cannot be named '__metadata__' (the format reserves it for metadata)`);
  }
  checkWellFormed(name, `${where}: tensor name`);
}

/** Lone surrogates cannot be encoded in UTF-8; the reference rejects them in JSON escapes too. */
function checkWellFormed(s: string, what: string): void {
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s)) {
    throw new ValueError(`${what} ${JSON.stringify(clip(s))} has a lone surrogate and cannot be written as UTF-8`);
  }
}

/** Compares well-formed strings in Unicode code point order (= UTF-8 byte order). */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // UTF-16 puts surrogates (astral code points) below U+E000–U+FFFF; code point order puts them above.
    if (x >= 0xd800 && y >= 0xd800) {
      x += x >= 0xe000 ? -0x800 : 0x2000;
      y += y >= 0xe000 ? -0x800 : 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

// ─── a strict, bounded JSON parser ─────────────────────────────────────────
//
// RFC 8259 JSON, with three differences from JSON.parse that matter for
// untrusted headers: duplicate keys are an error, numbers stay as their
// literal text (checked by the schema code), nesting is bounded.

class JsonNumber {
  constructor(readonly text: string) {}
}

class JsonObject {
  constructor(readonly entries: [string, JsonValue][]) {}
  get(key: string): JsonValue | undefined {
    for (const [k, v] of this.entries) if (k === key) return v;
    return undefined;
  }
}

type JsonValue = JsonObject | JsonNumber | JsonValue[] | string | boolean | null;

class JsonParser {
  private i = 0;
  /** Keys leading to the value being parsed: [] at the top, ['w'] inside tensor w's entry. */
  private readonly path: string[] = [];

  constructor(private readonly s: string) {}

  parseDocument(): JsonValue {
    this.skipWs();
    if (this.i >= this.s.length) this.fail('the header is empty (only whitespace)');
    const v = this.value(0);
    this.skipWs();
    if (this.i < this.s.length) this.fail(`unexpected ${this.found()} after the end of the top-level value`);
    return v;
  }

  private fail(msg: string, at = this.i): never {
    throw new FormatError(`safetensors: header is not valid JSON: ${msg} at character ${at} of the header`);
  }

  private found(): string {
    return this.i >= this.s.length ? 'end of header' : JSON.stringify(this.s[this.i]);
  }

  private skipWs(): void {
    const s = this.s;
    let i = this.i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
    this.i = i;
  }

  private value(depth: number): JsonValue {
    if (depth > MAX_JSON_DEPTH) this.fail(`nesting deeper than ${MAX_JSON_DEPTH} levels`);
    const c = this.s[this.i];
    switch (c) {
      case '{':
        return this.object(depth);
      case '[':
        return this.array(depth);
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      default:
        if (c === '-' || (c >= '0' && c <= '9')) return this.number();
        return this.fail(`unexpected ${this.found()}, expected a value`);
    }
  }

  private literal<T>(word: string, v: T): T {
    if (this.s.startsWith(word, this.i)) {
      this.i += word.length;
      return v;
    }
    return this.fail(`unexpected ${this.found()}, expected a value`);
  }

  private number(): JsonNumber {
    const s = this.s;
    const start = this.i;
    let i = start;
    if (s.charCodeAt(i) === 0x2d) i++; // -
    if (s.charCodeAt(i) === 0x30) i++; // a leading 0 stands alone
    else {
      const from = i;
      i = skipDigits(s, i);
      if (i === from) this.fail('a number needs digits', i);
    }
    if (s.charCodeAt(i) === 0x2e) {
      const from = ++i;
      i = skipDigits(s, i);
      if (i === from) this.fail('a number needs digits after the decimal point', i);
    }
    const e = s.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      i++;
      const sign = s.charCodeAt(i);
      if (sign === 0x2b || sign === 0x2d) i++;
      const from = i;
      i = skipDigits(s, i);
      if (i === from) this.fail('a number needs digits in its exponent', i);
    }
    this.i = i;
    return new JsonNumber(s.slice(start, i));
  }

  private string(): string {
    const s = this.s;
    const start = this.i;
    let i = this.i + 1; // after the opening quote
    let run = i;
    let out = '';
    for (;;) {
      if (i >= s.length) this.fail('unterminated string', start);
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        out += s.slice(run, i);
        this.i = i + 1;
        return out;
      }
      if (c < 0x20) this.fail(`control character U+${c.toString(16).padStart(4, '0')} inside a string (must be escaped)`, i);
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += s.slice(run, i);
      const e = s[i + 1];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const u = this.hex4(i + 2);
          if (u >= 0xdc00 && u <= 0xdfff) this.fail(`lone low surrogate \\u${u.toString(16)} in a string`, i);
          if (u >= 0xd800 && u <= 0xdbff) {
            const low = s[i + 6] === '\\' && s[i + 7] === 'u' ? this.hex4(i + 8) : -1;
            if (low < 0xdc00 || low > 0xdfff) this.fail(`lone high surrogate \\u${u.toString(16)} in a string`, i);
            out += String.fromCharCode(u, low);
            i += 6;
          } else {
            out += String.fromCharCode(u);
          }
          i += 4;
          break;
        }
        default:
          this.fail(`invalid escape ${JSON.stringify('\\' + (e ?? ''))} in a string`, i);
      }
      i += 2;
      run = i;
    }
  }

  private hex4(at: number): number {
    const h = this.s.slice(at, at + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) this.fail('\\u must be followed by 4 hex digits', at);
    return parseInt(h, 16);
  }

  private array(depth: number): JsonValue[] {
    const out: JsonValue[] = [];
    this.i++; // [
    this.skipWs();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      this.skipWs();
      out.push(this.value(depth + 1));
      this.skipWs();
      const c = this.s[this.i];
      this.i++;
      if (c === ']') return out;
      if (c !== ',') {
        this.i--;
        this.fail(`unexpected ${this.found()} in an array, expected ',' or ']'`);
      }
    }
  }

  private object(depth: number): JsonObject {
    const entries: [string, JsonValue][] = [];
    const seen = new Set<string>();
    this.i++; // {
    this.skipWs();
    if (this.s[this.i] === '}') {
      this.i++;
      return new JsonObject(entries);
    }
    for (;;) {
      this.skipWs();
      if (this.s[this.i] !== '"') this.fail(`unexpected ${this.found()} in an object, expected a key string`);
      const keyAt = this.i;
      const key = this.string();
      if (seen.has(key)) this.duplicate(key, keyAt);
      seen.add(key);
      this.skipWs();
      if (this.s[this.i] !== ':') this.fail(`unexpected ${this.found()} after key ${quote(key)}, expected ':'`);
      this.i++;
      this.skipWs();
      this.path.push(key);
      entries.push([key, this.value(depth + 1)]);
      this.path.pop();
      this.skipWs();
      const c = this.s[this.i];
      this.i++;
      if (c === '}') return new JsonObject(entries);
      if (c !== ',') {
        this.i--;
        this.fail(`unexpected ${this.found()} in an object, expected ',' or '}'`);
      }
    }
  }

  private duplicate(key: string, at: number): never {
    const p = this.path;
    if (p.length === 0) {
      if (key === '__metadata__') throw new FormatError(`safetensors: header has two '__metadata__' entries (at character ${at})`);
      throw new FormatError(`safetensors: duplicate tensor name ${quote(key)} in the header (at character ${at})`);
    }
    const inside = p[0] === '__metadata__' ? '__metadata__' : `the entry of tensor ${quote(p[0])}`;
    const deeper = p.length > 1 ? ` (under ${p.slice(1).map(quote).join(' → ')})` : '';
    throw new FormatError(`safetensors: duplicate key ${quote(key)} in ${inside}${deeper} (at character ${at})`);
  }
}

function skipDigits(s: string, i: number): number {
  for (;;) {
    const c = s.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) i++;
    else return i;
  }
}

function jsonTypeName(v: JsonValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof JsonObject) return 'an object';
  if (v instanceof JsonNumber) return `the number ${clip(v.text)}`;
  if (typeof v === 'string') return `the string ${quote(v)}`;
  return `the boolean ${v}`;
}

// ─── message helpers ───────────────────────────────────────────────────────

function clip(s: string, max = 48): string {
  return s.length <= max ? s : `${s.slice(0, max)}…(${s.length} characters)`;
}

/** A name or key for a message: JSON-quoted (control characters visible), long ones clipped. */
function quote(s: string): string {
  return `'${JSON.stringify(clip(s, 80)).slice(1, -1)}'`;
}

function fmtRange(t: TensorInfo): string {
  return `[${t.begin},${t.end}]`;
}

/** `[2,3]`, or the first 8 dimensions and a count for absurdly long shapes. */
function fmtShapeShort(shape: readonly unknown[]): string {
  return shape.length <= 8 ? `[${shape.join(',')}]` : `[${shape.slice(0, 8).join(',')},… (${shape.length} dimensions)]`;
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object' || typeof v === 'function') return (v as object).constructor?.name ?? typeof v;
  return `${typeof v} ${clip(String(v))}`;
}

/** Sets an own enumerable property even for keys like `__proto__`. */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
