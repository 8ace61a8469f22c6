// MLP 784-256-10, ReLU, softmax cross-entropy, Adam (lr 1e-3), batch 64, on
// random MNIST-shaped data (throughput does not depend on the values).
import { Adam, backward, crossEntropy, Linear, ReLU, seed, Sequential, tensor, tidy } from '../../dist/wasmgrad.node.js';

const BATCH = 64;

export default {
  name: 'mlp-784-256-10',
  unit: 'samples/s',
  batch: BATCH,
  setup(be) {
    seed(1);
    const model = new Sequential(new Linear(784, 256), new ReLU(), new Linear(256, 10));
    const opt = new Adam(model.parameters(), { lr: 1e-3 });
    const xs = Float32Array.from({ length: BATCH * 784 }, (_, i) => ((i * 7919) % 256) / 255);
    const ys = Int32Array.from({ length: BATCH }, (_, i) => i % 10);
    const x = tensor(xs, [BATCH, 784], { backend: be });
    const y = tensor(ys, [BATCH], { dtype: 'int32', backend: be });
    return {
      step() {
        tidy(() => {
          const loss = crossEntropy(model.forward(x), y);
          opt.zeroGrad();
          backward(loss);
          opt.step();
        });
      },
      dispose() {
        model.dispose();
        opt.dispose();
        x.dispose();
        y.dispose();
      },
    };
  },
};
