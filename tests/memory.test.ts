/**
 * The heap and tensor lifetimes: alignment, reuse and coalescing, growth that
 * keeps data and rebuilds views, 100,000 tensors allocated and freed with live
 * bytes back at the baseline, tidy/keep, dispose and use-after-dispose,
 * FinalizationRegistry reclaiming forgotten tensors, out-of-memory errors.
 */
import { describe, expect, test } from 'vitest';
import {
  add, DisposedError, keep, loadBackendSync, matmul, OutOfMemoryError, tensor, tidy, zeros,
} from '../src/index.js';
import { ArrayBufferMemory, Heap, PAGE_BYTES } from '../src/backend/heap.js';
import { EACH_BACKEND, withBackend } from './helpers.js';

describe('Heap allocator', () => {
  test('16-byte alignment, exact reuse, coalescing before growth, back to the top', () => {
    const h = new Heap(new ArrayBufferMemory(1), 16);
    // 16 + 32 + 112 + 16 bytes from 16 up, then one block that leaves 64 bytes of the page above top.
    const ptrs = [1, 17, 100, 3, PAGE_BYTES - 64 - 192].map((n) => h.alloc(n));
    for (const p of ptrs) expect(p % 16).toBe(0);
    expect(new Set(ptrs).size).toBe(ptrs.length);
    const live = h.liveBytes;
    expect(live).toBe(16 + 32 + 112 + 16 + PAGE_BYTES - 256);
    h.free(ptrs[1]);
    expect(h.alloc(20)).toBe(ptrs[1]); // same rounded size reuses the block
    h.free(ptrs[1]);
    h.free(ptrs[2]);
    h.free(ptrs[3]);
    // Freed blocks wait uncoalesced: a request of one's size gets it back.
    const again = h.alloc(100);
    expect(again).toBe(ptrs[2]);
    h.free(again);
    // A size no freed block has, that fits above top: taken there, nothing coalesced.
    const above = h.alloc(48);
    expect(above).toBe(PAGE_BYTES - 64);
    // One that does not fit above top: the three freed neighbours coalesce into one hole (no growth).
    expect(h.alloc(17 + 100 + 3 + 20)).toBe(ptrs[1]);
    expect(h.byteLength).toBe(PAGE_BYTES);
    h.free(ptrs[1]);
    h.free(ptrs[0]);
    h.free(ptrs[4]);
    h.free(above);
    expect(h.liveBytes).toBe(0);
    expect(h.liveBlocks).toBe(0);
    // The whole page in one block: everything coalesced back to the top.
    expect(h.alloc(PAGE_BYTES - 16)).toBe(16);
    expect(h.byteLength).toBe(PAGE_BYTES);
  });

  test('thousands of distinct sizes: freed blocks are coalesced before the heap grows', () => {
    // Each size occurs once, so no freed block is ever reused as it is: the quick lists only
    // help if they are coalesced (and dropped) before memory grows. Bounds: what the allocator
    // that coalesced on every free needed for the same sequences.
    const h = new Heap(new ArrayBufferMemory(1), 16);
    for (let i = 1; i <= 4000; i++) {
      const p = h.alloc(i * 32), q = h.alloc(100);
      h.free(p);
      h.free(q);
    }
    expect(h.byteLength).toBe(2 * PAGE_BYTES); // the largest block is 128,000 bytes
    const g = new Heap(new ArrayBufferMemory(1), 16);
    const small: number[] = [];
    for (let i = 1; i <= 4000; i++) {
      const p = g.alloc(i * 32);
      small.push(g.alloc(16)); // pins one small block after each large one, for a while
      g.free(p);
      if (small.length > 50) g.free(small.shift()!);
    }
    expect(g.byteLength).toBeLessThanOrEqual(5 * PAGE_BYTES);
    expect(g.liveBytes).toBe(50 * 16);
  });

  test('double free is an error', () => {
    const h = new Heap(new ArrayBufferMemory(1), 16);
    const p = h.alloc(64);
    h.free(p);
    expect(() => h.free(p)).toThrow('free: 16 is not a live block (double free?)');
  });

  test('growth keeps the data and rebuilds every view', () => {
    const h = new Heap(new ArrayBufferMemory(1), 16);
    const p = h.alloc(1000);
    h.f32.set([1, 2, 3], p >>> 2);
    const oldBuffer = h.memory.buffer;
    const big = h.alloc(5 * PAGE_BYTES);
    expect(h.byteLength).toBeGreaterThanOrEqual(6 * PAGE_BYTES);
    expect(h.memory.buffer).not.toBe(oldBuffer);
    for (const v of [h.f32, h.i32, h.u8]) expect(v.buffer).toBe(h.memory.buffer); // views rebuilt
    expect(Array.from(h.f32.subarray(p >>> 2, (p >>> 2) + 3))).toEqual([1, 2, 3]);
    h.f32[(big >>> 2) + 5 * PAGE_BYTES / 4 - 1] = 9;
    expect(h.f32[(big >>> 2) + 5 * PAGE_BYTES / 4 - 1]).toBe(9);
  });
});

describe.each(EACH_BACKEND)('tensor lifetimes on %s', (_name, be) => {
  test('100,000 tensors allocated and freed: live bytes back at the baseline', () => {
    withBackend(be, () => {
      const baseline = be.heap.liveBytes;
      const blocks = be.heap.liveBlocks;
      for (let i = 0; i < 100_000; i++) {
        const t = zeros([1 + (i % 37), 3]);
        if (i % 3 === 0) {
          tidy(() => {
            add(t, 1);
          });
        }
        t.dispose();
      }
      expect(be.heap.liveBytes).toBe(baseline);
      expect(be.heap.liveBlocks).toBe(blocks);
    });
  });

  test('tidy frees intermediates, keeps the result and kept tensors; nests', () => {
    withBackend(be, () => {
      const baseline = be.heap.liveBytes;
      let inner: ReturnType<typeof zeros> | undefined;
      let kept: ReturnType<typeof zeros> | undefined;
      const out = tidy(() => {
        const a = tensor([1, 2, 3]);
        kept = keep(tensor([9]));
        const r = tidy(() => {
          inner = add(a, 1); // freed by the inner scope
          return { sum: add(a, a) }; // survives the inner scope, then the outer returns it
        });
        return r.sum;
      });
      expect(Array.from(out.data())).toEqual([2, 4, 6]);
      expect(inner!.isDisposed).toBe(true);
      expect(kept!.isDisposed).toBe(false);
      out.dispose();
      kept!.dispose();
      expect(be.heap.liveBytes).toBe(baseline);
    });
  });

  test('tidy disposes everything when fn throws', () => {
    withBackend(be, () => {
      const baseline = be.heap.liveBytes;
      expect(() =>
        tidy(() => {
          zeros([100]);
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(be.heap.liveBytes).toBe(baseline);
    });
  });

  test('use after dispose is a DisposedError naming the tensor', () => {
    withBackend(be, () => {
      const t = tensor([[1, 2]]);
      t.name = 'fc1.weight';
      t.dispose();
      t.dispose(); // idempotent
      expect(() => t.data()).toThrow(DisposedError);
      expect(() => add(t, 1)).toThrow('tensor fc1.weight [1,2] float32 was disposed');
      const u = tensor([1]);
      const v = tidy(() => add(u, 1));
      u.dispose();
      expect(() => matmul(u, u)).toThrow(DisposedError);
      v.dispose();
    });
  });

  test('reshape-style views share storage: freed when the last one goes', () => {
    withBackend(be, async () => {
      const { view } = await import('../src/tensor.js');
      const baseline = be.heap.liveBytes;
      const a = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
      const v = view(a, [3, 2]);
      a.dispose();
      expect(Array.from(v.data())).toEqual([1, 2, 3, 4, 5, 6]);
      v.dispose();
      expect(be.heap.liveBytes).toBe(baseline);
    });
  });
});

test('FinalizationRegistry reclaims tensors that were never disposed', async () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  expect(gc, 'run with --expose-gc (vitest.config.ts sets it)').toBeTypeOf('function');
  const be = loadBackendSync('js');
  withBackend(be, () => undefined);
  const baseline = be.heap.liveBytes;
  (() => {
    for (let i = 0; i < 200; i++) zeros([1000], { backend: be }); // forgotten, never disposed
  })();
  expect(be.heap.liveBytes).toBeGreaterThan(baseline);
  for (let i = 0; i < 20 && be.heap.liveBytes > baseline; i++) {
    gc!();
    await new Promise((r) => setTimeout(r, 10));
  }
  expect(be.heap.liveBytes).toBe(baseline);
});

test('out of memory: a clear error with the size, and the heap unchanged', () => {
  const js = loadBackendSync('js');
  const small = { ...js, heap: new Heap(new ArrayBufferMemory(1), 16, 4 * PAGE_BYTES) };
  const a = zeros([1000], { backend: small });
  const live = small.heap.liveBytes;
  expect(() => zeros([1_000_000], { backend: small })).toThrow(OutOfMemoryError);
  expect(() => zeros([1_000_000], { backend: small })).toThrow(
    'out of memory: cannot allocate 4000000 bytes for a float32 tensor of shape [1000000]',
  );
  expect(small.heap.liveBytes).toBe(live);
  expect(Array.from(a.data().subarray(0, 3))).toEqual([0, 0, 0]);
  // The wasm32 ceiling: a 5 GiB request is refused up front, not attempted.
  const wasm = loadBackendSync(EACH_BACKEND[0][1].name);
  expect(() => zeros([1_342_177_280], { backend: wasm })).toThrow(OutOfMemoryError);
  a.dispose();
});
