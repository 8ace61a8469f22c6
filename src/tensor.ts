/**
 * Tensor: a shape, a dtype and a handle to storage in a backend's heap, plus —
 * when it takes part in autograd — `requiresGrad`, `.grad` and the node of the
 * op that made it.
 *
 * Memory: storage is a reference-counted heap block (a reshape shares it).
 * A tensor releases its reference when
 *   - `dispose()` is called,
 *   - the `tidy()` scope that created it ends (unless it is returned or kept),
 *   - or, as a safety net, the garbage collector finalizes a forgotten tensor.
 * Using a tensor after that is a `DisposedError`, never garbage.
 *
 * Data are always contiguous, row-major; reads copy out (`data()`, `tolist()`).
 */

import { currentBackend, type Backend } from './backend/index.js';
import { DisposedError, DTypeError, ShapeError, ValueError, fmtShape } from './errors.js';
import type { GradNode } from './autograd.js';

export type DType = 'float32' | 'int32';
export type Shape = readonly number[];
/** Nested arrays of numbers, as `tensor()` accepts and `tolist()` returns. */
export type NestedArray = number | NestedArray[];

/** A reference-counted block in a backend heap. */
class Storage {
  ptr: number;
  refs = 1;
  constructor(
    readonly backend: Backend,
    bytes: number,
    what: () => string,
  ) {
    this.ptr = backend.heap.alloc(bytes, what);
  }
  retain(): this {
    this.refs++;
    return this;
  }
  release(): void {
    if (--this.refs === 0) {
      this.backend.heap.free(this.ptr);
      this.ptr = -1;
    }
  }
}

const finalizer = new FinalizationRegistry<Storage>((s) => s.release());

// ─── scopes ────────────────────────────────────────────────────────────────

const scopes: Tensor[][] = [];

/**
 * A tensor made inside a tidy scope is disposed by that scope (or handed to
 * the enclosing one), so it needs no finalizer while it is scoped; it gets one
 * when it escapes every scope (returned from the outermost tidy, or kept).
 * Registering only then keeps FinalizationRegistry off the hot path of
 * training steps, whose temporaries all die in their scope.
 */
function track(t: Tensor): void {
  const top = scopes[scopes.length - 1];
  if (top !== undefined) top.push(t);
  else t.guard();
}

function collectTensors(value: unknown, into: Set<Tensor>, depth = 0): void {
  if (value instanceof Tensor) into.add(value);
  else if (depth < 4 && value !== null && typeof value === 'object') {
    if (Array.isArray(value)) for (const v of value) collectTensors(v, into, depth + 1);
    else if (value instanceof Map) for (const v of value.values()) collectTensors(v, into, depth + 1);
    else if (Object.getPrototypeOf(value) === Object.prototype) {
      for (const v of Object.values(value)) collectTensors(v, into, depth + 1);
    }
  }
}

/**
 * Runs `fn` and disposes every tensor created inside it, except the ones it
 * returns (a tensor, or tensors in an array/Map/plain object) and the ones
 * marked with `keep()`. Scopes nest; returned tensors move to the outer scope.
 * `fn` must be synchronous.
 *
 * @example
 * const y = tidy(() => relu(matmul(x, w)));  // the matmul output is freed, y survives
 */
export function tidy<T>(fn: () => T): T {
  scopes.push([]);
  let result: T | undefined;
  let ok = false;
  try {
    result = fn();
    ok = true;
    if (result instanceof Promise) {
      throw new ValueError('tidy: fn returned a Promise; tidy scopes are synchronous (hint: await outside tidy)');
    }
  } finally {
    const created = scopes.pop()!;
    const survivors = new Set<Tensor>();
    if (ok) collectTensors(result, survivors);
    const parent = scopes[scopes.length - 1];
    for (const t of created) {
      if (survivors.has(t) || t.kept) {
        if (parent !== undefined && !t.kept) parent.push(t);
        else t.guard();
      } else {
        t.dispose();
      }
    }
  }
  return result as T;
}

/** Exempts a tensor from every `tidy` scope: it lives until `dispose()` (or GC). Returns it. */
export function keep<T extends Tensor>(t: T): T {
  t.kept = true;
  t.guard();
  return t;
}

// ─── Tensor ────────────────────────────────────────────────────────────────

let nextId = 1;

function checkShape(shape: Shape, where: string): number {
  let size = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(`${where}: dimensions must be non-negative integers; got ${fmtShape(shape)}`);
    }
    size *= d;
  }
  if (size > 2 ** 31 - 1) throw new ShapeError(`${where}: shape ${fmtShape(shape)} has ${size} elements, over 2^31-1`);
  return size;
}

export class Tensor {
  readonly id = nextId++;
  readonly shape: Shape;
  readonly size: number;
  readonly dtype: DType;
  readonly backend: Backend;
  /** A name for error messages and parameter listings (`fc1.weight`). */
  name: string | undefined;
  /** When true, backward() accumulates this tensor's gradient into `.grad`. */
  requiresGrad = false;
  private gradTensor: Tensor | null = null;
  /**
   * @internal Set by an optimizer's `zeroGrad()`: `.grad`'s memory is stale
   * and stands for zeros. Reading `.grad` fills it; autograd instead writes
   * the first gradient straight into it (no fill, no add).
   */
  gradPendingZero = false;
  /** @internal The autograd node of the op that produced this tensor. */
  node: GradNode | null = null;
  /** @internal Exempt from tidy scopes. */
  kept = false;

  private storage: Storage | null;
  private byteOffset: number;
  /** Registered with the finalizer (see `track`). */
  private guarded = false;

  /** @internal Use the creation functions (`tensor`, `zeros`, …) instead. */
  constructor(shape: Shape, dtype: DType, backend: Backend, share?: { from: Tensor; byteOffset?: number }) {
    this.shape = shape.slice();
    this.size = checkShape(shape, 'tensor');
    this.dtype = dtype;
    this.backend = backend;
    if (share) {
      this.storage = share.from.liveStorage().retain();
      this.byteOffset = share.from.byteOffset + (share.byteOffset ?? 0);
    } else {
      this.storage = new Storage(backend, this.size * 4, () => `a ${dtype} tensor of shape ${fmtShape(shape)}`);
      this.byteOffset = 0;
    }
    track(this);
  }

  /** @internal Registers with the FinalizationRegistry (once), so a forgotten tensor is reclaimed. */
  guard(): void {
    if (this.guarded || this.storage === null) return;
    this.guarded = true;
    finalizer.register(this, this.storage, this);
  }

  private liveStorage(): Storage {
    if (this.storage === null) throw this.disposedError();
    return this.storage;
  }

  private disposedError(): DisposedError {
    return new DisposedError(
      `tensor ${this.describe()} was disposed and cannot be used; ` +
        `hint: return it from tidy() or keep() it if it must outlive its scope`,
    );
  }

  /** `'fc1.weight [3,2] float32'` or `'#12 [3,2] float32'`. */
  describe(): string {
    return `${this.name ?? '#' + this.id} ${fmtShape(this.shape)} ${this.dtype}`;
  }

  /** The gradient accumulated by `backward()` (a kept tensor of the same shape), or null. */
  get grad(): Tensor | null {
    if (this.gradPendingZero) {
      this.gradPendingZero = false;
      const g = this.gradTensor;
      if (g !== null && !g.isDisposed) g.backend.k.fill_f32(g.ptr, g.size, 0);
    }
    return this.gradTensor;
  }

  set grad(g: Tensor | null) {
    this.gradPendingZero = false;
    this.gradTensor = g;
  }

  /** @internal `.grad` as it is, without filling a pending zero (see gradPendingZero). */
  get rawGrad(): Tensor | null {
    return this.gradTensor;
  }

  /** @internal Byte pointer of the first element in the backend heap. Throws if disposed. */
  get ptr(): number {
    if (this.storage === null) throw this.disposedError();
    return this.storage.ptr + this.byteOffset;
  }

  /** @internal Whether another tensor (a view) shares this one's storage: writing in place would change it too. */
  get sharesStorage(): boolean {
    return this.liveStorage().refs > 1;
  }

  get rank(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return this.storage === null;
  }

  /** Frees this tensor's reference to its storage (and its gradient). Idempotent. */
  dispose(): void {
    if (this.storage === null) return;
    if (this.guarded) finalizer.unregister(this);
    this.storage.release();
    this.storage = null;
    this.node = null;
    if (this.gradTensor !== null) {
      this.gradTensor.dispose();
      this.grad = null;
    }
  }

  /**
   * @internal Moves this tensor's elements into `slab` at `byteOffset` (same
   * backend, room checked by the caller) and shares the slab's storage from
   * then on. Optimizers use this to lay parameters, gradients and moments out
   * contiguously so one kernel call updates them all.
   */
  relocateInto(slab: Tensor, byteOffset: number): void {
    const old = this.liveStorage();
    const target = slab.liveStorage();
    const dst = target.ptr + slab.byteOffset + byteOffset;
    this.backend.k.copy_f32(dst, this.ptr, this.size);
    if (this.guarded) finalizer.unregister(this);
    old.release();
    this.storage = target.retain();
    this.byteOffset = slab.byteOffset + byteOffset;
    if (this.guarded) finalizer.register(this, this.storage, this);
  }

  /** A copy of the elements as a typed array (Float32Array or Int32Array). */
  data(): Float32Array | Int32Array {
    const p = this.ptr >>> 2;
    const h = this.backend.heap;
    return this.dtype === 'float32' ? h.f32.slice(p, p + this.size) : h.i32.slice(p, p + this.size);
  }

  /** The elements as nested arrays matching the shape. */
  tolist(): NestedArray {
    const flat = Array.from(this.data());
    if (this.shape.length === 0) return flat[0];
    const build = (dim: number, off: number): NestedArray[] => {
      const n = this.shape[dim];
      if (dim === this.shape.length - 1) return flat.slice(off, off + n);
      const stride = this.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++) out.push(build(dim + 1, off + i * stride));
      return out;
    };
    return build(0, 0);
  }

  /** The single element of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new ShapeError(`item: tensor ${this.describe()} has ${this.size} elements, not 1`);
    const p = this.ptr >>> 2;
    return this.dtype === 'float32' ? this.backend.heap.f32[p] : this.backend.heap.i32[p];
  }

  toString(): string {
    return `Tensor(${this.describe()})`;
  }
}

// ─── creation ──────────────────────────────────────────────────────────────

export interface CreateOptions {
  /** Default: 'float32'. */
  dtype?: DType;
  /** Default: the current backend (see `init`, `setBackend`). */
  backend?: Backend;
  /** Default: false. */
  requiresGrad?: boolean;
  name?: string;
}

function checkDType(dtype: unknown, where: string): DType {
  if (dtype !== 'float32' && dtype !== 'int32') {
    throw new DTypeError(`${where}: unknown dtype '${String(dtype)}'; valid: 'float32', 'int32'`);
  }
  return dtype;
}

/** @internal An uninitialised tensor (every element will be written by the caller). */
export function empty(shape: Shape, opts: CreateOptions = {}): Tensor {
  const t = new Tensor(shape, checkDType(opts.dtype ?? 'float32', 'empty'), opts.backend ?? currentBackend());
  if (opts.name !== undefined) t.name = opts.name;
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

/** @internal A tensor sharing `src`'s storage with a new shape (same element count). */
export function view(src: Tensor, shape: Shape, byteOffset = 0): Tensor {
  return new Tensor(shape, src.dtype, src.backend, { from: src, byteOffset });
}

function inferShape(data: NestedArray, where: string): number[] {
  const shape: number[] = [];
  let cur: NestedArray = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
    if (cur === undefined) break;
  }
  return shape;
}

function flatten(data: NestedArray, shape: number[], where: string): number[] {
  const out: number[] = [];
  const walk = (x: NestedArray, dim: number) => {
    if (dim === shape.length) {
      if (typeof x !== 'number') throw new ValueError(`${where}: expected a number at depth ${dim}; got ${typeof x}`);
      out.push(x);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[dim]) {
      throw new ShapeError(
        `${where}: ragged nested array: expected ${shape[dim]} elements at depth ${dim} (shape ${fmtShape(shape)}); ` +
          `got ${Array.isArray(x) ? x.length : typeof x}`,
      );
    }
    for (const v of x) walk(v, dim + 1);
  };
  walk(data, 0);
  return out;
}

/**
 * A tensor from nested arrays, a flat array or a typed array.
 * With flat data, `shape` gives the shape (default: 1-D).
 *
 * @example
 * tensor([[1, 2, 3], [4, 5, 6]]);              // [2,3] float32
 * tensor(new Float32Array(6), [2, 3]);
 * tensor([0, 2, 1], undefined, { dtype: 'int32' }); // labels
 */
export function tensor(
  data: NestedArray | ArrayLike<number>,
  shape?: Shape,
  opts: CreateOptions = {},
): Tensor {
  const dtype = checkDType(opts.dtype ?? (data instanceof Int32Array ? 'int32' : 'float32'), 'tensor');
  let flat: ArrayLike<number>;
  let inferred: number[];
  if (typeof data === 'number') {
    flat = [data];
    inferred = [];
  } else if (Array.isArray(data)) {
    inferred = inferShape(data, 'tensor');
    flat = shape !== undefined && inferred.length === 1 ? (data as number[]) : flatten(data, inferred, 'tensor');
  } else {
    flat = data;
    inferred = [data.length];
  }
  const finalShape = shape ?? inferred;
  const size = checkShape(finalShape, 'tensor');
  if (size !== flat.length) {
    throw new ShapeError(`tensor: data has ${flat.length} elements but shape ${fmtShape(finalShape)} needs ${size}`);
  }
  if (dtype === 'int32') {
    for (let i = 0; i < flat.length; i++) {
      if (!Number.isInteger(flat[i]) || flat[i] < -(2 ** 31) || flat[i] >= 2 ** 31) {
        throw new ValueError(`tensor: int32 data must be 32-bit integers; element ${i} is ${flat[i]}`);
      }
    }
  }
  const t = empty(finalShape, { ...opts, dtype });
  const p = t.ptr >>> 2;
  if (dtype === 'float32') t.backend.heap.f32.set(flat, p);
  else t.backend.heap.i32.set(flat, p);
  return t;
}
