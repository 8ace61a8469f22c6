/**
 * Recurrent layers (RNN, LSTM, GRU and their cells) on every backend:
 *
 *   - forward against a float64 reference written here from the equations
 *     (stacked, bidirectional, initial states, lengths, time-major);
 *   - gradients by finite differences: every cell, and full multi-step,
 *     multi-layer, bidirectional layers with padded sequences;
 *   - the shared weights' gradient equals the sum of per-step contributions
 *     (the layer against a hand-unrolled chain of one-step ops with a separate
 *     copy of the weights per step);
 *   - truncated BPTT equals chunked training with detached states;
 *   - variable lengths and masks, the "last" output, gradient clipping,
 *     parameter names and initialisation, and bad input (errors naming the
 *     layer and the shapes, heap unchanged);
 *   - wasm and js agree within 1e-4.
 *
 * PyTorch's own values are checked in rnn-torch.test.ts.
 */
import { describe, expect, test } from 'vitest';
import {
  add, backward, clipGradNorm, concat, ConfigError, detach, GRU, GRUCell, gradCheck, gruLayer, LSTM, LSTMCell,
  lstmLayer, mul, permute, reshape, RNN, RNNCell, rnnLayer, ShapeError, sum, tensor, tidy, ValueError,
  type RecurrentBase, type Tensor,
} from '../src/index.js';
import { BACKENDS, EACH_BACKEND, expectClose, randomArray, rng, values, withBackend } from './helpers.js';

type Kind = 'lstm' | 'gru' | 'rnn_tanh' | 'rnn_relu';
const GATES = { lstm: 4, gru: 3, rnn_tanh: 1, rnn_relu: 1 };

// ─── float64 reference ─────────────────────────────────────────────────────

const sigm = (v: number) => 1 / (1 + Math.exp(-v));

interface RefWeights { wIh: Float64Array; wHh: Float64Array; bIh?: Float64Array; bHh?: Float64Array }

/** One layer, one direction, batch-first x [N, T, I] → y [N, T, H], final h (and c). */
function refLayer(
  kind: Kind, x: Float64Array, N: number, T: number, I: number, H: number, w: RefWeights,
  h0: Float64Array, c0: Float64Array, valid: (n: number, t: number) => boolean, reverse: boolean,
) {
  const G = GATES[kind] * H;
  const y = new Float64Array(N * T * H);
  const hN = new Float64Array(N * H), cN = new Float64Array(N * H);
  const mv = (v: Float64Array, off: number, len: number, W: Float64Array, b?: Float64Array) => {
    const out = new Float64Array(G);
    for (let j = 0; j < G; j++) {
      let s = b ? b[j] : 0;
      for (let p = 0; p < len; p++) s += v[off + p] * W[p * G + j];
      out[j] = s;
    }
    return out;
  };
  for (let n = 0; n < N; n++) {
    let h = h0.slice(n * H, n * H + H), c = c0.slice(n * H, n * H + H);
    for (let s = 0; s < T; s++) {
      const t = reverse ? T - 1 - s : s;
      if (!valid(n, t)) continue;
      const gx = mv(x, (n * T + t) * I, I, w.wIh, w.bIh);
      const gh = mv(h, 0, H, w.wHh, w.bHh);
      const hn = new Float64Array(H), cn = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        if (kind === 'lstm') {
          const i = sigm(gx[j] + gh[j]), f = sigm(gx[H + j] + gh[H + j]);
          const g = Math.tanh(gx[2 * H + j] + gh[2 * H + j]), o = sigm(gx[3 * H + j] + gh[3 * H + j]);
          cn[j] = f * c[j] + i * g;
          hn[j] = o * Math.tanh(cn[j]);
        } else if (kind === 'gru') {
          const r = sigm(gx[j] + gh[j]), z = sigm(gx[H + j] + gh[H + j]);
          const nn = Math.tanh(gx[2 * H + j] + r * gh[2 * H + j]);
          hn[j] = (1 - z) * nn + z * h[j];
        } else {
          const p = gx[j] + gh[j];
          hn[j] = kind === 'rnn_relu' ? Math.max(p, 0) : Math.tanh(p);
        }
      }
      h = hn;
      c = cn;
      y.set(h, (n * T + t) * H);
    }
    hN.set(h, n * H);
    cN.set(c, n * H);
  }
  return { y, hN, cN };
}

/** A whole module (stacked, maybe bidirectional) in float64, batch-first. */
function refModule(
  kind: Kind, m: RecurrentBase, x: Float64Array, N: number, T: number,
  h0?: Float64Array, c0?: Float64Array, lengths?: number[],
) {
  const { numLayers: L, numDirections: D, hiddenSize: H } = m;
  const valid = (n: number, t: number) => (lengths ? t < lengths[n] : true);
  let input = x, I = m.inputSize;
  const hs: Float64Array[] = [], cs: Float64Array[] = [];
  for (let l = 0; l < L; l++) {
    const outs: Float64Array[] = [];
    for (let d = 0; d < D; d++) {
      const sfx = `_l${l}${d ? '_reverse' : ''}`;
      const get = (name: string) => (m[name as `weight_${string}`] ? values(m[name as `weight_${string}`]) : undefined);
      const w = { wIh: get(`weight_ih${sfx}`)!, wHh: get(`weight_hh${sfx}`)!, bIh: get(`bias_ih${sfx}`), bHh: get(`bias_hh${sfx}`) };
      const idx = l * D + d;
      const st = (s: Float64Array | undefined) => (s ? s.slice(idx * N * H, (idx + 1) * N * H) : new Float64Array(N * H));
      const r = refLayer(kind, input, N, T, I, H, w, st(h0), st(c0), valid, d === 1);
      outs.push(r.y);
      hs.push(r.hN);
      cs.push(r.cN);
    }
    const next = new Float64Array(N * T * D * H);
    for (let row = 0; row < N * T; row++) for (let d = 0; d < D; d++) next.set(outs[d].subarray(row * H, row * H + H), row * D * H + d * H);
    input = next;
    I = D * H;
  }
  const cat = (xs: Float64Array[]) => Float64Array.from(xs.flatMap((a) => Array.from(a)));
  return { output: input, h: cat(hs), c: cat(cs) };
}

function make(kind: Kind, I: number, H: number, opts: Record<string, unknown> = {}): RecurrentBase {
  if (kind === 'lstm') return new LSTM(I, H, opts);
  if (kind === 'gru') return new GRU(I, H, opts);
  return new RNN(I, H, { ...opts, nonlinearity: kind === 'rnn_relu' ? 'relu' : 'tanh' });
}

const KINDS: Kind[] = ['lstm', 'gru', 'rnn_tanh', 'rnn_relu'];

/**
 * ReLU layers for finite differences: keep every pre-activation well away
 * from the kink at 0 (|pre| > 1 ≫ eps) — recurrent and deeper input weights
 * scaled by 0.1, input biases ±4 by unit (half the units on, half off).
 */
function awayFromKinks(params: [string, Tensor][]): void {
  for (const [name, p] of params) {
    const F = p.backend.heap.f32, o = p.ptr >>> 2;
    if (name.startsWith('weight_hh') || (name.startsWith('weight_ih_l') && !name.startsWith('weight_ih_l0'))) {
      for (let i = 0; i < p.size; i++) F[o + i] *= 0.1;
    } else if (name.startsWith('bias_ih')) {
      for (let i = 0; i < p.size; i++) F[o + i] = i % 2 ? 4 : -4;
    } else if (name.startsWith('bias_hh')) {
      F.fill(0, o, o + p.size);
    }
  }
}

/**
 * Finite differences over whole sequences: a hundred or more float32 outputs
 * (each carrying ~3e-7 of rounding and gate-grade exp error) sum into the
 * checked number, so the step is 1e-2 and gradients below 0.03 are compared
 * absolutely (an error of 3e-4 or more fails). A wrong rule is off by O(1).
 */
const FD = { eps: 1e-2, tolerance: 1e-2, floor: 0.03 };

// ─── per backend ───────────────────────────────────────────────────────────

describe.each(EACH_BACKEND)('recurrent layers on %s', (_name, be) => {
  test.each(KINDS)('%s forward = float64 reference (2 layers, bidirectional, h0/c0, lengths)', (kind) => {
    withBackend(be, () =>
      tidy(() => {
        const [N, T, I, H] = [3, 6, 5, 7];
        const m = make(kind, I, H, { numLayers: 2, bidirectional: true, seed: 11 });
        const X = randomArray(N * T * I, 1), H0 = randomArray(4 * N * H, 2), C0 = randomArray(4 * N * H, 3);
        const lengths = [6, 2, 4];
        const r = m.run(tensor(X, [N, T, I]), {
          h0: tensor(H0, [4, N, H]), ...(kind === 'lstm' ? { c0: tensor(C0, [4, N, H]) } : {}), lengths,
        });
        const ref = refModule(kind, m, Float64Array.from(X), N, T, Float64Array.from(H0), kind === 'lstm' ? Float64Array.from(C0) : undefined, lengths);
        expect(r.output.shape).toEqual([N, T, 2 * H]);
        expect(r.h.shape).toEqual([4, N, H]);
        expectClose(r.output.data(), ref.output, 2e-6);
        expectClose(r.h.data(), ref.h, 2e-6);
        if (kind === 'lstm') expectClose(r.c!.data(), ref.c, 2e-6);
        m.dispose();
      }),
    );
  });

  test.each(KINDS)('%s: one layer, zero initial state, no bias, hidden 1 and 9 (SIMD tails)', (kind) => {
    withBackend(be, () =>
      tidy(() => {
        for (const H of [1, 9]) {
          const [N, T, I] = [2, 3, 4];
          const m = make(kind, I, H, { bias: false, seed: 5 });
          expect(m.namedParameters().map(([n]) => n)).toEqual(['weight_ih_l0', 'weight_hh_l0']);
          const X = randomArray(N * T * I, 4);
          const r = m.run(tensor(X, [N, T, I]));
          const ref = refModule(kind, m, Float64Array.from(X), N, T);
          expectClose(r.output.data(), ref.output, 2e-6);
          expectClose(r.h.data(), ref.h, 2e-6);
          expect(r.h.shape).toEqual([N, H]); // one layer, one direction: [N, H]
          m.dispose();
        }
      }),
    );
  });

  test('batchFirst: false takes and returns time-major sequences', () => {
    withBackend(be, () =>
      tidy(() => {
        const [N, T, I, H] = [3, 4, 2, 5];
        const a = new LSTM(I, H, { seed: 3, bidirectional: true });
        const b = new LSTM(I, H, { seed: 3, bidirectional: true, batchFirst: false });
        const x = tensor(randomArray(N * T * I, 5), [N, T, I]);
        const ya = a.forward(x);
        const yb = b.run(permute(x, [1, 0, 2]), { lengths: [4, 4, 4] }).output;
        expect(yb.shape).toEqual([T, N, 2 * H]);
        expectClose(permute(yb, [1, 0, 2]).data(), values(ya), 1e-6);
        const yl = b.run(permute(x, [1, 0, 2]), { lengths: [4, 1, 3] }).output;
        const za = a.run(x, { lengths: [4, 1, 3] }).output;
        expectClose(permute(yl, [1, 0, 2]).data(), values(za), 1e-6);
        a.dispose();
        b.dispose();
      }),
    );
  });

  test('cells: gradients of h′ (and c′) by finite differences (x, h, c, every weight and bias)', () => {
    withBackend(be, () =>
      tidy(() => {
        const [N, I, H] = [3, 4, 5];
        const x = tensor(randomArray(N * I, 6), [N, I], { requiresGrad: true });
        const h = tensor(randomArray(N * H, 7), [N, H], { requiresGrad: true });
        const c = tensor(randomArray(N * H, 8), [N, H], { requiresGrad: true });
        const lstm = new LSTMCell(I, H, { seed: 1 });
        const r1 = gradCheck((a, b, d) => {
          const s = lstm.run(a, { h: b, c: d });
          return concat([s.h, s.c!], 1);
        }, [x, h, c, ...lstm.parameters()], FD);
        expect(r1.maxRelError, JSON.stringify(r1.worst)).toBeLessThan(1e-2);
        const gru = new GRUCell(I, H, { seed: 2 });
        const r2 = gradCheck((a, b) => gru.forward(a, b), [x, h, ...gru.parameters()], FD);
        expect(r2.maxRelError, JSON.stringify(r2.worst)).toBeLessThan(1e-2);
        for (const nonlinearity of ['tanh', 'relu'] as const) {
          const rnn = new RNNCell(I, H, { seed: 3, nonlinearity });
          if (nonlinearity === 'relu') awayFromKinks(rnn.namedParameters());
          const r3 = gradCheck((a, b) => rnn.forward(a, b), [x, h, ...rnn.parameters()], FD);
          expect(r3.maxRelError, `${nonlinearity} ${JSON.stringify(r3.worst)}`).toBeLessThan(1e-2);
          rnn.dispose();
        }
        // A cell step is the layer's step: same values as the layer on a one-step sequence.
        const one = new LSTM(I, H, { seed: 1 });
        const st = one.run(reshape(x, [N, 1, I]), { h0: h, c0: c });
        const sc = lstm.run(x, { h, c });
        expectClose(sc.h.data(), values(st.h), 1e-6);
        expectClose(sc.c!.data(), values(st.c!), 1e-6);
        lstm.dispose();
        gru.dispose();
        one.dispose();
      }),
    );
  });

  test.each(KINDS)('%s: full unrolled layer (2 layers, bidirectional, 5 steps, lengths) by finite differences', (kind) => {
    withBackend(be, () =>
      tidy(() => {
        const [N, T, I, H] = [3, 5, 3, 5];
        const m = make(kind, I, H, { numLayers: 2, bidirectional: true, seed: 21 });
        if (kind === 'rnn_relu') awayFromKinks(m.namedParameters());
        const x = tensor(randomArray(N * T * I, 9), [N, T, I], { requiresGrad: true });
        const h0 = tensor(randomArray(4 * N * H, 10), [4, N, H], { requiresGrad: true });
        const c0 = tensor(randomArray(4 * N * H, 11), [4, N, H], { requiresGrad: true });
        const lengths = [5, 2, 4];
        const fn = () => {
          const r = m.run(x, { h0, ...(kind === 'lstm' ? { c0 } : {}), lengths });
          const parts = [reshape(r.output, [-1]), reshape(r.h, [-1])];
          if (r.c) parts.push(reshape(r.c, [-1]));
          return concat(parts, 0);
        };
        const inputs = [x, h0, ...(kind === 'lstm' ? [c0] : []), ...m.parameters()];
        const r = gradCheck(fn, inputs, { ...FD, maxElementsPerInput: 24 });
        expect(r.maxRelError, JSON.stringify(r.worst)).toBeLessThan(1e-2);
        m.dispose();
      }),
    );
  });

  test.each(KINDS)('%s: gradients from a zero initial state (no h0: first step skipped) by finite differences', (kind) => {
    withBackend(be, () =>
      tidy(() => {
        const [N, T, I, H] = [2, 3, 3, 4];
        const m = make(kind, I, H, { bidirectional: true, seed: 31 });
        if (kind === 'rnn_relu') awayFromKinks(m.namedParameters());
        const x = tensor(randomArray(N * T * I, 32), [N, T, I], { requiresGrad: true });
        const r = gradCheck(() => m.forward(x), [x, ...m.parameters()], FD);
        expect(r.maxRelError, JSON.stringify(r.worst)).toBeLessThan(1e-2);
        m.dispose();
      }),
    );
  });

  test('the shared weights\' gradient is the sum of the per-step contributions', () => {
    withBackend(be, () =>
      tidy(() => {
        const [N, T, I, H] = [2, 4, 3, 6];
        const X = randomArray(N * T * I, 12);
        const W = { ih: randomArray(I * 4 * H, 13), hh: randomArray(H * 4 * H, 14), bi: randomArray(4 * H, 15), bh: randomArray(4 * H, 16) };
        const proj = randomArray(N * T * H, 17);
        const h0 = tensor(randomArray(N * H, 23), [N, H]), c0 = tensor(randomArray(N * H, 24), [N, H]);
        // The layer: one op over T steps.
        const shared = [tensor(W.ih, [I, 4 * H]), tensor(W.hh, [H, 4 * H]), tensor(W.bi, [4 * H]), tensor(W.bh, [4 * H])];
        for (const p of shared) p.requiresGrad = true;
        const y = lstmLayer(tensor(X, [N, T, I]), h0, c0, shared[0], shared[1], shared[2], shared[3]).output;
        backward(sum(mul(y, tensor(proj, [N, T, H]))));
        // Unrolled by hand: step t uses its own copy W_t of the weights.
        const perStep: Tensor[][] = [];
        const xs = permute(tensor(X, [N, T, I]), [1, 0, 2]); // [T, N, I]
        let h = h0, c = c0;
        const hs: Tensor[] = [];
        for (let t = 0; t < T; t++) {
          const w = [tensor(W.ih, [I, 4 * H]), tensor(W.hh, [H, 4 * H]), tensor(W.bi, [4 * H]), tensor(W.bh, [4 * H])];
          for (const p of w) p.requiresGrad = true;
          perStep.push(w);
          const xt = reshape(tensor(xs.data().slice(t * N * I, (t + 1) * N * I), [N, I]), [N, 1, I]);
          const r = lstmLayer(xt, h, c, w[0], w[1], w[2], w[3]);
          h = r.h;
          c = r.c!;
          hs.push(reshape(r.h, [N, 1, H]));
        }
        const yu = concat(hs, 1); // [N, T, H]
        expectClose(yu.data(), values(y), 1e-6);
        backward(sum(mul(yu, tensor(proj, [N, T, H]))));
        for (let k = 0; k < 4; k++) {
          const total = new Float64Array(shared[k].size);
          for (const w of perStep) {
            const g = w[k].grad!.data();
            for (let i = 0; i < g.length; i++) total[i] += g[i];
          }
          // …and every step contributes (no step's gradient is zero).
          for (const w of perStep) expect(Math.max(...Array.from(w[k].grad!.data(), Math.abs))).toBeGreaterThan(0);
          expectClose(shared[k].grad!.data(), total, 1e-5);
        }
      }),
    );
  });

  test('truncated BPTT (truncate: k) equals chunks of k steps with the state detached between them', () => {
    withBackend(be, () =>
      tidy(() => {
        const [N, T, I, H, k] = [2, 6, 3, 4, 2];
        const X = randomArray(N * T * I, 18), proj = randomArray(N * T * H, 19);
        const lstm = new LSTM(I, H, { seed: 7 });
        const x = tensor(X, [N, T, I]);
        const grads = () => lstm.parameters().map((p) => {
          const g = values(p.grad!);
          p.grad!.dispose();
          p.grad = null;
          return g;
        });
        backward(sum(mul(lstm.forward(x), tensor(proj, [N, T, H]))));
        const full = grads();
        const r = lstm.run(x, { truncate: k });
        backward(sum(mul(r.output, tensor(proj, [N, T, H]))));
        const truncated = grads();
        // Chunks: steps [0,2), [2,4), [4,6), each starting from the previous chunk's detached state.
        let h0: Tensor | undefined, c0: Tensor | undefined;
        let loss: Tensor | undefined;
        const xT = permute(x, [1, 0, 2]);
        const pT = permute(tensor(proj, [N, T, H]), [1, 0, 2]);
        for (let t0 = 0; t0 < T; t0 += k) {
          const xc = permute(tensor(xT.data().slice(t0 * N * I, (t0 + k) * N * I), [k, N, I]), [1, 0, 2]);
          const pc = permute(tensor(pT.data().slice(t0 * N * H, (t0 + k) * N * H), [k, N, H]), [1, 0, 2]);
          const rc = lstm.run(xc, h0 ? { h0, c0 } : {});
          const l = sum(mul(rc.output, pc));
          loss = loss ? add(loss, l) : l;
          h0 = detach(rc.h);
          c0 = detach(rc.c!);
          expect(h0.requiresGrad).toBe(false);
        }
        backward(loss!);
        const chunked = grads();
        truncated.forEach((g, i) => expectClose(g, chunked[i], 1e-5));
        // …and truncation changes the gradient (it is not a no-op here).
        expect(Math.max(...full[1].map((v, i) => Math.abs(v - truncated[1][i])))).toBeGreaterThan(1e-4);
        // truncate ≥ T is full BPTT.
        backward(sum(mul(lstm.run(x, { truncate: T }).output, tensor(proj, [N, T, H]))));
        grads().forEach((g, i) => expectClose(g, full[i], 1e-6));
        lstm.dispose();
      }),
    );
  });

  test('lengths: padded steps output zeros, states stop at each sequence\'s end, reverse starts there', () => {
    withBackend(be, () =>
      tidy(() => {
        const [N, T, I, H] = [3, 5, 2, 3];
        const lengths = [5, 2, 4];
        for (const kind of KINDS) {
          const m = make(kind, I, H, { bidirectional: true, seed: 8 });
          const X = randomArray(N * T * I, 20);
          const r = m.run(tensor(X, [N, T, I]), { lengths });
          const out = r.output.data(), hN = r.h.data();
          for (let n = 0; n < N; n++) {
            const L = lengths[n];
            for (let t = L; t < T; t++) for (let j = 0; j < 2 * H; j++) expect(out[(n * T + t) * 2 * H + j]).toBe(0);
            // The sequence alone, unpadded, gives the same outputs and final states.
            const alone = m.run(tensor(X.slice(n * T * I, (n * T + L) * I), [1, L, I]));
            expectClose(out.slice(n * T * 2 * H, (n * T + L) * 2 * H), values(alone.output), 1e-6);
            const ha = alone.h.data();
            for (let d = 0; d < 2; d++) expectClose(hN.slice((d * N + n) * H, (d * N + n + 1) * H), ha.slice(d * H, d * H + H), 1e-6);
          }
          // A mask [N, T] says the same; an Int32Array and an int32 tensor too.
          const mask = tensor(Array.from({ length: N * T }, (_, i) => (i % T < lengths[i / T | 0] ? 1 : 0)), [N, T]);
          expectClose(m.run(tensor(X, [N, T, I]), { mask }).output.data(), values(r.output), 0);
          expectClose(m.run(tensor(X, [N, T, I]), { lengths: Int32Array.from(lengths) }).output.data(), values(r.output), 0);
          expectClose(
            m.run(tensor(X, [N, T, I]), { lengths: tensor(lengths, [N], { dtype: 'int32' }) }).output.data(), values(r.output), 0,
          );
          // The last output: each sequence's last valid step (both directions' outputs there).
          const last = m.run(tensor(X, [N, T, I]), { lengths, returnSequences: false }).output;
          expect(last.shape).toEqual([N, 2 * H]);
          const ld = last.data();
          for (let n = 0; n < N; n++) {
            const row = (n * T + lengths[n] - 1) * 2 * H;
            expectClose(ld.slice(n * 2 * H, (n + 1) * 2 * H), Float64Array.from(out.slice(row, row + 2 * H)), 0);
          }
          m.dispose();
        }
      }),
    );
  });

  test('returnSequences: false returns the last step; forward of a unidirectional layer = h_n', () => {
    withBackend(be, () =>
      tidy(() => {
        const gru = new GRU(3, 4, { numLayers: 2, returnSequences: false, seed: 4 });
        const x = tensor(randomArray(2 * 5 * 3, 21), [2, 5, 3]);
        const y = gru.forward(x);
        expect(y.shape).toEqual([2, 4]);
        const all = gru.run(x, { returnSequences: true });
        expectClose(y.data(), values(all.h).slice(2 * 4), 0); // top layer's final state
        const seq = all.output.data();
        expectClose(y.data(), [...seq.slice(4 * 4, 5 * 4), ...seq.slice(9 * 4, 10 * 4)], 0);
        gru.dispose();
      }),
    );
  });

  test('gradient clipping works on recurrent layers (norm over every shared-weight gradient)', () => {
    withBackend(be, () =>
      tidy(() => {
        const lstm = new LSTM(3, 8, { numLayers: 2, seed: 9 });
        backward(sum(lstm.forward(tensor(randomArray(4 * 7 * 3, 22), [4, 7, 3]))));
        let sq = 0;
        for (const p of lstm.parameters()) for (const g of p.grad!.data()) sq += g * g;
        const norm = clipGradNorm(lstm, 0.1);
        expect(norm).toBeCloseTo(Math.sqrt(sq), 3);
        let after = 0;
        for (const p of lstm.parameters()) for (const g of p.grad!.data()) after += g * g;
        expect(Math.sqrt(after)).toBeCloseTo(0.1, 4);
        lstm.dispose();
      }),
    );
  });

  test('parameters: PyTorch names and order, [in, G·hidden] layouts, uniform ±1/√hidden, seeded', () => {
    withBackend(be, () => {
      const lstm = new LSTM(10, 16, { numLayers: 2, bidirectional: true, seed: 1 });
      expect(lstm.namedParameters().map(([n, p]) => `${n} ${p.shape}`)).toEqual([
        'weight_ih_l0 10,64', 'weight_hh_l0 16,64', 'bias_ih_l0 64', 'bias_hh_l0 64',
        'weight_ih_l0_reverse 10,64', 'weight_hh_l0_reverse 16,64', 'bias_ih_l0_reverse 64', 'bias_hh_l0_reverse 64',
        'weight_ih_l1 32,64', 'weight_hh_l1 16,64', 'bias_ih_l1 64', 'bias_hh_l1 64',
        'weight_ih_l1_reverse 32,64', 'weight_hh_l1_reverse 16,64', 'bias_ih_l1_reverse 64', 'bias_hh_l1_reverse 64',
      ]);
      const bound = 1 / Math.sqrt(16);
      for (const p of lstm.parameters()) for (const v of p.data()) expect(Math.abs(v)).toBeLessThanOrEqual(bound);
      const again = new LSTM(10, 16, { numLayers: 2, bidirectional: true, seed: 1 });
      expect(Array.from(again.weight_hh_l1_reverse.data())).toEqual(Array.from(lstm.weight_hh_l1_reverse.data()));
      expect(new GRU(4, 5).namedParameters().map(([n, p]) => `${n} ${p.shape}`)).toEqual([
        'weight_ih_l0 4,15', 'weight_hh_l0 5,15', 'bias_ih_l0 15', 'bias_hh_l0 15',
      ]);
      expect(new LSTMCell(4, 5).namedParameters().map(([n, p]) => `${n} ${p.shape}`)).toEqual([
        'weight_ih 4,20', 'weight_hh 5,20', 'bias_ih 20', 'bias_hh 20',
      ]);
      lstm.dispose();
      again.dispose();
    });
  });

  test('bad input: errors name the layer and the shapes; the heap is unchanged', () => {
    withBackend(be, () => {
      const lstm = new LSTM(16, 32, { numLayers: 2 });
      const gru = new GRU(16, 32, { bidirectional: true });
      const cell = new LSTMCell(16, 32);
      const x = tensor(randomArray(4 * 10 * 12, 1), [4, 10, 12]);
      const good = tensor(randomArray(4 * 10 * 16, 2), [4, 10, 16]);
      const h0 = tensor(randomArray(4 * 32, 3), [1, 4, 32]);
      const x2 = tensor(randomArray(4 * 16, 4), [4, 16]);
      const mask = tensor(randomArray(4 * 9, 5), [4, 9]);
      const x12 = tensor(randomArray(4 * 12, 6), [4, 12]);
      const before = be.heap.liveBytes;
      expect(() => lstm.forward(x)).toThrow("LSTM: input feature size 12 differs from the layer's inputSize 16 (input [4,10,12])");
      expect(() => lstm.forward(good, h0)).toThrow(
        'LSTM: initial state h0 must be [2,4,32] (layers·directions, batch, hidden) for input [4,10,16]; got [1,4,32]',
      );
      expect(() => lstm.run(good, { lengths: [10, 11, 3, 3] })).toThrow(
        'LSTM: lengths[1] = 11 exceeds the sequence length 10 (input [4,10,16])',
      );
      expect(() => gru.run(good, { lengths: [1, 2, 3] })).toThrow(
        'GRU: lengths has 3 entries but the batch has 4 sequences (input [4,10,16])',
      );
      expect(() => gru.run(good, { lengths: [1, 0, 3, 4] })).toThrow('GRU: lengths[1] = 0 must be an integer ≥ 1');
      expect(() => gru.run(good, { mask })).toThrow('GRU: mask must be [4,10] (batch, time) for input [4,10,16]; got [4,9]');
      expect(() => gru.forward(x2)).toThrow('GRU: input must be 3-D [batch, time, features]; got [4,16]');
      expect(() => gru.run(good, { c0: h0 } as never)).toThrow(ConfigError);
      expect(() => cell.forward(x2, h0)).toThrow('LSTMCell: state h must be [4,32] (batch, hidden) for input [4,16]; got [1,4,32]');
      expect(() => cell.forward(x12)).toThrow(
        "LSTMCell: input feature size 12 differs from the layer's inputSize 16 (input [4,12])",
      );
      expect(() => new LSTM(16, 0)).toThrow('LSTM: hiddenSize must be a positive integer; got 0');
      expect(() => new GRU(4, 4, { dropout: 1 })).toThrow(ValueError);
      expect(() => new LSTM(4, 4, { nonlinearity: 'relu' } as never)).toThrow("LSTM: unknown option 'nonlinearity'");
      expect(() => lstmLayer(good, undefined, undefined, lstm.weight_ih_l0, lstm.weight_ih_l0)).toThrow(ShapeError);
      expect(be.heap.liveBytes).toBe(before);
      for (const t of [x, good, h0, x2, mask, x12]) t.dispose();
      lstm.dispose();
      gru.dispose();
      cell.dispose();
    });
  });

  test('ops: lstmLayer, gruLayer and rnnLayer run one layer and direction; detach cuts the graph', () => {
    withBackend(be, () =>
      tidy(() => {
        const [N, T, I, H] = [2, 3, 2, 3];
        const x = tensor(randomArray(N * T * I, 30), [N, T, I], { requiresGrad: true });
        const w = (n: number, seed: number) => tensor(randomArray(n, seed), undefined, { requiresGrad: true });
        const g = gruLayer(x, undefined, reshape(w(I * 3 * H, 31), [I, 3 * H]), reshape(w(H * 3 * H, 32), [H, 3 * H]), undefined, undefined, { reverse: true });
        expect(g.output.shape).toEqual([N, T, H]);
        expect(g.c).toBeUndefined();
        const rn = rnnLayer(x, undefined, reshape(w(I * H, 33), [I, H]), reshape(w(H * H, 34), [H, H]), w(H, 35), w(H, 36), { nonlinearity: 'relu' });
        expect(Math.min(...rn.output.data())).toBeGreaterThanOrEqual(0);
        const d = detach(rn.output);
        expect(d.requiresGrad).toBe(false);
        expect(Array.from(d.data())).toEqual(Array.from(rn.output.data()));
        expect(() => rnnLayer(x, undefined, reshape(w(I * H, 33), [I, H]), reshape(w(H * H, 34), [H, H]), undefined, undefined, { bogus: 1 } as never))
          .toThrow("rnnLayer: unknown option 'bogus'");
      }),
    );
  });

  test('dropout between layers acts in training mode only', () => {
    withBackend(be, () =>
      tidy(() => {
        const m = new LSTM(3, 4, { numLayers: 2, dropout: 0.5, seed: 2 });
        const x = tensor(randomArray(2 * 3 * 3, 40), [2, 3, 3]);
        m.eval();
        const a = values(m.forward(x)), b = values(m.forward(x));
        expectClose(a, b, 0);
        m.train();
        const c = values(m.forward(x));
        expect(Math.max(...c.map((v, i) => Math.abs(v - a[i])))).toBeGreaterThan(1e-6);
        m.dispose();
      }),
    );
  });
});

// ─── across backends ───────────────────────────────────────────────────────

test.each(KINDS)('%s: wasm and js agree within 1e-4 (forward and every gradient)', (kind) => {
  const [N, T, I, H] = [5, 9, 6, 33];
  const r = rng(3);
  const lengths = Array.from({ length: N }, () => 1 + Math.floor(r() * T));
  const results = BACKENDS.map((be) =>
    withBackend(be, () =>
      tidy(() => {
        const m = make(kind, I, H, { numLayers: 2, bidirectional: true, seed: 42 });
        const x = tensor(randomArray(N * T * I, 50), [N, T, I], { requiresGrad: true });
        const h0 = tensor(randomArray(4 * N * H, 51), [4, N, H], { requiresGrad: true });
        const out = m.run(x, { h0, lengths });
        backward(sum(mul(out.output, tensor(randomArray(N * T * 2 * H, 52), [N, T, 2 * H]))));
        const res = [values(out.output), values(out.h), values(x.grad!), values(h0.grad!), ...m.parameters().map((p) => values(p.grad!))];
        m.dispose();
        return res;
      }),
    ),
  );
  for (const other of results.slice(1)) other.forEach((v, i) => expectClose(v, results[0][i], 1e-4));
});
