/**
 * saveModel/loadModel round trips (bit-exact, architecture rebuilt),
 * checkpoints whose resumed training reproduces uninterrupted training
 * exactly, and mismatch errors that list every offending tensor.
 */
import { describe, expect, test } from 'vitest';
import {
  Adam, AdamW, Dropout, fit, FormatError, GELU, Linear, loadCheckpoint, loadModel, loadTensors, loadWeights, ReLU,
  saveCheckpoint, saveModel, saveTensors, seed, Sequential, ShapeError, SGD, tensor, tidy, type History,
} from '../src/index.js';
import { EACH_BACKEND, randomArray, withBackend } from './helpers.js';

function bits(t: { data(): Float32Array | Int32Array }): number[] {
  return Array.from(new Uint32Array((t.data() as Float32Array).buffer));
}

describe.each(EACH_BACKEND)('model files on %s', (_name, be) => {
  test('saveModel → loadModel rebuilds the architecture with bit-identical weights and outputs', () => {
    withBackend(be, () => {
      seed(4);
      const model = new Sequential(new Linear(5, 7), new ReLU(), new Dropout(0.25), new Linear(7, 3, { bias: false }), new GELU('tanh'));
      const bytes = saveModel(model, { metadata: { note: 'hello' } });
      const copy = loadModel(bytes) as Sequential;
      expect(copy.namedParameters().map(([n, p]) => [n, p.shape])).toEqual(model.namedParameters().map(([n, p]) => [n, p.shape]));
      model.namedParameters().forEach(([, p], i) => expect(bits(copy.parameters()[i])).toEqual(bits(p)));
      expect((copy[4] as GELU).approximate).toBe('tanh');
      expect((copy[2] as Dropout).p).toBe(0.25);
      model.eval();
      copy.eval();
      tidy(() => {
        const x = tensor(randomArray(10, 1), [2, 5]);
        expect(bits(copy.forward(x))).toEqual(bits(model.forward(x)));
      });
      // Saving the loaded model gives the same bytes.
      expect(Array.from(saveModel(copy, { metadata: { note: 'hello' } }))).toEqual(Array.from(bytes));
      expect(loadTensors(bytes).metadata.note).toBe('hello');
      model.dispose();
      copy.dispose();
    });
  });

  test('a checkpoint resumes training exactly (shuffles, dropout, Adam moments, step count)', () => {
    withBackend(be, () => {
      const data = () => ({
        x: tensor(randomArray(48 * 4, 7), [48, 4]),
        y: tensor(Int32Array.from({ length: 48 }, (_, i) => (i * 7) % 3), [48], { dtype: 'int32' }),
      });
      const make = () => {
        const m = new Sequential(new Linear(4, 16), new ReLU(), new Dropout(0.2), new Linear(16, 3));
        return { m, opt: new AdamW(m.parameters(), { lr: 0.01 }) };
      };
      const run = (m: Sequential, opt: AdamW, d: ReturnType<typeof data>, epochs: number): number[] =>
        (fit(m, d, { optimizer: opt, epochs, batchSize: 8, verbose: false }) as History).epochs.map((e) => e.loss);

      // Uninterrupted: 2 + 3 epochs.
      seed(9);
      const d1 = data();
      const a = make();
      run(a.m, a.opt, d1, 2);
      const ckpt = saveCheckpoint(a.m, a.opt, { step: 12, epoch: 2 });
      const expected = run(a.m, a.opt, d1, 3);

      // Resumed: a fresh model and optimizer, different seed, then the checkpoint.
      seed(123);
      const b = make();
      const info = loadCheckpoint(ckpt, b.m, b.opt);
      expect(info.step).toBe(12);
      expect(info.epoch).toBe(2);
      expect(b.opt.stepCount).toBe(a.opt.stepCount - 18);
      const resumed = run(b.m, b.opt, d1, 3);
      expect(resumed).toEqual(expected);
      // A checkpoint is also a model file.
      const m2 = loadModel(ckpt);
      expect(m2.numParameters()).toBe(a.m.numParameters());
      for (const x of [a.m, b.m, m2]) x.dispose();
      a.opt.dispose();
      b.opt.dispose();
    });
  });

  test('mismatches list every offending tensor and change nothing', () => {
    withBackend(be, () => {
      const model = new Sequential(new Linear(3, 2), new Linear(2, 2));
      const before = model.parameters().map(bits);
      const wrong = {
        '0.weight': tensor(randomArray(6, 1), [2, 3]),
        '0.bias': tensor([1, 2]),
        '1.weight': tensor(randomArray(4, 2), [2, 2]),
        extra: tensor([1]),
      };
      let msg = '';
      try {
        loadWeights(model, wrong);
      } catch (e) {
        expect(e).toBeInstanceOf(ShapeError);
        msg = (e as Error).message;
      }
      expect(msg).toContain("loadWeights: the tensors do not match the model (3 problems)");
      expect(msg).toContain("'0.weight': file has [2,3] float32, model has [3,2] float32");
      expect(msg).toContain("missing '1.bias' [2]");
      expect(msg).toContain("unexpected 'extra'");
      expect(model.parameters().map(bits)).toEqual(before);
      loadWeights(model, { '0.bias': wrong['0.bias'] }, { strict: false });
      expect(Array.from(model.parameters()[1].data())).toEqual([1, 2]);
      expect(() => loadModel(saveTensors({ w: tensor([1]) }))).toThrow(FormatError);
      const opt = new SGD(model.parameters(), { lr: 0.1 });
      const otherModel = new Sequential(new Linear(3, 2));
      const otherOpt = new Adam(otherModel.parameters());
      expect(() => loadCheckpoint(saveCheckpoint(otherModel, otherOpt), model, opt)).toThrow(ShapeError);
      for (const t of Object.values(wrong)) t.dispose();
      model.dispose();
      otherModel.dispose();
      opt.dispose();
      otherOpt.dispose();
    });
  });
});
