// CNN 28×28×1 → conv3×3·16 'same' → ReLU → maxpool2 → conv3×3·32 'same' →
// ReLU → maxpool2 → flatten (7·7·32 = 1568) → dense 10, softmax cross-entropy,
// Adam (lr 1e-3), batch 32, on random MNIST-shaped NHWC data (throughput does
// not depend on the values). PyTorch 1.13 (CPU, one thread) trains this model
// at about 3,900 samples/s on the development machines.
import {
  Adam, backward, Conv2d, crossEntropy, Flatten, Linear, MaxPool2d, ReLU, seed, Sequential, tensor, tidy,
} from '../../dist/wasmgrad.node.js';

const BATCH = 32;

export default {
  name: 'cnn-28x28-c16-c32',
  unit: 'samples/s',
  batch: BATCH,
  setup(be) {
    seed(1);
    const model = new Sequential(
      new Conv2d(1, 16, 3, { padding: 'same' }), new ReLU(), new MaxPool2d(2),
      new Conv2d(16, 32, 3, { padding: 'same' }), new ReLU(), new MaxPool2d(2),
      new Flatten(), new Linear(7 * 7 * 32, 10),
    );
    const opt = new Adam(model.parameters(), { lr: 1e-3 });
    const xs = Float32Array.from({ length: BATCH * 784 }, (_, i) => ((i * 7919) % 256) / 255);
    const ys = Int32Array.from({ length: BATCH }, (_, i) => i % 10);
    const x = tensor(xs, [BATCH, 28, 28, 1], { backend: be });
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
