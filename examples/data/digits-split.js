// Shared by the Node examples (examples/data/mnist.mjs) and the browser
// playground (examples/web/digits.js): the `mnist` package's ten per-digit
// arrays joined in order, and rows picked out in a shuffled order. Plain ESM,
// no imports, so it loads in Node and in a page.

/** Join the package's ten arrays (digit d's images, 784 floats each) → { images, labels, n }. */
export function joinDigits(parts) {
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

/** Rows order[from..to) of the joined digits → { x: Float32Array((to−from)·784), y: Int32Array(to−from) }. */
export function pickRows({ images, labels }, order, from, to) {
  const x = new Float32Array((to - from) * 784);
  const y = new Int32Array(to - from);
  for (let i = from; i < to; i++) {
    x.set(images.subarray(order[i] * 784, order[i] * 784 + 784), (i - from) * 784);
    y[i - from] = labels[order[i]];
  }
  return { x, y };
}
