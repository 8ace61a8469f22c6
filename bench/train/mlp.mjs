// MLP 784-256-10, ReLU, softmax cross-entropy, Adam (lr 1e-3), batch 64, on
// random MNIST-shaped data (throughput does not depend on the values).
import { Linear, ReLU, Sequential } from '../../dist/wasmgrad.node.js';

export default {
  name: 'mlp-784-256-10',
  unit: 'samples/s',
  batch: 64,
  input: [784],
  classes: 10,
  model: () => new Sequential(new Linear(784, 256), new ReLU(), new Linear(256, 10)),
};
