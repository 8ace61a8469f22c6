/**
 * The raw-DEFLATE decoder behind the inlined wasm builds, against the
 * platform's own compressor (CompressionStream 'deflate-raw', in Node and in
 * Chromium): stored blocks (incompressible data), fixed-Huffman blocks (short
 * inputs), dynamic-Huffman blocks (text), long overlapping copies (runs), and
 * corrupted or truncated input (an error, never a hang or a wrong length).
 */
import { describe, expect, it } from 'vitest';
import { inflateRaw } from '../src/backend/inflate.js';
import { rng } from './helpers.js';

async function deflateRaw(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data]).stream().pipeThrough(new CompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const text = (n: number, seed: number): Uint8Array => {
  const r = rng(seed);
  const words = ['weight', 'matrix', 'gradient', 'tensor', 'kernel', 'attention', 'softmax', 'relu', 'the', 'of', 'a'];
  let s = '';
  while (s.length < n) s += words[Math.floor(r() * words.length)] + (r() < 0.1 ? '.\n' : ' ');
  return new TextEncoder().encode(s.slice(0, n));
};
const random = (n: number, seed: number): Uint8Array => {
  const r = rng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
};

const CASES: [string, Uint8Array][] = [
  ['empty', new Uint8Array(0)],
  ['one byte', new Uint8Array([42])],
  ['short text (fixed Huffman)', new TextEncoder().encode('hello hello hello wasmgrad')],
  ['text, 200 kB (dynamic Huffman)', text(200_000, 1)],
  ['random bytes, 100 kB (stored blocks)', random(100_000, 2)],
  ['a run of 100,000 equal bytes (overlapping copies)', new Uint8Array(100_000).fill(7)],
  ['mixed: text, random, runs', new Uint8Array([...text(30_000, 3), ...random(20_000, 4), ...new Uint8Array(5000).fill(1), ...text(1000, 5)])],
];

describe('inflateRaw', () => {
  it.each(CASES)('round-trips %s', async (_, data) => {
    const packed = await deflateRaw(data);
    const out = inflateRaw(packed, data.length);
    expect(out.length).toBe(data.length);
    expect(out.every((v, i) => v === data[i])).toBe(true);
  });

  it('rejects a wrong recorded size and truncated input with a clear error', async () => {
    const data = text(50_000, 6);
    const packed = await deflateRaw(data);
    expect(() => inflateRaw(packed, data.length - 1)).toThrow(/inflate: corrupt embedded wasm/);
    expect(() => inflateRaw(packed, data.length + 1)).toThrow(/inflate: corrupt embedded wasm/);
    expect(() => inflateRaw(packed.subarray(0, packed.length >> 1), data.length)).toThrow(/unexpected end of input|corrupt/);
  });

  it('corrupted bytes give an error or different bytes of the recorded length, never a hang', async () => {
    const data = text(20_000, 7);
    const packed = await deflateRaw(data);
    const r = rng(8);
    for (let trial = 0; trial < 200; trial++) {
      const bad = packed.slice();
      bad[Math.floor(r() * bad.length)] ^= 1 << Math.floor(r() * 8);
      try {
        const out = inflateRaw(bad, data.length);
        expect(out.length).toBe(data.length);
      } catch (e) {
        expect((e as Error).message).toMatch(/^inflate: corrupt embedded wasm/);
      }
    }
  });
});
