/** Module: parameter discovery and naming, nesting, train/eval, zeroGrad, dispose. */
import { describe, expect, test } from 'vitest';
import { backward, linear, Module, parameter, buffer, Sequential, sum, tensor, type Tensor, tidy } from '../src/index.js';
import { EACH_BACKEND, withBackend } from './helpers.js';

class Dense extends Module {
  weight: Tensor;
  bias: Tensor;
  constructor(w: number[][], b: number[]) {
    super();
    this.weight = parameter(tensor(w));
    this.bias = parameter(tensor(b));
  }
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

class Net extends Module {
  fc1 = new Dense([[1, 2], [3, 4], [5, 6]], [0, 0]); // 3 inputs → 2 outputs: a 3×2 matrix
  blocks = [new Dense([[1], [1]], [0]), new Dense([[2]], [1])];
  scale = parameter(tensor([2]));
  stats = buffer(tensor([0, 0]));
  notAParam = tensor([7]);
  forward(x: Tensor): Tensor {
    return this.blocks[1].forward(this.blocks[0].forward(this.fc1.forward(x)));
  }
}

describe.each(EACH_BACKEND)('Module on %s', (_name, be) => {
  test('parameters are discovered in field order with dotted names', () => {
    withBackend(be, () => {
      const net = new Net();
      expect(net.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([
        ['fc1.weight', [3, 2]], ['fc1.bias', [2]], ['blocks.0.weight', [2, 1]], ['blocks.0.bias', [1]],
        ['blocks.1.weight', [1, 1]], ['blocks.1.bias', [1]], ['scale', [1]],
      ]);
      expect(net.namedBuffers().map(([n]) => n)).toEqual(['stats']);
      expect(net.namedModules().map(([n]) => n)).toEqual(['fc1', 'blocks.0', 'blocks.1']);
      expect(net.numParameters()).toBe(6 + 2 + 2 + 1 + 1 + 1 + 1);
      expect(net.fc1.weight.name).toBe('fc1.weight');
      net.dispose();
    });
  });

  test('Sequential names layers by index; train/eval propagate; zeroGrad zeroes', () => {
    withBackend(be, () => {
      const seq = new Sequential(new Dense([[1, 0], [0, 1]], [1, 1]), new Dense([[1], [1]], [0]));
      expect(seq.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias', '1.weight', '1.bias']);
      expect(seq.layers.length).toBe(2);
      seq.eval();
      expect(seq.layers.every((l) => !l.training)).toBe(true);
      seq.train();
      expect(seq[1].training).toBe(true);
      tidy(() => backward(sum(seq.forward(tensor([[1, 2]])))));
      expect(Array.from(seq[0].parameters()[0].grad!.data())).toEqual([1, 1, 2, 2]);
      seq.zeroGrad();
      expect(Array.from(seq[0].parameters()[0].grad!.data())).toEqual([0, 0, 0, 0]);
      // Lazy: unread after zeroGrad, the next backward's gradient replaces the old one.
      tidy(() => backward(sum(seq.forward(tensor([[1, 2]])))));
      seq.zeroGrad();
      tidy(() => backward(sum(seq.forward(tensor([[1, 2]])))));
      expect(Array.from(seq[0].parameters()[0].grad!.data())).toEqual([1, 1, 2, 2]);
      expect(Array.from(seq[1].parameters()[1].grad!.data())).toEqual([1]);
      expect(() => new Sequential(((x: Tensor) => x) as never)).toThrow('Sequential: layer 0 is not a Module');
      seq.dispose();
      expect(seq[0].parameters()[0].isDisposed).toBe(true);
    });
  });

  test('parameters survive tidy scopes', () => {
    withBackend(be, () => {
      const net = tidy(() => new Net());
      expect(net.fc1.weight.isDisposed).toBe(false);
      expect(net.notAParam.isDisposed).toBe(true); // a plain tensor field is not kept
      net.dispose();
    });
  });
});
