/**
 * Optimizer: the base class of SGD, Adam/AdamW, RMSprop and Adagrad, and the
 * parameter slab that lets one kernel call update every parameter of a group.
 *
 * The slab. On construction the optimizer allocates ONE float32 heap block per
 * backend and moves every parameter into it (`Tensor.relocateInto`), so
 * parameters, gradients and each state buffer (momentum, m, v, …) are regions
 * with the same layout:
 *
 *   region:   0: params          1: grads           2: state[0] (m)    3: state[1] (v)
 *           ┌──────────────────┬──────────────────┬──────────────────┬──────────────────┐
 *           │ a ·· │ b │ c ··· │ a ·· │ b │ c ··· │ a ·· │ b │ c ··· │ a ·· │ b │ c ··· │
 *           └──────────────────┴──────────────────┴──────────────────┴──────────────────┘
 *             ╰─ group 0 ─╯╰g1╯  (R floats per region; `··` = zero padding)
 *
 *   param i of region r lives at float (r·R + offset_i); offset_i is a multiple
 *   of 4 (16 bytes), so every slice starts SIMD-aligned; a group's parameters
 *   are adjacent, so a group is one contiguous range [start_g, start_g + n_g)
 *   in every region, and `step()` is one kernel call per group (and backend).
 *
 * - Each parameter's `.grad` is a kept view of its slice of the gradient
 *   region; autograd accumulates into an existing `.grad` in place, so
 *   gradients land in the slab. `zeroGrad()` marks them as zeros, and the
 *   next backward writes its first gradient for each in place (see zeroGrad).
 * - Padding is zero in every region (Adagrad's sum: its initial value) and
 *   every update maps a zero parameter with a zero gradient to itself, so
 *   kernels may run over it.
 * - If `.grad` was replaced (set to null, disposed, or a new tensor made by
 *   autograd), `step()` and `zeroGrad()` copy it back into the slab and
 *   restore the view; a parameter whose grad is null steps with a zero
 *   gradient (unlike PyTorch, which skips it: weight decay and momentum still
 *   apply).
 * - A parameter belongs to one optimizer at a time: passing it to a second one
 *   is a ConfigError until the first is `dispose()`d. Parameters with
 *   `requiresGrad === false` at construction are left out (never updated), as
 *   frozen parameters are in PyTorch.
 * - `dispose()` frees the optimizer's state; parameters and their grads keep
 *   the slab block alive (it is reference-counted) until they are disposed or
 *   moved into another optimizer's slab.
 *
 * Hyper-parameters live in `paramGroups` (PyTorch's `param_groups`), one
 * object per group, and may be changed between steps (they are validated at
 * the start of every `step()`); `lr` sets every group's learning rate.
 * `stateDict()` / `loadStateDict()` give and take plain objects and
 * Float32Arrays for checkpoints.
 */

import type { Backend } from '../backend/index.js';
import type { Kernels } from '../backend/kernels.js';
import { ConfigError, DTypeError, ValueError, fmtShape } from '../errors.js';
import { empty, keep, Tensor, view } from '../tensor.js';
import {
  collectParams, describeValue, hasParameters, registerSlabMember, setSlabOwner, slabOwner, unregisterSlabMember,
  type ParamSource,
} from './slab.js';

/** Hyper-parameters every optimizer has. */
export interface BaseOptions {
  lr: number;
  weightDecay: number;
}

/** One parameter group as given: its parameters and any option overrides. */
export type ParamGroupSpec<O> = { params: ParamSource } & Partial<O>;

/** What an optimizer accepts: tensors, a Module, or param groups `[{ params, lr?, … }]`. */
export type OptimizerParams<O> = ParamSource | readonly ParamGroupSpec<O>[];

/** A live parameter group: its tensors, its hyper-parameters (mutable), and the lr it started with. */
export type ParamGroup<O> = O & {
  readonly params: readonly Tensor[];
  /** The learning rate the group was created with (schedules scale from it). */
  initialLr: number;
};

/** A checkpoint of an optimizer: hyper-parameters, step count and every state buffer. */
export interface OptimizerStateDict {
  format: 'wasmgrad.optimizer';
  version: 1;
  /** 'SGD', 'Adam', 'AdamW', 'RMSprop' or 'Adagrad'. */
  optimizer: string;
  /** Steps taken. */
  step: number;
  /** Per group: hyper-parameters, `initialLr`, indices of its parameters, and scalar per-group state. */
  paramGroups: Array<Record<string, unknown> & { params: number[]; initialLr: number; state: Record<string, number | boolean> }>;
  /** Shape of each parameter (flat index = order of groups, then params). */
  shapes: number[][];
  /** Per parameter: each state buffer's values (a copy). */
  state: Array<Record<string, Float32Array>>;
}

/** What a subclass tells the base class. */
export interface OptimizerSpec<O extends BaseOptions> {
  readonly name: string;
  readonly defaults: Readonly<O>;
  /** Throws (ValueError / ConfigError naming the option) on an invalid value. */
  validate(o: O, where: string): void;
  /** Names of the state buffers a group with these options needs. */
  buffers(o: O): readonly string[];
  /** Initial value of a state buffer for a group. Default 0. */
  initialValue?(buffer: string, o: O): number;
  /** Copies an option value (arrays such as betas) so groups never share it. */
  copyValue?(key: string, v: unknown): unknown;
}

/** Pointers of one group's range in one slab: parameters, gradients and each buffer (0 when absent). */
export interface RangePtrs {
  readonly p: number;
  readonly g: number;
  readonly buf: Readonly<Record<string, number>>;
}

interface Entry {
  readonly param: Tensor;
  readonly group: number;
  readonly slab: Slab;
  /** Float offset of the slice in each region. */
  readonly offset: number;
  readonly padded: number;
  gradView: Tensor;
}

interface Slab {
  readonly backend: Backend;
  readonly tensor: Tensor;
  /** Floats per region. */
  readonly R: number;
  readonly ptr: number;
}

interface GroupRange {
  readonly group: number;
  readonly slab: Slab;
  readonly n: number;
  readonly ptrs: RangePtrs;
}

const FLOAT = 4;
const padTo4 = (n: number) => Math.ceil(n / 4) * 4;

/** Validation helpers for subclasses. */
export function checkNumberOption(
  where: string, name: string, v: unknown, range: { min?: number; max?: number; maxExclusive?: boolean } = {},
): number {
  const { min, max, maxExclusive } = range;
  const ok =
    typeof v === 'number' && Number.isFinite(v) &&
    (min === undefined || v >= min) &&
    (max === undefined || (maxExclusive ? v < max : v <= max));
  if (!ok) {
    let rule = 'a finite number';
    if (min !== undefined && max !== undefined) rule = `in [${min}, ${max}${maxExclusive ? ')' : ']'}`;
    else if (min !== undefined) rule = `a finite number ≥ ${min}`;
    throw new ValueError(`${where}: ${name} must be ${rule}; got ${describeValue(v)}`);
  }
  return v as number;
}

export function checkBoolOption(where: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new ValueError(`${where}: ${name} must be true or false; got ${describeValue(v)}`);
  return v;
}

export abstract class Optimizer<O extends BaseOptions = BaseOptions> {
  /** The parameter groups (PyTorch's `param_groups`); hyper-parameters may be changed between steps. */
  readonly paramGroups: ParamGroup<O>[];
  /** Per parameter, views of its state buffers (`expAvg`, `momentumBuffer`, …) in the slab. */
  readonly state = new Map<Tensor, Readonly<Record<string, Tensor>>>();
  /** Number of `step()` calls so far (Adam's t). */
  stepCount = 0;
  /** Scalar per-group state (e.g. whether SGD's momentum buffer has been started). */
  protected readonly groupState: Record<string, number | boolean>[];

  private readonly spec: OptimizerSpec<O>;
  private readonly entries: Entry[] = [];
  private readonly slabs: Slab[] = [];
  private readonly ranges: GroupRange[] = [];
  /** Buffer names in region order (region 2 + i). */
  private readonly bufferNames: readonly string[];
  private disposed = false;

  protected constructor(spec: OptimizerSpec<O>, params: OptimizerParams<O>, options: Partial<O> | undefined) {
    this.spec = spec;
    const where = spec.name;
    if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
      throw new ConfigError(`${where}: options must be an object; got ${describeValue(options)}`);
    }
    const base = this.mergeOptions({}, options ?? {}, where);

    // 1. Groups, validated in full before anything moves.
    const specs = normalizeGroups(params, where);
    const seen = new Map<Tensor, number>();
    const groups: ParamGroup<O>[] = specs.map(({ params: src, overrides }, gi) => {
      const gw = specs.length > 1 ? `${where} (param group ${gi})` : where;
      const o = this.mergeOptions(base, overrides, gw);
      const tensors = collectParams(src, gw).filter((t) => t.requiresGrad);
      for (const t of tensors) {
        t.ptr; // DisposedError for a disposed parameter
        if (t.dtype !== 'float32') throw new DTypeError(`${gw}: parameters must be float32; got ${t.describe()}`);
        if (t.node !== null) {
          throw new ConfigError(`${gw}: can only optimize leaf tensors; ${t.describe()} is the output of an op`);
        }
        const prev = seen.get(t);
        if (prev !== undefined) {
          throw new ConfigError(`${where}: parameter ${t.describe()} appears in param groups ${prev} and ${gi}; give each parameter to one group`);
        }
        seen.set(t, gi);
        const owner = slabOwner(t);
        if (owner !== undefined && owner !== this) {
          throw new ConfigError(
            `${where}: parameter ${t.describe()} already lives in the slab of another optimizer ` +
              `(${(owner as Optimizer).constructor.name}); hint: give each parameter to one optimizer ` +
              `(use param groups for different settings), or dispose() the other optimizer first`,
          );
        }
      }
      return Object.assign(o, { params: Object.freeze(tensors), initialLr: o.lr }) as ParamGroup<O>;
    });
    if (seen.size === 0) {
      throw new ConfigError(`${where}: got no parameters that require grad; hint: pass the model's parameters (requiresGrad: true)`);
    }
    const bufferSet = new Set<string>();
    for (const g of groups) for (const b of spec.buffers(g)) bufferSet.add(b);
    this.bufferNames = Object.freeze([...bufferSet]);
    this.paramGroups = groups;
    this.groupState = groups.map(() => ({}));

    // 2. Layout per backend (first-seen order), groups in order.
    const layouts = new Map<Backend, { param: Tensor; group: number; offset: number; padded: number }[]>();
    const totals = new Map<Backend, number>();
    groups.forEach((g, gi) => {
      for (const t of g.params) {
        let list = layouts.get(t.backend);
        if (list === undefined) layouts.set(t.backend, (list = []));
        const offset = totals.get(t.backend) ?? 0;
        const padded = padTo4(t.size);
        list.push({ param: t, group: gi, offset, padded });
        totals.set(t.backend, offset + padded);
      }
    });

    // 3. Allocate every slab first (an out-of-memory error leaves everything as it was).
    const regions = 2 + this.bufferNames.length;
    const made: Slab[] = [];
    try {
      for (const [backend, R] of totals) {
        const tensor = keep(empty([Math.max(R, 4) * regions], { backend, name: `${where} slab` }));
        made.push({ backend, tensor, R, ptr: tensor.ptr });
      }
    } catch (e) {
      for (const s of made) s.tensor.dispose();
      throw e;
    }
    this.slabs.push(...made);

    // 4. Fill, move the parameters in, make the grad and state views.
    for (const slab of this.slabs) {
      const k = slab.backend.k;
      k.fill_f32(slab.ptr, slab.tensor.size, 0);
      const list = layouts.get(slab.backend)!;
      // Group ranges: contiguous by construction.
      for (let gi = 0; gi < groups.length; gi++) {
        const members = list.filter((e) => e.group === gi);
        if (members.length === 0) continue;
        const start = members[0].offset;
        const n = members.reduce((s, e) => s + e.padded, 0);
        const buf: Record<string, number> = {};
        this.bufferNames.forEach((name, bi) => {
          buf[name] = slab.ptr + ((2 + bi) * slab.R + start) * FLOAT;
          const init = spec.initialValue?.(name, groups[gi]) ?? 0;
          if (init !== 0) k.fill_f32(buf[name], n, init);
        });
        this.ranges.push({
          group: gi, slab, n,
          ptrs: Object.freeze({ p: slab.ptr + start * FLOAT, g: slab.ptr + (slab.R + start) * FLOAT, buf: Object.freeze(buf) }),
        });
      }
      for (const e of list) {
        const p = e.param;
        const oldGrad = p.grad;
        p.relocateInto(slab.tensor, e.offset * FLOAT);
        registerSlabMember(p, e.padded * FLOAT);
        setSlabOwner(p, this);
        const gradView = this.makeGradView(p, slab, e.offset, e.padded);
        if (oldGrad !== null && !oldGrad.isDisposed && oldGrad !== gradView) {
          if (oldGrad.size === p.size && oldGrad.dtype === 'float32') k.copy_f32(gradView.ptr, oldGrad.ptr, p.size);
          oldGrad.dispose();
        }
        p.grad = gradView;
        const views: Record<string, Tensor> = {};
        this.bufferNames.forEach((name, bi) => {
          const v = keep(view(slab.tensor, p.shape, ((2 + bi) * slab.R + e.offset) * FLOAT));
          v.name = `${p.name ?? '#' + p.id}.${name}`;
          views[name] = v;
        });
        this.state.set(p, Object.freeze(views));
        this.entries.push({ param: p, group: e.group, slab, offset: e.offset, padded: e.padded, gradView });
      }
    }
    // Entries in flat (group, then param) order, the order stateDict uses.
    const order = new Map<Tensor, number>();
    groups.flatMap((g) => g.params).forEach((t, i) => order.set(t, i));
    this.entries.sort((a, b) => order.get(a.param)! - order.get(b.param)!);
    this.ranges.sort((a, b) => a.group - b.group);
  }

  /** The optimizer's name ('Adam', 'SGD', …). */
  get name(): string {
    return this.spec.name;
  }

  /** Every parameter, in group order. */
  get params(): Tensor[] {
    return this.entries.map((e) => e.param);
  }

  /** The learning rate of the first group. */
  get lr(): number {
    return this.paramGroups[0].lr;
  }

  /** Sets every group's learning rate (schedules use this). Must be a finite number ≥ 0. */
  set lr(value: number) {
    checkNumberOption(this.spec.name, 'lr', value, { min: 0 });
    for (const g of this.paramGroups) g.lr = value;
  }

  /** Bytes of the slab(s): parameters, gradients and state. */
  get slabBytes(): number {
    return this.slabs.reduce((s, x) => s + x.tensor.size * FLOAT, 0);
  }

  /**
   * One update of every parameter from its gradient: one kernel call per
   * param group (and backend). Hyper-parameters are validated first, so an
   * invalid one throws with nothing changed.
   */
  step(): void {
    this.checkLive('step');
    this.paramGroups.forEach((g, gi) => this.checkGroup(g, gi));
    this.syncGrads(true);
    const t = ++this.stepCount;
    for (const r of this.ranges) this.update(r.slab.backend.k, this.paramGroups[r.group], this.groupState[r.group], r.ptrs, r.n, t);
    this.paramGroups.forEach((g, gi) => this.afterStep(g, this.groupState[gi]));
  }

  /**
   * Sets every gradient to zero, lazily: each `.grad` is marked as standing
   * for zeros, and the next backward writes its first gradient straight into
   * it (no fill and no add pass over the gradients); reading `.grad` before
   * that, or `step()` for a parameter that got no gradient, fills it then.
   * (A reference to a `.grad` taken before zeroGrad() sees the old values
   * until it is read through `.grad` again.)
   */
  zeroGrad(): void {
    this.checkLive('zeroGrad');
    this.syncGrads(false);
    for (const e of this.entries) if (!e.param.isDisposed) e.param.gradPendingZero = true;
  }

  /**
   * A checkpoint: hyper-parameters, step count, per-group scalar state and a
   * copy of every state buffer (Float32Array per parameter and buffer).
   */
  stateDict(): OptimizerStateDict {
    this.checkLive('stateDict');
    const index = new Map<Tensor, number>();
    this.entries.forEach((e, i) => index.set(e.param, i));
    return {
      format: 'wasmgrad.optimizer',
      version: 1,
      optimizer: this.spec.name,
      step: this.stepCount,
      paramGroups: this.paramGroups.map((g, gi) => {
        const h: Record<string, unknown> = {};
        for (const key of Object.keys(this.spec.defaults)) h[key] = this.copyValue(key, (g as unknown as Record<string, unknown>)[key]);
        return { ...h, initialLr: g.initialLr, params: g.params.map((p) => index.get(p)!), state: { ...this.groupState[gi] } };
      }),
      shapes: this.entries.map((e) => [...e.param.shape]),
      state: this.entries.map((e) => {
        const F = e.slab.backend.heap.f32;
        const out: Record<string, Float32Array> = {};
        this.bufferNames.forEach((name, bi) => {
          const at = (e.slab.ptr >>> 2) + (2 + bi) * e.slab.R + e.offset;
          out[name] = F.slice(at, at + e.param.size);
        });
        return out;
      }),
    };
  }

  /**
   * Restores a `stateDict()` taken from an optimizer of the same kind over
   * parameters of the same shapes in the same groups. Everything is checked
   * before anything is written.
   */
  loadStateDict(dict: OptimizerStateDict): void {
    this.checkLive('loadStateDict');
    const where = `${this.spec.name}.loadStateDict`;
    const fail = (msg: string): never => {
      throw new ConfigError(`${where}: ${msg}`);
    };
    if (dict === null || typeof dict !== 'object') fail(`expected a state dict object; got ${describeValue(dict)}`);
    if (dict.format !== 'wasmgrad.optimizer') fail(`not an optimizer state dict (format ${String(dict.format)})`);
    if (dict.version !== 1) fail(`unsupported version ${String(dict.version)}; this build reads version 1`);
    if (dict.optimizer !== this.spec.name) fail(`the state dict is for ${String(dict.optimizer)}, not ${this.spec.name}`);
    if (!Number.isInteger(dict.step) || dict.step < 0) fail(`step must be a non-negative integer; got ${String(dict.step)}`);
    if (!Array.isArray(dict.paramGroups) || dict.paramGroups.length !== this.paramGroups.length) {
      fail(`the state dict has ${dict.paramGroups?.length} param groups; this optimizer has ${this.paramGroups.length}`);
    }
    if (!Array.isArray(dict.shapes) || dict.shapes.length !== this.entries.length) {
      fail(`the state dict has ${dict.shapes?.length} parameters; this optimizer has ${this.entries.length}`);
    }
    this.entries.forEach((e, i) => {
      const s = dict.shapes[i];
      if (!Array.isArray(s) || s.join() !== e.param.shape.join()) {
        fail(`parameter ${i} (${e.param.describe()}) has shape ${fmtShape(e.param.shape)}; the state dict has ${Array.isArray(s) ? fmtShape(s) : String(s)}`);
      }
    });
    const newGroups = dict.paramGroups.map((dg, gi) => {
      const expected = this.paramGroups[gi].params.map((p) => this.entries.findIndex((e) => e.param === p));
      if (!Array.isArray(dg.params) || dg.params.join() !== expected.join()) {
        fail(`param group ${gi} holds parameters [${String(dg.params)}]; this optimizer's holds [${expected}]`);
      }
      const { params: _p, initialLr, state, ...hyper } = dg;
      const o = this.mergeOptions(this.spec.defaults, hyper as Partial<O>, `${where} (param group ${gi})`);
      checkNumberOption(where, 'initialLr', initialLr, { min: 0 });
      for (const b of this.spec.buffers(o)) {
        if (!this.bufferNames.includes(b)) {
          fail(`param group ${gi} needs state buffer '${b}', which this optimizer did not allocate; create it with the same options`);
        }
      }
      return { o, initialLr, state: { ...(state ?? {}) } };
    });
    if (!Array.isArray(dict.state) || dict.state.length !== this.entries.length) fail(`state must have one entry per parameter`);
    this.entries.forEach((e, i) => {
      const st = dict.state[i];
      const names = st && typeof st === 'object' ? Object.keys(st) : [];
      if (names.sort().join() !== [...this.bufferNames].sort().join()) {
        fail(`parameter ${i} has state buffers [${names}]; expected [${this.bufferNames}]`);
      }
      for (const name of this.bufferNames) {
        const a = st[name];
        if (!(a instanceof Float32Array) || a.length !== e.param.size) {
          fail(`state[${i}].${name} must be a Float32Array of ${e.param.size} elements`);
        }
      }
    });
    // Write.
    this.entries.forEach((e, i) => {
      const F = e.slab.backend.heap.f32;
      this.bufferNames.forEach((name, bi) => F.set(dict.state[i][name], (e.slab.ptr >>> 2) + (2 + bi) * e.slab.R + e.offset));
    });
    newGroups.forEach(({ o, initialLr, state }, gi) => {
      Object.assign(this.paramGroups[gi], o, { initialLr });
      const gs = this.groupState[gi];
      for (const key of Object.keys(gs)) delete gs[key];
      Object.assign(gs, state);
    });
    this.stepCount = dict.step;
  }

  /**
   * Frees the state buffers and releases the optimizer's hold on its slab.
   * Parameters (and their grads) stay valid and keep the slab memory until
   * they are disposed or handed to another optimizer. Idempotent.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const views of this.state.values()) for (const v of Object.values(views)) v.dispose();
    this.state.clear();
    for (const e of this.entries) {
      if (slabOwner(e.param) === this) setSlabOwner(e.param, undefined);
      unregisterSlabMember(e.param);
      unregisterSlabMember(e.gradView);
    }
    for (const s of this.slabs) s.tensor.dispose();
  }

  toString(): string {
    return `${this.spec.name}(${this.entries.length} parameters in ${this.paramGroups.length} group(s), lr ${this.lr})`;
  }

  // ─── for subclasses ──────────────────────────────────────────────────────

  /** Runs the update kernel over one group's range (n floats). `t` is the step number (1 for the first). */
  protected abstract update(
    k: Kernels, group: ParamGroup<O>, state: Record<string, number | boolean>, at: RangePtrs, n: number, t: number,
  ): void;

  /** Called once per group after each step (e.g. to mark a momentum buffer as started). */
  protected afterStep(_group: ParamGroup<O>, _state: Record<string, number | boolean>): void {}

  // ─── internals ───────────────────────────────────────────────────────────

  private checkLive(what: string): void {
    if (this.disposed) throw new ConfigError(`${this.spec.name}.${what}: the optimizer was disposed`);
  }

  private copyValue(key: string, v: unknown): unknown {
    if (this.spec.copyValue) return this.spec.copyValue(key, v);
    return Array.isArray(v) ? [...v] : v;
  }

  /** defaults ← base ← overrides, with unknown names rejected and every value validated. */
  private mergeOptions(base: Partial<O>, overrides: Partial<O>, where: string): O {
    const valid = Object.keys(this.spec.defaults);
    for (const key of Object.keys(overrides)) {
      if (!valid.includes(key)) {
        throw new ConfigError(`${where}: unknown option '${key}'; valid: ${valid.join(', ')}`);
      }
    }
    const o = {} as Record<string, unknown>;
    for (const key of valid) {
      const v = (overrides as Record<string, unknown>)[key] ?? (base as Record<string, unknown>)[key] ?? (this.spec.defaults as Record<string, unknown>)[key];
      o[key] = this.copyValue(key, v);
    }
    this.spec.validate(o as O, where);
    return o as O;
  }

  private checkGroup(g: ParamGroup<O>, gi: number): void {
    const where = this.paramGroups.length > 1 ? `${this.spec.name}.step (param group ${gi})` : `${this.spec.name}.step`;
    this.spec.validate(g, where);
    for (const b of this.spec.buffers(g)) {
      if (!this.bufferNames.includes(b)) {
        throw new ConfigError(
          `${where}: these options need the state buffer '${b}', which was not allocated because no group needed it ` +
            `when the optimizer was created; hint: create the optimizer with those options from the start`,
        );
      }
    }
  }

  private makeGradView(p: Tensor, slab: Slab, offset: number, padded: number): Tensor {
    const g = keep(view(slab.tensor, p.shape, (slab.R + offset) * FLOAT));
    g.name = p.name !== undefined ? `${p.name}.grad` : undefined;
    registerSlabMember(g, padded * FLOAT);
    return g;
  }

  /**
   * Makes every live parameter's `.grad` the slab view again. A replacement
   * gradient is copied into the slab (when `copy`) and disposed; a missing one
   * reads as zero.
   */
  private syncGrads(copy: boolean): void {
    for (const e of this.entries) {
      const p = e.param;
      // Reading .grad fills a pending zero: step() needs it, zeroGrad() (copy false) does not.
      const cur = copy ? p.grad : p.rawGrad;
      if (cur === e.gradView && !cur.isDisposed) continue;
      if (p.isDisposed) continue;
      if (p.ptr !== e.slab.ptr + e.offset * FLOAT) {
        throw new ConfigError(`${this.spec.name}: parameter ${p.describe()} was moved out of the optimizer's slab`);
      }
      const k = e.slab.backend.k;
      if (e.gradView.isDisposed) {
        unregisterSlabMember(e.gradView);
        e.gradView = this.makeGradView(p, e.slab, e.offset, e.padded);
      }
      const usable = cur !== null && cur !== e.gradView && !cur.isDisposed && cur.size === p.size && cur.dtype === 'float32';
      if (copy && usable) k.copy_f32(e.gradView.ptr, cur.ptr, p.size);
      else if (copy) k.fill_f32(e.gradView.ptr, p.size, 0);
      if (cur !== null && cur !== e.gradView && !cur.isDisposed) cur.dispose();
      p.grad = e.gradView;
    }
  }
}

// ─── params normalisation ───────────────────────────────────────────────────

function isGroupSpec(x: unknown): x is ParamGroupSpec<unknown> {
  return x !== null && typeof x === 'object' && !(x instanceof Tensor) && !hasParameters(x) && 'params' in (x as object);
}

function normalizeGroups<O>(params: OptimizerParams<O>, where: string): { params: ParamSource; overrides: Partial<O> }[] {
  if (params instanceof Tensor || hasParameters(params)) return [{ params, overrides: {} }];
  if (!Array.isArray(params)) {
    throw new ConfigError(
      `${where}: params must be tensors, a Module (anything with parameters()) or param groups [{ params, lr?, … }]; ` +
        `got ${describeValue(params)}`,
    );
  }
  if (params.length === 0) throw new ConfigError(`${where}: got an empty parameter list`);
  if (params.every((x) => x instanceof Tensor)) return [{ params: params as Tensor[], overrides: {} }];
  if (params.every(isGroupSpec)) {
    return (params as ParamGroupSpec<O>[]).map((g) => {
      const { params: p, ...overrides } = g;
      return { params: p, overrides: overrides as Partial<O> };
    });
  }
  const bad = params.findIndex((x) => !(x instanceof Tensor) && !isGroupSpec(x));
  throw new ConfigError(
    `${where}: params must be all tensors or all param groups { params, … }; element ${bad < 0 ? 0 : bad} is ${describeValue(params[bad < 0 ? 0 : bad])}`,
  );
}
