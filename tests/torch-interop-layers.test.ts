/**
 * PyTorch interop for every mapped layer type, against fixtures PyTorch 1.13
 * produced (scripts/fixtures/torch_fixtures.py): each state_dict loads into
 * the matching wasmgrad model and reproduces PyTorch's output within 1e-4 on
 * every backend, and exporting gives back PyTorch's names, shapes and values.
 * Plus: export → load round trips for every mapped type, name translation,
 * user-registered mappings, and mismatch reports.
 */
import { describe, expect, test } from 'vitest';
import {
  AvgPool2d, BatchNorm1d, BatchNorm2d, Conv1d, Conv2d, Embedding, exportTorchStateDict, Flatten, GlobalAvgPool2d, LayerNorm,
  LearnedPositionalEmbedding, Linear, loadTensors, loadTorchStateDict, MaxPool2d, Module, MultiHeadAttention, nchwToNhwc,
  nhwcToNchw, ones, parameter, parseSafetensors, registerTorchMapping, ReLU, RMSNorm, sameLayout, seed, Seq2SeqTransformer,
  Sequential, serializeSafetensors, ShapeError, LSTM, GRU, RNN, LSTMCell, SinusoidalPositionalEncoding, tidy, torchEntries, Transformer,
  TransformerDecoder, TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer, TransformerLM, type Tensor,
} from '../src/index.js';
import { FIXTURES } from './fixtures.js';
import { EACH_BACKEND, randomArray, withBackend } from './helpers.js';

type Inputs = Record<string, Tensor>;
type Multi = { forward(...a: unknown[]): Tensor };

interface TorchCase {
  /** Fixture name (tests/fixtures/torch-<name>*.safetensors). */
  fixture: string;
  /** The wasmgrad model matching the PyTorch one. */
  make: () => Module;
  /** wasmgrad's output for the fixture's inputs, in PyTorch's layout. */
  run: (m: Module, io: Inputs) => Tensor;
  /** Adjustments after loading that PyTorch's layout needs (the CNN's flatten order). */
  adjust?: (m: Module) => void;
}

/**
 * The rows of a Linear that follows a Flatten of [C, H, W] maps in PyTorch
 * (feature index c·H·W + h·W + w) reordered for wasmgrad's NHWC flatten
 * (index h·W·C + w·C + c).
 */
function permuteFlattenRows(fc: Linear, C: number, H: number, W: number): void {
  const w = fc.weight.data() as Float32Array;
  const out = new Float32Array(w.length);
  const O = fc.outFeatures;
  for (let c = 0; c < C; c++) {
    for (let h = 0; h < H; h++) {
      for (let x = 0; x < W; x++) {
        const from = (c * H * W + h * W + x) * O, to = (h * W * C + x * C + c) * O;
        out.set(w.subarray(from, from + O), to);
      }
    }
  }
  fc.weight.backend.heap.f32.set(out, fc.weight.ptr >>> 2);
}

/** PyTorch's Recurrent(nn.Module) from scripts/fixtures/torch_fixtures.py: LSTM (2 layers, bidirectional) → GRU. */
class Recurrent extends Module {
  lstm = new LSTM(5, 6, { numLayers: 2, bidirectional: true });
  gru = new GRU(12, 4);
  forward(x: Tensor): Tensor {
    return this.gru.forward(this.lstm.forward(x));
  }
}

const TORCH_CASES: TorchCase[] = [
  { fixture: 'lstm', make: () => new Recurrent(), run: (m, io) => m.forward(io.input) },
  {
    fixture: 'mlp',
    make: () => new Sequential(new Linear(8, 16), new ReLU(), new Linear(16, 4)),
    run: (m, io) => m.forward(io.input),
  },
  {
    fixture: 'cnn',
    make: () => new Sequential(
      new Conv2d(2, 4, 3, { padding: 1 }), new ReLU(), new MaxPool2d(2),
      new Conv2d(4, 8, 3, { padding: 1 }), new ReLU(), new MaxPool2d(2),
      new Flatten(), new Linear(8 * 2 * 2, 5),
    ),
    run: (m, io) => m.forward(nchwToNhwc(io.input)),
    adjust: (m) => permuteFlattenRows((m as Sequential)[7] as Linear, 8, 2, 2),
  },
  {
    fixture: 'batchnorm',
    make: () => new Sequential(
      new Conv2d(3, 6, 3, { stride: 2, padding: 1, bias: false }), new BatchNorm2d(6, { eps: 1e-3 }), new ReLU(),
      new GlobalAvgPool2d(), new Flatten(), new Linear(6, 4), new BatchNorm1d(4, { momentum: 0.3 }),
    ),
    run: (m, io) => m.forward(nchwToNhwc(io.input)),
  },
  {
    fixture: 'encoder-layer',
    make: () => new TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0 }),
    run: (m, io) => m.forward(io.input),
  },
  {
    fixture: 'encoder-layer-prenorm',
    make: () => new TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0, normFirst: true, activation: 'gelu', layerNormEps: 1e-6 }),
    run: (m, io) => m.forward(io.input),
  },
  {
    fixture: 'encoder',
    make: () => new TransformerEncoder(8, 2, 2, { dimFeedforward: 16, dropout: 0, normFirst: true }),
    run: (m, io) => m.forward(io.input),
  },
  {
    fixture: 'decoder-layer',
    make: () => new TransformerDecoderLayer(8, 2, { dimFeedforward: 16, dropout: 0 }),
    run: (m, io) => (m as unknown as Multi).forward(io.tgt, io.memory, { tgtIsCausal: true }),
  },
  {
    fixture: 'mha-kdim',
    make: () => new MultiHeadAttention(8, 2, { kdim: 6, vdim: 5 }),
    run: (m, io) => (m as unknown as Multi).forward(io.query, io.key, io.value),
  },
  {
    fixture: 'embedding',
    make: () => new Sequential(new Embedding(12, 8), new LayerNorm(8), new RMSNorm(8, { eps: 1e-6 }), new Linear(8, 3)),
    run: (m, io) => m.forward(io.input),
  },
];

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** The largest error per fixture and backend, printed once at the end (for the record). */
const errors: string[] = [];

describe.each(EACH_BACKEND)('PyTorch fixtures on %s', (backendName, be) => {
  test.each(TORCH_CASES.map((c) => [c.fixture, c] as const))('%s: PyTorch outputs within 1e-4, export gives the state_dict back', (_n, c) => {
    withBackend(be, () => {
      const fx = FIXTURES[c.fixture];
      const model = c.make();
      loadTorchStateDict(model, fx.state);

      // Export → PyTorch's names, shapes and dtypes; values bit-identical (num_batches_tracked: PyTorch's count, our 0).
      const exported = parseSafetensors(exportTorchStateDict(model)).tensors;
      const original = parseSafetensors(fx.state).tensors;
      expect([...exported.keys()].sort()).toEqual([...original.keys()].sort());
      for (const [name, t] of original) {
        const e = exported.get(name)!;
        expect([name, e.shape, e.dtype]).toEqual([name, t.shape, t.dtype]);
        if (!name.endsWith('num_batches_tracked')) expect(Array.from(e.data), name).toEqual(Array.from(t.data));
      }

      c.adjust?.(model);
      model.eval();
      const { tensors: io } = loadTensors(fx.io);
      tidy(() => {
        let y = c.run(model, io);
        if (y.rank === 4) y = nhwcToNchw(y);
        expect(y.shape).toEqual(io.output.shape);
        const err = maxAbsDiff(y.data(), io.output.data());
        errors.push(`${c.fixture} on ${backendName}: max |Δ| ${err.toExponential(2)}`);
        expect(err, `${c.fixture}: max abs error vs PyTorch`).toBeLessThan(1e-4);
      });
      for (const t of Object.values(io)) t.dispose();
      model.dispose();
    });
  });
});

test('errors vs PyTorch (report)', () => {
  if (errors.length > 0) console.log(errors.join('\n'));
  expect(errors.length).toBe(TORCH_CASES.length * EACH_BACKEND.length);
});

function bits(t: Tensor): number[] {
  return Array.from(new Uint32Array((t.data() as Float32Array).buffer));
}

function randomize(m: Module, s: number): void {
  [...m.namedParameters(), ...m.namedBuffers()].forEach(([name, t], i) => {
    const v = randomArray(t.size, s * 100 + i);
    if (name.endsWith('runningVar')) for (let j = 0; j < v.length; j++) v[j] = Math.abs(v[j]) + 0.25;
    t.backend.heap.f32.set(v, t.ptr >>> 2);
  });
}

const ROUND_TRIPS: [string, () => Module, string[]][] = [
  ['Conv2d', () => new Conv2d(3, 4, [3, 2], { bias: false }), ['weight']],
  ['Conv1d', () => new Conv1d(3, 5, 3), ['weight', 'bias']],
  ['BatchNorm2d', () => new BatchNorm2d(3), ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']],
  ['BatchNorm1d (no affine)', () => new BatchNorm1d(4, { affine: false }), ['running_mean', 'running_var', 'num_batches_tracked']],
  ['BatchNorm1d (no running stats)', () => new BatchNorm1d(4, { trackRunningStats: false }), ['weight', 'bias']],
  ['LayerNorm (no bias)', () => new LayerNorm([3, 4], { bias: false }), ['weight']],
  ['RMSNorm', () => new RMSNorm(4), ['weight']],
  ['Embedding', () => new Embedding(10, 4), ['weight']],
  ['LearnedPositionalEmbedding', () => new LearnedPositionalEmbedding(12, 6), ['weight']],
  ['SinusoidalPositionalEncoding', () => new SinusoidalPositionalEncoding(6, 20), []],
  ['MultiHeadAttention', () => new MultiHeadAttention(8, 2), ['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']],
  [
    'MultiHeadAttention (kdim, vdim, no bias)', () => new MultiHeadAttention(8, 2, { kdim: 6, vdim: 5, bias: false }),
    ['q_proj_weight', 'k_proj_weight', 'v_proj_weight', 'out_proj.weight'],
  ],
  [
    'TransformerDecoderLayer', () => new TransformerDecoderLayer(8, 2, { dimFeedforward: 12 }),
    [
      'self_attn.in_proj_weight', 'self_attn.in_proj_bias', 'self_attn.out_proj.weight', 'self_attn.out_proj.bias',
      'multihead_attn.in_proj_weight', 'multihead_attn.in_proj_bias', 'multihead_attn.out_proj.weight', 'multihead_attn.out_proj.bias',
      'linear1.weight', 'linear1.bias', 'linear2.weight', 'linear2.bias',
      'norm1.weight', 'norm1.bias', 'norm2.weight', 'norm2.bias', 'norm3.weight', 'norm3.bias',
    ],
  ],
  ['Transformer', () => new Transformer({ dModel: 8, numHeads: 2, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 12 }), []],
  ['TransformerLM', () => new TransformerLM({ vocabSize: 11, dModel: 8, numHeads: 2, numLayers: 2, maxLen: 10 }), []],
  [
    'Seq2SeqTransformer',
    () => new Seq2SeqTransformer({ srcVocabSize: 9, tgtVocabSize: 7, dModel: 8, numHeads: 2, numEncoderLayers: 1, numDecoderLayers: 1, maxLen: 10 }),
    [],
  ],
  ['TransformerDecoder', () => new TransformerDecoder(8, 2, 2, { dimFeedforward: 12, normFirst: true }), []],
  ['AvgPool2d (no tensors)', () => new AvgPool2d(2), []],
  [
    'LSTM (2 layers, bidirectional)', () => new LSTM(3, 4, { numLayers: 2, bidirectional: true }),
    ['l0', 'l0_reverse', 'l1', 'l1_reverse'].flatMap((s) => [`weight_ih_${s}`, `weight_hh_${s}`, `bias_ih_${s}`, `bias_hh_${s}`]),
  ],
  ['GRU (no bias)', () => new GRU(3, 4, { bias: false }), ['weight_ih_l0', 'weight_hh_l0']],
  ['RNN', () => new RNN(3, 4), ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0']],
  ['LSTMCell', () => new LSTMCell(3, 4), ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh']],
];

describe.each(EACH_BACKEND)('export → load on %s', (_name, be) => {
  test.each(ROUND_TRIPS)('%s: PyTorch names, and every tensor back bit for bit', (_n, make, names) => {
    withBackend(be, () => {
      seed(3);
      const a = make(), b = make();
      randomize(a, 1);
      const bytes = exportTorchStateDict(a);
      const parsed = parseSafetensors(bytes).tensors;
      if (names.length > 0) expect([...parsed.keys()].sort()).toEqual([...names].sort());
      for (const [name, t] of parsed) expect(t.dtype, name).toBe(name.endsWith('num_batches_tracked') ? 'I64' : 'F32');
      loadTorchStateDict(b, bytes);
      const ta = [...a.namedParameters(), ...a.namedBuffers()], tb = [...b.namedParameters(), ...b.namedBuffers()];
      ta.forEach(([n, t], i) => {
        if (n.endsWith('.pe') || n === 'pe') return; // the sinusoidal table is not exported (recomputed)
        expect(bits(tb[i][1]), n).toEqual(bits(t));
      });
      a.dispose();
      b.dispose();
    });
  });
});

describe.each(EACH_BACKEND)('PyTorch names and mismatches on %s', (_name, be) => {
  test('stacks and the full Transformer use PyTorch names (layers.<i>, self_attn, multihead_attn, encoder./decoder.)', () => {
    withBackend(be, () => {
      const t = new Transformer({ dModel: 8, numHeads: 2, numEncoderLayers: 2, numDecoderLayers: 1, dimFeedforward: 12 });
      const names = torchEntries(t).map((e) => e.torchName);
      expect(names).toContain('encoder.layers.1.self_attn.in_proj_weight');
      expect(names).toContain('encoder.norm.weight');
      expect(names).toContain('decoder.layers.0.multihead_attn.out_proj.bias');
      expect(names).toContain('decoder.layers.0.norm3.weight');
      expect(names.some((n) => /selfAttn|crossAttn|wq|runningMean/.test(n))).toBe(false);
      t.dispose();
    });
  });

  test('an encoder-layer state_dict into a decoder layer lists every missing tensor; nothing is written', () => {
    withBackend(be, () => {
      const model = new TransformerDecoderLayer(8, 2, { dimFeedforward: 16 });
      const before = model.parameters().map(bits);
      let msg = '';
      try {
        loadTorchStateDict(model, FIXTURES['encoder-layer'].state);
      } catch (e) {
        expect(e).toBeInstanceOf(ShapeError);
        msg = (e as Error).message;
      }
      expect(msg).toContain('(6 problems)');
      for (const n of ['multihead_attn.in_proj_weight', 'multihead_attn.in_proj_bias', 'multihead_attn.out_proj.weight',
        'multihead_attn.out_proj.bias', 'norm3.weight', 'norm3.bias']) expect(msg).toContain(`missing '${n}'`);
      expect(model.parameters().map(bits)).toEqual(before);
      model.dispose();
    });
  });

  test('wrong shapes and unexpected names are all listed (BatchNorm and conv)', () => {
    withBackend(be, () => {
      const model = new Sequential(
        new Conv2d(3, 5, 3, { stride: 2, padding: 1, bias: true }), new BatchNorm2d(5), new ReLU(),
        new GlobalAvgPool2d(), new Flatten(), new Linear(5, 4),
      );
      let msg = '';
      try {
        loadTorchStateDict(model, FIXTURES.batchnorm.state);
      } catch (e) {
        msg = (e as Error).message;
      }
      expect(msg).toContain("'0.weight': file has [6,3,3,3], the model expects [5,3,3,3] (PyTorch layout)");
      expect(msg).toContain("missing '0.bias' [5]");
      expect(msg).toContain("'1.running_var': file has [6], the model expects [5]");
      expect(msg).toContain("'5.weight': file has [4,6], the model expects [4,5]");
      expect(msg).toContain("unexpected '6.running_mean'");
      expect(msg).toContain("unexpected '6.num_batches_tracked'");
      model.dispose();
    });
  });

  test('rename translates a prefixed state_dict; num_batches_tracked may be absent', () => {
    withBackend(be, () => {
      const original = parseSafetensors(FIXTURES.batchnorm.state).tensors;
      const prefixed = new Map(
        [...original].filter(([n]) => !n.endsWith('num_batches_tracked')).map(([n, t]) => [`model.features.${n}`, t] as const),
      );
      const bytes = serializeSafetensors(prefixed);
      const make = () => new Sequential(
        new Conv2d(3, 6, 3, { stride: 2, padding: 1, bias: false }), new BatchNorm2d(6, { eps: 1e-3 }), new ReLU(),
        new GlobalAvgPool2d(), new Flatten(), new Linear(6, 4), new BatchNorm1d(4),
      );
      const a = make(), b = make();
      expect(() => loadTorchStateDict(a, bytes)).toThrow(/unexpected 'model\.features\.0\.weight'/);
      loadTorchStateDict(a, bytes, { rename: (n) => n.replace(/^model\.features\./, '') });
      loadTorchStateDict(b, FIXTURES.batchnorm.state);
      a.parameters().forEach((p, i) => expect(bits(p)).toEqual(bits(b.parameters()[i])));
      a.dispose();
      b.dispose();
    });
  });

  test('a user mapping for a camelCase block (README example)', () => {
    withBackend(be, () => {
      class Block extends Module {
        attnNorm = new LayerNorm(4);
        qkv = new Linear(4, 12);
        scale = parameter(ones([4]));
        forward(x: Tensor): Tensor {
          return this.qkv.forward(this.attnNorm.forward(x));
        }
      }
      registerTorchMapping(Block, (m, p) => [
        ...torchEntries(m.attnNorm, `${p}attn_norm.`),
        ...torchEntries(m.qkv, `${p}qkv.`),
        sameLayout(m.scale, `${p}scale`),
      ]);
      const model = new Sequential(new Block(), new Block());
      expect(torchEntries(model).map((e) => `${e.torchName} ${e.torchShape}`)).toEqual([
        '0.attn_norm.weight 4', '0.attn_norm.bias 4', '0.qkv.weight 12,4', '0.qkv.bias 12', '0.scale 4',
        '1.attn_norm.weight 4', '1.attn_norm.bias 4', '1.qkv.weight 12,4', '1.qkv.bias 12', '1.scale 4',
      ]);
      randomize(model, 5);
      const copy = new Sequential(new Block(), new Block());
      loadTorchStateDict(copy, exportTorchStateDict(model));
      model.parameters().forEach((p, i) => expect(bits(copy.parameters()[i])).toEqual(bits(p)));
      model.dispose();
      copy.dispose();
    });
  });
});
