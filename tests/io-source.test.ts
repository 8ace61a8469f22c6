/** readBytes/writeBytes: files in Node; buffers, Blobs and Responses everywhere. */
import { expect, test } from 'vitest';
import { loadModel, readBytes, saveModel, Sequential, Linear, writeBytes } from '../src/index.js';

const inBrowser = typeof window !== 'undefined';

test('readBytes takes buffers, views, Blobs and Responses', async () => {
  const bytes = new Uint8Array([1, 2, 3, 4]);
  expect(Array.from(await readBytes(bytes.buffer))).toEqual([1, 2, 3, 4]);
  expect(Array.from(await readBytes(new DataView(bytes.buffer, 1, 2)))).toEqual([2, 3]);
  expect(Array.from(await readBytes(new Blob([bytes])))).toEqual([1, 2, 3, 4]);
  expect(Array.from(await readBytes(new Response(bytes)))).toEqual([1, 2, 3, 4]);
  await expect(readBytes(new Response('', { status: 404 }))).rejects.toThrow('readBytes: HTTP 404');
});

test.skipIf(inBrowser)('Node: a model saved to a file loads back from the path', async () => {
  const os = await import('node:os');
  const path = await import('node:path');
  const file = path.join(os.tmpdir(), `wasmgrad-${process.pid}-model.safetensors`);
  const model = new Sequential(new Linear(3, 2));
  await writeBytes(file, saveModel(model));
  const copy = loadModel(await readBytes(file));
  expect(Array.from(copy.parameters()[0].data())).toEqual(Array.from(model.parameters()[0].data()));
  (await import('node:fs')).rmSync(file);
  model.dispose();
  copy.dispose();
});
