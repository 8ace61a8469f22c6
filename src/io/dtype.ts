/**
 * Element conversions between safetensors dtypes and wasmgrad's float32/int32.
 *
 *   f16  (IEEE binary16):  s | eeeee    | mmmmmmmmmm            bias 15
 *   bf16 (bfloat16):       s | eeeeeeee | mmmmmmm               bias 127 (the top half of an f32)
 *   f32  (IEEE binary32):  s | eeeeeeee | mmmmmmmmmmmmmmmmmmmmmmm bias 127
 *
 * Widening (f16/bf16 → f32) is exact: every half and bfloat16 value, subnormals
 * included, is a float32; NaN payloads are kept (shifted into the top of the f32
 * mantissa). Narrowing (f32 → f16/bf16) rounds to nearest, ties to even,
 * overflows to ±Inf, keeps NaNs NaN (payload truncated to its top bits, quiet
 * bit set if truncation would leave none). Conversions work on bit patterns
 * (integers), never through JS numbers, so NaN payloads survive.
 *
 * Bulk decoders read little-endian bytes on any host; F64 → float32 rounds
 * (Math.fround); wide integers → int32 are checked and out-of-range values are
 * an error naming the element.
 */

import { ValueError } from '../errors.js';
import type { SafetensorsDType } from './safetensors.js';

// ─── single values, as bit patterns ────────────────────────────────────────

/** f16 bits (0..0xffff) → f32 bits (uint32). Exact. */
export function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0; // ±Inf, NaN (payload kept)
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0; // normal: rebias 15 → 127
  if (mant === 0) return sign >>> 0; // ±0
  // Subnormal mant × 2^-24: shift the leading 1 up to the implicit bit, lowering the exponent.
  let e = 113;
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

/** f32 bits → f16 bits, round to nearest even. */
export function f32BitsToF16Bits(f: number): number {
  const sign = (f >>> 16) & 0x8000;
  const exp = (f >>> 23) & 0xff;
  const mant = f & 0x7fffff;
  if (exp === 0xff) {
    if (mant === 0) return sign | 0x7c00; // ±Inf
    const m = mant >>> 13;
    return sign | 0x7c00 | (m === 0 ? 0x200 : m); // NaN stays NaN
  }
  const e = exp - 112; // rebias 127 → 15
  if (e >= 0x1f) return sign | 0x7c00; // |x| ≥ 2^16: overflow
  if (e >= 1) {
    // Normal: drop 13 mantissa bits; a carry may roll into the exponent (up to Inf), which is correct.
    let h = (e << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1) !== 0)) h++;
    return sign | h;
  }
  if (e < -10) return sign; // |x| < 2^-25: rounds to ±0 (2^-25 exactly is the tie, handled below)
  // Subnormal result: (1.mant) × 2^(exp-127) in units of 2^-24; a carry may make it the smallest normal.
  const m24 = mant | 0x800000;
  const shift = 14 - e; // 14..24
  let h = m24 >>> shift;
  const rest = m24 & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rest > half || (rest === half && (h & 1) !== 0)) h++;
  return sign | h;
}

/** bf16 bits → f32 bits. Exact. */
export function bf16BitsToF32Bits(b: number): number {
  return ((b & 0xffff) << 16) >>> 0;
}

/** f32 bits → bf16 bits, round to nearest even. */
export function f32BitsToBf16Bits(f: number): number {
  const top = (f >>> 16) & 0xffff;
  if ((f & 0x7f800000) === 0x7f800000 && (f & 0x7fffff) !== 0) {
    return (top & 0x7f) === 0 ? top | 0x40 : top; // NaN stays NaN
  }
  const rest = f & 0xffff;
  return rest > 0x8000 || (rest === 0x8000 && (top & 1) !== 0) ? top + 1 : top;
}

// ─── single values, as numbers ─────────────────────────────────────────────

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** The value of f16 bits `h`. */
export function f16ToF32(h: number): number {
  scratchU32[0] = f16BitsToF32Bits(h);
  return scratchF32[0];
}

/** f16 bits of `x` (first rounded to float32, as a Float32Array would store it). */
export function f32ToF16(x: number): number {
  scratchF32[0] = x;
  return f32BitsToF16Bits(scratchU32[0]);
}

/** The value of bf16 bits `b`. */
export function bf16ToF32(b: number): number {
  scratchU32[0] = bf16BitsToF32Bits(b);
  return scratchF32[0];
}

/** bf16 bits of `x` (first rounded to float32). */
export function f32ToBf16(x: number): number {
  scratchF32[0] = x;
  return f32BitsToBf16Bits(scratchU32[0]);
}

// ─── bulk: safetensors bytes ↔ float32 / int32 ─────────────────────────────

/** True on little-endian hosts (every current JS engine); typed arrays then match the file's byte order. */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Dtypes that load as float32. */
export const FLOAT_DTYPES: ReadonlySet<SafetensorsDType> = new Set<SafetensorsDType>(['F32', 'F16', 'BF16', 'F64']);

/** Little-endian bytes of `count` 4-byte elements, as host-order bits in a fresh buffer. */
function copy32(bytes: Uint8Array, count: number): ArrayBuffer {
  const out = new Uint8Array(count * 4);
  if (HOST_LITTLE_ENDIAN) out.set(bytes);
  else {
    const u32 = new Uint32Array(out.buffer);
    for (let i = 0, j = 0; i < count; i++, j += 4) {
      u32[i] = (bytes[j] | (bytes[j + 1] << 8) | (bytes[j + 2] << 16) | (bytes[j + 3] << 24)) >>> 0;
    }
  }
  return out.buffer;
}

/**
 * Decodes little-endian F32/F16/BF16/F64 bytes to a new Float32Array.
 * F32, F16 and BF16 are exact (bit patterns, NaN payloads included); F64 is rounded to nearest float32.
 */
export function decodeFloat32(dtype: SafetensorsDType, bytes: Uint8Array): Float32Array {
  switch (dtype) {
    case 'F32':
      return new Float32Array(copy32(bytes, bytes.byteLength >>> 2));
    case 'F16':
    case 'BF16': {
      const count = bytes.byteLength >>> 1;
      const out = new Float32Array(count);
      const bits = new Uint32Array(out.buffer);
      const widen = dtype === 'F16' ? f16BitsToF32Bits : bf16BitsToF32Bits;
      for (let i = 0, j = 0; i < count; i++, j += 2) bits[i] = widen(bytes[j] | (bytes[j + 1] << 8));
      return out;
    }
    case 'F64': {
      const count = bytes.byteLength >>> 3;
      const out = new Float32Array(count);
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let i = 0; i < count; i++) out[i] = dv.getFloat64(i * 8, true);
      return out;
    }
    default:
      throw new ValueError(`decodeFloat32: ${dtype} is not a float dtype; valid: F32, F16, BF16, F64`);
  }
}

/**
 * Decodes little-endian integer (or BOOL) bytes to a new Int32Array. U32, I64
 * and U64 values outside int32 are a ValueError naming `what`, the element and the value;
 * BOOL is 0 or 1 (any nonzero byte is 1).
 */
export function decodeInt32(dtype: SafetensorsDType, bytes: Uint8Array, what = 'tensor'): Int32Array {
  const size = { BOOL: 1, U8: 1, I8: 1, U16: 2, I16: 2, I32: 4, U32: 4, I64: 8, U64: 8 }[dtype as string];
  if (size === undefined) {
    throw new ValueError(`decodeInt32: ${dtype} is not an integer dtype; valid: BOOL, U8, I8, U16, I16, I32, U32, I64, U64`);
  }
  const count = Math.floor(bytes.byteLength / size);
  if (dtype === 'I32') return new Int32Array(copy32(bytes, count));
  const out = new Int32Array(count);
  const b = bytes;
  const bad = (i: number, value: bigint | number): never => {
    throw new ValueError(
      `${what} (${dtype}) element ${i} is ${value}, outside int32 [-2147483648, 2147483647]; ` +
        `hint: wasmgrad tensors are float32 or int32`,
    );
  };
  switch (dtype) {
    case 'BOOL':
      for (let i = 0; i < count; i++) out[i] = b[i] !== 0 ? 1 : 0;
      break;
    case 'U8':
      for (let i = 0; i < count; i++) out[i] = b[i];
      break;
    case 'I8':
      for (let i = 0; i < count; i++) out[i] = (b[i] << 24) >> 24;
      break;
    case 'U16':
      for (let i = 0, j = 0; i < count; i++, j += 2) out[i] = b[j] | (b[j + 1] << 8);
      break;
    case 'I16':
      for (let i = 0, j = 0; i < count; i++, j += 2) out[i] = ((b[j] | (b[j + 1] << 8)) << 16) >> 16;
      break;
    case 'U32':
      for (let i = 0, j = 0; i < count; i++, j += 4) {
        const v = b[j] | (b[j + 1] << 8) | (b[j + 2] << 16) | (b[j + 3] << 24);
        if (v < 0) bad(i, v >>> 0);
        out[i] = v;
      }
      break;
    case 'I64':
    case 'U64':
      for (let i = 0, j = 0; i < count; i++, j += 8) {
        const lo = b[j] | (b[j + 1] << 8) | (b[j + 2] << 16) | (b[j + 3] << 24);
        const hi = b[j + 4] | (b[j + 5] << 8) | (b[j + 6] << 16) | (b[j + 7] << 24);
        // Fits int32 iff the high word is the sign extension of the low word (and, for U64, non-negative).
        if (hi !== lo >> 31 || (dtype === 'U64' && lo < 0)) {
          const dv = new DataView(b.buffer, b.byteOffset + j, 8);
          bad(i, dtype === 'I64' ? dv.getBigInt64(0, true) : dv.getBigUint64(0, true));
        }
        out[i] = lo;
      }
      break;
  }
  return out;
}

/** Float32 values → little-endian F32 (bit-exact), F16 or BF16 (round to nearest even) bytes. */
export function encodeFloat32(values: Float32Array, dtype: 'F32' | 'F16' | 'BF16'): Uint8Array {
  const n = values.length;
  const bits = new Uint32Array(values.buffer, values.byteOffset, n);
  if (dtype === 'F32') {
    if (HOST_LITTLE_ENDIAN) return new Uint8Array(values.buffer, values.byteOffset, n * 4);
    return encode32(bits);
  }
  const out = new Uint8Array(n * 2);
  const narrow = dtype === 'F16' ? f32BitsToF16Bits : f32BitsToBf16Bits;
  for (let i = 0, j = 0; i < n; i++, j += 2) {
    const h = narrow(bits[i]);
    out[j] = h & 0xff;
    out[j + 1] = h >>> 8;
  }
  return out;
}

/** Int32 values → little-endian I32 bytes. */
export function encodeInt32(values: Int32Array): Uint8Array {
  if (HOST_LITTLE_ENDIAN) return new Uint8Array(values.buffer, values.byteOffset, values.length * 4);
  return encode32(new Uint32Array(values.buffer, values.byteOffset, values.length));
}

function encode32(bits: Uint32Array): Uint8Array {
  const out = new Uint8Array(bits.length * 4);
  for (let i = 0, j = 0; i < bits.length; i++, j += 4) {
    const v = bits[i];
    out[j] = v & 0xff;
    out[j + 1] = (v >>> 8) & 0xff;
    out[j + 2] = (v >>> 16) & 0xff;
    out[j + 3] = v >>> 24;
  }
  return out;
}
