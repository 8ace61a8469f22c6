/**
 * Convolutional models end to end: a small CNN learns (loss falls, same
 * numbers on every backend up to round-off), feature maps are readable with
 * captureFeatures and drawable with channelGrid, and training leaves the
 * heap flat.
 */
import { describe, expect, test } from 'vitest';
import {
  Adam, BatchNorm2d, ConfigError, Conv2d, Flatten, GlobalAvgPool2d, Linear, MaxPool2d, Module, ReLU, Sequential,
  ShapeError, backward, captureFeatures, channelGrid, conv2d, crossEntropy, maxPool2d, relu, reshape, seed, tensor, tidy,
  type Tensor,
} from '../src/index.js';
import { BACKENDS, EACH_BACKEND, expectClose, randomArray, withBackend } from './helpers.js';

/** Two classes of 8×8 images: a bright vertical bar or a bright horizontal bar, plus noise. */
function bars(n: number, seedValue: number): { x: Float32Array; y: Int32Array } {
  const noise = randomArray(n * 64, seedValue);
  const x = new Float32Array(n * 64);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    const at = 1 + ((i * 5) % 6);
    for (let r = 0; r < 8; r++)
      for (let c = 0; c < 8; c++) {
        const on = y[i] === 0 ? c === at : r === at;
        x[i * 64 + r * 8 + c] = (on ? 1 : 0) + 0.2 * noise[i * 64 + r * 8 + c];
      }
  }
  return { x, y };
}

function smallCnn(): Sequential {
  return new Sequential(
    new Conv2d(1, 4, 3, { padding: 'same' }), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2),
    new Conv2d(4, 8, 3), new ReLU(), new GlobalAvgPool2d(), new Linear(8, 2),
  );
}

describe.each(EACH_BACKEND)('CNN models on %s', (_name, be) => {
  test('a small CNN (conv, batch norm, pooling) learns to tell bars apart; heap flat across steps', () => {
    withBackend(be, () => {
      seed(3);
      const model = smallCnn();
      const opt = new Adam(model.parameters(), { lr: 0.02 });
      const { x: xs, y: ys } = bars(32, 1);
      const x = tensor(xs, [32, 8, 8, 1]);
      const y = tensor(ys, [32], { dtype: 'int32' });
      const losses: number[] = [];
      let heap = 0;
      for (let step = 0; step < 60; step++) {
        losses.push(
          tidy(() => {
            const loss = crossEntropy(model.forward(x), y);
            opt.zeroGrad();
            backward(loss);
            opt.step();
            return loss.item();
          }),
        );
        if (step === 5) heap = be.heap.liveBytes;
      }
      expect(be.heap.liveBytes).toBe(heap);
      expect(losses[losses.length - 1]).toBeLessThan(0.25 * losses[0]);
      model.eval();
      const acc = tidy(() => {
        const p = model.forward(x).data();
        let ok = 0;
        for (let i = 0; i < 32; i++) if ((p[2 * i + 1] > p[2 * i] ? 1 : 0) === ys[i]) ok++;
        return ok / 32;
      });
      expect(acc).toBeGreaterThanOrEqual(0.9);
      model.dispose();
      opt.dispose();
      x.dispose();
      y.dispose();
    });
  });

  test('captureFeatures returns named layer outputs in eval mode, without gradients, and restores the model', () => {
    withBackend(be, () => {
      seed(4);
      const model = new Sequential(
        new Conv2d(1, 3, 3, { padding: 1 }), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(3 * 4 * 4, 2),
      );
      const x = tensor(randomArray(2 * 8 * 8, 5), [2, 8, 8, 1]);
      const before = be.heap.liveBytes;
      const maps = captureFeatures(model, x, ['0', '2']);
      expect([...maps.keys()]).toEqual(['0', '2']);
      expect(maps.get('0')!.shape).toEqual([2, 8, 8, 3]);
      expect(maps.get('2')!.shape).toEqual([2, 4, 4, 3]);
      expect(maps.get('0')!.requiresGrad).toBe(false);
      // The same values as running the layers by hand.
      const conv = model[0] as Conv2d;
      tidy(() => {
        const ref = maxPool2d(relu(conv2d(x, conv.weight, conv.bias, { padding: 1 })), 2);
        expectClose(maps.get('2')!.data(), ref.data(), 0);
      });
      for (const t of maps.values()) t.dispose();
      expect(be.heap.liveBytes).toBe(before);
      expect(Object.prototype.hasOwnProperty.call(model[0], 'forward')).toBe(false);
      expect(model.training).toBe(true);
      model[1].eval(); // a sub-module's own mode survives
      const all = captureFeatures(model, x);
      expect([model.training, model[0].training, model[1].training]).toEqual([true, true, false]);
      expect([...all.keys()]).toEqual(['0', '1', '2', '3', '4']);
      for (const t of all.values()) t.dispose();
      expect(be.heap.liveBytes).toBe(before);
      expect(() => captureFeatures(model, x, ['9'])).toThrow("captureFeatures: the model has no module '9'; valid: '0', '1', '2', '3', '4'");
      expect(() => captureFeatures(model, tensor(randomArray(2 * 8 * 8 * 2, 1), [2, 8, 8, 2]), ['0'])).toThrow(ShapeError);
      expect(Object.prototype.hasOwnProperty.call(model[0], 'forward')).toBe(false);
      model.dispose();
      x.dispose();
    });
  });

  test('captureFeatures in a custom Module (dotted names) and a module that did not run', () => {
    withBackend(be, () => {
      class Net extends Module {
        features = new Sequential(new Conv2d(2, 4, 3), new ReLU());
        head = new Linear(4, 3);
        unused = new ReLU();
        forward(x: Tensor): Tensor {
          const f = this.features.forward(x); // [N, 1, 1, 4]
          return this.head.forward(reshape(f, [x.shape[0], 4]));
        }
      }
      const net = new Net();
      const x = tensor(randomArray(3 * 3 * 3 * 2, 1), [3, 3, 3, 2]);
      const maps = captureFeatures(net, x, ['features.0', 'head']);
      expect(maps.get('features.0')!.shape).toEqual([3, 1, 1, 4]);
      expect(maps.get('head')!.shape).toEqual([3, 3]);
      for (const t of maps.values()) t.dispose();
      expect(() => captureFeatures(net, x, ['unused'])).toThrow("captureFeatures: module 'unused' did not run in model.forward");
      net.dispose();
      x.dispose();
    });
  });

  test('channelGrid lays channels out as normalised grey tiles', () => {
    withBackend(be, () =>
      tidy(() => {
        // Two 2×3 channels: channel 0 counts up, channel 1 is constant.
        const v = new Float32Array(12);
        for (let i = 0; i < 6; i++) {
          v[2 * i] = i;
          v[2 * i + 1] = 7;
        }
        const img = channelGrid(tensor(v, [2, 3, 2]), { columns: 2, pad: 1, background: 9 });
        expect([img.width, img.height]).toEqual([2 * 3 + 3, 2 + 2]);
        const row = (y: number) => Array.from(img.data.subarray(y * img.width, (y + 1) * img.width));
        expect(row(0)).toEqual(new Array(9).fill(9));
        expect(row(1)).toEqual([9, 0, 51, 102, 9, 0, 0, 0, 9]);
        expect(row(2)).toEqual([9, 153, 204, 255, 9, 0, 0, 0, 9]);
        const big = channelGrid(tensor(v, [2, 3, 2]), { scale: 2, pad: 0, normalize: 'all' });
        expect([big.width, big.height]).toEqual([12, 4]);
        expect(big.data[0]).toBe(0);
        expect(big.data[6]).toBe(255); // channel 1 (value 7 = the global maximum)
        expect(() => channelGrid(tensor(v, [12]))).toThrow('channelGrid: expected [H, W, C]; got [12]');
        expect(() => channelGrid(tensor(v, [2, 3, 2]), { scale: 0 })).toThrow(ConfigError);
      }),
    );
  });
});

test('the same CNN trains to the same numbers on every backend (seeded)', () => {
  const finals = BACKENDS.map((be) =>
    withBackend(be, () => {
      seed(7);
      const model = smallCnn();
      const opt = new Adam(model.parameters(), { lr: 0.01 });
      const { x: xs, y: ys } = bars(16, 2);
      const x = tensor(xs, [16, 8, 8, 1]);
      const y = tensor(ys, [16], { dtype: 'int32' });
      let last = 0;
      for (let step = 0; step < 5; step++) {
        last = tidy(() => {
          const loss = crossEntropy(model.forward(x), y);
          opt.zeroGrad();
          backward(loss);
          opt.step();
          return loss.item();
        });
      }
      const w = Float64Array.from((model[0] as Conv2d).weight.data());
      model.dispose();
      opt.dispose();
      x.dispose();
      y.dispose();
      return { last, w };
    }),
  );
  for (const f of finals.slice(1)) {
    expect(Math.abs(f.last - finals[0].last)).toBeLessThan(1e-4);
    expectClose(f.w, finals[0].w, 1e-4);
  }
});
