/**
 * PyTorch interop against fixtures produced by PyTorch itself
 * (scripts/fixtures/torch_fixtures.py): load a state_dict into the matching
 * wasmgrad model and reproduce PyTorch's output within 1e-4; export back to
 * PyTorch's names and layouts; mismatches list every offending tensor.
 */
import { describe, expect, test } from 'vitest';
import {
  exportTorchStateDict, Linear, loadTensors, loadTorchStateDict, parseSafetensors, ReLU, Sequential, ShapeError, tidy,
} from '../src/index.js';
import { FIXTURES } from './fixtures.js';
import { EACH_BACKEND, expectClose, withBackend } from './helpers.js';

describe.each(EACH_BACKEND)('PyTorch interop on %s', (_name, be) => {
  test('an nn.Sequential MLP state_dict reproduces PyTorch outputs', () => {
    withBackend(be, () => {
      const model = new Sequential(new Linear(8, 16), new ReLU(), new Linear(16, 4));
      loadTorchStateDict(model, FIXTURES.mlp.state);
      const { tensors } = loadTensors(FIXTURES.mlp.io);
      tidy(() => expectClose(model.forward(tensors.input).data(), tensors.output.data(), 1e-4));
      // Export → PyTorch names, shapes and values identical to the fixture's.
      const exported = parseSafetensors(exportTorchStateDict(model)).tensors;
      const original = parseSafetensors(FIXTURES.mlp.state).tensors;
      expect([...exported.keys()].sort()).toEqual([...original.keys()].sort());
      for (const [name, t] of original) {
        expect(exported.get(name)!.shape).toEqual(t.shape);
        expect(Array.from(exported.get(name)!.data)).toEqual(Array.from(t.data));
      }
      for (const t of Object.values(tensors)) t.dispose();
      model.dispose();
    });
  });

  test('a mismatched model lists every problem and is left unchanged', () => {
    withBackend(be, () => {
      const model = new Sequential(new Linear(8, 10), new ReLU(), new Linear(10, 4), new Linear(4, 2));
      const before = model.parameters().map((p) => Array.from(p.data()));
      let msg = '';
      try {
        loadTorchStateDict(model, FIXTURES.mlp.state);
      } catch (e) {
        expect(e).toBeInstanceOf(ShapeError);
        msg = (e as Error).message;
      }
      expect(msg).toContain("'0.weight': file has [16,8], the model expects [10,8] (PyTorch layout)");
      expect(msg).toContain("'2.weight': file has [4,16], the model expects [4,10]");
      expect(msg).toContain("missing '3.weight' [2,4]");
      expect(msg).toContain("missing '3.bias' [2]");
      expect(model.parameters().map((p) => Array.from(p.data()))).toEqual(before);
      model.dispose();
    });
  });
});
