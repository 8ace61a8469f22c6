// Training-throughput cases: samples/s of full training steps (forward,
// softmax cross-entropy, backward, Adam lr 1e-3) on one resident batch of
// synthetic data; the batch is the one each issue specifies (MLP 64, the
// others 32, as in `npm run bench:train`). Every contender builds the same architecture and
// initialises it the same way: Glorot-uniform weight matrices and kernels
// (drawn here, from one seeded generator), zero biases, LayerNorm γ=1 β=0.
//
//   mlp          x [B,784] → Linear 256 → ReLU → Linear 10
//   cnn          x [B,28,28,1] (NHWC; NCHW [B,1,28,28] in wasmgrad) →
//                conv3×3·16 same → ReLU → maxpool2 → conv3×3·32 same → ReLU →
//                maxpool2 → flatten (7·7·32 = 1568) → Linear 10
//   lstm         x [B,T=32,I=16] → LSTM(hidden 128) → last step h_T [B,128] → Linear 10
//   transformer  x [B,T=32,16] → Linear 64 + learned positions [T,64] →
//                one pre-LN encoder layer: h = x + MHA(LN(x)) (4 heads, HS 16,
//                no mask), y = h + FFN(LN(h)) (64 → 128 → ReLU → 64) →
//                mean over T → Linear 10
// Synthetic data: inputs uniform [0,1), labels uniform over the 10 classes.

export const CLASSES = 10;

export const TRAIN_CASES = [
  {
    id: 'train-mlp', model: 'mlp', group: 'train', unit: 'samples/s',
    title: 'train MLP 784-256-10, batch 64',
    sampleShape: [784], batch: 64,
  },
  {
    id: 'train-cnn', model: 'cnn', group: 'train', unit: 'samples/s',
    title: 'train CNN 28×28 c16-c32, batch 32',
    sampleShape: [28, 28, 1], batch: 32,
  },
  {
    id: 'train-lstm', model: 'lstm', group: 'train', unit: 'sequences/s',
    title: 'train LSTM T32 I16 H128, batch 32',
    sampleShape: [32, 16], hidden: 128, batch: 32,
  },
  {
    id: 'train-transformer', model: 'transformer', group: 'train', unit: 'sequences/s',
    title: 'train transformer T32 d64 h4 ffn128, batch 32',
    sampleShape: [32, 16], dModel: 64, heads: 4, ffn: 128, batch: 32,
  },
].map((c) => ({ ...c, classes: CLASSES, workPerStep: c.batch }));

/** A small seeded generator (mulberry32): uniform [0,1). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Glorot (Xavier) uniform: U(-l, l), l = sqrt(6 / (fanIn + fanOut)). */
export function glorotUniform(size, fanIn, fanOut, seed) {
  const r = rng(seed);
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = (2 * r() - 1) * limit;
  return out;
}

/** One batch: x float32 [B, ...sampleShape], labels int32 [B], oneHot float32 [B, classes]. */
export function makeBatch(spec, seed = 7) {
  const r = rng(seed);
  const per = spec.sampleShape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(spec.batch * per);
  for (let i = 0; i < x.length; i++) x[i] = r();
  const labels = new Int32Array(spec.batch);
  const oneHot = new Float32Array(spec.batch * spec.classes);
  for (let i = 0; i < spec.batch; i++) {
    labels[i] = Math.floor(r() * spec.classes);
    oneHot[i * spec.classes + labels[i]] = 1;
  }
  return { x, labels, oneHot };
}

/** NHWC [B,H,W,C] → NCHW [B,C,H,W] (the CNN's input for PyTorch-layout libraries). */
export function nhwcToNchw(x, [b, h, w, c]) {
  const out = new Float32Array(x.length);
  for (let n = 0; n < b; n++)
    for (let y = 0; y < h; y++)
      for (let z = 0; z < w; z++)
        for (let ch = 0; ch < c; ch++) out[((n * c + ch) * h + y) * w + z] = x[((n * h + y) * w + z) * c + ch];
  return out;
}
