// A small PNG writer (pure JavaScript, Node's zlib for the deflate stream):
// 8-bit greyscale, RGB or RGBA images, no interlacing, filter type 0.
//
//   PNG = signature, IHDR, IDAT (zlib stream of rows, each prefixed by its
//   filter byte), IEND; every chunk is length, type, data, CRC-32(type+data).
//   (W3C PNG specification, 2nd edition, §5 and §11.)
//
//   import { encodePng, writePng } from './lib/png.mjs';
//   writePng('out.png', { width, height, data, channels: 1 });   // data: width·height·channels bytes
import fs from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
const COLOR_TYPE = { 1: 0, 2: 4, 3: 2, 4: 6 }; // channels → PNG colour type (grey, grey+alpha, RGB, RGBA)

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (ISO 3309, the one PNG and zlib use) of the given byte arrays, in order. */
export function crc32(...parts) {
  let c = 0xffffffff;
  for (const bytes of parts) for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  const typeBytes = new TextEncoder().encode(type);
  view.setUint32(0, data.length);
  out.set(typeBytes, 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(typeBytes, data));
  return out;
}

/**
 * The PNG file bytes of an 8-bit image.
 * @param {{ width: number, height: number, data: ArrayLike<number>, channels?: 1 | 2 | 3 | 4 }} image
 *   data: width·height·channels bytes, row-major, channels interleaved. Default channels 1 (greyscale).
 */
export function encodePng({ width, height, data, channels = 1 }) {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`encodePng: width and height must be positive integers; got ${width}×${height}`);
  }
  if (!(channels in COLOR_TYPE)) throw new Error(`encodePng: channels must be 1, 2, 3 or 4; got ${channels}`);
  const rowBytes = width * channels;
  if (data.length !== rowBytes * height) {
    throw new Error(`encodePng: data has ${data.length} bytes; a ${width}×${height}×${channels} image needs ${rowBytes * height}`);
  }
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = COLOR_TYPE[channels];
  // compression 0 (deflate), filter method 0, interlace 0
  const raw = new Uint8Array((rowBytes + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (rowBytes + 1)] = 0; // filter type: None
    for (let i = 0; i < rowBytes; i++) raw[y * (rowBytes + 1) + 1 + i] = data[y * rowBytes + i];
  }
  const parts = [SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Writes an 8-bit image as a PNG file (creating the directory). Returns the path. */
export function writePng(file, image) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, encodePng(image));
  return file;
}
