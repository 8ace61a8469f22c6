// LSTM classifier: x [32, T=32, I=16] → LSTM(hidden 128) → last step h_T
// [32, 128] → Linear 10 → softmax cross-entropy, Adam (lr 1e-3), batch 32, on
// random data (throughput does not depend on the values). Unit: sequences/s.
//
// Per step of training: one GEMM for the input projection of all 32 steps,
// 32 recurrent GEMMs + fused gate kernels forward, 32 fused gate-backward
// kernels + GEMMs backward, then one GEMM each for dW_ih and dW_hh.
import { Adam, backward, crossEntropy, Linear, LSTM, Module, seed, tensor, tidy } from '../../dist/wasmgrad.node.js';

const BATCH = 32, T = 32, I = 16, H = 128, CLASSES = 10;

class LstmClassifier extends Module {
  lstm = new LSTM(I, H, { returnSequences: false });
  head = new Linear(H, CLASSES);
  forward(x) {
    return this.head.forward(this.lstm.forward(x)); // last step [B, H] → [B, 10]
  }
}

export default {
  name: 'lstm-T32-I16-H128',
  unit: 'sequences/s',
  batch: BATCH,
  setup(be) {
    seed(1);
    const model = new LstmClassifier();
    const opt = new Adam(model.parameters(), { lr: 1e-3 });
    const xs = Float32Array.from({ length: BATCH * T * I }, (_, i) => ((i * 7919) % 256) / 255);
    const ys = Int32Array.from({ length: BATCH }, (_, i) => i % CLASSES);
    const x = tensor(xs, [BATCH, T, I], { backend: be });
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
