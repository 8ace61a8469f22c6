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
  test('16-byte alignment, exact reuse, growth when mostly live, coalescing when mostly free, back to the top', () => {
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
    // One that does not fit above top, with the heap nearly all live: memory grows (the freed
    // blocks stay on their lists, the request goes above top).
    const big = h.alloc(17 + 100 + 3 + 20);
    expect(big).toBe(PAGE_BYTES - 16);
    expect(h.byteLength).toBe(2 * PAGE_BYTES);
    expect(h.coalesceCount).toBe(0);
    // Mostly free once the large block goes: a request that fits neither a list nor above top
    // coalesces the freed neighbours (16 up to the large block's end) into one hole instead.
    h.free(ptrs[4]);
    const room = 2 * PAGE_BYTES - (PAGE_BYTES - 16 + 144);
    const merged = h.alloc(room + 16);
    expect(merged).toBe(ptrs[1]);
    expect(h.coalesceCount).toBe(1);
    expect(h.byteLength).toBe(2 * PAGE_BYTES);
    h.free(merged);
    h.free(big);
    h.free(ptrs[0]);
    h.free(above);
    expect(h.liveBytes).toBe(0);
    expect(h.liveBlocks).toBe(0);
    // The whole heap in one block: everything coalesced back to the top.
    expect(h.alloc(2 * PAGE_BYTES - 16)).toBe(16);
    expect(h.byteLength).toBe(2 * PAGE_BYTES);
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

  // The heap events of the bench transformer (bench/train/transformer.mjs, wasm backend),
  // recorded from a fresh backend: model and optimizer setup, then one training step
  // (every step's events were the same). n > 0: alloc n·16 bytes (the next id); −(k + 1):
  // free block k. The step's peak leaves the heap 77–80% live: the allocator that coalesced
  // whenever a request fitted neither a list nor above top coalesced twice on every step,
  // and the step's requests then went to the hole maps (≈80 µs of JavaScript a step).
  const TRACE_BASE = 1464112, TRACE_PAGES = 24;
  const TRACE_SETUP = [
    256, 16, 512, 1024, 16, 1024, 16, 1024, 16, 1024, 16, 2048, 32, 2048, 16, 16, 16, 16, 16, 160, 3, 37260, -1, -2, -3, -4, -5,
    -6, -7, -8, -9, -10, -11, -12, -13, -14, -15, -16, -17, -18, -19, -20, -21, 4096, 8,
  ];
  const TRACE_STEP = [
    16384, 16384, 16384, 256, 256, 3072, 49152, 48, -8, 16384, 1024, 32768, 1344, -12, 16384, 16384, 256, 256, 32768, 16384,
    512, 80, 1, 80, 1, 80, -23, -22, 512, -24, 16384, 512, -27, -25, 32768, 32768, 16384, -29, -28, 16, 16, -30, -31, -32,
    -15, -16, 16384, 49152, 1344, -35, -33, -10, -11, 16384, 48, 3072, 1024, 1024, 1024, -38, 16, 16, 16, -37, -34, -39, -40,
    -41, -42, -43, -44, -6, 16, 16, -36, -45, -46, -4, -5, 512, -47, -26, -1, -2, -3, -7, -9, -13, -14, -17, -18, -19, -20, -21,
  ];
  test('a training step that fills the heap settles without coalescing every step (recorded transformer trace)', () => {
    const h = new Heap(new ArrayBufferMemory(TRACE_PAGES), TRACE_BASE);
    const replay = (events: number[]) => {
      const ptrs: number[] = [];
      for (const e of events) {
        if (e > 0) ptrs.push(h.alloc(e * 16));
        else h.free(ptrs[-e - 1]);
      }
    };
    replay(TRACE_SETUP);
    const live0 = h.liveBytes;
    const perStep: number[] = [];
    for (let s = 0; s < 12; s++) {
      const c0 = h.coalesceCount;
      replay(TRACE_STEP);
      perStep.push(h.coalesceCount - c0);
    }
    expect(perStep.slice(2)).toEqual(new Array(10).fill(0));
    expect(h.liveBytes).toBe(live0);
    // The price: the heap grew once more than the coalescing allocator's (7,995,392 bytes).
    expect(h.byteLength).toBeLessThanOrEqual(1.5 * 7995392 + PAGE_BYTES);
  });

  test('a mostly live heap that cannot grow coalesces its freed blocks before running out of memory', () => {
    const h = new Heap(new ArrayBufferMemory(2), 16, 2 * PAGE_BYTES);
    const a = h.alloc(20000), b = h.alloc(20000);
    h.alloc(70000); // live from here on: over half the heap
    h.free(a);
    h.free(b);
    // 30,000 fits neither a list nor above top, and memory is at its maximum: the two freed
    // neighbours are coalesced and the request takes the front of that hole.
    expect(h.alloc(30000)).toBe(a);
    expect(h.coalesceCount).toBe(1);
    expect(h.byteLength).toBe(2 * PAGE_BYTES);
    // Nothing left to coalesce that would hold this one: out of memory, heap unchanged.
    const live = h.liveBytes;
    expect(() => h.alloc(40000, 'a test block')).toThrow(OutOfMemoryError);
    expect(h.liveBytes).toBe(live);
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
