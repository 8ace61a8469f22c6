/**
 * safetensors: the byte format pinned by files written by hand (and by the
 * reference writer's published output), writer ↔ parser round trips, every
 * hardening rule with its message, f16/bf16 conversions against known bit
 * patterns and exhaustive oracles, and tensor save/load on every backend.
 * Random inputs: tests/safetensors.fuzz.test.ts.
 */
import { describe, expect, test } from 'vitest';
import {
  bf16ToF32, decodeFloat32, decodeInt32, DTYPE_BYTES, f16BitsToF32Bits, f16ToF32, f32BitsToBf16Bits, f32BitsToF16Bits,
  f32ToBf16, f32ToF16, FormatError, loadTensors, parseSafetensors, saveTensors, serializeSafetensors, tensor,
  ValueError, ShapeError, DTypeError, ConfigError, type SafetensorsDType,
} from '../src/index.js';
import { EACH_BACKEND, withBackend } from './helpers.js';

// ─── helpers ───────────────────────────────────────────────────────────────

const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

/** u64 little-endian bytes of a number. */
function u64(n: number | bigint): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  for (let i = 0; i < 8; i++) {
    out.push(Number(v & 0xffn));
    v >>= 8n;
  }
  return out;
}

/** A file from a header string (UTF-8, unpadded unless the string is) and data bytes; `n` overrides the length. */
function file(header: string, data: number[] | number = 0, n?: number | bigint): Uint8Array {
  const h = new TextEncoder().encode(header);
  const d = typeof data === 'number' ? new Array<number>(data).fill(0) : data;
  return new Uint8Array([...u64(n ?? h.length), ...h, ...d]);
}

function hexBytes(hex: string): Uint8Array {
  return new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16)));
}

function bits32(a: Float32Array | Int32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

function f32bits(...values: number[]): Float32Array {
  return new Float32Array(new Uint32Array(values).buffer);
}

/** Asserts `fn` throws a FormatError whose message contains every fragment. */
function expectFormatError(fn: () => unknown, ...fragments: string[]): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a FormatError').toBeInstanceOf(FormatError);
  const msg = (err as Error).message;
  expect(msg.startsWith('safetensors: ')).toBe(true);
  for (const f of fragments) expect(msg).toContain(f);
}

const entry = (dtype: string, shape: unknown, offsets: unknown) =>
  JSON.stringify({ dtype, shape, data_offsets: offsets });

// ─── the format, pinned by hand ────────────────────────────────────────────

describe('safetensors format, written by hand', () => {
  // Three tensors and metadata, laid out as the writer lays them out: 4-byte dtypes first
  // (by name: labels, weight), then 2-byte (half); header padded to 216 bytes with 7 spaces.
  const HEADER =
    '{"__metadata__":{"format":"pt"},' +
    '"labels":{"dtype":"I32","shape":[2],"data_offsets":[0,8]},' +
    '"weight":{"dtype":"F32","shape":[2,2],"data_offsets":[8,24]},' +
    '"half":{"dtype":"F16","shape":[3],"data_offsets":[24,30]}}';
  const bytes = new Uint8Array([
    0xd8, 0, 0, 0, 0, 0, 0, 0, // N = 216, u64 little-endian
    ...ascii(HEADER),
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, // padding: 209 + 7 = 216
    0x07, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, // labels: I32 7, -1
    0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x00, 0xc0, // weight: F32 1.5, -2
    0x00, 0x00, 0x80, 0x3e, 0x00, 0x00, 0x00, 0x80, //         0.25, -0
    0x00, 0x3c, 0x00, 0xc0, 0x00, 0x7c, //             half: F16 1, -2, +Inf
  ]);

  test('the header literal is 209 bytes, padded to 216', () => {
    expect(HEADER.length).toBe(209);
    expect(bytes.length).toBe(8 + 216 + 30);
  });

  test('the parser reads it: dtypes, shapes, metadata, views into the input', () => {
    const { tensors, metadata } = parseSafetensors(bytes);
    expect(metadata).toEqual({ format: 'pt' });
    expect([...tensors.keys()]).toEqual(['labels', 'weight', 'half']);
    const w = tensors.get('weight')!;
    expect(w.dtype).toBe('F32');
    expect(w.shape).toEqual([2, 2]);
    expect(w.data.buffer).toBe(bytes.buffer);
    expect(w.data.byteOffset).toBe(8 + 216 + 8);
    expect(Array.from(decodeFloat32('F32', w.data))).toEqual([1.5, -2, 0.25, -0]);
    expect(Object.is(decodeFloat32('F32', w.data)[3], -0)).toBe(true);
    expect(Array.from(decodeInt32('I32', tensors.get('labels')!.data))).toEqual([7, -1]);
    expect(Array.from(decodeFloat32('F16', tensors.get('half')!.data))).toEqual([1, -2, Infinity]);
  });

  test('the writer produces exactly these bytes', () => {
    const out = serializeSafetensors(
      {
        weight: { dtype: 'F32', shape: [2, 2], data: new Float32Array([1.5, -2, 0.25, -0]) },
        half: { dtype: 'F16', shape: [3], data: new Uint16Array([0x3c00, 0xc000, 0x7c00]) },
        labels: { dtype: 'I32', shape: [2], data: new Int32Array([7, -1]) },
      },
      { format: 'pt' },
    );
    expect(Array.from(out)).toEqual(Array.from(bytes));
  });

  test('the same content in another JSON order, with whitespace, parses the same', () => {
    const header =
      ' {\n "half" : {"data_offsets":[24,30],"shape":[3],"dtype":"F16"},\t"weight":{"shape":[2,2],"dtype":"F32","data_offsets":[8,24]},' +
      '"labels":{"dtype":"I32","shape":[2],"data_offsets":[0,8], "extra": {"ignored": [1, 2.5e3, null, true]}},"__metadata__":{"format":"pt"}}\r\n';
    const b = file(header, Array.from(bytes.subarray(8 + 216)));
    const a = parseSafetensors(b);
    const ref = parseSafetensors(bytes);
    expect(a.metadata).toEqual(ref.metadata);
    for (const [name, e] of ref.tensors) {
      const o = a.tensors.get(name)!;
      expect(o.dtype).toBe(e.dtype);
      expect(o.shape).toEqual(e.shape);
      expect(Array.from(o.data)).toEqual(Array.from(e.data));
    }
  });

  // The reference writer's published outputs (the Rust crate's own serialization tests).
  test('matches the reference writer: one F32 tensor, an unpadded 64-byte header', () => {
    const expected = [
      64, 0, 0, 0, 0, 0, 0, 0,
      ...ascii('{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}'),
      0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
    ];
    const out = serializeSafetensors({ 'attn.0': { dtype: 'F32', shape: [1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) } });
    expect(Array.from(out)).toEqual(expected);
    expect(Array.from(decodeFloat32('F32', parseSafetensors(new Uint8Array(expected)).tensors.get('attn.0')!.data))).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test('matches the reference writer: no tensors, with and without metadata', () => {
    expect(Array.from(serializeSafetensors({}))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, ...ascii('{}      ')]);
    expect(Array.from(serializeSafetensors({}, { framework: 'pt' }))).toEqual([
      40, 0, 0, 0, 0, 0, 0, 0, ...ascii('{"__metadata__":{"framework":"pt"}}     '),
    ]);
    const p = parseSafetensors(serializeSafetensors({}, { framework: 'pt' }));
    expect(p.tensors.size).toBe(0);
    expect(p.metadata).toEqual({ framework: 'pt' });
  });

  test('writer layout: largest element size first, then code point order; every tensor aligned', () => {
    const all = Object.keys(DTYPE_BYTES) as SafetensorsDType[];
    const entries: Record<string, { dtype: SafetensorsDType; shape: number[]; data: Uint8Array }> = {};
    for (const dt of all) entries[`t_${dt}`] = { dtype: dt, shape: [3], data: new Uint8Array(3 * DTYPE_BYTES[dt]) };
    entries['\u{1F600}'] = { dtype: 'U8', shape: [1], data: new Uint8Array(1) }; // astral: after U+FFFD in code point order
    entries['\uFFFD'] = { dtype: 'U8', shape: [1], data: new Uint8Array(1) };
    const out = serializeSafetensors(entries);
    const { tensors } = parseSafetensors(out);
    const names = [...tensors.keys()];
    const sizes = names.map((n) => DTYPE_BYTES[tensors.get(n)!.dtype]);
    expect(sizes).toEqual(sizes.slice().sort((a, b) => b - a));
    expect(names.slice(0, 3)).toEqual(['t_F64', 't_I64', 't_U64']);
    expect(names.slice(-2)).toEqual(['\uFFFD', '\u{1F600}']);
    for (const e of tensors.values()) expect(e.data.byteOffset % DTYPE_BYTES[e.dtype]).toBe(0);
    const n = Number(new DataView(out.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
  });
});

// ─── interop: a file written by the reference implementation ───────────────

describe('safetensors written by the reference implementation', () => {
  // scripts/make-safetensors-fixture.py, safetensors 0.8.0 (Rust core): one tensor of every dtype,
  // laid out the reference's way (U64, I64, F64, then F32 …, by its dtype order, then name).
  const REFERENCE = hexBytes(
    '90030000000000007b225f5f6d657461646174615f5f223a7b22666f726d6174223a226e70227d2c22753634223a7b226474797065223a22' +
    '553634222c227368617065223a5b315d2c22646174615f6f666673657473223a5b302c385d7d2c22693634223a7b226474797065223a2249' +
    '3634222c227368617065223a5b335d2c22646174615f6f666673657473223a5b382c33325d7d2c22663634223a7b226474797065223a2246' +
    '3634222c227368617065223a5b325d2c22646174615f6f666673657473223a5b33322c34385d7d2c22656d707479223a7b22647479706522' +
    '3a22463332222c227368617065223a5b302c335d2c22646174615f6f666673657473223a5b34382c34385d7d2c22663332223a7b22647479' +
    '7065223a22463332222c227368617065223a5b322c345d2c22646174615f6f666673657473223a5b34382c38305d7d2c227363616c617222' +
    '3a7b226474797065223a22463332222c227368617065223a5b5d2c22646174615f6f666673657473223a5b38302c38345d7d2c2275333222' +
    '3a7b226474797065223a22553332222c227368617065223a5b315d2c22646174615f6f666673657473223a5b38342c38385d7d2c22693332' +
    '223a7b226474797065223a22493332222c227368617065223a5b322c315d2c22646174615f6f666673657473223a5b38382c39365d7d2c22' +
    '62663136223a7b226474797065223a2242463136222c227368617065223a5b345d2c22646174615f6f666673657473223a5b39362c313034' +
    '5d7d2c22663136223a7b226474797065223a22463136222c227368617065223a5b355d2c22646174615f6f666673657473223a5b3130342c' +
    '3131345d7d2c22753136223a7b226474797065223a22553136222c227368617065223a5b315d2c22646174615f6f666673657473223a5b31' +
    '31342c3131365d7d2c22693136223a7b226474797065223a22493136222c227368617065223a5b325d2c22646174615f6f66667365747322' +
    '3a5b3131362c3132305d7d2c226938223a7b226474797065223a224938222c227368617065223a5b325d2c22646174615f6f666673657473' +
    '223a5b3132302c3132325d7d2c227538223a7b226474797065223a225538222c227368617065223a5b335d2c22646174615f6f6666736574' +
    '73223a5b3132322c3132355d7d2c22666c6167223a7b226474797065223a22424f4f4c222c227368617065223a5b325d2c22646174615f6f' +
    '666673657473223a5b3132352c3132375d7d7d2020202020070000000000000000000080ffffffffffffff7f00000000ffffffffffffffff' +
    '9a9999999999b93f9c7500883ce437fe0000c03f000000800000807f000080ff0100c07f4523c1ff01000000ffff7f7f0000204040e20100' +
    '00000080ffffff7f803f40c0807f0100003c00c0ff7b0100007cffffd4fe2c01807f00ff010100',
  );

  test('parses, every dtype decodes to the values written', () => {
    const { tensors, metadata } = parseSafetensors(REFERENCE);
    expect(metadata).toEqual({ format: 'np' });
    expect([...tensors.keys()]).toEqual([
      'u64', 'i64', 'f64', 'empty', 'f32', 'scalar', 'u32', 'i32', 'bf16', 'f16', 'u16', 'i16', 'i8', 'u8', 'flag',
    ]);
    const f = (name: string) => Array.from(decodeFloat32(tensors.get(name)!.dtype, tensors.get(name)!.data));
    const i = (name: string) => Array.from(decodeInt32(tensors.get(name)!.dtype, tensors.get(name)!.data));
    expect(tensors.get('f32')!.shape).toEqual([2, 4]);
    expect(bits32(decodeFloat32('F32', tensors.get('f32')!.data))).toEqual([
      0x3fc00000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00001, 0xffc12345, 0x00000001, 0x7f7fffff,
    ]);
    expect(f('f16')).toEqual([1, -2, 65504, 2 ** -24, Infinity]);
    expect(f('bf16')).toEqual([1, -3, Infinity, f32FromBits(0x00010000)]);
    expect(f('f64')).toEqual([Math.fround(0.1), -Infinity]);
    expect(tensors.get('scalar')!.shape).toEqual([]);
    expect(f('scalar')).toEqual([2.5]);
    expect(tensors.get('empty')!.shape).toEqual([0, 3]);
    expect(i('i64')).toEqual([-(2 ** 31), 2 ** 31 - 1, -1]);
    expect(i('u64')).toEqual([7]);
    expect(i('i32')).toEqual([-(2 ** 31), 2 ** 31 - 1]);
    expect(i('u32')).toEqual([123456]);
    expect(i('i16')).toEqual([-300, 300]);
    expect(i('u16')).toEqual([65535]);
    expect(i('i8')).toEqual([-128, 127]);
    expect(i('u8')).toEqual([0, 255, 1]);
    expect(i('flag')).toEqual([1, 0]);
  });

  test('rewritten by wasmgrad: the same tensors, laid out by element size then name', () => {
    const ref = parseSafetensors(REFERENCE);
    const again = parseSafetensors(serializeSafetensors(ref.tensors, ref.metadata));
    expect([...again.tensors.keys()].slice(0, 3)).toEqual(['f64', 'i64', 'u64']);
    expect(again.metadata).toEqual(ref.metadata);
    for (const [name, e] of ref.tensors) {
      expect(again.tensors.get(name)).toMatchObject({ dtype: e.dtype, shape: e.shape });
      expect(Array.from(again.tensors.get(name)!.data)).toEqual(Array.from(e.data));
    }
  });

  test.each(EACH_BACKEND)('loadTensors on %s', (_name, be) => {
    const { tensors } = loadTensors(REFERENCE, { backend: be });
    expect(tensors.f32.backend).toBe(be);
    expect(bits32(tensors.f32.data())[4]).toBe(0x7fc00001);
    expect(tensors.f16.dtype).toBe('float32');
    expect(tensors.i64.dtype).toBe('int32');
    expect(Array.from(tensors.i64.data())).toEqual([-(2 ** 31), 2 ** 31 - 1, -1]);
    for (const t of Object.values(tensors)) t.dispose();
  });
});

// ─── round trips ───────────────────────────────────────────────────────────

describe('safetensors round trips (writer → parser)', () => {
  test('F32 bit-exact: NaN payloads, -0, ±Inf, subnormals, extremes', () => {
    const patterns = [
      0x7fc00000, 0x7fc00001, 0xffc12345, 0x7f800001, 0xff80dead, 0x7fffffff, // NaNs, quiet and signalling
      0x80000000, 0x00000000, 0x7f800000, 0xff800000, // -0, +0, ±Inf
      0x00000001, 0x807fffff, 0x7f7fffff, 0xff7fffff, 0x3f800000, // subnormals, ±max, 1
    ];
    const data = f32bits(...patterns);
    const out = serializeSafetensors({ x: { dtype: 'F32', shape: [patterns.length], data } });
    const e = parseSafetensors(out).tensors.get('x')!;
    expect(bits32(decodeFloat32('F32', e.data))).toEqual(patterns);
    expect(Array.from(e.data)).toEqual(Array.from(new Uint8Array(data.buffer)));
  });

  test('I32, empty tensors, scalars, metadata', () => {
    const out = serializeSafetensors(
      {
        ints: { dtype: 'I32', shape: [2, 2], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1, 0, -1]) },
        empty: { dtype: 'F32', shape: [0], data: new Float32Array(0) },
        empty2d: { dtype: 'I64', shape: [3, 0], data: new Uint8Array(0) },
        scalar: { dtype: 'F32', shape: [], data: new Float32Array([42]) },
      },
      new Map([['', 'empty key'], ['__proto__', 'not a prototype'], ['ünï', 'cödé 🎉'], ['newline', 'a\nb"c\\']]),
    );
    const { tensors, metadata } = parseSafetensors(out);
    expect(Array.from(decodeInt32('I32', tensors.get('ints')!.data))).toEqual([-(2 ** 31), 2 ** 31 - 1, 0, -1]);
    expect(tensors.get('empty')).toMatchObject({ dtype: 'F32', shape: [0] });
    expect(tensors.get('empty')!.data.length).toBe(0);
    expect(tensors.get('empty2d')).toMatchObject({ dtype: 'I64', shape: [3, 0] });
    expect(tensors.get('scalar')!.shape).toEqual([]);
    expect(Array.from(decodeFloat32('F32', tensors.get('scalar')!.data))).toEqual([42]);
    expect(Object.keys(metadata).sort()).toEqual(['', '__proto__', 'newline', 'ünï']);
    expect(metadata['__proto__']).toBe('not a prototype');
    expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype);
    expect(metadata['ünï']).toBe('cödé 🎉');
    expect(metadata.newline).toBe('a\nb"c\\');
  });

  test('every dtype: bytes survive unchanged', () => {
    let seed = 1;
    const entries: Record<string, { dtype: SafetensorsDType; shape: number[]; data: Uint8Array }> = {};
    for (const dt of Object.keys(DTYPE_BYTES) as SafetensorsDType[]) {
      const data = new Uint8Array(5 * 3 * DTYPE_BYTES[dt]).map(() => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
      entries[dt.toLowerCase()] = { dtype: dt, shape: [5, 3], data };
    }
    const { tensors } = parseSafetensors(serializeSafetensors(entries));
    expect(tensors.size).toBe(13);
    for (const [name, e] of Object.entries(entries)) {
      expect(tensors.get(name)!.dtype).toBe(e.dtype);
      expect(Array.from(tensors.get(name)!.data)).toEqual(Array.from(e.data));
    }
  });

  test('unusual names: unicode, quotes, control characters, __proto__, empty', () => {
    const names = ['', '__proto__', 'a"b\\c', 'tab\there', 'nul\u0000', 'ελληνικά.weight', '🎉'];
    const entries = Object.fromEntries(names.map((n, i) => [n, { dtype: 'U8' as const, shape: [1], data: new Uint8Array([i]) }]));
    const { tensors } = parseSafetensors(serializeSafetensors(entries));
    expect([...tensors.keys()].sort()).toEqual(names.slice().sort());
    names.forEach((n, i) => expect(tensors.get(n)!.data[0]).toBe(i));
  });

  test('accepts ArrayBuffer, a Uint8Array at an offset, and another typed-array view', () => {
    const out = serializeSafetensors({ x: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } });
    const padded = new Uint8Array(out.length + 5);
    padded.set(out, 3);
    const inner = padded.subarray(3, 3 + out.length);
    for (const input of [out.slice().buffer, inner]) {
      const e = parseSafetensors(input).tensors.get('x')!;
      expect(Array.from(decodeFloat32('F32', e.data))).toEqual([1, 2]);
    }
    expect(parseSafetensors(inner).tensors.get('x')!.data.byteOffset).toBe(3 + out.length - 8);
    expect(parseSafetensors(new DataView(out.buffer) as unknown as Uint8Array).tensors.size).toBe(1);
  });

  test('__metadata__: null is no metadata (as the reference accepts)', () => {
    expect(parseSafetensors(file('{"__metadata__":null}')).metadata).toEqual({});
  });

  test('the writer rejects what it cannot write', () => {
    const f = new Float32Array(2);
    expect(() => serializeSafetensors({ x: { dtype: 'F8' as SafetensorsDType, shape: [2], data: f } })).toThrow(DTypeError);
    expect(() => serializeSafetensors({ x: { dtype: 'F32', shape: [3], data: f } })).toThrow(
      "serializeSafetensors: tensor 'x': data has 8 bytes but shape [3] of F32 needs 12 (3 elements × 4 bytes)",
    );
    expect(() => serializeSafetensors({ x: { dtype: 'F32', shape: [-2], data: f } })).toThrow(ShapeError);
    expect(() => serializeSafetensors({ x: { dtype: 'F32', shape: [2], data: [1, 2] as unknown as Float32Array } })).toThrow(ValueError);
    expect(() => serializeSafetensors({ __metadata__: { dtype: 'F32', shape: [2], data: f } })).toThrow("'__metadata__'");
    expect(() => serializeSafetensors({ 'a\ud800': { dtype: 'F32', shape: [2], data: f } })).toThrow('lone surrogate');
    expect(() => serializeSafetensors({}, { a: 1 as unknown as string })).toThrow('metadata values must be strings');
  });
});

// ─── hardening: every rule, its message ────────────────────────────────────

describe('safetensors hardening', () => {
  const ok = entry('F32', [2], [0, 8]);

  test('file shorter than 8 bytes', () => {
    expectFormatError(() => parseSafetensors(new Uint8Array(5)), 'file is 5 bytes, shorter than the 8-byte header length prefix');
    expectFormatError(() => parseSafetensors(new Uint8Array(0)), 'file is 0 bytes');
  });

  test('header length beyond the file', () => {
    expectFormatError(() => parseSafetensors(file('{}', 0, 100)), 'header length 100 runs past the end of the file: 8 + 100 = 108 > 10 bytes');
  });

  test('header length beyond the limit (default 100,000,000 and options.maxHeaderBytes)', () => {
    expectFormatError(() => parseSafetensors(file('{}', 0, 100_000_001)), 'header length 100000001 exceeds the limit of 100000000 bytes');
    const b = serializeSafetensors({ x: { dtype: 'F32', shape: [2], data: new Float32Array(2) } });
    expectFormatError(() => parseSafetensors(b, { maxHeaderBytes: 16 }), 'header length 56 exceeds the limit of 16 bytes', 'maxHeaderBytes');
    expect(parseSafetensors(b, { maxHeaderBytes: 56 }).tensors.size).toBe(1);
  });

  test('header length not a safe JS number (u64 over 2^53-1)', () => {
    expectFormatError(() => parseSafetensors(file('{}', 0, 2n ** 53n)), 'header length 9007199254740992', 'over 2^53-1');
    expectFormatError(() => parseSafetensors(file('{}', 0, 2n ** 64n - 1n)), 'header length 18446744073709551615', 'over 2^53-1');
    // 2^53-1 itself is a number, and then merely too large.
    expectFormatError(() => parseSafetensors(file('{}', 0, 2n ** 53n - 1n)), 'header length 9007199254740991 exceeds the limit');
  });

  test('malformed UTF-8 in the header: position and byte', () => {
    const bad = (bytes: number[]) => new Uint8Array([...u64(bytes.length), ...bytes]);
    const pre = ascii('{"a');
    expectFormatError(() => parseSafetensors(bad([...pre, 0xff, ...ascii('":1}')])), 'not valid UTF-8', 'header byte 3 (file byte 11), byte 0xff');
    expectFormatError(() => parseSafetensors(bad([...pre, 0xc0, 0x80, ...ascii('":1}')])), 'header byte 3', 'byte 0xc0'); // overlong
    expectFormatError(() => parseSafetensors(bad([...pre, 0xed, 0xa0, 0x80, ...ascii('":1}')])), 'header byte 3', 'byte 0xed'); // surrogate
    expectFormatError(() => parseSafetensors(bad([...ascii('{} '), 0xe2, 0x82])), 'header byte 3', 'byte 0xe2'); // truncated
  });

  test('malformed JSON: the problem and where', () => {
    const cases: [string, string][] = [
      ['{"a":', 'unexpected end of header, expected a value at character 5'],
      ['{"a":1} x', 'unexpected "x" after the end of the top-level value at character 8'],
      ['{"a":1,}', 'expected a key string at character 7'],
      ["{'a':1}", 'expected a key string at character 1'],
      ['{"a" 1}', "after key 'a', expected ':'"],
      ['{"a":[1 2]}', "in an array, expected ',' or ']'"],
      ['{"a":1 "b":2}', "in an object, expected ',' or '}'"],
      ['{"a":"unterminated}', 'unterminated string at character 5'],
      ['{"a":"tab\there"}', 'control character U+0009 inside a string'],
      ['{"a":"\\x"}', 'invalid escape "\\\\x"'],
      ['{"a":"\\u12"}', '\\u must be followed by 4 hex digits'],
      ['{"a":"\\ud800"}', 'lone high surrogate \\ud800'],
      ['{"a":"\\udc00x"}', 'lone low surrogate \\udc00'],
      ['{"a":01}', 'unexpected "1" in an object'],
      ['{"a":-}', 'a number needs digits'],
      ['{"a":1.}', 'digits after the decimal point'],
      ['{"a":1e}', 'digits in its exponent'],
      ['{"a":tru}', 'unexpected "t", expected a value'],
      ['{"a":NaN}', 'unexpected "N", expected a value'],
      ['\ufeff{}', 'unexpected "\ufeff", expected a value at character 0'],
      ['', 'the header is empty'],
      ['        ', 'the header is empty'],
    ];
    for (const [header, msg] of cases) expectFormatError(() => parseSafetensors(file(header)), 'header is not valid JSON: ', msg);
  });

  test('nesting is bounded (no stack overflow, however deep)', () => {
    const deep = (d: number) => `{"a":{"dtype":"U8","shape":[],"data_offsets":[0,1],"x":${'['.repeat(d)}${']'.repeat(d)}}}`;
    expect(parseSafetensors(file(deep(60), [7])).tensors.get('a')!.data[0]).toBe(7);
    expectFormatError(() => parseSafetensors(file(deep(100), [7])), 'nesting deeper than 64 levels');
    expectFormatError(() => parseSafetensors(file('['.repeat(1_000_000))), 'nesting deeper than 64 levels');
  });

  test('JSON that is not an object', () => {
    expectFormatError(() => parseSafetensors(file('[]')), 'header must be a JSON object; got an array');
    expectFormatError(() => parseSafetensors(file('"x"')), "header must be a JSON object; got the string 'x'");
    expectFormatError(() => parseSafetensors(file('3')), 'got the number 3');
    expectFormatError(() => parseSafetensors(file('null')), 'got null');
  });

  test('entry not an object, missing fields, wrong types', () => {
    const t = (e: string, data = 8) => () => parseSafetensors(file(`{"w":${e}}`, data));
    expectFormatError(t('3'), "tensor 'w': entry must be an object with dtype, shape and data_offsets; got the number 3");
    expectFormatError(t('[]'), "tensor 'w': entry must be an object", 'got an array');
    expectFormatError(t('{"shape":[2],"data_offsets":[0,8]}'), "tensor 'w': entry has no 'dtype'");
    expectFormatError(t('{"dtype":"F32","data_offsets":[0,8]}'), "tensor 'w': entry has no 'shape'");
    expectFormatError(t('{"dtype":"F32","shape":[2]}'), "tensor 'w': entry has no 'data_offsets'");
    expectFormatError(t(entry(32 as unknown as string, [2], [0, 8])), "tensor 'w': 'dtype' must be a string; got the number 32");
    expectFormatError(t(entry('F32', 2, [0, 8])), "tensor 'w': 'shape' must be an array of integers; got the number 2");
    expectFormatError(t(entry('F32', ['2'], [0, 8])), "tensor 'w': shape[0] must be a non-negative integer; got the string '2'");
    expectFormatError(t(entry('F32', [2], '0-8')), "tensor 'w': 'data_offsets' must be [begin, end]; got the string '0-8'");
    expectFormatError(t(entry('F32', [2], [0])), "'data_offsets' must be [begin, end]; got an array of 1 elements");
    expectFormatError(t(entry('F32', [2], [0, 8, 8])), 'got an array of 3 elements');
    expectFormatError(t(entry('F32', [2], [0, null])), "tensor 'w': data_offsets[1] (end) must be a non-negative integer; got null");
  });

  test('shape dims: negative, non-integer, not an integer literal, huge', () => {
    const t = (shape: string) => () => parseSafetensors(file(`{"w":{"dtype":"U8","shape":${shape},"data_offsets":[0,0]}}`));
    expectFormatError(t('[2,-3]'), "tensor 'w': shape[1] is -3: negative; must be a non-negative integer");
    expectFormatError(t('[2.5]'), "tensor 'w': shape[0] is 2.5: not an integer literal");
    expectFormatError(t('[1e2]'), 'shape[0] is 1e2: not an integer literal');
    expectFormatError(t('[2.0]'), 'shape[0] is 2.0: not an integer literal');
    expectFormatError(t('[-0]'), 'shape[0] is -0: negative');
    expectFormatError(t('[9007199254740992]'), 'shape[0] is 9007199254740992, over 2^53-1');
    expectFormatError(t('[18446744073709551616]'), 'shape[0] is 18446744073709551616, over 2^53-1');
    expectFormatError(t(`[${'9'.repeat(5000)}]`), 'shape[0] is 999999999', '…(5000 characters), over 2^53-1');
  });

  test('product(shape) overflowing; bytes overflowing', () => {
    const t = (dtype: string, shape: string) => () =>
      parseSafetensors(file(`{"w":{"dtype":"${dtype}","shape":${shape},"data_offsets":[0,0]}}`));
    expectFormatError(t('U8', '[4294967296,4294967296]'), "tensor 'w': shape [4294967296,4294967296] has more than 2^53-1 elements");
    expectFormatError(t('U8', '[4294967296,4294967296,0]'), 'has more than 2^53-1 elements'); // as the reference: overflow before the 0
    expectFormatError(t('F64', '[2251799813685248]'), "shape [2251799813685248] of F64 needs more than 2^53-1 bytes (2251799813685248 elements × 8 bytes)");
    // A large but representable shape is simply a byte-count mismatch, with no allocation.
    expectFormatError(t('F32', '[1000000,1000000]'), 'hold 0 bytes but shape [1000000,1000000] of F32 needs 4000000000000');
  });

  test('unknown and unsupported dtypes', () => {
    const t = (dtype: string) => () => parseSafetensors(file(`{"w":${entry(dtype, [2], [0, 2])}}`, 2));
    expectFormatError(t('F33'), "tensor 'w': unknown dtype 'F33'; valid: BOOL, U8, I8, U16, I16, F16, BF16, U32, I32, F32, F64, U64, I64");
    expectFormatError(t('f32'), "unknown dtype 'f32'");
    expectFormatError(t('F8_E4M3'), "tensor 'w': dtype 'F8_E4M3' is not supported by wasmgrad; supported: BOOL");
    expectFormatError(t('C64'), "dtype 'C64' is not supported");
    expectFormatError(t('toString'), "unknown dtype 'toString'");
  });

  test('offsets out of range, reversed, negative, non-integer', () => {
    const t = (offsets: unknown, data: number) => () => parseSafetensors(file(`{"w":${entry('F32', [2], offsets)}}`, data));
    expectFormatError(t([0, 16], 8), "tensor 'w': data_offsets [0,16] run past the end of the 8-byte data buffer by 8 bytes");
    expectFormatError(t([8, 0], 8), "tensor 'w': data_offsets [8,0] are reversed (end 0 < begin 8)");
    expectFormatError(t([-8, 0], 8), "tensor 'w': data_offsets[0] (begin) is -8: negative");
    expectFormatError(t([0, 8.5], 8), "tensor 'w': data_offsets[1] (end) is 8.5: not an integer literal");
    expectFormatError(t([0, 2 ** 53], 8), 'data_offsets[1] (end) is 9007199254740992, over 2^53-1');
  });

  test('byte count ≠ product(shape) × dtype size', () => {
    expectFormatError(
      () => parseSafetensors(file(`{"w":${entry('F32', [3], [0, 8])}}`, 8)),
      "tensor 'w': data_offsets [0,8] hold 8 bytes but shape [3] of F32 needs 12 (3 elements × 4 bytes)",
    );
    expectFormatError(() => parseSafetensors(file(`{"s":${entry('F64', [], [0, 4])}}`, 4)), "tensor 's'", 'shape [] of F64 needs 8 (1 elements × 8 bytes)');
  });

  test('offsets overlapping', () => {
    expectFormatError(
      () => parseSafetensors(file(`{"b":${entry('F32', [2], [4, 12])},"a":${entry('F32', [2], [0, 8])}}`, 12)),
      "tensors 'a' [0,8] and 'b' [4,12] overlap (4 bytes shared)",
    );
    expectFormatError(
      () => parseSafetensors(file(`{"a":${ok},"b":${entry('F32', [2], [0, 8])}}`, 8)),
      "tensors 'a' [0,8] and 'b' [0,8] overlap (8 bytes shared)",
    );
    // An empty tensor inside another one's range.
    expectFormatError(
      () => parseSafetensors(file(`{"a":${ok},"e":${entry('F32', [0], [4, 4])}}`, 8)),
      "tensors 'a' [0,8] and 'e' [4,4] overlap",
    );
  });

  test('offsets leaving gaps', () => {
    expectFormatError(
      () => parseSafetensors(file(`{"a":${ok},"b":${entry('F32', [2], [12, 20])}}`, 20)),
      "gap of 4 bytes in the data buffer between 'a' [0,8] and 'b' [12,20]; tensors must be contiguous",
    );
    expectFormatError(
      () => parseSafetensors(file(`{"a":${entry('F32', [2], [4, 12])}}`, 12)),
      "gap of 4 bytes in the data buffer between the start of the data buffer and 'a' [4,12]",
    );
  });

  test('offsets not covering the buffer (trailing bytes)', () => {
    expectFormatError(
      () => parseSafetensors(file(`{"a":${ok}}`, 12)),
      'the tensors cover 8 of the 12 bytes of the data buffer; 4 trailing bytes belong to no tensor',
    );
    expectFormatError(() => parseSafetensors(file('{}', 3)), 'cover 0 of the 3 bytes');
  });

  test('duplicate names (JSON.parse would silently keep the last one)', () => {
    const header = `{"w":${entry('F32', [2], [0, 8])},"w":${entry('F32', [2], [8, 16])}}`;
    expect(Object.keys(JSON.parse(header))).toEqual(['w']); // what a naive parser sees
    expectFormatError(() => parseSafetensors(file(header, 16)), "duplicate tensor name 'w' in the header (at character 54)");
    expectFormatError(
      () => parseSafetensors(file('{"__metadata__":{},"__metadata__":{}}')),
      "header has two '__metadata__' entries",
    );
    expectFormatError(
      () => parseSafetensors(file('{"w":{"dtype":"F32","dtype":"U8","shape":[8],"data_offsets":[0,8]}}', 8)),
      "duplicate key 'dtype' in the entry of tensor 'w'",
    );
    expectFormatError(() => parseSafetensors(file('{"__metadata__":{"k":"a","k":"b"}}')), "duplicate key 'k' in __metadata__");
    // Escapes are decoded before comparing: "w" and "\u0077" are the same name.
    expectFormatError(
      () => parseSafetensors(file(`{"w":${entry('F32', [2], [0, 8])},"\\u0077":${entry('F32', [2], [8, 16])}}`, 16)),
      "duplicate tensor name 'w'",
    );
  });

  test('__metadata__ not an object of strings', () => {
    expectFormatError(() => parseSafetensors(file('{"__metadata__":[]}')), '__metadata__ must be an object of strings; got an array');
    expectFormatError(() => parseSafetensors(file('{"__metadata__":"x"}')), "__metadata__ must be an object of strings; got the string 'x'");
    expectFormatError(
      () => parseSafetensors(file('{"__metadata__":{"epoch":3}}')),
      "__metadata__ must be an object of strings; the value of 'epoch' is the number 3",
    );
    expectFormatError(() => parseSafetensors(file('{"__metadata__":{"a":{"b":"c"}}}')), "the value of 'a' is an object");
  });

  test('names in messages are quoted and clipped', () => {
    const long = 'x'.repeat(1000);
    expectFormatError(() => parseSafetensors(file(`{"${long}":3}`)), `tensor '${'x'.repeat(80)}…(1000 characters)'`);
    expectFormatError(() => parseSafetensors(file('{"a\\nb":3}')), "tensor 'a\\nb'");
  });

  test('a lying header allocates nothing: 2^40-element shape in a 100-byte file fails fast', () => {
    const t0 = performance.now();
    expectFormatError(() => parseSafetensors(file(`{"w":${entry('F32', [1 << 20, 1 << 20], [0, 4 * 2 ** 40])}}`, 8)), 'run past the end');
    expect(performance.now() - t0).toBeLessThan(100);
  });

  test('invalid arguments are not FormatErrors', () => {
    expect(() => parseSafetensors('abc' as unknown as Uint8Array)).toThrow(ValueError);
    expect(() => parseSafetensors(new Uint8Array(16), { maxHeaderBytes: -1 })).toThrow(ConfigError);
    expect(() => parseSafetensors(new Uint8Array(16), { maxHeaderByte: 5 } as never)).toThrow(
      "parseSafetensors: unknown option 'maxHeaderByte'; valid: maxHeaderBytes",
    );
  });
});

// ─── dtype conversions ─────────────────────────────────────────────────────

/** float64 value of f16 bits, from the definition. */
function f16Value(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0x1f) return m === 0 ? s * Infinity : NaN;
  return e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
}

function f32FromBits(b: number): number {
  return f32bits(b)[0];
}

function bitsOfF32(x: number): number {
  return new Uint32Array(new Float32Array([x]).buffer)[0];
}

describe('f16 / bf16 conversions', () => {
  test('f16 → f32: known bit patterns', () => {
    const cases: [number, number][] = [
      [0x0000, 0x00000000], // +0
      [0x8000, 0x80000000], // -0
      [0x0001, 0x33800000], // smallest subnormal 2^-24
      [0x8001, 0xb3800000],
      [0x03ff, 0x387fc000], // largest subnormal
      [0x0400, 0x38800000], // smallest normal 2^-14
      [0x3c00, 0x3f800000], // 1
      [0xc000, 0xc0000000], // -2
      [0x3555, 0x3eaaa000], // 0.333…
      [0x7bff, 0x477fe000], // max finite 65504
      [0xfbff, 0xc77fe000],
      [0x7c00, 0x7f800000], // +Inf
      [0xfc00, 0xff800000], // -Inf
      [0x7e00, 0x7fc00000], // quiet NaN
      [0x7c01, 0x7f802000], // signalling NaN, payload kept
      [0xfe3f, 0xffc7e000], // negative NaN with payload
    ];
    for (const [h, f] of cases) expect(f16BitsToF32Bits(h), `0x${h.toString(16)}`).toBe(f);
    expect(f16ToF32(0x7bff)).toBe(65504);
    expect(f16ToF32(0x0001)).toBe(2 ** -24);
  });

  test('f16 → f32 is exact for all 65536 patterns and f32 → f16 gives them back', () => {
    for (let h = 0; h < 0x10000; h++) {
      const v = f16ToF32(h);
      const ref = f16Value(h);
      if (Number.isNaN(ref)) expect(Number.isNaN(v)).toBe(true);
      else if (v !== ref || (v === 0 && Object.is(v, -0) !== Object.is(ref, -0))) expect(v, `0x${h.toString(16)}`).toBe(ref);
      const back = f32BitsToF16Bits(f16BitsToF32Bits(h));
      if (back !== h) expect(back, `round trip 0x${h.toString(16)}`).toBe(h);
    }
  });

  test('f32 → f16: rounding to nearest even at ties, overflow, underflow', () => {
    const cases: [number, number][] = [
      [65504, 0x7bff],
      [65519.99, 0x7bff], // below the tie with 2^16
      [65520, 0x7c00], // tie between max (odd mantissa) and 2^16: rounds to even, i.e. Inf
      [1e10, 0x7c00],
      [-1e10, 0xfc00],
      [1 + 2 ** -11, 0x3c00], // tie: 1 (even) wins
      [1 + 3 * 2 ** -11, 0x3c02], // tie between 0x3c01 (odd) and 0x3c02
      [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above the tie
      [2 ** -24, 0x0001],
      [2 ** -25, 0x0000], // tie between 0 and the smallest subnormal: 0
      [2 ** -25 * 1.5, 0x0001],
      [3 * 2 ** -25, 0x0002], // tie between 1 and 2 units: 2
      [1023.5 * 2 ** -24, 0x0400], // tie between the largest subnormal (odd) and the smallest normal
      [2 ** -26, 0x0000],
      [-(2 ** -26), 0x8000],
      [1e-45, 0x0000], // f32 subnormal
      [-0, 0x8000],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
      [NaN, 0x7e00],
    ];
    for (const [x, h] of cases) expect(f32ToF16(x), String(x)).toBe(h);
    expect(f32BitsToF16Bits(0x7f800001)).toBe(0x7e00); // payload below the kept bits: still a NaN
    expect(f32BitsToF16Bits(0xff802000)).toBe(0xfc01); // payload kept
  });

  test('f32 → f16 agrees with a brute-force nearest-even oracle at every tie and its neighbours', () => {
    // All positive finite f16 values, ascending.
    const vals: number[] = [];
    for (let h = 0; h <= 0x7bff; h++) vals.push(f16Value(h));
    const oracle = (x: number): number => {
      const a = Math.abs(x);
      const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
      if (a >= 65520) return sign | 0x7c00;
      let lo = 0;
      let hi = vals.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (vals[mid] <= a) lo = mid;
        else hi = mid - 1;
      }
      if (lo === vals.length - 1 || vals[lo] === a) return sign | lo;
      const dl = a - vals[lo];
      const du = vals[lo + 1] - a;
      return sign | (dl < du || (dl === du && lo % 2 === 0) ? lo : lo + 1);
    };
    let checked = 0;
    for (let h = 0; h < 0x7bff; h++) {
      const mid = bitsOfF32((vals[h] + vals[h + 1]) / 2); // exact in f32
      for (const b of [mid - 1, mid, mid + 1, bitsOfF32(vals[h])]) {
        for (const s of [0, 0x80000000]) {
          const bits = (b | s) >>> 0;
          const got = f32BitsToF16Bits(bits);
          const want = oracle(f32FromBits(bits));
          if (got !== want) expect(got, `f32 bits 0x${bits.toString(16)}`).toBe(want);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(200_000);
  });

  test('bf16 ↔ f32: known patterns, exact widening, nearest-even narrowing vs an oracle', () => {
    expect(bf16ToF32(0x3f80)).toBe(1);
    expect(bf16ToF32(0xc000)).toBe(-2);
    expect(bf16ToF32(0x7f80)).toBe(Infinity);
    expect(bf16ToF32(0x8000)).toBe(-0);
    expect(bf16ToF32(0x0001)).toBe(f32FromBits(0x00010000)); // subnormal
    expect(f32ToBf16(1 + 2 ** -8)).toBe(0x3f80); // tie → even
    expect(f32ToBf16(1 + 3 * 2 ** -8)).toBe(0x3f82); // tie → even
    expect(f32ToBf16(1 + 2 ** -8 + 2 ** -20)).toBe(0x3f81);
    expect(f32BitsToBf16Bits(0x7f7fffff)).toBe(0x7f80); // max f32 rounds to Inf
    expect(f32BitsToBf16Bits(0x7fc00000)).toBe(0x7fc0);
    expect(f32BitsToBf16Bits(0x7f800001)).toBe(0x7fc0); // NaN stays NaN
    expect(f32BitsToBf16Bits(0xffa50000)).toBe(0xffa5); // payload kept
    expect(f32ToBf16(-0)).toBe(0x8000);
    for (let b = 0; b < 0x10000; b++) {
      const back = f32BitsToBf16Bits(((b << 16) >>> 0));
      if (back !== b) expect(back, `0x${b.toString(16)}`).toBe(b);
    }
    let s = 12345;
    for (let i = 0; i < 100_000; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      if ((s & 0x7f800000) === 0x7f800000) continue; // Inf/NaN covered above
      const x = f32FromBits(s);
      const top = s >>> 16;
      const down = f32FromBits((top << 16) >>> 0);
      // Past the largest finite value the next step up is ±2^128 (rounding as if the exponent were unbounded).
      const up = f32FromBits(((top + 1) << 16) >>> 0);
      const dl = Math.abs(x - down);
      const du = Math.abs((Number.isFinite(up) ? up : Math.sign(up) * 2 ** 128) - x);
      const want = dl < du || (dl === du && (top & 1) === 0) ? top : top + 1;
      const got = f32BitsToBf16Bits(s);
      if (got !== want) expect(got, `0x${s.toString(16)}`).toBe(want);
    }
  });

  test('decodeInt32: every integer dtype; out-of-range values name the element', () => {
    const le = (n: bigint, size: number) => {
      const out: number[] = [];
      for (let i = 0; i < size; i++) out.push(Number((n >> BigInt(8 * i)) & 0xffn));
      return out;
    };
    const b = (vals: bigint[], size: number) => new Uint8Array(vals.flatMap((v) => le(BigInt.asUintN(size * 8, v), size)));
    expect(Array.from(decodeInt32('BOOL', new Uint8Array([0, 1, 2])))).toEqual([0, 1, 1]);
    expect(Array.from(decodeInt32('U8', new Uint8Array([0, 255])))).toEqual([0, 255]);
    expect(Array.from(decodeInt32('I8', new Uint8Array([0x80, 0x7f, 0xff])))).toEqual([-128, 127, -1]);
    expect(Array.from(decodeInt32('U16', b([0n, 65535n], 2)))).toEqual([0, 65535]);
    expect(Array.from(decodeInt32('I16', b([-32768n, 32767n], 2)))).toEqual([-32768, 32767]);
    expect(Array.from(decodeInt32('U32', b([0n, 2147483647n], 4)))).toEqual([0, 2147483647]);
    expect(Array.from(decodeInt32('I64', b([-2147483648n, 2147483647n, -1n, 0n], 8)))).toEqual([-2147483648, 2147483647, -1, 0]);
    expect(Array.from(decodeInt32('U64', b([0n, 2147483647n], 8)))).toEqual([0, 2147483647]);
    expect(() => decodeInt32('U32', b([1n, 4294967295n], 4), 'idx')).toThrow('idx (U32) element 1 is 4294967295, outside int32');
    expect(() => decodeInt32('I64', b([2147483648n], 8), 'idx')).toThrow('idx (I64) element 0 is 2147483648, outside int32');
    expect(() => decodeInt32('I64', b([0n, -2147483649n], 8), 'idx')).toThrow('element 1 is -2147483649');
    expect(() => decodeInt32('U64', b([2n ** 64n - 1n], 8), 'idx')).toThrow('element 0 is 18446744073709551615');
    expect(() => decodeInt32('U64', b([2n ** 31n], 8), 'idx')).toThrow(ValueError);
  });

  test('decodeFloat32: F64 rounds to float32; reads unaligned bytes', () => {
    const f64 = new Uint8Array(new Float64Array([0.1, 1e300, -1e-300, NaN, -0]).buffer);
    const got = decodeFloat32('F64', f64);
    expect(Array.from(got.subarray(0, 3))).toEqual([Math.fround(0.1), Infinity, -0]);
    expect(Number.isNaN(got[3])).toBe(true);
    expect(Object.is(got[4], -0)).toBe(true);
    const shifted = new Uint8Array(9);
    shifted.set(new Uint8Array(new Float32Array([1.5, -3]).buffer), 1);
    expect(Array.from(decodeFloat32('F32', shifted.subarray(1)))).toEqual([1.5, -3]);
  });
});

// ─── tensors on every backend ──────────────────────────────────────────────

describe.each(EACH_BACKEND)('saveTensors / loadTensors on %s', (_name, be) => {
  test('float32 and int32 round trip bit-exact (NaN payloads, -0, Inf), scalars, empty, metadata', () => {
    withBackend(be, () => {
      const patterns = [0x7fc00001, 0xffc12345, 0x7f800001, 0x80000000, 0x7f800000, 0xff800000, 0x00000001, 0x3f800000];
      const w = tensor(f32bits(...patterns), [2, 4]);
      const labels = tensor(new Int32Array([-(2 ** 31), 2 ** 31 - 1, 0]), [3], { dtype: 'int32' });
      const s = tensor(3.5);
      const e = tensor(new Float32Array(0), [0, 2]);
      const bytes = saveTensors({ 'fc.weight': w, labels, s, e }, { epoch: '3' });
      const { tensors, metadata } = loadTensors(bytes, { backend: be });
      expect(metadata).toEqual({ epoch: '3' });
      expect(Object.keys(tensors).sort()).toEqual(['e', 'fc.weight', 'labels', 's']);
      const w2 = tensors['fc.weight'];
      expect(w2.backend).toBe(be);
      expect(w2.dtype).toBe('float32');
      expect(w2.shape).toEqual([2, 4]);
      expect(w2.name).toBe('fc.weight');
      expect(bits32(w2.data())).toEqual(patterns);
      expect(tensors.labels.dtype).toBe('int32');
      expect(Array.from(tensors.labels.data())).toEqual([-(2 ** 31), 2 ** 31 - 1, 0]);
      expect(tensors.s.shape).toEqual([]);
      expect(tensors.s.item()).toBe(3.5);
      expect(tensors.e.shape).toEqual([0, 2]);
      // save → load → save is byte-identical.
      expect(Array.from(saveTensors(tensors, metadata))).toEqual(Array.from(bytes));
      for (const t of [w, labels, s, e, ...Object.values(tensors)]) t.dispose();
    });
  });

  test('F16, BF16, F64 load as float32; small integer types as int32', () => {
    withBackend(be, () => {
      const bytes = serializeSafetensors({
        h: { dtype: 'F16', shape: [4], data: new Uint16Array([0x3c00, 0x0001, 0xfc00, 0x7bff]) },
        b: { dtype: 'BF16', shape: [2], data: new Uint16Array([0x3fc0, 0xc040]) },
        d: { dtype: 'F64', shape: [2], data: new Float64Array([0.1, -2]) },
        u8: { dtype: 'U8', shape: [2], data: new Uint8Array([0, 255]) },
        i16: { dtype: 'I16', shape: [1], data: new Int16Array([-300]) },
        i64: { dtype: 'I64', shape: [2], data: new BigInt64Array([-5n, 7n]) },
        flag: { dtype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) },
      });
      const { tensors } = loadTensors(bytes);
      expect(Array.from(tensors.h.data())).toEqual([1, 2 ** -24, -Infinity, 65504]);
      expect(Array.from(tensors.b.data())).toEqual([1.5, -3]);
      expect(Array.from(tensors.d.data())).toEqual([Math.fround(0.1), -2]);
      for (const k of ['h', 'b', 'd']) expect(tensors[k].dtype).toBe('float32');
      expect(Array.from(tensors.u8.data())).toEqual([0, 255]);
      expect(Array.from(tensors.i16.data())).toEqual([-300]);
      expect(Array.from(tensors.i64.data())).toEqual([-5, 7]);
      expect(Array.from(tensors.flag.data())).toEqual([1, 0]);
      for (const k of ['u8', 'i16', 'i64', 'flag']) expect(tensors[k].dtype).toBe('int32');
      for (const t of Object.values(tensors)) t.dispose();
    });
  });

  test('an integer that does not fit int32 is an error naming the tensor, and nothing is allocated', () => {
    withBackend(be, () => {
      const bytes = serializeSafetensors({
        a: { dtype: 'F32', shape: [1000], data: new Float32Array(1000) },
        idx: { dtype: 'I64', shape: [2], data: new BigInt64Array([1n, 1n << 40n]) },
      });
      const live = be.heap.liveBytes;
      expect(() => loadTensors(bytes)).toThrow('loadTensors: tensor "idx" (I64) element 1 is 1099511627776, outside int32');
      expect(be.heap.liveBytes).toBe(live);
    });
  });

  test('a malformed file is a FormatError and allocates nothing', () => {
    withBackend(be, () => {
      const bytes = serializeSafetensors({ a: { dtype: 'F32', shape: [4], data: new Float32Array(4) } });
      const live = be.heap.liveBytes;
      expectFormatError(() => loadTensors(bytes.subarray(0, bytes.length - 1)), 'run past the end');
      expect(be.heap.liveBytes).toBe(live);
    });
  });

  test('floatDtype F16 / BF16 export rounds to nearest even', () => {
    withBackend(be, () => {
      const x = tensor([1 + 2 ** -11, 1 + 3 * 2 ** -11, 70000, -0.5]);
      const h = parseSafetensors(saveTensors({ x }, undefined, { floatDtype: 'F16' })).tensors.get('x')!;
      expect(h.dtype).toBe('F16');
      expect(Array.from(new Uint16Array(h.data.slice().buffer))).toEqual([0x3c00, 0x3c02, 0x7c00, 0xb800]);
      const b = parseSafetensors(saveTensors({ x }, undefined, { floatDtype: 'BF16' })).tensors.get('x')!;
      expect(b.dtype).toBe('BF16');
      const back = loadTensors(saveTensors({ x }, undefined, { floatDtype: 'BF16' })).tensors.x;
      expect(Array.from(back.data())).toEqual([1, 1, 70144, -0.5]);
      x.dispose();
      back.dispose();
    });
  });

  test('saving a disposed tensor or a non-tensor, or unknown options, is an error', () => {
    withBackend(be, () => {
      const t = tensor([1]);
      t.dispose();
      expect(() => saveTensors({ t })).toThrow('disposed');
      expect(() => saveTensors({ t: [1] as never })).toThrow('saveTensors: "t" is not a Tensor');
      const u = tensor([1]);
      expect(() => saveTensors({ u }, undefined, { floatDtype: 'F8' as never })).toThrow(ConfigError);
      expect(() => saveTensors({ u }, undefined, { dtype: 'F16' } as never)).toThrow("saveTensors: unknown option 'dtype'; valid: floatDtype");
      expect(() => loadTensors(saveTensors({ u }), { backnd: be } as never)).toThrow(
        "loadTensors: unknown option 'backnd'; valid: backend, maxHeaderBytes",
      );
      u.dispose();
    });
  });
});
