/**
 * conv2d / conv1d: forward against a naive float64 direct convolution,
 * gradients (input, filter, bias) by finite differences for stride, padding
 * and dilation variants, the chunked path, wasm-vs-js agreement, layout
 * helpers, and bad input (errors name the op and shapes; heap unchanged).
 */
import { afterEach, describe, expect, test } from 'vitest';
import {
  Conv1d, Conv2d, ConfigError, ShapeError, backward, conv1d, conv2d, filterFromTorch, filterToTorch, gradCheck, nchwToNhwc,
  nhwcToNchw, tensor, tidy, type Padding,
} from '../src/index.js';
import { convWorkspace } from '../src/ops/conv.js';
import { BACKENDS, EACH_BACKEND, expectClose, randomArray, values, withBackend } from './helpers.js';

interface Case {
  name: string;
  N: number; H: number; W: number; C: number; O: number;
  k: [number, number];
  stride?: [number, number];
  padding?: Padding;
  dilation?: [number, number];
  bias?: boolean;
}

/** Per-side padding computed independently of src/ops/conv.ts. */
function pads(c: Case): { pT: number; pB: number; pL: number; pR: number } {
  const [sH, sW] = c.stride ?? [1, 1];
  const [dH, dW] = c.dilation ?? [1, 1];
  const p = c.padding ?? 0;
  if (p === 'valid') return { pT: 0, pB: 0, pL: 0, pR: 0 };
  if (p === 'same') {
    const tot = (size: number, s: number, span: number) => Math.max((Math.ceil(size / s) - 1) * s + span - size, 0);
    const th = tot(c.H, sH, (c.k[0] - 1) * dH + 1);
    const tw = tot(c.W, sW, (c.k[1] - 1) * dW + 1);
    return { pT: Math.floor(th / 2), pB: th - Math.floor(th / 2), pL: Math.floor(tw / 2), pR: tw - Math.floor(tw / 2) };
  }
  const [ph, pw] = typeof p === 'number' ? [p, p] : p;
  return { pT: ph, pB: ph, pL: pw, pR: pw };
}

/** float64 direct convolution: x NHWC, w HWIO. Returns [N, OH, OW, O] data and the output shape. */
function naiveConv(c: Case, x: ArrayLike<number>, w: ArrayLike<number>, b?: ArrayLike<number>): { y: Float64Array; shape: number[] } {
  const [sH, sW] = c.stride ?? [1, 1];
  const [dH, dW] = c.dilation ?? [1, 1];
  const { pT, pB, pL, pR } = pads(c);
  const [kH, kW] = c.k;
  const OH = Math.floor((c.H + pT + pB - (kH - 1) * dH - 1) / sH) + 1;
  const OW = Math.floor((c.W + pL + pR - (kW - 1) * dW - 1) / sW) + 1;
  const y = new Float64Array(c.N * OH * OW * c.O);
  for (let n = 0; n < c.N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let o = 0; o < c.O; o++) {
          let s = b ? b[o] : 0;
          for (let kh = 0; kh < kH; kh++)
            for (let kw = 0; kw < kW; kw++) {
              const ih = oh * sH - pT + kh * dH, iw = ow * sW - pL + kw * dW;
              if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W) continue;
              for (let ci = 0; ci < c.C; ci++) {
                s += x[((n * c.H + ih) * c.W + iw) * c.C + ci] * w[((kh * kW + kw) * c.C + ci) * c.O + o];
              }
            }
          y[((n * OH + oh) * OW + ow) * c.O + o] = s;
        }
  return { y, shape: [c.N, OH, OW, c.O] };
}

const CASES: Case[] = [
  { name: '3×3 padding 1', N: 2, H: 6, W: 5, C: 3, O: 4, k: [3, 3], padding: 1, bias: true },
  { name: '3×3 valid, no bias', N: 1, H: 7, W: 6, C: 2, O: 5, k: [3, 3], padding: 'valid' },
  { name: "4×4 'same' (asymmetric padding)", N: 2, H: 5, W: 6, C: 3, O: 3, k: [4, 4], padding: 'same', bias: true },
  { name: "3×3 'same' stride 2", N: 2, H: 7, W: 8, C: 2, O: 3, k: [3, 3], stride: [2, 2], padding: 'same', bias: true },
  { name: '3×3 stride 2 valid', N: 2, H: 7, W: 7, C: 3, O: 2, k: [3, 3], stride: [2, 2], bias: true },
  { name: '3×3 dilation 2 padding 2', N: 1, H: 7, W: 6, C: 2, O: 3, k: [3, 3], dilation: [2, 2], padding: 2, bias: true },
  { name: "2×3 dilation [2,1] 'same'", N: 2, H: 6, W: 5, C: 2, O: 3, k: [2, 3], dilation: [2, 1], padding: 'same', bias: true },
  { name: '2×3 stride [2,1] padding [1,0]', N: 2, H: 5, W: 6, C: 5, O: 7, k: [2, 3], stride: [2, 1], padding: [1, 0], bias: true },
  { name: '1×1 pointwise', N: 2, H: 4, W: 3, C: 5, O: 6, k: [1, 1], bias: true },
  { name: '1×1 stride 2', N: 1, H: 5, W: 4, C: 3, O: 2, k: [1, 1], stride: [2, 2] },
  { name: 'single channel 5×5 padding 2', N: 3, H: 6, W: 6, C: 1, O: 4, k: [5, 5], padding: 2, bias: true },
  { name: 'kernel = padded input', N: 2, H: 3, W: 2, C: 2, O: 3, k: [5, 4], padding: 1, bias: true },
];

function make(c: Case, seed: number, requiresGrad = false) {
  const x = tensor(randomArray(c.N * c.H * c.W * c.C, seed), [c.N, c.H, c.W, c.C], { requiresGrad });
  const w = tensor(randomArray(c.k[0] * c.k[1] * c.C * c.O, seed + 1), [c.k[0], c.k[1], c.C, c.O], { requiresGrad });
  const b = c.bias ? tensor(randomArray(c.O, seed + 2), [c.O], { requiresGrad }) : undefined;
  return { x, w, b };
}

/**
 * A convolution is linear in each of x, w and b, so central differences have
 * no truncation error and a large step keeps float32 round-off (≈1e-7·|y|
 * per output, divided by 2·eps) far below the tolerance.
 */
const LINEAR = { eps: 0.05 };

const opts = (c: Case) => ({ stride: c.stride, padding: c.padding, dilation: c.dilation });

const DEFAULT_WORKSPACE = { ...convWorkspace };
afterEach(() => {
  Object.assign(convWorkspace, DEFAULT_WORKSPACE);
});

/** Every case runs on both algorithms (direct kernels, im2col + GEMM). */
const ALGOS = ['direct', 'im2col'] as const;
const CASES_X_ALGOS = CASES.flatMap((c) => ALGOS.map((a) => [`${c.name} [${a}]`, c, a] as const));

describe.each(EACH_BACKEND)('conv2d on %s', (_name, be) => {
  test.each(CASES_X_ALGOS)('forward matches a float64 direct convolution: %s', (_n, c, algo) => {
    convWorkspace.algorithm = algo;
    withBackend(be, () =>
      tidy(() => {
        const { x, w, b } = make(c, 11);
        const y = conv2d(x, w, b, opts(c));
        const ref = naiveConv(c, x.data(), w.data(), b?.data());
        expect(y.shape).toEqual(ref.shape);
        expectClose(y.data(), ref.y, 1e-5);
      }),
    );
  });

  test.each(CASES_X_ALGOS)('gradients (x, w, b) by finite differences: %s', (_n, c, algo) => {
    convWorkspace.algorithm = algo;
    withBackend(be, () =>
      tidy(() => {
        const { x, w, b } = make(c, 21, true);
        const r = gradCheck((xx, ww, bb) => conv2d(xx, ww, bb, opts(c)), b ? [x, w, b] : [x, w], LINEAR);
        expect(r.maxRelError, JSON.stringify(r.worst)).toBeLessThan(1e-2);
      }),
    );
  });

  test('im2col: chunked patch matrix (small workspace) gives the same values and gradients', () => {
    convWorkspace.algorithm = 'im2col';
    const c = CASES[3];
    const run = () =>
      withBackend(be, () =>
        tidy(() => {
          const { x, w, b } = make(c, 31, true);
          const y = conv2d(x, w, b, opts(c));
          // backward with fixed weights
          const gy = tensor(randomArray(y.size, 5), y.shape);
            backward(y, gy);
          return [values(y), values(x.grad!), values(w.grad!), values(b!.grad!)];
        }),
      );
    const whole = run();
    convWorkspace.maxBytes = 4 * 18 * 5; // 5 rows of the 18-column patch matrix per chunk
    const chunked = run();
    for (let i = 0; i < whole.length; i++) expectClose(chunked[i], whole[i], 1e-5);
    withBackend(be, () =>
      tidy(() => {
        const { x, w, b } = make(c, 41, true);
        expect(gradCheck((xx, ww, bb) => conv2d(xx, ww, bb, opts(c)), [x, w, b!], LINEAR).maxRelError).toBeLessThan(1e-2);
      }),
    );
  });

  test.each(ALGOS)('only the needed gradients; retainGraph runs the backward twice with the same result [%s]', (algo) => {
    convWorkspace.algorithm = algo;
    withBackend(be, () =>
      tidy(() => {
        const c = CASES[0];
        const { x, w, b } = make(c, 71);
        w.requiresGrad = true; // x and b are constants (a frozen input, a fixed bias)
        const y = conv2d(x, w, b, opts(c));
        const gy = tensor(randomArray(y.size, 72), y.shape);
        backward(y, gy, { retainGraph: true });
        const first = values(w.grad!);
        expect(x.grad).toBeNull();
        expect(b!.grad).toBeNull();
        backward(y, gy);
        expectClose(values(w.grad!), first.map((v) => 2 * v), 1e-5);
      }),
    );
  });

  test('empty batch gives an empty output and zero filter gradient', () => {
    withBackend(be, () =>
      tidy(() => {
        const x = tensor(new Float32Array(0), [0, 5, 5, 2], { requiresGrad: true });
        const w = tensor(randomArray(3 * 3 * 2 * 4, 1), [3, 3, 2, 4], { requiresGrad: true });
        const y = conv2d(x, w, undefined, { padding: 1 });
        expect(y.shape).toEqual([0, 5, 5, 4]);
        backward(y, tensor(new Float32Array(0), [0, 5, 5, 4]));
        expect(Array.from(w.grad!.data()).every((v) => v === 0)).toBe(true);
      }),
    );
  });

  test.each(ALGOS)('conv1d matches the reference (a height-1 conv2d) and its gradients [%s]', (algo) => {
    convWorkspace.algorithm = algo;
    withBackend(be, () =>
      tidy(() => {
        const variants: { stride?: number; padding?: number | 'same' | 'valid'; dilation?: number }[] = [
          {}, { padding: 'same' }, { stride: 2, padding: 1 }, { dilation: 2, padding: 'same' }, { stride: 3, padding: 'same' },
        ];
        for (const v of variants) {
          const [N, L, C, O, k] = [2, 9, 3, 4, 3];
          const x = tensor(randomArray(N * L * C, 3), [N, L, C], { requiresGrad: true });
          const w = tensor(randomArray(k * C * O, 4), [k, C, O], { requiresGrad: true });
          const b = tensor(randomArray(O, 5), [O], { requiresGrad: true });
          const y = conv1d(x, w, b, v);
          const c: Case = {
            name: '', N, H: 1, W: L, C, O, k: [1, k], stride: [1, v.stride ?? 1], dilation: [1, v.dilation ?? 1],
            padding: typeof v.padding === 'number' ? [0, v.padding] : v.padding ?? 0,
          };
          const ref = naiveConv(c, x.data(), w.data(), b.data());
          expect(y.shape).toEqual([N, ref.shape[2], O]);
          expectClose(y.data(), ref.y, 1e-5);
          const r = gradCheck((xx, ww, bb) => conv1d(xx, ww, bb, v), [x, w, b], LINEAR);
          expect(r.maxRelError, JSON.stringify(v)).toBeLessThan(1e-2);
        }
      }),
    );
  });

  test('layout helpers: NCHW ↔ NHWC and PyTorch filters ↔ HWIO', () => {
    withBackend(be, () =>
      tidy(() => {
        const [N, C, H, W] = [2, 3, 4, 5];
        const xs = randomArray(N * C * H * W, 7);
        const nchw = tensor(xs, [N, C, H, W]);
        const nhwc = nchwToNhwc(nchw);
        expect(nhwc.shape).toEqual([N, H, W, C]);
        const d = nhwc.data();
        for (let n = 0; n < N; n++)
          for (let c = 0; c < C; c++)
            for (let h = 0; h < H; h++)
              for (let w = 0; w < W; w++) expect(d[((n * H + h) * W + w) * C + c]).toBe(xs[((n * C + c) * H + h) * W + w]);
        expect(Array.from(nhwcToNchw(nhwc).data())).toEqual(Array.from(xs));
        const [O, I, kH, kW] = [4, 3, 2, 3];
        const ts = randomArray(O * I * kH * kW, 8);
        const hwio = filterFromTorch(tensor(ts, [O, I, kH, kW]));
        expect(hwio.shape).toEqual([kH, kW, I, O]);
        const hd = hwio.data();
        for (let o = 0; o < O; o++)
          for (let i = 0; i < I; i++)
            for (let a = 0; a < kH; a++)
              for (let b = 0; b < kW; b++) expect(hd[((a * kW + b) * I + i) * O + o]).toBe(ts[((o * I + i) * kH + a) * kW + b]);
        expect(Array.from(filterToTorch(hwio).data())).toEqual(Array.from(ts));
        // PyTorch layouts through the helpers: NCHW x ⋆ OIHW w computed as NHWC ⋆ HWIO equals a naive NCHW loop.
        const xt = randomArray(N * I * H * W, 9);
        const y = nhwcToNchw(conv2d(nchwToNhwc(tensor(xt, [N, I, H, W])), hwio, undefined, { padding: 1 }));
        const [OH, OW] = [H + 3 - kH, W + 3 - kW];
        expect(y.shape).toEqual([N, O, OH, OW]);
        const ref = new Float64Array(N * O * OH * OW);
        for (let n = 0; n < N; n++)
          for (let o = 0; o < O; o++)
            for (let h = 0; h < OH; h++)
              for (let w = 0; w < OW; w++) {
                let s = 0;
                for (let i = 0; i < I; i++)
                  for (let a = 0; a < kH; a++)
                    for (let b = 0; b < kW; b++) {
                      const ih = h - 1 + a, iw = w - 1 + b;
                      if (ih >= 0 && ih < H && iw >= 0 && iw < W) s += xt[((n * I + i) * H + ih) * W + iw] * ts[((o * I + i) * kH + a) * kW + b];
                    }
                ref[((n * O + o) * OH + h) * OW + w] = s;
              }
        expectClose(y.data(), ref, 1e-5);
        const w1 = filterFromTorch(tensor(randomArray(4 * 3 * 5, 1), [4, 3, 5]));
        expect(w1.shape).toEqual([5, 3, 4]);
        expect(filterToTorch(w1).shape).toEqual([4, 3, 5]);
      }),
    );
  });

  test('bad input: errors name the op or layer and the shapes; heap unchanged', () => {
    withBackend(be, () => {
      const x = tensor(randomArray(3 * 3, 1), [1, 3, 3, 1]);
      const x3 = tensor(randomArray(2 * 28 * 28 * 3, 1), [2, 28, 28, 3]);
      const w5 = tensor(randomArray(25, 2), [5, 5, 1, 1]);
      const w3 = tensor(randomArray(9 * 16, 2), [3, 3, 1, 16]);
      const b = tensor(randomArray(4, 3), [4]);
      const seq = tensor(randomArray(2 * 4 * 3, 1), [2, 4, 3]);
      const w1d = tensor(randomArray(6 * 3 * 2, 1), [6, 3, 2]);
      const layer = new Conv2d(3, 8, 5);
      const x3d = tensor(randomArray(9, 1), [3, 3, 1]);
      const w2d = tensor(randomArray(9, 1), [9, 1]);
      const x4 = tensor(randomArray(2 * 4 * 4 * 3, 1), [2, 4, 4, 3]);
      const w1x = tensor(randomArray(6, 1), [1, 2, 3]);
      const before = be.heap.liveBytes;
      expect(() => conv2d(x, w5)).toThrow('conv2d: kernel 5×5 is larger than the padded input 3×3 (input [1,3,3,1], padding 0)');
      expect(() => tidy(() => conv2d(x, w5, undefined, { padding: 'same' }).dispose())).not.toThrow(); // 'same' pads enough
      expect(() => conv2d(x, w3, undefined, { dilation: 2 })).toThrow(
        'conv2d: kernel 3×3 with dilation 2×2 (spanning 5×5) is larger than the padded input 3×3 (input [1,3,3,1], padding 0)',
      );
      expect(() => conv2d(x3, w3)).toThrow(
        'conv2d: input has 3 channels but the filter expects 1 (input [2,28,28,3] NHWC, filter [3,3,1,16] HWIO)',
      );
      expect(() => conv2d(x, w3, b)).toThrow('conv2d: bias must be [16] for filter [3,3,1,16]; got [4]');
      expect(() => conv2d(x, w3, undefined, { stride: 0 })).toThrow(
        'conv2d: stride must be a positive integer or a pair [h, w] of them; got 0 (input [1,3,3,1], filter [3,3,1,16])',
      );
      expect(() => conv2d(x, w3, undefined, { stride: [1, -2] })).toThrow(ConfigError);
      expect(() => conv2d(x, w3, undefined, { padding: -1 })).toThrow(ConfigError);
      expect(() => conv2d(x, w3, undefined, { padding: 'full' as never })).toThrow("padding must be a number, [pH, pW], 'same' or 'valid'");
      expect(() => conv2d(x, w3, undefined, { strides: 2 } as never)).toThrow("conv2d: unknown option 'strides'");
      expect(() => conv2d(x3d, w3)).toThrow('hint: add a batch dimension');
      expect(() => conv2d(x, w2d)).toThrow('filterFromTorch');
      expect(() => layer.forward(x)).toThrow('Conv2d(3→8, 5×5): input has 1 channels but the filter expects 3');
      expect(() => layer.forward(x4)).toThrow(
        'Conv2d(3→8, 5×5): kernel 5×5 is larger than the padded input 4×4 (input [2,4,4,3], padding 0)',
      );
      expect(() => conv1d(seq, w1d)).toThrow('conv1d: kernel 6 is longer than the padded input 4 (input [2,4,3], padding 0)');
      expect(() => conv1d(seq, w1x)).toThrow('conv1d: input has 3 channels but the filter expects 2');
      expect(() => conv1d(seq, w1d, undefined, { stride: 0 })).toThrow('conv1d: stride must be a positive integer; got 0 (input [2,4,3], filter [6,3,2])');
      expect(be.heap.liveBytes).toBe(before);
      expect(() => new Conv2d(1, 16, 3, { stride: 0 })).toThrow('Conv2d(1→16, 3×3): stride must be a positive integer or a pair [h, w] of them; got 0');
      expect(() => new Conv2d(1, 16, 3, { stride: -1 })).toThrow(ConfigError);
      expect(() => new Conv2d(0, 16, 3)).toThrow('Conv2d: inChannels must be a positive integer; got 0');
      expect(() => new Conv2d(1, 16, [3, 0])).toThrow('Conv2d: kernelSize must be a positive integer or a pair');
      expect(() => new Conv1d(4, 8, 3, { padding: [1, 1] as never })).toThrow("Conv1d(4→8, 3): padding must be a number, 'same' or 'valid'");
      expect(() => new Conv2d(1, 4, 3, { pad: 1 } as never)).toThrow("Conv2d(1→4, 3×3): unknown option 'pad'");
      expect(ShapeError).toBeDefined();
      layer.dispose();
      for (const t of [x, x3, w5, w3, b, seq, w1d, x3d, w2d, x4, w1x]) t.dispose();
    });
  });
});

test.each(ALGOS)('wasm and js agree within 1e-4 (forward and every gradient, benchmark-sized layer) [%s]', (algo) => {
  convWorkspace.algorithm = algo;
  const c: Case = { name: '', N: 4, H: 14, W: 14, C: 16, O: 32, k: [3, 3], padding: 'same', bias: true };
  const results = BACKENDS.map((be) =>
    withBackend(be, () =>
      tidy(() => {
        const { x, w, b } = make(c, 51, true);
        const y = conv2d(x, w, b, opts(c));
        backward(y, tensor(randomArray(y.size, 52), y.shape));
        return [values(y), values(x.grad!), values(w.grad!), values(b!.grad!)];
      }),
    ),
  );
  for (const r of results.slice(1)) r.forEach((v, i) => expectClose(v, results[0][i], 1e-4));
});

test('direct and im2col agree; auto picks direct for small filters and im2col for large ones', () => {
  const c: Case = { name: '', N: 2, H: 9, W: 8, C: 12, O: 10, k: [3, 3], stride: [2, 1], padding: 'same', dilation: [1, 2], bias: true };
  const run = (algo: 'direct' | 'im2col' | 'auto') => {
    convWorkspace.algorithm = algo;
    return withBackend(BACKENDS[0], () =>
      tidy(() => {
        const { x, w, b } = make(c, 61, true);
        const y = conv2d(x, w, b, opts(c));
        backward(y, tensor(randomArray(y.size, 62), y.shape));
        return [values(y), values(x.grad!), values(w.grad!), values(b!.grad!)];
      }),
    );
  };
  const d = run('direct'), i = run('im2col');
  d.forEach((v, k) => expectClose(v, i[k], 1e-5));
  convWorkspace.directMaxFilterBytes = 0;
  run('auto').forEach((v, k) => expectClose(v, i[k], 0));
});

test('Conv2d / Conv1d layers: HWIO weight, PyTorch-default init bounds, names', () => {
  for (const be of BACKENDS) {
    withBackend(be, () => {
      const conv = new Conv2d(3, 8, [3, 5], { padding: 'same', seed: 1 });
      expect(conv.weight.shape).toEqual([3, 5, 3, 8]);
      expect(conv.bias!.shape).toEqual([8]);
      const bound = 1 / Math.sqrt(3 * 3 * 5);
      for (const v of [...conv.weight.data(), ...conv.bias!.data()]) expect(Math.abs(v)).toBeLessThanOrEqual(bound);
      expect(conv.namedParameters().map(([n]) => n)).toEqual(['weight', 'bias']);
      const y = tidy(() => conv.forward(tensor(randomArray(2 * 6 * 7 * 3, 1), [2, 6, 7, 3])));
      expect(y.shape).toEqual([2, 6, 7, 8]);
      y.dispose();
      const he = new Conv2d(4, 2, 3, { bias: false, weightInit: 'heUniform', seed: 2 });
      expect(he.bias).toBeUndefined();
      const heBound = Math.sqrt(6 / (4 * 9));
      expect(Math.max(...Array.from(he.weight.data(), Math.abs))).toBeLessThanOrEqual(heBound);
      expect(Math.max(...Array.from(he.weight.data(), Math.abs))).toBeGreaterThan(heBound / 2);
      const c1 = new Conv1d(4, 6, 5, { padding: 'same', biasInit: 'zeros' });
      expect(c1.weight.shape).toEqual([5, 4, 6]);
      expect(Array.from(c1.bias!.data())).toEqual([0, 0, 0, 0, 0, 0]);
      const z = tidy(() => c1.forward(tensor(randomArray(2 * 10 * 4, 1), [2, 10, 4])));
      expect(z.shape).toEqual([2, 10, 6]);
      z.dispose();
      for (const m of [conv, he, c1]) m.dispose();
    });
  }
});

