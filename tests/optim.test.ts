/**
 * Optimizers, the parameter slab, gradient clipping and the L1/L2 penalties on
 * every backend:
 * - every optimizer (and its momentum / nesterov / weight-decay / amsgrad /
 *   centered variants) step by step against the documented formulas computed
 *   independently in float64; wasm and js agree within 1e-5;
 * - the slab: values kept, `.grad` aliases the gradient region, 16-byte
 *   alignment, one kernel call per group, zeroGrad one fill, heap flat over
 *   1,000 steps, ownership, replaced grads, state dicts;
 * - clipping against hand computation, penalties by gradCheck;
 * - bad input: clear errors, nothing changed.
 */
import { describe, expect, test } from 'vitest';
import {
  Adagrad, Adam, AdamW, add, backward, clipGradNorm, clipGradValue, ConfigError, gradCheck, l1Penalty, l2Penalty,
  Linear, matmul, mul, ones, RMSprop, SGD, sum, tensor, tidy, ValueError, type Backend, type Optimizer, type Tensor,
} from '../src/index.js';
import { BACKENDS, EACH_BACKEND, expectClose, randomArray, values, withBackend } from './helpers.js';

// ─── float64 references (the formulas as PyTorch documents them) ────────────

type Kind = 'SGD' | 'Adam' | 'AdamW' | 'RMSprop' | 'Adagrad';
type Opts = Record<string, any>;

const DEFAULTS: Record<Kind, Opts> = {
  SGD: { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false },
  Adam: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false },
  AdamW: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false },
  RMSprop: { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false },
  Adagrad: { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10 },
};

const MAKE: Record<Kind, (p: Tensor[], o: Opts) => Optimizer<any>> = {
  SGD: (p, o) => new SGD(p, o),
  Adam: (p, o) => new Adam(p, o),
  AdamW: (p, o) => new AdamW(p, o),
  RMSprop: (p, o) => new RMSprop(p, o),
  Adagrad: (p, o) => new Adagrad(p, o),
};

/** One reference step over one parameter, in float64, in place. */
function refStep(kind: Kind, o: Opts, p: Float64Array, grad: ArrayLike<number>, st: Record<string, Float64Array>, t: number): void {
  const z = () => new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) {
    let g = grad[i];
    if (kind === 'SGD') {
      g += o.weightDecay * p[i];
      if (o.momentum !== 0) {
        st.buf ??= z();
        st.buf[i] = t === 1 ? g : o.momentum * st.buf[i] + (1 - o.dampening) * g;
        g = o.nesterov ? g + o.momentum * st.buf[i] : st.buf[i];
      }
      p[i] -= o.lr * g;
    } else if (kind === 'Adam' || kind === 'AdamW') {
      const [b1, b2] = o.betas;
      if (kind === 'AdamW') p[i] *= 1 - o.lr * o.weightDecay;
      else g += o.weightDecay * p[i];
      st.m ??= z();
      st.v ??= z();
      st.vmax ??= z();
      st.m[i] = b1 * st.m[i] + (1 - b1) * g;
      st.v[i] = b2 * st.v[i] + (1 - b2) * g * g;
      st.vmax[i] = Math.max(st.vmax[i], st.v[i]);
      const mHat = st.m[i] / (1 - b1 ** t);
      const vHat = (o.amsgrad ? st.vmax[i] : st.v[i]) / (1 - b2 ** t);
      p[i] -= (o.lr * mHat) / (Math.sqrt(vHat) + o.eps);
    } else if (kind === 'RMSprop') {
      g += o.weightDecay * p[i];
      st.s ??= z();
      st.ga ??= z();
      st.b ??= z();
      st.s[i] = o.alpha * st.s[i] + (1 - o.alpha) * g * g;
      let d: number;
      if (o.centered) {
        st.ga[i] = o.alpha * st.ga[i] + (1 - o.alpha) * g;
        d = Math.sqrt(st.s[i] - st.ga[i] ** 2) + o.eps;
      } else d = Math.sqrt(st.s[i]) + o.eps;
      if (o.momentum > 0) {
        st.b[i] = o.momentum * st.b[i] + g / d;
        p[i] -= o.lr * st.b[i];
      } else p[i] -= (o.lr * g) / d;
    } else {
      const clr = o.lr / (1 + (t - 1) * o.lrDecay);
      g += o.weightDecay * p[i];
      st.sum ??= new Float64Array(p.length).fill(o.initialAccumulatorValue);
      st.sum[i] += g * g;
      p[i] -= (clr * g) / (Math.sqrt(st.sum[i]) + o.eps);
    }
  }
}

const SHAPES = [[3, 5], [7], [1], [2, 2], [0, 3]];
const STEPS = 4;

const VARIANTS: [Kind, Opts][] = [
  ['SGD', { lr: 0.1 }],
  ['SGD', { lr: 0.1, momentum: 0.9 }],
  ['SGD', { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }],
  ['SGD', { lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 0.05 }],
  ['Adam', { lr: 0.01 }],
  ['Adam', { lr: 0.02, betas: [0.8, 0.9], weightDecay: 0.1 }],
  ['Adam', { lr: 0.01, amsgrad: true, eps: 1e-6 }],
  ['AdamW', { lr: 0.01 }],
  ['AdamW', { lr: 0.05, weightDecay: 0.1, amsgrad: true }],
  ['RMSprop', {}],
  ['RMSprop', { lr: 0.01, momentum: 0.9 }],
  ['RMSprop', { lr: 0.01, centered: true, alpha: 0.9 }],
  ['RMSprop', { lr: 0.005, centered: true, momentum: 0.5, weightDecay: 0.1 }],
  ['Adagrad', { lr: 0.1 }],
  ['Adagrad', { lr: 0.1, lrDecay: 0.1, weightDecay: 0.01, initialAccumulatorValue: 0.1 }],
];

/** Runs STEPS steps with gradients fed through autograd; returns each step's parameters. */
function runOptimizer(be: Backend, kind: Kind, o: Opts): { ours: Float64Array[][]; ref: Float64Array[][] } {
  return withBackend(be, () => {
    const params = SHAPES.map((s, i) => {
      const n = s.reduce((a, b) => a * b, 1);
      return tensor(randomArray(n, 100 + i), s, { requiresGrad: true, name: `p${i}` });
    });
    const refP = params.map((p) => values(p));
    const refS = params.map(() => ({}) as Record<string, Float64Array>);
    const full = { ...DEFAULTS[kind], ...o };
    const opt = MAKE[kind](params, o);
    const ours: Float64Array[][] = [];
    const ref: Float64Array[][] = [];
    for (let t = 1; t <= STEPS; t++) {
      opt.zeroGrad();
      const grads = params.map((p, i) => randomArray(p.size, 1000 * t + i));
      tidy(() => params.forEach((p, i) => backward(p, tensor(grads[i], p.shape))));
      opt.step();
      params.forEach((_p, i) => refStep(kind, full, refP[i], grads[i], refS[i], t));
      ours.push(params.map(values));
      ref.push(refP.map((r) => Float64Array.from(r)));
    }
    opt.dispose();
    params.forEach((p) => p.dispose());
    return { ours, ref };
  });
}

describe.each(EACH_BACKEND)('optimizers on %s', (_name, be) => {
  test.each(VARIANTS)('%s %j matches the float64 formulas step by step', (kind, o) => {
    const { ours, ref } = runOptimizer(be, kind, o);
    for (let t = 0; t < STEPS; t++) {
      ours[t].forEach((p, i) => expectClose(p, ref[t][i], 1e-5));
      // It moved: the check is not vacuous.
      expect(Math.max(...ours[t][0].map((v, j) => Math.abs(v - randomArray(15, 100)[j])))).toBeGreaterThan(1e-4);
    }
  });

  test('Adam with zero weight decay is AdamW with zero weight decay', () => {
    withBackend(be, () => {
      const a = tensor(randomArray(9, 1), [9], { requiresGrad: true });
      const b = tensor(randomArray(9, 1), [9], { requiresGrad: true });
      const oa = new Adam([a], { lr: 0.01 });
      const ob = new AdamW([b], { lr: 0.01, weightDecay: 0 });
      for (let t = 0; t < 3; t++) {
        const g = randomArray(9, 50 + t);
        tidy(() => {
          backward(a, tensor(g));
          backward(b, tensor(g));
        });
        oa.step();
        ob.step();
        oa.zeroGrad();
        ob.zeroGrad();
      }
      expect(Array.from(a.data())).toEqual(Array.from(b.data()));
      oa.dispose();
      ob.dispose();
    });
  });

  // ─── the slab ─────────────────────────────────────────────────────────────

  test('slab: values kept, .grad and state alias the slab, 16-byte aligned, existing grads carried over', () => {
    withBackend(be, () => {
      const shapes = [[3, 5], [7], [2, 2], [1]];
      const ps = shapes.map((s, i) => tensor(randomArray(s.reduce((a, b) => a * b, 1), i + 1), s, { requiresGrad: true }));
      const before = ps.map(values);
      tidy(() => backward(ps[1], tensor(new Float32Array(7).fill(2)))); // a grad made before the optimizer
      const opt = new Adam(ps, { lr: 0.1 });
      ps.forEach((p, i) => expect(values(p)).toEqual(before[i]));
      expect(Array.from(ps[1].grad!.data())).toEqual(new Array(7).fill(2));
      expect(Array.from(ps[0].grad!.data())).toEqual(new Array(15).fill(0));
      // Regions: params | grads | expAvg | expAvgSq, each slabBytes / 4 long.
      const region = opt.slabBytes / 4;
      expect(region % 16).toBe(0);
      for (const p of ps) {
        expect(p.ptr % 16).toBe(0);
        expect(p.grad!.ptr - p.ptr).toBe(region);
        expect(opt.state.get(p)!.expAvg.ptr - p.ptr).toBe(2 * region);
        expect(opt.state.get(p)!.expAvgSq.ptr - p.ptr).toBe(3 * region);
        expect(p.grad!.kept).toBe(true);
      }
      // Parameters are laid out in order, each padded to 4 floats.
      expect(ps.map((p) => (p.ptr - ps[0].ptr) / 4)).toEqual([0, 16, 24, 28]);
      // Autograd accumulates into the slab: a real op's gradient lands there.
      tidy(() => backward(matmul(ones([1, 3]), mul(ps[0], 2)), tensor(new Float32Array(5).fill(1), [1, 5])));
      expect(Array.from(ps[0].grad!.data())).toEqual(new Array(15).fill(2));
      expect(Array.from(be.heap.f32.subarray((ps[0].ptr + region) >>> 2, ((ps[0].ptr + region) >>> 2) + 15))).toEqual(new Array(15).fill(2));
      opt.dispose();
      ps.forEach((p) => p.dispose());
    });
  });

  test('step() is one kernel call per param group; zeroGrad() makes no kernel call', () => {
    withBackend(be, () => {
      const ps = [[4, 3], [3], [5, 5], [2]].map((s, i) => tensor(randomArray(s.reduce((a, b) => a * b, 1), i), s, { requiresGrad: true }));
      const cases: [Optimizer<any>, string][] = [
        [new SGD(ps.slice(0, 2), { lr: 0.1, momentum: 0.9 }), 'sgd_step'],
        [new AdamW([{ params: ps.slice(2, 3) }, { params: [ps[3]], lr: 0.5, weightDecay: 0 }], { lr: 0.1 }), 'adam_step'],
      ];
      const [sgd, adamw] = cases;
      expect(countCalls(be, 'sgd_step', () => sgd[0].step())).toBe(1);
      expect(countCalls(be, 'adam_step', () => adamw[0].step())).toBe(2); // two groups
      expect(countCalls(be, 'fill_f32', () => adamw[0].zeroGrad())).toBe(0); // lazy: see the tests below
      for (const [o] of cases) o.dispose();
      // Every other optimizer: one call for one group of four tensors.
      const more: [() => Optimizer<any>, string][] = [
        [() => new RMSprop(ps, { momentum: 0.9, centered: true }), 'rmsprop_step'],
        [() => new Adagrad(ps), 'adagrad_step'],
        [() => new Adam(ps, { amsgrad: true }), 'adam_step'],
      ];
      for (const [make, kernel] of more) {
        const o = make();
        expect(countCalls(be, kernel, () => o.step())).toBe(1);
        o.dispose();
      }
      ps.forEach((p) => p.dispose());
    });
  });

  test('zeroGrad() zeroes every gradient', () => {
    withBackend(be, () => {
      const ps = [tensor(randomArray(13, 1), [13], { requiresGrad: true }), tensor(randomArray(6, 2), [2, 3], { requiresGrad: true })];
      const opt = new SGD(ps, { lr: 0.1 });
      tidy(() => ps.forEach((p) => backward(p, tensor(randomArray(p.size, 9), p.shape))));
      expect(ps.every((p) => Array.from(p.grad!.data()).some((v) => v !== 0))).toBe(true);
      opt.zeroGrad();
      for (const p of ps) expect(Array.from(p.grad!.data())).toEqual(new Array(p.size).fill(0));
      opt.dispose();
      ps.forEach((p) => p.dispose());
    });
  });

  // zeroGrad() only marks the gradients: the next backward writes each one's
  // first gradient in place (a dense layer's weight-gradient GEMM straight into
  // the slab), and whatever is read before that reads as zeros.
  test('zeroGrad() is lazy: a dense layer writes its gradients in place, with the values of a fresh backward', () => {
    withBackend(be, () => {
      const layer = new Linear(7, 5, { seed: 3 });
      const x = tensor(randomArray(4 * 7, 4), [4, 7]);
      const w = tensor(randomArray(4 * 5, 5), [4, 5]);
      const lossOf = () => sum(mul(layer.forward(x), w));
      // Reference: gradients of a fresh layer with no optimizer (no .grad yet: adopted as computed).
      const ref = tidy(() => {
        backward(lossOf());
        return layer.parameters().map((p) => values(p.grad!));
      });
      const opt = new SGD(layer.parameters(), { lr: 0.1, weightDecay: 0.5 });
      tidy(() => backward(lossOf())); // some gradient to zero
      opt.zeroGrad();
      const k = be.k as unknown as Record<string, (...a: number[]) => unknown>;
      const wgrad = k.gemm_wgrad;
      const dst: number[] = [];
      k.gemm_wgrad = (...a: number[]) => {
        dst.push(a[0], a[1]);
        return wgrad(...a);
      };
      let adds = -1, fills = -1, copies = -1;
      try {
        adds = countCalls(be, 'add_f32', () => {
          fills = countCalls(be, 'fill_f32', () => {
            copies = countCalls(be, 'copy_f32', () => tidy(() => backward(lossOf())));
          });
        });
      } finally {
        k.gemm_wgrad = wgrad;
      }
      expect([adds, fills, copies]).toEqual([0, 1, 0]); // the one fill: backward's seed, d(loss)/d(loss) = 1
      expect(dst).toEqual([layer.weight.grad!.ptr, layer.bias!.grad!.ptr]);
      layer.parameters().forEach((p, i) => expect(Array.from(values(p.grad!))).toEqual(Array.from(ref[i])));
      // A second backward without zeroGrad accumulates.
      tidy(() => backward(lossOf()));
      layer.parameters().forEach((p, i) => expectClose(values(p.grad!), ref[i].map((v) => 2 * v), 1e-6));
      opt.dispose();
      layer.dispose();
      x.dispose();
      w.dispose();
    });
  });

  test('zeroGrad() is lazy: .grad read before the next backward is zero; a step without one uses zero gradients', () => {
    withBackend(be, () => {
      const ps = [tensor(randomArray(13, 1), [13], { requiresGrad: true }), tensor(randomArray(6, 2), [2, 3], { requiresGrad: true })];
      const before = ps.map((p) => values(p));
      const opt = new SGD(ps, { lr: 0.1, weightDecay: 0.5 });
      tidy(() => ps.forEach((p) => backward(p, tensor(randomArray(p.size, 9), p.shape))));
      opt.zeroGrad();
      // No .grad read: step() must still see zeros (p ← p − lr·wd·p).
      opt.step();
      ps.forEach((p, i) => expectClose(values(p), before[i].map((v) => v * (1 - 0.1 * 0.5)), 1e-6));
      tidy(() => ps.forEach((p) => backward(p, tensor(randomArray(p.size, 9), p.shape))));
      opt.zeroGrad();
      expect(Array.from(ps[1].grad!.data())).toEqual([0, 0, 0, 0, 0, 0]);
      // A gradient after the read adds to those zeros.
      tidy(() => backward(ps[1], tensor([1, 2, 3, 4, 5, 6], [2, 3])));
      expect(Array.from(ps[1].grad!.data())).toEqual([1, 2, 3, 4, 5, 6]);
      expect(Array.from(ps[0].grad!.data())).toEqual(new Array(13).fill(0));
      // Unread after zeroGrad: the first gradient is copied over the stale values.
      tidy(() => backward(ps[0], tensor(randomArray(13, 9), [13])));
      opt.zeroGrad();
      tidy(() => backward(ps[0], tensor(randomArray(13, 7), [13])));
      expect(Array.from(ps[0].grad!.data())).toEqual(Array.from(randomArray(13, 7)));
      opt.dispose();
      ps.forEach((p) => p.dispose());
    });
  });

  test('heap live bytes are flat over 1,000 training steps', () => {
    withBackend(be, () => {
      const x = tensor(randomArray(12, 1), [4, 3]);
      const W = tensor(randomArray(15, 2), [3, 5], { requiresGrad: true, name: 'W' });
      const b = tensor(randomArray(20, 3), [4, 5], { requiresGrad: true, name: 'b' });
      const opt = new Adam([W, b], { lr: 1e-3, amsgrad: true });
      const l = ones([1, 4]);
      const r = ones([5, 1]);
      const trainStep = () => {
        opt.zeroGrad();
        tidy(() => backward(matmul(l, matmul(add(matmul(x, W), b), r))));
        opt.step();
      };
      trainStep();
      const live = be.heap.liveBytes;
      const blocks = be.heap.liveBlocks;
      for (let i = 0; i < 1000; i++) trainStep();
      expect(be.heap.liveBytes).toBe(live);
      expect(be.heap.liveBlocks).toBe(blocks);
      expect(values(W).every(Number.isFinite)).toBe(true);
      opt.dispose();
      for (const t of [x, W, b, l, r]) t.dispose();
    });
  });

  test('a replaced or missing .grad is copied back into the slab', () => {
    withBackend(be, () => {
      const p = tensor([1, 2, 3], undefined, { requiresGrad: true });
      const opt = new SGD([p], { lr: 1 });
      p.grad!.dispose(); // autograd now makes a fresh tensor
      tidy(() => backward(p, tensor([1, 1, 1])));
      opt.step();
      expect(Array.from(p.data())).toEqual([0, 1, 2]);
      p.grad = null; // steps with a zero gradient
      opt.step();
      expect(Array.from(p.data())).toEqual([0, 1, 2]);
      expect(p.grad).not.toBeNull();
      opt.dispose();
      p.dispose();
    });
  });

  test('ownership: a parameter lives in one slab; after dispose() it can move; frozen parameters are skipped', () => {
    withBackend(be, () => {
      const p = tensor([1, 2, 3], undefined, { requiresGrad: true, name: 'fc.weight' });
      const frozen = tensor([5, 5], undefined, { name: 'frozen' });
      const a = new SGD([p, frozen], { lr: 0.1 });
      expect(a.params).toEqual([p]);
      expect(() => new Adam([p])).toThrow(ConfigError);
      expect(() => new Adam([p])).toThrow('Adam: parameter fc.weight [3] float32 already lives in the slab of another optimizer (SGD)');
      a.dispose();
      const b = new Adam({ parameters: () => [p, frozen] }); // a Module-like object
      expect(Array.from(p.data())).toEqual([1, 2, 3]);
      expect(() => a.step()).toThrow('SGD.step: the optimizer was disposed');
      b.dispose();
      expect(() => new SGD([frozen])).toThrow('SGD: got no parameters that require grad');
      p.dispose();
      frozen.dispose();
    });
  });

  test('an optimizer dropped without dispose() is collected and stops owning its parameters', async () => {
    const gc = (globalThis as { gc?: () => void }).gc!;
    const p = withBackend(be, () => tensor([1, 2, 3], undefined, { requiresGrad: true }));
    (() => void new SGD([p]))(); // forgotten
    let opt: Optimizer<any> | undefined;
    const tick = () => new Promise((r) => setTimeout(r, 10));
    // WeakRef targets live to the end of the job that made or deref'ed them: yield before collecting.
    for (let i = 0; i < 20 && opt === undefined; i++) {
      await tick();
      gc();
      await tick();
      try {
        opt = new Adam([p]);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
      }
    }
    expect(opt).toBeDefined();
    expect(Array.from(p.data())).toEqual([1, 2, 3]);
    opt!.dispose();
    p.dispose();
  });

  test('stateDict / loadStateDict resume exactly; a mismatched dict changes nothing', () => {
    withBackend(be, () => {
      const mk = () => [tensor(randomArray(10, 1), [2, 5], { requiresGrad: true }), tensor(randomArray(3, 2), [3], { requiresGrad: true })];
      const feed = (ps: Tensor[], t: number) => tidy(() => ps.forEach((p, i) => backward(p, tensor(randomArray(p.size, 10 * t + i), p.shape))));
      for (const make of [
        (ps: Tensor[]) => new Adam(ps, { lr: 0.01, amsgrad: true }),
        (ps: Tensor[]) => new SGD(ps, { lr: 0.1, momentum: 0.9, dampening: 0.5 }),
        (ps: Tensor[]) => new RMSprop(ps, { centered: true, momentum: 0.5 }),
        (ps: Tensor[]) => new Adagrad(ps, { lrDecay: 0.1, initialAccumulatorValue: 0.2 }),
      ]) {
        const a = mk();
        const oa = make(a);
        for (let t = 1; t <= 3; t++) {
          oa.zeroGrad();
          feed(a, t);
          oa.step();
        }
        const dict = oa.stateDict();
        const snapshot = a.map(values);
        for (let t = 4; t <= 5; t++) {
          oa.zeroGrad();
          feed(a, t);
          oa.step();
        }
        const b = snapshot.map((v, i) => tensor(Float32Array.from(v), a[i].shape, { requiresGrad: true }));
        const ob = make(b);
        ob.loadStateDict(dict);
        expect(ob.stepCount).toBe(3);
        for (let t = 4; t <= 5; t++) {
          ob.zeroGrad();
          feed(b, t);
          ob.step();
        }
        a.forEach((p, i) => expect(values(b[i])).toEqual(values(p)));
        // A dict for other shapes is refused before anything is written.
        const c = [tensor(randomArray(9, 1), [3, 3], { requiresGrad: true }), tensor(randomArray(3, 2), [3], { requiresGrad: true })];
        const oc = make(c);
        const stateBefore = oc.stateDict();
        expect(() => oc.loadStateDict(dict)).toThrow(/parameter 0 .* has shape \[3,3\]; the state dict has \[2,5\]/);
        expect(oc.stateDict()).toEqual(stateBefore);
        for (const o of [oa, ob, oc]) o.dispose();
        for (const t of [...a, ...b, ...c]) t.dispose();
      }
    });
  });

  test('param groups: per-group lr and weight decay; lr setter sets all groups', () => {
    withBackend(be, () => {
      const p = tensor([1, 1], undefined, { requiresGrad: true });
      const q = tensor([1, 1], undefined, { requiresGrad: true });
      const opt = new SGD([{ params: [p] }, { params: [q], lr: 0.5, weightDecay: 1 }], { lr: 0.1 });
      expect(opt.paramGroups.map((g) => [g.lr, g.weightDecay, g.momentum])).toEqual([[0.1, 0, 0], [0.5, 1, 0]]);
      tidy(() => {
        backward(p, tensor([1, 2]));
        backward(q, tensor([1, 2]));
      });
      opt.step();
      expectClose(values(p), [0.9, 0.8], 1e-7);
      expectClose(values(q), [1 - 0.5 * 2, 1 - 0.5 * 3], 1e-7);
      opt.lr = 0.25;
      expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.25, 0.25]);
      expect(opt.paramGroups.map((g) => g.initialLr)).toEqual([0.1, 0.5]);
      opt.dispose();
      p.dispose();
      q.dispose();
    });
  });

  // ─── bad input ────────────────────────────────────────────────────────────

  test('bad options: clear errors naming the option; parameters, grads and heap unchanged', () => {
    withBackend(be, () => {
      const p = tensor([1, 2, 3], undefined, { requiresGrad: true });
      const i32 = tensor([1], undefined, { dtype: 'int32', requiresGrad: true });
      const ptr = p.ptr;
      const live = be.heap.liveBytes;
      const cases: [() => unknown, typeof ConfigError | typeof ValueError, string | RegExp][] = [
        [() => new Adam([p], { learningRate: 0.1 } as any), ConfigError, "Adam: unknown option 'learningRate'; valid: lr, betas, eps, weightDecay, amsgrad"],
        [() => new SGD([p], { lr: -1 }), ValueError, 'SGD: lr must be a finite number ≥ 0; got number -1'],
        [() => new SGD([p], { lr: NaN }), ValueError, 'SGD: lr must be a finite number ≥ 0; got number NaN'],
        [() => new AdamW([p], { lr: Infinity }), ValueError, 'AdamW: lr must be'],
        [() => new Adam([p], { betas: [1, 0.999] }), ValueError, 'Adam: betas[0] must be in [0, 1); got number 1'],
        [() => new Adam([p], { betas: [0.9, -0.1] }), ValueError, 'Adam: betas[1] must be in [0, 1); got number -0.1'],
        [() => new Adam([p], { betas: [0.9] as any }), ValueError, 'Adam: betas must be two numbers'],
        [() => new SGD([p], { nesterov: true }), ConfigError, 'SGD: nesterov momentum requires momentum > 0 and dampening 0'],
        [() => new RMSprop([p], { alpha: 1.5 }), ValueError, 'RMSprop: alpha must be in [0, 1]; got number 1.5'],
        [() => new Adagrad([p], { initialAccumulatorValue: -1 }), ValueError, 'Adagrad: initialAccumulatorValue must be a finite number ≥ 0'],
        [() => new SGD([{ params: [p], momentum: -0.5 }]), ValueError, 'SGD: momentum must be a finite number ≥ 0; got number -0.5'],
        [() => new SGD([{ params: [p], lrr: 1 } as any]), ConfigError, "unknown option 'lrr'; valid: lr, momentum, dampening, weightDecay, nesterov"],
        [() => new SGD([]), ConfigError, 'SGD: got an empty parameter list'],
        [() => new SGD([p, 3] as any), ConfigError, 'SGD: params must be all tensors or all param groups'],
        [() => new SGD([{ params: [p] }, { params: [p] }]), ConfigError, 'appears in param groups 0 and 1'],
        [() => new SGD([i32]), Error, 'SGD: parameters must be float32; got #'],
      ];
      for (const [fn, cls, msg] of cases) {
        expect(fn).toThrow(cls);
        expect(fn).toThrow(msg);
      }
      expect(p.ptr).toBe(ptr); // never moved
      expect(p.grad).toBeNull();
      expect(be.heap.liveBytes).toBe(live);
      // lr setter and group edits are checked too; nothing changes on error.
      const opt = new SGD([p], { lr: 0.1 });
      tidy(() => backward(p, tensor([1, 1, 1])));
      expect(() => (opt.lr = NaN)).toThrow('SGD: lr must be a finite number ≥ 0; got number NaN');
      expect(opt.lr).toBe(0.1);
      opt.paramGroups[0].lr = -1;
      expect(() => opt.step()).toThrow('SGD.step: lr must be a finite number ≥ 0; got number -1');
      expect(opt.stepCount).toBe(0);
      opt.paramGroups[0].lr = 0.1;
      opt.paramGroups[0].momentum = 0.9; // no momentum buffer was allocated
      expect(() => opt.step()).toThrow("SGD.step: these options need the state buffer 'momentumBuffer', which was not allocated");
      expect(Array.from(p.data())).toEqual([1, 2, 3]);
      opt.dispose();
      p.dispose();
      i32.dispose();
    });
  });

  // ─── clipping ─────────────────────────────────────────────────────────────

  test('clipGradNorm: total norm by hand, scaled to maxNorm, one sumsq call over a slab', () => {
    withBackend(be, () => {
      const a = tensor([0, 0, 0], undefined, { requiresGrad: true });
      const b = tensor([0, 0, 0, 0, 0], undefined, { requiresGrad: true });
      const opt = new SGD([a, b]);
      const feed = () => {
        opt.zeroGrad();
        tidy(() => {
          backward(a, tensor([3, 0, 0]));
          backward(b, tensor([0, 4, 0, 0, 12]));
        });
      };
      feed();
      let norm = 0;
      expect(countCalls(be, 'sumsq_f32', () => (norm = clipGradNorm([a, b], 6.5)))).toBe(1);
      expectClose([norm], [13], 1e-7);
      const c = 6.5 / (13 + 1e-6);
      expectClose([...values(a.grad!), ...values(b.grad!)], [3 * c, 0, 0, 0, 4 * c, 0, 0, 12 * c], 1e-6);
      feed();
      expect(clipGradNorm([a, b], 100)).toBeCloseTo(13, 5); // under the limit: unchanged
      expect(Array.from(b.grad!.data())).toEqual([0, 4, 0, 0, 12]);
      expect(clipGradNorm({ parameters: () => [a, b] }, 100, Infinity)).toBe(12);
      expect(clipGradNorm([a, b], 100, 1)).toBeCloseTo(19, 5);
      expectClose([clipGradNorm([a, b], 100, 3)], [Math.cbrt(27 + 64 + 1728)], 1e-6);
      feed();
      expectClose([clipGradNorm([a, b], 1, Infinity)], [12], 1e-7);
      expectClose(values(b.grad!), [0, 4 / 12, 0, 0, 1].map((v) => v * (12 / (12 + 1e-6))), 1e-6);
      opt.dispose();
      // Tensors outside a slab work too; null grads are skipped.
      const x = tensor([1, 1], undefined, { requiresGrad: true });
      const y = tensor([2], undefined, { requiresGrad: true });
      tidy(() => backward(x, tensor([-6, 8])));
      expectClose([clipGradNorm([x, y], 5)], [10], 1e-7);
      expectClose(values(x.grad!), [-3, 4], 1e-6);
      expect(clipGradNorm([y], 1)).toBe(0);
      expect(() => clipGradNorm([x], -1)).toThrow('clipGradNorm: maxNorm must be a finite number ≥ 0; got -1');
      expect(() => clipGradNorm([x], 1, 0)).toThrow('clipGradNorm: normType must be a number > 0');
      tidy(() => backward(x, tensor([NaN, 0])));
      expect(() => clipGradNorm([x], 1, 2, { errorIfNonfinite: true })).toThrow(ValueError);
      for (const t of [a, b, x, y]) t.dispose();
    });
  });

  test('clipGradValue clamps every gradient element', () => {
    withBackend(be, () => {
      const a = tensor(new Float32Array(9), [9], { requiresGrad: true });
      const opt = new Adam([a]);
      const g = [-3, -0.5, 0, 0.25, 2, 7, -7, 0.49, 1];
      tidy(() => backward(a, tensor(g)));
      expect(countCalls(be, 'clamp_f32', () => clipGradValue([a], 0.5))).toBe(1);
      expect(Array.from(a.grad!.data())).toEqual(g.map((v) => Math.fround(Math.min(Math.max(v, -0.5), 0.5))));
      expect(() => clipGradValue([a], NaN)).toThrow('clipGradValue: clipValue must be a finite number ≥ 0; got NaN');
      opt.dispose();
      a.dispose();
    });
  });

  // ─── penalties ────────────────────────────────────────────────────────────

  test('l1Penalty / l2Penalty: values, gradients by finite differences, modules, slabs', () => {
    withBackend(be, () => {
      tidy(() => {
        // Away from 0, where |w| has no derivative.
        const away = (n: number, s: number) => randomArray(n, s).map((v) => v + Math.sign(v || 1) * 0.2);
        const a = tensor(away(6, 1), [2, 3], { requiresGrad: true });
        const b = tensor(away(5, 2), [5], { requiresGrad: true });
        const c = tensor(away(4, 3), [4]); // a constant
        const sumAbs = [...values(a), ...values(b), ...values(c)].reduce((s, v) => s + Math.abs(v), 0);
        const sumSq = [...values(a), ...values(b), ...values(c)].reduce((s, v) => s + v * v, 0);
        expect(l1Penalty([a, b, c], 0.3).shape).toEqual([]);
        expectClose([l1Penalty([a, b, c], 0.3).item()], [0.3 * sumAbs], 1e-6);
        expectClose([l2Penalty({ parameters: () => [a, b, c] }, 0.3).item()], [0.3 * sumSq], 1e-6);
        expect(gradCheck((x, y, z) => l1Penalty([x, y, z], 0.7), [a, b, c]).maxRelError).toBeLessThan(1e-2);
        expect(gradCheck((x, y, z) => l2Penalty([x, y, z], 0.7), [a, b, c]).maxRelError).toBeLessThan(1e-2);
        // Gradients by hand: λ·sign(w), 2λ·w.
        backward(add(l1Penalty(a, 0.5), l2Penalty(b, 0.25)));
        expect(Array.from(a.grad!.data())).toEqual(Array.from(a.data(), (v) => Math.sign(v) * 0.5));
        expectClose(values(b.grad!), Array.from(b.data(), (v) => 0.5 * v), 1e-7);
        expect(() => l1Penalty([], 1)).toThrow('l1Penalty: got no parameters');
        expect(() => l2Penalty([a], NaN)).toThrow('l2Penalty: lambda must be a finite number; got NaN');
      });
      // Over an optimizer's slab: one reduction call for all parameters.
      const ps = [tensor(randomArray(7, 1), [7], { requiresGrad: true }), tensor(randomArray(6, 2), [2, 3], { requiresGrad: true })];
      const opt = new SGD(ps);
      const want = ps.flatMap((p) => Array.from(p.data())).reduce((s, v) => s + v * v, 0);
      let got = 0;
      expect(countCalls(be, 'sumsq_f32', () => tidy(() => void (got = l2Penalty(ps, 2).item())))).toBe(1);
      expectClose([got], [2 * want], 1e-6);
      opt.dispose();
      ps.forEach((p) => p.dispose());
    });
  });
});

test('every backend agrees within 1e-5 on every optimizer variant', () => {
  for (const [kind, o] of VARIANTS) {
    const runs = BACKENDS.map((be) => runOptimizer(be, kind, o).ours);
    for (const r of runs.slice(1)) {
      for (let t = 0; t < STEPS; t++) r[t].forEach((p, i) => expectClose(p, runs[0][t][i], 1e-5));
    }
  }
});

/** Calls `fn` with the backend's kernel `name` wrapped to count its calls. */
function countCalls(be: Backend, name: string, fn: () => void): number {
  const k = be.k as unknown as Record<string, (...a: number[]) => unknown>;
  const orig = k[name];
  let n = 0;
  k[name] = (...a: number[]) => {
    n++;
    return orig(...a);
  };
  try {
    fn();
  } finally {
    k[name] = orig;
  }
  return n;
}
