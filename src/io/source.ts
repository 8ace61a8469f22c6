/**
 * Getting bytes in and out, in Node and in browsers:
 *
 *   readBytes('model.safetensors')          Node: a file path (or file: URL)
 *   readBytes('https://…/model.safetensors') browser or Node 18+: fetched
 *   readBytes(await fetch(url)) / readBytes(blob) / readBytes(arrayBuffer)
 *   writeBytes('model.safetensors', bytes)  Node: writes a file
 *   downloadBytes(bytes, 'model.safetensors') browser: offers a download
 *
 * `node:fs` is imported lazily through a computed specifier, so browser
 * bundles never see it.
 */

import { ValueError } from '../errors.js';

export type ByteSource = Uint8Array | ArrayBuffer | ArrayBufferView | Blob | Response | string | URL;

const isNode = (): boolean => typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';

interface NodeFs {
  readFile(path: string | URL): Promise<Uint8Array>;
  writeFile(path: string | URL, data: Uint8Array): Promise<void>;
}

async function nodeFs(): Promise<NodeFs> {
  const specifier = 'node:fs/promises';
  return import(/* @vite-ignore */ specifier) as Promise<NodeFs>;
}

/** The bytes of a file, URL, Response, Blob or buffer. */
export async function readBytes(source: ByteSource): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  if (typeof Blob !== 'undefined' && source instanceof Blob) return new Uint8Array(await source.arrayBuffer());
  if (typeof Response !== 'undefined' && source instanceof Response) {
    if (!source.ok) throw new ValueError(`readBytes: HTTP ${source.status} for ${source.url}`);
    return new Uint8Array(await source.arrayBuffer());
  }
  const s = source instanceof URL ? source.href : source;
  if (typeof s !== 'string') throw new ValueError(`readBytes: unsupported source ${Object.prototype.toString.call(source)}`);
  const isUrl = /^(https?|blob|data):/i.test(s);
  if (isNode() && !isUrl) {
    const fs = await nodeFs();
    const path = s.startsWith('file:') ? new URL(s) : s;
    return new Uint8Array(await fs.readFile(path));
  }
  return readBytes(await fetch(s));
}

/** Node: writes bytes to a file path. */
export async function writeBytes(path: string | URL, bytes: Uint8Array): Promise<void> {
  if (!isNode()) throw new ValueError('writeBytes: needs Node (in a browser use downloadBytes)');
  const fs = await nodeFs();
  await fs.writeFile(path, bytes);
}

/** Browser: offers `bytes` as a file download named `filename`. */
export function downloadBytes(bytes: Uint8Array, filename: string): void {
  const doc = (globalThis as { document?: Document }).document;
  if (!doc) throw new ValueError('downloadBytes: needs a browser document (in Node use writeBytes)');
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }));
  const a = doc.createElement('a');
  a.href = url;
  a.download = filename;
  doc.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
