// CNN 28×28×1 → conv3×3·16 'same' → ReLU → maxpool2 → conv3×3·32 'same' →
// ReLU → maxpool2 → flatten (7·7·32 = 1568) → dense 10, softmax cross-entropy,
// Adam (lr 1e-3), batch 32, on random MNIST-shaped NHWC data (throughput does
// not depend on the values). PyTorch 1.13 (CPU, one thread) trains this model
// at about 3,900 samples/s on the development machines.
import { Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '../../dist/wasmgrad.node.js';

export default {
  name: 'cnn-28x28-c16-c32',
  unit: 'samples/s',
  batch: 32,
  input: [28, 28, 1],
  classes: 10,
  model: () => new Sequential(
    new Conv2d(1, 16, 3, { padding: 'same' }), new ReLU(), new MaxPool2d(2),
    new Conv2d(16, 32, 3, { padding: 'same' }), new ReLU(), new MaxPool2d(2),
    new Flatten(), new Linear(7 * 7 * 32, 10),
  ),
};
