/**
 * A small synchronous raw-DEFLATE decoder (RFC 1951), for the wasm builds
 * that the default bundles inline: they are stored deflated (≈ 3.8× smaller
 * than the raw bytes) and inflated once, on first use, before compilation.
 * Synchronous because `tensor()` may load a backend synchronously, where the
 * platform's `DecompressionStream` is async only.
 *
 * Canonical-Huffman decoding after J. Ibsen's tinf: a tree is the count of
 * codes of each length plus the symbols sorted by code; a symbol is found by
 * walking the lengths one bit at a time. Handles stored, fixed-Huffman and
 * dynamic-Huffman blocks. Throws on malformed input instead of reading past
 * either buffer.
 */

interface Tree {
  counts: Uint16Array; // counts[len] = number of codes of bit length len
  symbols: Uint16Array; // symbols in canonical code order
  fast: Uint16Array; // next FAST_BITS input bits → (symbol << 4) | length, 0 for longer codes
}

const FAST_BITS = 9;
const newTree = (): Tree => ({ counts: new Uint16Array(16), symbols: new Uint16Array(288), fast: new Uint16Array(1 << FAST_BITS) });

// Lengths 257…285 and distances 0…29: base values and extra bits (RFC 1951 §3.2.5).
const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
// The order in which code-length code lengths are sent (§3.2.7).
const CLEN_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

function buildTree(t: Tree, lengths: Uint8Array, offset: number, n: number): void {
  t.counts.fill(0);
  for (let i = 0; i < n; i++) t.counts[lengths[offset + i]]++;
  t.counts[0] = 0;
  const offs = new Uint16Array(16);
  for (let len = 1, sum = 0; len < 16; len++) {
    offs[len] = sum;
    sum += t.counts[len];
  }
  for (let i = 0; i < n; i++) if (lengths[offset + i]) t.symbols[offs[lengths[offset + i]]++] = i;
  // The lookup table for codes of ≤ FAST_BITS bits. Codes are assigned in
  // canonical order (RFC 1951 §3.2.2) and sent MSB first into an LSB-first
  // stream, so a code indexes the table bit-reversed, repeated for every
  // value of the bits after it.
  t.fast.fill(0);
  const next = new Uint16Array(16);
  for (let len = 1, code = 0; len < 16; len++) {
    code = (code + t.counts[len - 1]) << 1; // counts[0] is 0
    next[len] = code;
  }
  for (let i = 0; i < n; i++) {
    const len = lengths[offset + i];
    if (!len) continue;
    const code = next[len]++;
    if (len > FAST_BITS) continue;
    let rev = 0;
    for (let b = 0; b < len; b++) rev |= ((code >> b) & 1) << (len - 1 - b);
    for (let j = rev; j < 1 << FAST_BITS; j += 1 << len) t.fast[j] = (i << 4) | len;
  }
}

let fixedLit: Tree | null = null;
let fixedDist: Tree | null = null;
function fixedTrees(): [Tree, Tree] {
  if (!fixedLit || !fixedDist) {
    const l = new Uint8Array(288);
    l.fill(8, 0, 144).fill(9, 144, 256).fill(7, 256, 280).fill(8, 280, 288);
    fixedLit = newTree();
    buildTree(fixedLit, l, 0, 288);
    fixedDist = newTree();
    buildTree(fixedDist, new Uint8Array(30).fill(5), 0, 30);
  }
  return [fixedLit, fixedDist];
}

/**
 * Inflates raw DEFLATE data `src` whose decompressed size is known to be
 * `size` bytes (the build records it); anything else is an error.
 */
export function inflateRaw(src: Uint8Array, size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  let pos = 0; // next input byte
  let bitBuf = 0;
  let bitCount = 0;
  let o = 0; // next output byte
  const fail = (why: string): never => {
    throw new Error(`inflate: corrupt embedded wasm (${why})`);
  };

  // Up to 32 input bits, LSB first; refilled a byte at a time.
  const refill = (): void => {
    while (bitCount <= 24 && pos < src.length) {
      bitBuf |= src[pos++] << bitCount;
      bitCount += 8;
    }
  };
  const bits = (n: number): number => {
    if (n === 0) return 0;
    if (bitCount < n) refill();
    if (bitCount < n) fail('unexpected end of input');
    const v = bitBuf & ((1 << n) - 1);
    bitBuf >>>= n;
    bitCount -= n;
    return v;
  };
  const symbol = (t: Tree): number => {
    if (bitCount < 15) refill();
    const e = t.fast[bitBuf & ((1 << FAST_BITS) - 1)];
    if (e !== 0 && (e & 15) <= bitCount) {
      bitBuf >>>= e & 15;
      bitCount -= e & 15;
      return e >> 4;
    }
    // A longer code (or the last bits of the input): walk the lengths.
    let sum = 0, cur = 0, len = 0;
    do {
      cur = 2 * cur + bits(1);
      if (++len > 15) fail('invalid Huffman code');
      sum += t.counts[len];
      cur -= t.counts[len];
    } while (cur >= 0);
    return t.symbols[sum + cur];
  };

  const lit = newTree(), dist = newTree(), clen = newTree();
  const lengths = new Uint8Array(288 + 32);

  const dynamicTrees = (): void => {
    const hlit = bits(5) + 257, hdist = bits(5) + 1, hclen = bits(4) + 4;
    if (hlit > 286 || hdist > 30) fail('too many codes');
    lengths.fill(0, 0, 19);
    for (let i = 0; i < hclen; i++) lengths[CLEN_ORDER[i]] = bits(3);
    buildTree(clen, lengths, 0, 19);
    for (let n = 0; n < hlit + hdist; ) {
      const sym = symbol(clen);
      if (sym < 16) {
        lengths[n++] = sym;
        continue;
      }
      let prev = 0, count: number;
      if (sym === 16) {
        if (n === 0) fail('repeat with no previous length');
        prev = lengths[n - 1];
        count = bits(2) + 3;
      } else if (sym === 17) count = bits(3) + 3;
      else count = bits(7) + 11;
      if (n + count > hlit + hdist) fail('code lengths overflow');
      lengths.fill(prev, n, n + count);
      n += count;
    }
    buildTree(lit, lengths, 0, hlit);
    buildTree(dist, lengths, hlit, hdist);
  };

  const block = (lt: Tree, dt: Tree): void => {
    for (;;) {
      const sym = symbol(lt);
      if (sym === 256) return;
      if (sym < 256) {
        if (o >= size) fail('output longer than recorded');
        out[o++] = sym;
        continue;
      }
      const li = sym - 257;
      if (li >= 29) fail('invalid length code');
      const length = LENGTH_BASE[li] + bits(LENGTH_EXTRA[li]);
      const di = symbol(dt);
      if (di >= 30) fail('invalid distance code');
      const d = DIST_BASE[di] + bits(DIST_EXTRA[di]);
      if (d > o) fail('distance before the start');
      if (o + length > size) fail('output longer than recorded');
      for (let i = 0; i < length; i++, o++) out[o] = out[o - d];
    }
  };

  let last = 0;
  do {
    last = bits(1);
    const type = bits(2);
    if (type === 0) {
      // Stored: skip to the byte boundary; whole bytes still in the bit buffer go back to the input.
      bitBuf = 0;
      pos -= bitCount >> 3;
      bitCount = 0;
      if (pos + 4 > src.length) fail('unexpected end of input');
      const len = src[pos] | (src[pos + 1] << 8);
      const nlen = src[pos + 2] | (src[pos + 3] << 8);
      if (len !== (~nlen & 0xffff)) fail('stored length check');
      pos += 4;
      if (pos + len > src.length) fail('unexpected end of input');
      if (o + len > size) fail('output longer than recorded');
      out.set(src.subarray(pos, pos + len), o);
      pos += len;
      o += len;
    } else if (type === 1) {
      const [l, d] = fixedTrees();
      block(l, d);
    } else if (type === 2) {
      dynamicTrees();
      block(lit, dist);
    } else fail('invalid block type');
  } while (!last);
  if (o !== size) fail(`output is ${o} bytes, expected ${size}`);
  return out;
}
