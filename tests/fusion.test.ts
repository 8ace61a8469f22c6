/**
 * Fused layer pairs give the same values and gradients as the layers run one
 * by one: Sequential's Linear → ReLU (linearRelu: relu in the GEMM's tile
 * stores) and ReLU → MaxPool2d (relu on the pooled output, relu's backward
 * folded into the pooling's), the transformer feed-forward block's
 * linear1 + relu, and each transformer sublayer's skip connection added inside
 * its last projection (linearAdd: the same bits). Wrapped or subclassed
 * layers are not fused (captureFeatures still sees every layer's own output).
 */
import { describe, expect, test } from 'vitest';
import {
  add, backward, captureFeatures, Conv2d, linear, Linear, MaxPool2d, Module, mul, ReLU, Sequential, ShapeError, sum, tensor,
  tidy, TransformerDecoderLayer, TransformerEncoderLayer, type Tensor,
} from '../src/index.js';
import { linearAdd } from '../src/ops/linear.js';
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

  // 13 rows (6-row panels and a short one); [in, out]: 40 outputs = column pairs and an 8-column edge;
  // 64 and 128 inputs: A read in place (relaxed build); 1100: two K blocks (the residual joins the last);
  // 0 inputs: the K = 0 path (bias + residual only).
  test.each([[5, 40], [64, 48], [128, 32], [1100, 9], [0, 7]])('linearAdd(%i → %i): same bits as add(r, linear(x)), same gradients', (inF, outF) => {
    withBackend(be, () =>
      tidy(() => {
        const x = tensor(randomArray(13 * inF, 31), [13, inF], { requiresGrad: true });
        const w = tensor(randomArray(inF * outF, 32), [inF, outF], { requiresGrad: true });
        const b = tensor(randomArray(outF, 33), [outF], { requiresGrad: true });
        const r = tensor(randomArray(13 * outF, 34).map((v) => v * 5), [13, outF], { requiresGrad: true });
        const dy = tensor(randomArray(13 * outF, 35), [13, outF]);
        const grads = (y: Tensor): Float64Array[] => {
          for (const t of [x, w, b, r]) {
            t.grad?.dispose();
            t.grad = null;
          }
          backward(y, dy);
          return [values(y), ...[x, w, b, r].map((t) => values(t.grad!))];
        };
        const fused = grads(linearAdd(x, w, b, r));
        const plain = grads(add(r, linear(x, w, b)));
        fused.forEach((f, i) => expect(Array.from(f)).toEqual(Array.from(plain[i])));
        // and without a bias
        const y0 = values(linearAdd(x, w, undefined, r)), p0 = values(add(r, linear(x, w)));
        expect(Array.from(y0)).toEqual(Array.from(p0));
      }),
    );
  });

  test('linearAdd: a residual of the wrong shape is an error naming the op, heap unchanged', () => {
    withBackend(be, () =>
      tidy(() => {
        const x = tensor(randomArray(12, 1), [3, 4]), w = tensor(randomArray(8, 2), [4, 2]), r = tensor(randomArray(9, 3), [3, 3]);
        const before = be.heap.liveBytes;
        expect(() => linearAdd(x, w, undefined, r)).toThrow('linear: residual must have the output\'s shape [3,2]; got [3,3]');
        expect(() => linearAdd(x, w, undefined, r)).toThrow(ShapeError);
        expect(be.heap.liveBytes).toBe(before);
      }),
    );
  });

  // The skip connections: x + sublayer(…) with the residual added in the output projection's
  // (attention) and linear2's (feed-forward) GEMM when the dropout is the identity: p = 0, or
  // eval mode. Exactly the unfused bits, forward and backward (the norms' backward then adds dx
  // into the skip's pending gradient either way).
  test.each([
    ['encoder pre-norm', true, false], ['encoder post-norm', false, false],
    ['decoder pre-norm', true, true], ['decoder post-norm', false, true],
  ])('transformer %s: residuals fused into the projections, same bits as unfused', (_n, normFirst, decoder) => {
    withBackend(be, () => {
      for (const [dropout, train] of [[0, true], [0.3, false]] as const) {
        const o = { dimFeedforward: 24, dropout, normFirst, seed: 5 };
        const layer = decoder ? new TransformerDecoderLayer(16, 2, o) : new TransformerEncoderLayer(16, 2, o);
        layer.train(train);
        const x = tensor(randomArray(2 * 5 * 16, 12), [2, 5, 16], { requiresGrad: true });
        const mem = tensor(randomArray(2 * 3 * 16, 13), [2, 3, 16]);
        const model = decoder ? new (class extends Module {
          constructor(readonly l: TransformerDecoderLayer) { super(); }
          forward(t: Tensor) { return this.l.forward(t, mem); }
        })(layer as TransformerDecoderLayer) : layer;
        // Count the GEMMs that add a residual (gemm_bias_act's last argument).
        const k = be.k as unknown as Record<string, (...a: number[]) => void>;
        const gba = k.gemm_bias_act;
        let withRes = 0;
        k.gemm_bias_act = (...a: number[]) => {
          if (a[a.length - 1] !== 0) withRes++;
          gba(...a);
        };
        let fused: Float64Array[], plain: Float64Array[], fusedCount: number;
        try {
          fused = run(model, x, false);
          fusedCount = withRes;
          plain = run(model, x, true);
        } finally {
          k.gemm_bias_act = gba;
        }
        expect(fusedCount).toBe(decoder ? 3 : 2);
        expect(withRes).toBe(fusedCount); // none in the unfused run
        expect(fused.length).toBe(plain.length);
        fused.forEach((f, i) => expect(Array.from(f)).toEqual(Array.from(plain[i])));
        layer.dispose();
        x.dispose();
        mem.dispose();
      }
    });
  });
});
