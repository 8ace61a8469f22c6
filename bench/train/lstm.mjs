// LSTM classifier: x [32, T=32, I=16] → LSTM(hidden 128) → last step h_T
// [32, 128] → Linear 10 → softmax cross-entropy, Adam (lr 1e-3), batch 32, on
// random data (throughput does not depend on the values). Unit: sequences/s.
//
// Per step of training: one GEMM for the input projection of all 32 steps,
// 32 recurrent GEMMs + fused gate kernels forward, 32 fused gate-backward
// kernels + GEMMs backward, then one GEMM each for dW_ih and dW_hh.
import { Linear, LSTM, Module } from '../../dist/wasmgrad.node.js';

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
  input: [T, I],
  classes: CLASSES,
  model: () => new LstmClassifier(),
};
