/**
 * Training end to end: XOR and 2-D spirals learned to ~100% accuracy on every
 * backend (identical losses for the same seed), fit options (validation,
 * validationSplit, callbacks, early stopping with best-weight restore,
 * schedulers), evaluate/predict, heap flat over many steps, bad input.
 */
import { describe, expect, test } from 'vitest';
import {
  Adam, backward, ConfigError, crossEntropy, evaluate, fit, Linear, predict, ReLU, SGD, seed, Sequential, ShapeError,
  StepLR, Tanh, tensor, tidy, ValueError, setAnomalyMode, AnomalyError, log, sub, mean,
} from '../src/index.js';
import { BACKENDS, EACH_BACKEND, withBackend } from './helpers.js';

/** Two interleaved spirals, `n` points per class, seeded. */
function spirals(n: number) {
  const x = new Float32Array(2 * n * 2);
  const y = new Int32Array(2 * n);
  for (let c = 0; c < 2; c++) {
    for (let i = 0; i < n; i++) {
      const r = (i / n) * 5;
      const t = 1.75 * (i / n) * 2 * Math.PI + c * Math.PI;
      const k = c * n + i;
      x[2 * k] = r * Math.sin(t) + 0.02 * Math.sin(97 * k);
      x[2 * k + 1] = r * Math.cos(t) + 0.02 * Math.cos(89 * k);
      y[k] = c;
    }
  }
  return { x, y };
}

function xorData() {
  return {
    x: tensor([[0, 0], [0, 1], [1, 0], [1, 1]]),
    y: tensor([0, 1, 1, 0], [4], { dtype: 'int32' }),
  };
}

describe.each(EACH_BACKEND)('training on %s', (_name, be) => {
  test('XOR is learned to 100% accuracy', () => {
    withBackend(be, () => {
      seed(3);
      const data = xorData();
      const model = new Sequential(new Linear(2, 8), new Tanh(), new Linear(8, 2));
      const opt = new Adam(model.parameters(), { lr: 0.05 });
      const h = fit(model, data, { optimizer: opt, epochs: 150, batchSize: 4, verbose: false });
      expect(h.epochs[h.epochs.length - 1].loss).toBeLessThan(0.05);
      expect(evaluate(model, data).accuracy).toBe(1);
      model.dispose();
      opt.dispose();
    });
  });

  test('2-D spirals reach ≥ 99% training accuracy', () => {
    withBackend(be, () => {
      seed(7);
      const s = spirals(100);
      const data = { x: tensor(s.x, [200, 2]), y: tensor(s.y, [200], { dtype: 'int32' }) };
      const model = new Sequential(new Linear(2, 64), new ReLU(), new Linear(64, 64), new ReLU(), new Linear(64, 2));
      const opt = new Adam(model.parameters(), { lr: 0.01 });
      fit(model, data, { optimizer: opt, epochs: 300, batchSize: 32, verbose: false });
      expect(evaluate(model, data).accuracy).toBeGreaterThanOrEqual(0.99);
      model.dispose();
      opt.dispose();
    });
  });

  test('validation, callbacks, scheduler, predict; heap flat across epochs', () => {
    withBackend(be, () => {
      seed(1);
      const s = spirals(50);
      const data = { x: tensor(s.x, [100, 2]), y: tensor(s.y, [100], { dtype: 'int32' }) };
      const model = new Sequential(new Linear(2, 16), new ReLU(), new Linear(16, 2));
      const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
      const sched = new StepLR(opt, { stepSize: 2, gamma: 0.5 });
      const batches: number[] = [];
      const heapAtEpochEnd: number[] = [];
      const h = fit(model, data, {
        optimizer: opt, epochs: 6, batchSize: 16, validationSplit: 0.2, scheduler: sched, verbose: false,
        callbacks: {
          onBatchEnd: (l) => void batches.push(l.step),
          onEpochEnd: () => void heapAtEpochEnd.push(be.heap.liveBytes),
        },
      });
      expect(h.epochs.length).toBe(6);
      expect(h.epochs[0].valLoss).toBeTypeOf('number');
      expect(h.epochs[0].valAccuracy).toBeTypeOf('number');
      expect(batches.length).toBe(6 * 5); // 80 training rows / 16
      expect(opt.lr).toBeCloseTo(0.1 * 0.5 ** 3, 10);
      expect(new Set(heapAtEpochEnd.slice(1)).size).toBe(1); // no growth after the first epoch
      const p = predict(model, data.x, { batchSize: 30 });
      expect(p.shape).toEqual([100, 2]);
      p.dispose();
      model.dispose();
      opt.dispose();
    });
  });

  test('early stopping stops on a plateau and restores the best weights', () => {
    withBackend(be, () => {
      seed(2);
      const data = xorData();
      const model = new Sequential(new Linear(2, 4), new Tanh(), new Linear(4, 2));
      const opt = new SGD(model.parameters(), { lr: 0 }); // no progress at all: a plateau from epoch 1
      const h = fit(model, data, {
        optimizer: opt, epochs: 50, batchSize: 4, shuffle: false, verbose: false,
        earlyStopping: { monitor: 'loss', patience: 3 },
      });
      expect(h.stoppedEarly).toBe(true);
      expect(h.epochs.length).toBe(4);
      expect(h.bestEpoch).toBe(1);
      model.dispose();
      opt.dispose();
    });
  });

  test('bad input: labels out of range, rows that disagree, unknown options, non-finite lr', () => {
    withBackend(be, () => {
      const model = new Sequential(new Linear(2, 3));
      const opt = new Adam(model.parameters());
      const x = tensor([[0, 0], [1, 1]]);
      const before = be.heap.liveBytes;
      expect(() => fit(model, { x, y: tensor([0, 5], [2], { dtype: 'int32' }) }, { optimizer: opt, verbose: false })).toThrow(
        /label 5 .*out of range/,
      );
      expect(() => fit(model, { x, y: tensor([0], [1], { dtype: 'int32' }) }, { optimizer: opt })).toThrow(
        'fit: x and y must have the same number of rows; got x [2,2], y [1]',
      );
      expect(() => fit(model, { x, y: tensor([0, 1], [2], { dtype: 'int32' }) }, { optimizer: opt, epocs: 3 } as never)).toThrow(
        ConfigError,
      );
      expect(() => fit(model, { x, y: tensor([0, 1], [2], { dtype: 'int32' }) }, { optimizer: opt, batchSize: 0 })).toThrow(ValueError);
      expect(() => new Adam(model.parameters(), { lr: NaN })).toThrow(/lr/);
      expect(() => fit(model, { x, y: tensor([0, 1], [2], { dtype: 'int32' }) }, { optimizer: opt, loss: 'hinge' as never })).toThrow(
        "fit: unknown loss 'hinge'",
      );
      expect(() => crossEntropy(tensor([[1, 2, 3]]), tensor([0, 1], [2], { dtype: 'int32' }))).toThrow(ShapeError);
      // Tensors created by the failing calls above are the only growth: nothing leaked from inside fit.
      expect(be.heap.liveBytes - before).toBeLessThan(16 * 16);
      model.dispose();
      opt.dispose();
    });
  });

  test('anomaly mode names the first op that makes a NaN', () => {
    withBackend(be, () => {
      setAnomalyMode(true);
      try {
        tidy(() => {
          const x = tensor([1, -1], [2], { requiresGrad: true });
          expect(() => log(sub(x, 1))).toThrow(AnomalyError); // log(0) = -Inf
          expect(() => log(sub(x, 1))).toThrow("anomaly: op 'log' (forward) produced -Infinity");
        });
      } finally {
        setAnomalyMode(false);
      }
    });
  });
});

test('same seed → same losses on every backend (within 1e-4 relative)', () => {
  const runs = BACKENDS.map((be) =>
    withBackend(be, () => {
      seed(11);
      const s = spirals(40);
      const data = { x: tensor(s.x, [80, 2]), y: tensor(s.y, [80], { dtype: 'int32' }) };
      const model = new Sequential(new Linear(2, 16), new ReLU(), new Linear(16, 2));
      const opt = new Adam(model.parameters(), { lr: 0.01 });
      const h = fit(model, data, { optimizer: opt, epochs: 5, batchSize: 8, verbose: false });
      model.dispose();
      opt.dispose();
      return h.epochs.map((e) => e.loss);
    }),
  );
  for (const r of runs.slice(1)) r.forEach((v, i) => expect(Math.abs(v - runs[0][i]) / Math.abs(runs[0][i])).toBeLessThan(1e-4));
});

test('a manual loop: heap after 10,000 steps equals heap after 100', () => {
  const be = BACKENDS[0];
  withBackend(be, () => {
    seed(5);
    const model = new Sequential(new Linear(20, 32), new ReLU(), new Linear(32, 4));
    const opt = new Adam(model.parameters());
    const x = tensor(Float32Array.from({ length: 16 * 20 }, (_, i) => Math.sin(i)), [16, 20]);
    const y = tensor(Int32Array.from({ length: 16 }, (_, i) => i % 4), [16], { dtype: 'int32' });
    let at100 = 0;
    for (let i = 1; i <= 10_000; i++) {
      tidy(() => {
        const loss = mean(crossEntropy(model.forward(x), y, { reduction: 'none' }));
        opt.zeroGrad();
        backward(loss);
        opt.step();
      });
      if (i === 100) at100 = be.heap.liveBytes;
    }
    expect(be.heap.liveBytes).toBe(at100);
    model.dispose();
    opt.dispose();
  });
});
