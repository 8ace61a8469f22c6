/**
 * Fused layer pairs give the same values and gradients as the layers run one
 * by one: Sequential's Linear → ReLU (linearRelu: relu in the GEMM's tile
 * stores) and ReLU → MaxPool2d (relu on the pooled output, relu's backward
 * folded into the pooling's), and the transformer feed-forward block's
 * linear1 + relu. Wrapped or subclassed layers are not fused (captureFeatures
 * still sees every layer's own output).
 */
import { describe, expect, test } from 'vitest';
import {
  backward, captureFeatures, Conv2d, Linear, MaxPool2d, Module, mul, ReLU, Sequential, sum, tensor, tidy,
  TransformerEncoderLayer, type Tensor,
} from '../src/index.js';
import { EACH_BACKEND, expectClose, randomArray, values, withBackend } from './helpers.js';

/** The model's output and every parameter's gradient after backward(sum(output · weights)). */
function run(model: Module, x: Tensor, unfused: boolean): Float64Array[] {
  return tidy(() => {
    const restore: (() => void)[] = [];
    if (unfused) {
      // An own `forward` property (what captureFeatures installs) turns fusion off.
      for (const [, m] of model.namedModules()) {
        const f = m.forward;
        m.forward = function (this: Module, ...a: Tensor[]) { return f.apply(this, a); };
        restore.push(() => delete (m as { forward?: unknown }).forward);
      }
    }
    for (const t of [...model.parameters(), x]) {
      t.grad?.dispose();
      t.grad = null;
    }
    const y = model.forward(x);
    const w = tensor(randomArray(y.size, 99), y.shape);
    backward(sum(mul(y, w)));
    restore.forEach((r) => r());
    return [values(y), ...model.parameters().map((p) => values(p.grad!)), ...(x.requiresGrad ? [values(x.grad!)] : [])];
  });
}

function expectSame(fused: Float64Array[], plain: Float64Array[], tol: number): void {
  expect(fused.length).toBe(plain.length);
  fused.forEach((f, i) => expectClose(f, plain[i], tol));
}

describe.each(EACH_BACKEND)('layer fusion on %s', (_name, be) => {
  test('Sequential Linear → ReLU (bias, no bias, K over one GEMM block)', () => {
    withBackend(be, () => {
      for (const [inF, bias] of [[7, true], [300, true], [9, false]] as const) {
        const model = new Sequential(new Linear(inF, 13, { bias, seed: 1 }), new ReLU(), new Linear(13, 5, { seed: 2 }), new ReLU());
        const x = tensor(randomArray(6 * inF, 3), [2, 3, inF], { requiresGrad: true });
        expectSame(run(model, x, false), run(model, x, true), 2e-6);
        model.dispose();
        x.dispose();
      }
    });
  });

  test('Sequential Conv2d → ReLU → MaxPool2d (tiling, overlapping and padded windows; all-negative windows)', () => {
    withBackend(be, () => {
      for (const pool of [new MaxPool2d(2), new MaxPool2d(3, { stride: 2, padding: 1 }), new MaxPool2d(2, { stride: 1 })]) {
        const model = new Sequential(new Conv2d(2, 5, 3, { padding: 'same', seed: 4 }), new ReLU(), pool);
        // Shifted down so that many windows are entirely ≤ 0.
        const x = tensor(randomArray(2 * 6 * 6 * 2, 5).map((v) => v - 0.6), [2, 6, 6, 2], { requiresGrad: true });
        const fused = run(model, x, false);
        expectSame(fused, run(model, x, true), 1e-6);
        expect(fused[0].some((v) => v === 0)).toBe(true);
        model.dispose();
        x.dispose();
      }
    });
  });

  test('relu → maxPool: NaN propagates to the output and gets no gradient', () => {
    withBackend(be, () =>
      tidy(() => {
        const data = Float32Array.from([1, NaN, -2, -3, -1, -4, 5, 2]);
        const x = tensor(data, [1, 2, 4, 1], { requiresGrad: true });
        const model = new Sequential(new ReLU(), new MaxPool2d(2));
        const y = model.forward(x);
        const out = Array.from(y.data());
        expect(Number.isNaN(out[0])).toBe(true);
        expect(out[1]).toBe(5);
        backward(sum(mul(y, tensor([0, 1], y.shape))));
        expect(Array.from(x.grad!.data())).toEqual([0, 0, 0, 0, 0, 0, 1, 0]);
      }),
    );
  });

  // 13 rows: 6-row panels and a short one. [in, out]: 40 = 16-column pairs and an 8-column edge;
  // 64 and 128 inputs with 48 and 32 outputs: the relaxed build reads x in place (row strides 64, 128).
  test.each([[5, 40], [64, 48], [128, 32]])('Linear(%i, %i) → ReLU: same bits as unfused, NaN stays NaN', (inF, outF) => {
    withBackend(be, () =>
      tidy(() => {
        const model = new Sequential(new Linear(inF, outF, { seed: 12 }), new ReLU());
        const data = randomArray(13 * inF, 13);
        data[3 * inF + 2] = NaN; // row 3: all NaN (propagated)
        data[8 * inF] = Infinity; // row 8: ∞ − ∞ = a NaN made by the hardware (sign bit set on x86) where
        data[8 * inF + 1] = -Infinity; // the two weights share a sign, ±∞ where they do not
        const x = tensor(data, [13, inF]);
        const fused = Array.from(model.forward(x).data());
        const plain = Array.from(run(model, x, true)[0]);
        expect(fused.length).toBe(13 * outF);
        fused.forEach((v, i) => {
          if (Math.floor(i / outF) === 3) expect(Number.isNaN(v)).toBe(true);
          expect(Number.isNaN(v) ? Number.isNaN(plain[i]) : Object.is(v, plain[i])).toBe(true);
        });
        expect(fused.slice(8 * outF, 9 * outF).filter(Number.isNaN).length).toBeGreaterThan(5);
        expect(fused.filter((v) => v === 0).length).toBeGreaterThan(outF); // negatives clamped to +0
        expect(fused.some((v) => Object.is(v, -0))).toBe(false);
        model.dispose();
      }),
    );
  });

  test('captureFeatures still sees the ReLU output of a fused pair', () => {
    withBackend(be, () =>
      tidy(() => {
        const model = new Sequential(new Linear(4, 6, { seed: 7 }), new ReLU(), new Linear(6, 2, { seed: 8 }));
        const x = tensor(randomArray(12, 9), [3, 4]);
        const maps = captureFeatures(model, x, ['1']);
        const h = maps.get('1')!;
        expect(h.shape).toEqual([3, 6]);
        expect(Array.from(h.data()).every((v) => v >= 0)).toBe(true);
        expect(Array.from(h.data()).some((v) => v > 0)).toBe(true);
        model.dispose();
      }),
    );
  });

  test('transformer feed-forward: linear1 + relu fused, same output and gradients', () => {
    withBackend(be, () => {
      const layer = new TransformerEncoderLayer(16, 2, { dimFeedforward: 24, dropout: 0, normFirst: true, seed: 3 });
      const x = tensor(randomArray(2 * 5 * 16, 11), [2, 5, 16], { requiresGrad: true });
      expectSame(run(layer, x, false), run(layer, x, true), 2e-6);
      layer.dispose();
      x.dispose();
    });
  });
});
