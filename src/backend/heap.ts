/**
 * One linear heap per backend, and the allocator that owns it.
 *
 * The wasm backend's heap is the module's `WebAssembly.Memory`; the js
 * backend's is a plain `ArrayBuffer` that grows the same way (64 KiB pages,
 * copied into a larger buffer). Everything above the kernels sees the same
 * `Heap`, so both backends share one allocator and one set of views.
 *
 *   0 ........ base ──── blocks and free holes ──── top ....... byteLength
 *   (wasm statics)       (16-byte aligned)          (bump pointer)
 *
 * Allocation: an exact-size free block if there is one (training loops
 * allocate the same sizes every step), else the best-fitting larger hole
 * (split), else bump `top`, growing memory when needed. A freed block first
 * goes on a per-size quick list, uncoalesced, where the next request of its
 * size takes it back in two array operations (a training step frees and
 * re-allocates the same sizes, so it never touches the hole maps). Quick
 * blocks are coalesced (with both neighbours, and given back to `top` when
 * last) only when a request finds no block of its size and no hole that
 * fits, before memory would grow — and only while at most half of the heap
 * is live (or when memory cannot grow). A fuller heap grows instead: there
 * the freed blocks are few, and a
 * training step that filled it would coalesce them again on every step (the
 * quick lists emptied, the step's requests falling through to the hole maps:
 * ~80 µs of JavaScript a step on the bench transformer, whose heap had
 * settled 77–80% live).
 *
 * Memory growth replaces the ArrayBuffer and detaches every view over the
 * old one, so views live here, are rebuilt in `grow`, and nobody else may
 * keep a typed array over the heap across a call that allocates.
 */

import { OutOfMemoryError, ValueError } from '../errors.js';

export const PAGE_BYTES = 65536;
export const ALIGN = 16;
/** The wasm32 ceiling: 65536 pages of 64 KiB. */
export const MAX_HEAP_BYTES = 65536 * PAGE_BYTES;

/** What the heap needs from its memory: `WebAssembly.Memory` has exactly this shape. */
export interface LinearMemory {
  readonly buffer: ArrayBuffer;
  /** Grows by `deltaPages` pages; returns the old size in pages; throws RangeError when it cannot. */
  grow(deltaPages: number): number;
}

/** The js backend's memory: an ArrayBuffer that grows by copying, page by page like wasm's. */
export class ArrayBufferMemory implements LinearMemory {
  buffer: ArrayBuffer;
  constructor(initialPages: number, private readonly maximumPages = MAX_HEAP_BYTES / PAGE_BYTES) {
    this.buffer = new ArrayBuffer(initialPages * PAGE_BYTES);
  }
  grow(deltaPages: number): number {
    const old = this.buffer.byteLength / PAGE_BYTES;
    if (old + deltaPages > this.maximumPages) throw new RangeError('ArrayBufferMemory: maximum exceeded');
    const next = new ArrayBuffer((old + deltaPages) * PAGE_BYTES);
    new Uint8Array(next).set(new Uint8Array(this.buffer));
    this.buffer = next;
    return old;
  }
}

// Arithmetic, not bit masks: sizes and pointers may exceed 2^31.
const alignUp = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

export class Heap {
  /** Views over the whole heap; rebuilt whenever memory grows. Index = byte pointer >>> 2 (or the byte pointer for u8). */
  f32!: Float32Array;
  i32!: Int32Array;
  u8!: Uint8Array;

  /** Bytes held by live blocks (after alignment). */
  liveBytes = 0;
  /** Highest `liveBytes` seen since the last `resetPeak()`. */
  peakBytes = 0;
  /** Number of live blocks. */
  liveBlocks = 0;

  private top: number;
  private readonly blocks = new Map<number, number>(); // start → size of live blocks
  private readonly freeByStart = new Map<number, number>(); // start → size
  private readonly freeByEnd = new Map<number, number>(); // end → start
  private readonly freeBySize = new Map<number, Set<number>>(); // size → starts
  private readonly quick = new Map<number, number[]>(); // size → starts of freed, uncoalesced blocks
  /** @internal How many times the quick lists were coalesced (tests, diagnostics). */
  coalesceCount = 0;

  constructor(
    readonly memory: LinearMemory,
    /** First byte the allocator may use (wasm statics live below). */
    readonly base: number,
    /** Largest the heap may grow to, in bytes. */
    readonly maxBytes: number = MAX_HEAP_BYTES,
  ) {
    this.top = alignUp(base);
    this.refreshViews();
  }

  /** Total bytes the heap's memory spans right now (live, free and untouched). */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /**
   * Allocates `bytes` (rounded up to 16) and returns the byte pointer.
   * `what` names the request in the out-of-memory error (a function, so the
   * hot path builds no string).
   */
  alloc(bytes: number, what: string | (() => string) = 'a block'): number {
    if (!Number.isInteger(bytes) || bytes < 0) {
      throw new ValueError(`alloc: size must be a non-negative integer number of bytes; got ${bytes} for ${typeof what === 'function' ? what() : what}`);
    }
    const size = alignUp(Math.max(bytes, ALIGN));
    const q = this.quick.get(size);
    let ptr: number;
    if (q !== undefined && q.length > 0) {
      ptr = q.pop()!;
    } else {
      ptr = this.takeFree(size);
      const cap = this.memory.buffer.byteLength;
      if (ptr < 0 && this.quick.size > 0 && this.top + size > cap && 2 * this.liveBytes <= cap) {
        this.coalesceQuick();
        ptr = this.takeFree(size);
      }
    }
    if (ptr < 0 && this.top + size > this.memory.buffer.byteLength) {
      try {
        this.grow(this.top + size, size, what);
      } catch (e) {
        // Memory cannot grow (the maximum, or the runtime refused): the freed
        // blocks, coalesced, may still hold the request.
        if (!(e instanceof OutOfMemoryError) || this.quick.size === 0) throw e;
        this.coalesceQuick();
        ptr = this.takeFree(size);
        if (ptr < 0 && this.top + size > this.memory.buffer.byteLength) throw e;
      }
    }
    if (ptr < 0) {
      ptr = this.top;
      this.top += size;
    }
    this.blocks.set(ptr, size);
    this.liveBytes += size;
    this.liveBlocks++;
    if (this.liveBytes > this.peakBytes) this.peakBytes = this.liveBytes;
    return ptr;
  }

  /** Returns a block to the heap. Freeing a pointer that is not live is an error (double free). */
  free(ptr: number): void {
    const size = this.blocks.get(ptr);
    if (size === undefined) throw new ValueError(`free: ${ptr} is not a live block (double free?)`);
    this.blocks.delete(ptr);
    this.liveBytes -= size;
    this.liveBlocks--;
    const q = this.quick.get(size);
    if (q === undefined) this.quick.set(size, [ptr]);
    else q.push(ptr);
  }

  /** Coalesces every quick-list block into the holes (and `top`); drops the lists (sizes may never recur). */
  private coalesceQuick(): void {
    this.coalesceCount++;
    for (const [size, starts] of this.quick) {
      for (const start of starts) this.release(start, size);
    }
    this.quick.clear();
  }

  /** Makes [ptr, ptr + size) a hole, merged with the holes on either side, or gives it back to `top`. */
  private release(ptr: number, size: number): void {
    let start = ptr;
    let end = ptr + size;
    const before = this.freeByEnd.get(start);
    if (before !== undefined) {
      this.removeFree(before);
      start = before;
    }
    const afterSize = this.freeByStart.get(end);
    if (afterSize !== undefined) {
      this.removeFree(end);
      end += afterSize;
    }
    if (end === this.top) this.top = start;
    else this.addFree(start, end - start);
  }

  /** Size in bytes of the live block at `ptr`, or undefined. */
  sizeOf(ptr: number): number | undefined {
    return this.blocks.get(ptr);
  }

  resetPeak(): void {
    this.peakBytes = this.liveBytes;
  }

  private takeFree(size: number): number {
    const exact = this.freeBySize.get(size);
    if (exact !== undefined) {
      const start = exact.values().next().value as number;
      this.removeFree(start);
      return start;
    }
    let best = -1;
    let bestSize = Infinity;
    for (const [s, set] of this.freeBySize) {
      if (s > size && s < bestSize) {
        bestSize = s;
        best = set.values().next().value as number;
      }
    }
    if (best < 0) return -1;
    this.removeFree(best);
    this.addFree(best + size, bestSize - size);
    return best;
  }

  private addFree(start: number, size: number): void {
    this.freeByStart.set(start, size);
    this.freeByEnd.set(start + size, start);
    let set = this.freeBySize.get(size);
    if (set === undefined) this.freeBySize.set(size, (set = new Set()));
    set.add(start);
  }

  private removeFree(start: number): void {
    const size = this.freeByStart.get(start)!;
    this.freeByStart.delete(start);
    this.freeByEnd.delete(start + size);
    const set = this.freeBySize.get(size)!;
    set.delete(start);
    if (set.size === 0) this.freeBySize.delete(size);
  }

  private grow(needEnd: number, size: number, whatArg: string | (() => string)): void {
    const what = typeof whatArg === 'function' ? whatArg() : whatArg;
    const have = this.memory.buffer.byteLength;
    if (needEnd > this.maxBytes) {
      throw new OutOfMemoryError(
        `out of memory: cannot allocate ${size} bytes for ${what}: the heap would need ${needEnd} bytes, ` +
          `over its maximum of ${this.maxBytes} (live: ${this.liveBytes} bytes)` +
          `; hint: dispose tensors you no longer need, or use tidy()`,
      );
    }
    // Grow geometrically (at least +50%) so a growing workload does not copy/grow every step.
    const target = Math.min(this.maxBytes, Math.max(needEnd, Math.ceil(have * 1.5)));
    const pages = Math.ceil((target - have) / PAGE_BYTES);
    const minPages = Math.ceil((needEnd - have) / PAGE_BYTES);
    try {
      this.memory.grow(pages);
    } catch {
      try {
        this.memory.grow(minPages);
      } catch {
        throw new OutOfMemoryError(
          `out of memory: cannot allocate ${size} bytes for ${what}: the runtime refused to grow the heap ` +
            `from ${have} to ${needEnd} bytes (live: ${this.liveBytes} bytes)`,
        );
      }
    }
    this.refreshViews();
  }

  private refreshViews(): void {
    const buf = this.memory.buffer;
    this.f32 = new Float32Array(buf);
    this.i32 = new Int32Array(buf);
    this.u8 = new Uint8Array(buf);
  }
}
