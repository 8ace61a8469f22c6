// Tiny transformer encoder classifier: x [B, T=32, 16] → Linear(16, 64) +
// learned positions [32, 64] → one pre-norm TransformerEncoderLayer (dModel
// 64, 4 heads of 16, FFN 128, ReLU, no dropout, no mask) → mean over T →
// Linear(64, 10); softmax cross-entropy, Adam (lr 1e-3), batch 32. The same
// model as the cross-library suite's "train transformer T32 d64 h4 ffn128"
// (inputs are features, so the first layer's input needs no gradient), on
// random data (throughput does not depend on the values).
import { add, Linear, mean, Module, parameter, tensor, TransformerEncoderLayer } from '../../dist/wasmgrad.node.js';

const BATCH = 32, T = 32, IN = 16, D = 64, HEADS = 4, FFN = 128, CLASSES = 10;

class EncoderClassifier extends Module {
  constructor() {
    super();
    this.inp = new Linear(IN, D);
    this.pos = parameter(tensor(Float32Array.from({ length: T * D }, (_, i) => Math.sin(i * 0.37) * 0.1), [T, D]));
    this.layer = new TransformerEncoderLayer(D, HEADS, { dimFeedforward: FFN, dropout: 0, normFirst: true });
    this.head = new Linear(D, CLASSES);
  }
  forward(x) {
    const h = this.layer.forward(add(this.inp.forward(x), this.pos)); // [B, T, D]
    return this.head.forward(mean(h, 1)); // [B, C]
  }
}

export default {
  name: 'transformer-T32-d64-h4-ffn128',
  unit: 'sequences/s',
  batch: BATCH,
  input: [T, IN],
  classes: CLASSES,
  model: () => new EncoderClassifier(),
};
