/**
 * reshape/flatten/squeeze/unsqueeze, permute/transpose, slice, concat,
 * broadcastTo: values against index arithmetic, gradients by finite
 * differences, views share storage, bad input errors.
 */
import { describe, expect, test } from 'vitest';
import {
  broadcastTo, concat, flatten, gradCheck, mul, permute, reshape, ShapeError, slice, squeeze, sum, tensor, tidy,
  transpose, unsqueeze,
} from '../src/index.js';
import { EACH_BACKEND, randomArray, withBackend } from './helpers.js';

const iota = (n: number) => Float32Array.from({ length: n }, (_, i) => i);

describe.each(EACH_BACKEND)('shape ops on %s', (_name, be) => {
  test('reshape family: views with inferred dims', () => {
    withBackend(be, () =>
      tidy(() => {
        const x = tensor(iota(24), [2, 3, 4]);
        expect(reshape(x, [-1, 4]).shape).toEqual([6, 4]);
        expect(flatten(x).shape).toEqual([2, 12]);
        expect(flatten(x, 0).shape).toEqual([24]);
        expect(unsqueeze(x, 1).shape).toEqual([2, 1, 3, 4]);
        expect(squeeze(unsqueeze(x, -1)).shape).toEqual([2, 3, 4]);
        expect(reshape(x, [4, 6]).ptr).toBe(x.ptr); // a view, no copy
        expect(() => reshape(x, [5, -1])).toThrow('reshape: cannot reshape [2,3,4] (24 elements) to [5,-1]');
        expect(() => squeeze(x, 0)).toThrow(ShapeError);
      }),
    );
  });

  test('permute and transpose move elements by index arithmetic', () => {
    withBackend(be, () =>
      tidy(() => {
        const shape = [2, 3, 4, 5];
        const x = tensor(iota(120), shape);
        const y = permute(x, [0, 2, 1, 3]);
        expect(y.shape).toEqual([2, 4, 3, 5]);
        const yd = y.data();
        for (let a = 0; a < 2; a++) for (let c = 0; c < 4; c++) for (let b = 0; b < 3; b++) for (let d = 0; d < 5; d++) {
          expect(yd[((a * 4 + c) * 3 + b) * 5 + d]).toBe(((a * 3 + b) * 4 + c) * 5 + d);
        }
        const t = transpose(tensor(iota(6), [2, 3]));
        expect(t.tolist()).toEqual([[0, 3], [1, 4], [2, 5]]);
        const p5 = permute(tensor(iota(2 * 3 * 2 * 3 * 2), [2, 3, 2, 3, 2]), [4, 3, 2, 1, 0]); // > 4 dims after collapse
        expect(p5.shape).toEqual([2, 3, 2, 3, 2]);
        expect(p5.data()[1]).toBe(36); // element [0,0,0,0,1] is input [1,0,0,0,0]
        expect(() => permute(x, [0, 1, 1, 2])).toThrow(ShapeError);
      }),
    );
  });

  test('slice: views for leading blocks, copies otherwise; concat joins', () => {
    withBackend(be, () =>
      tidy(() => {
        const x = tensor(iota(12), [4, 3]);
        const rows = slice(x, 0, 1, 3);
        expect(rows.tolist()).toEqual([[3, 4, 5], [6, 7, 8]]);
        expect(rows.ptr).toBe(x.ptr + 12); // view
        expect(slice(x, 1, -2).tolist()).toEqual([[1, 2], [4, 5], [7, 8], [10, 11]]);
        expect(concat([slice(x, 1, 0, 1), slice(x, 1, 1)], 1).tolist()).toEqual(x.tolist());
        expect(concat([x, x], 0).shape).toEqual([8, 3]);
        expect(() => slice(x, 0, 2, 9)).toThrow('slice: range 2..9 is out of bounds for axis 0 of [4,3]');
        expect(() => concat([x, tensor(iota(4), [4, 1]), tensor(iota(5), [5, 1])], 1)).toThrow(
          'concat: tensor 2 has shape [5,1]',
        );
      }),
    );
  });

  test('broadcastTo copies with zero strides', () => {
    withBackend(be, () =>
      tidy(() => {
        expect(broadcastTo(tensor([1, 2, 3]), [2, 3]).tolist()).toEqual([[1, 2, 3], [1, 2, 3]]);
        expect(broadcastTo(tensor([[1], [2]]), [2, 2]).tolist()).toEqual([[1, 1], [2, 2]]);
        expect(() => broadcastTo(tensor([1, 2]), [3])).toThrow(ShapeError);
      }),
    );
  });

  test('gradients of every shape op by finite differences', () => {
    withBackend(be, () =>
      tidy(() => {
        const x = tensor(randomArray(24, 3), [2, 3, 4], { requiresGrad: true });
        const y = tensor(randomArray(8, 4), [2, 1, 4], { requiresGrad: true });
        const w = tensor(randomArray(24, 5), [2, 3, 4]);
        const fns: ((a: typeof x, b: typeof x) => typeof x)[] = [
          (a) => mul(reshape(a, [6, 4]), reshape(w, [6, 4])),
          (a) => mul(permute(a, [2, 0, 1]), permute(w, [2, 0, 1])),
          (a) => transpose(a, 0, 2),
          (a) => slice(a, 1, 1, 3),
          (a) => slice(a, 0, 1),
          (a, b) => concat([a, b], 1),
          (_a, b) => broadcastTo(b, [2, 3, 4]),
          (a) => sum(flatten(a), 1),
        ];
        fns.forEach((f, i) => {
          const r = gradCheck(f, [x, y]);
          expect(r.maxRelError, `fn ${i}: ${JSON.stringify(r.worst)}`).toBeLessThan(1e-2);
        });
      }),
    );
  });
});
