/**
 * Checkpoints resume training exactly for models with state beyond their
 * parameters: BatchNorm's running statistics (buffers), and attention with
 * dropout (the random generator's state inside MultiHeadAttention and
 * Dropout). Uninterrupted training and training resumed from a checkpoint
 * into a freshly built model (or one rebuilt by loadModel) give the same
 * losses, weights and buffers, bit for bit, on every backend.
 */
import { describe, expect, test } from 'vitest';
import {
  Adam, AdamW, BatchNorm2d, Conv2d, Embedding, fit, Flatten, LearnedPositionalEmbedding, Linear, loadCheckpoint, loadModel,
  MaxPool2d, Module, ReLU, saveCheckpoint, seed, Sequential, SGD, tensor, TransformerEncoderLayer, type History, type Optimizer,
  type Tensor,
} from '../src/index.js';
import { EACH_BACKEND, randomArray, withBackend } from './helpers.js';

function bits(t: Tensor): number[] {
  return Array.from(new Uint32Array((t.data() as Float32Array).buffer));
}

const state = (m: Module) => [...m.namedParameters(), ...m.namedBuffers()].map(([n, t]) => [n, bits(t)]);

interface Setup {
  name: string;
  data: () => { x: Tensor; y: Tensor };
  model: () => Module;
  optimizer: (m: Module) => Optimizer<never>;
}

const SETUPS: Setup[] = [
  {
    name: 'a CNN with BatchNorm (running statistics are buffers), SGD with momentum',
    data: () => ({
      x: tensor(randomArray(40 * 6 * 6, 21), [40, 6, 6, 1]),
      y: tensor(Int32Array.from({ length: 40 }, (_, i) => (i * 5) % 3), [40], { dtype: 'int32' }),
    }),
    model: () => new Sequential(
      new Conv2d(1, 4, 3, { padding: 1 }), new BatchNorm2d(4, { momentum: 0.2 }), new ReLU(), new MaxPool2d(2),
      new Flatten(), new Linear(4 * 3 * 3, 3),
    ),
    optimizer: (m) => new SGD(m.parameters(), { lr: 0.05, momentum: 0.9 }) as unknown as Optimizer<never>,
  },
  {
    name: 'a transformer encoder classifier with attention and residual dropout, AdamW',
    data: () => ({
      x: tensor(Int32Array.from(randomArray(32 * 6, 22), (v) => Math.floor((v + 1) * 5) % 10), [32, 6], { dtype: 'int32' }),
      y: tensor(Int32Array.from({ length: 32 }, (_, i) => (i * 7) % 3), [32], { dtype: 'int32' }),
    }),
    model: () => new Sequential(
      new Embedding(10, 8), new LearnedPositionalEmbedding(6, 8),
      new TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0.2 }), new Flatten(), new Linear(48, 3),
    ),
    optimizer: (m) => new AdamW(m.parameters(), { lr: 0.01 }) as unknown as Optimizer<never>,
  },
];

describe.each(EACH_BACKEND)('checkpoints resume exactly on %s', (_name, be) => {
  test.each(SETUPS.map((s) => [s.name, s] as const))('%s', (_n, s) => {
    withBackend(be, () => {
      const run = (m: Module, opt: Optimizer<never>, d: { x: Tensor; y: Tensor }, epochs: number): number[] =>
        (fit(m, d, { optimizer: opt, epochs, batchSize: 8, verbose: false }) as History).epochs.map((e) => e.loss);

      // Uninterrupted: 2 epochs, checkpoint, 2 more.
      seed(31);
      const d = s.data();
      const a = s.model();
      const optA = s.optimizer(a);
      const first = run(a, optA, d, 2);
      const ckpt = saveCheckpoint(a, optA, { step: 10, epoch: 2 });
      const expected = run(a, optA, d, 2);
      expect(first.every(Number.isFinite) && expected.every(Number.isFinite)).toBe(true);

      // Resumed into a fresh model built the same way (different seed: different initial weights).
      seed(999);
      const b = s.model();
      const optB = s.optimizer(b);
      const info = loadCheckpoint(ckpt, b, optB);
      expect([info.step, info.epoch]).toEqual([10, 2]);
      expect(run(b, optB, d, 2)).toEqual(expected);
      expect(state(b)).toEqual(state(a));

      // Resumed into the model loadModel rebuilds from the checkpoint itself.
      seed(555);
      const c = loadModel(ckpt);
      const optC = s.optimizer(c);
      loadCheckpoint(ckpt, c, optC);
      expect(run(c, optC, d, 2)).toEqual(expected);
      expect(state(c)).toEqual(state(a));

      for (const m of [a, b, c]) m.dispose();
      for (const o of [optA, optB, optC]) o.dispose();
      d.x.dispose();
      d.y.dispose();
    });
  });

  test('BatchNorm buffers are part of the checkpoint (a different running mean is restored)', () => {
    withBackend(be, () => {
      const m = new Sequential(new BatchNorm2d(2));
      const bn = m[0] as BatchNorm2d;
      bn.runningMean!.backend.heap.f32.set([0.5, -0.25], bn.runningMean!.ptr >>> 2);
      const opt = new Adam(m.parameters());
      const ckpt = saveCheckpoint(m, opt);
      const m2 = new Sequential(new BatchNorm2d(2));
      const opt2 = new Adam(m2.parameters());
      loadCheckpoint(ckpt, m2, opt2);
      expect(Array.from((m2[0] as BatchNorm2d).runningMean!.data())).toEqual([0.5, -0.25]);
      for (const x of [m, m2]) x.dispose();
      opt.dispose();
      opt2.dispose();
    });
  });
});
