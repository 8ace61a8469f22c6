/**
 * Learning-rate schedules (torch.optim.lr_scheduler), pure TypeScript.
 *
 *   StepLR             lr_t = base·γ^⌊t / stepSize⌋
 *   ExponentialLR      lr_t = base·γ^t
 *   CosineAnnealingLR  lr_t = etaMin + (base − etaMin)·(1 + cos(π·t / tMax))/2
 *                      (PyTorch's closed form: past tMax it rises again, period 2·tMax)
 *   LinearWarmup       lr_t = base·(t + 1)/warmupSteps          for t < warmupSteps
 *                      lr_t = after.lrAt(t − warmupSteps, base)  afterwards (or base)
 *
 * t counts `step()` calls, so a schedule is per epoch or per batch depending
 * on where you call it; express stepSize, tMax, warmupSteps in the same unit.
 * As in PyTorch, creating a schedule sets the optimizer's lr to lrAt(0), and
 * the usual loop is `opt.step(); schedule.step();`.
 *
 * `base` is each param group's `initialLr` (the lr it was created with), so
 * groups with different learning rates keep their ratio. `lrAt(t)` is pure:
 * it neither reads nor changes the optimizer.
 */

import { ConfigError, ValueError } from '../errors.js';
import { describeValue } from './slab.js';

/** What a schedule drives: an optimizer, or any object with a writable `lr`. */
export interface LrTarget {
  lr: number;
  readonly paramGroups?: readonly { lr: number; initialLr?: number }[];
}

export interface ScheduleStateDict {
  stepCount: number;
}

function checkOptions(where: string, options: object, valid: readonly string[]): void {
  if (options === null || typeof options !== 'object') throw new ConfigError(`${where}: options must be an object; got ${describeValue(options)}`);
  for (const key of Object.keys(options)) {
    if (!valid.includes(key)) throw new ConfigError(`${where}: unknown option '${key}'; valid: ${valid.join(', ')}`);
  }
}

function need(where: string, name: string, v: unknown, rule: 'positiveInt' | 'nonNegative'): number {
  const ok = typeof v === 'number' && Number.isFinite(v) && (rule === 'positiveInt' ? Number.isInteger(v) && v >= 1 : v >= 0);
  if (!ok) {
    throw new ValueError(`${where}: ${name} must be ${rule === 'positiveInt' ? 'an integer ≥ 1' : 'a finite number ≥ 0'}; got ${describeValue(v)}`);
  }
  return v as number;
}

/** The base class: `lrAt(t)` is the formula, `step()` advances t and applies it. */
export abstract class LRSchedule {
  /** Number of `step()` calls so far (PyTorch's last_epoch). */
  stepCount = 0;
  /** The lr each param group is scaled from (its `initialLr`). */
  readonly baseLrs: readonly number[];

  protected constructor(readonly optimizer: LrTarget, where: string) {
    if (optimizer === null || typeof optimizer !== 'object' || typeof optimizer.lr !== 'number') {
      throw new ConfigError(`${where}: expected an optimizer (an object with lr); got ${describeValue(optimizer)}`);
    }
    const groups = optimizer.paramGroups;
    this.baseLrs = Object.freeze(groups && groups.length > 0 ? groups.map((g) => g.initialLr ?? g.lr) : [optimizer.lr]);
  }

  /** The learning rate at step t (t ≥ 0 integer) for a group whose base lr is `baseLr` (default: the first group's). */
  abstract lrAt(t: number, baseLr?: number): number;

  /** The current learning rate of the first group: lrAt(stepCount). */
  get lr(): number {
    return this.lrAt(this.stepCount);
  }

  /** Advances one step (epoch or batch) and sets the optimizer's lr. Returns the new lr. */
  step(): number {
    this.stepCount++;
    this.apply();
    return this.lr;
  }

  stateDict(): ScheduleStateDict {
    return { stepCount: this.stepCount };
  }

  /** Restores `stateDict()` and applies the lr of that step. */
  loadStateDict(d: ScheduleStateDict): void {
    const t = d?.stepCount;
    if (!Number.isInteger(t) || t < 0) throw new ValueError(`${this.constructor.name}.loadStateDict: stepCount must be an integer ≥ 0; got ${describeValue(t)}`);
    this.stepCount = t;
    this.apply();
  }

  protected checkStep(t: number): void {
    if (!Number.isInteger(t) || t < 0) throw new ValueError(`${this.constructor.name}.lrAt: t must be an integer ≥ 0; got ${describeValue(t)}`);
  }

  /** Sets every group's lr for the current step (call at the end of a subclass constructor). */
  protected apply(): void {
    const groups = this.optimizer.paramGroups;
    if (groups && groups.length > 0) groups.forEach((g, i) => (g.lr = this.lrAt(this.stepCount, this.baseLrs[i])));
    else this.optimizer.lr = this.lrAt(this.stepCount, this.baseLrs[0]);
  }
}

export interface StepLROptions {
  /** Steps between decays (required). */
  stepSize: number;
  /** Multiplicative factor of each decay. Default 0.1. */
  gamma?: number;
}

/** Decays the lr by `gamma` every `stepSize` steps. */
export class StepLR extends LRSchedule {
  readonly stepSize: number;
  readonly gamma: number;
  constructor(optimizer: LrTarget, options: StepLROptions) {
    super(optimizer, 'StepLR');
    checkOptions('StepLR', options, ['stepSize', 'gamma']);
    this.stepSize = need('StepLR', 'stepSize', options.stepSize, 'positiveInt');
    this.gamma = need('StepLR', 'gamma', options.gamma ?? 0.1, 'nonNegative');
    this.apply();
  }
  lrAt(t: number, baseLr = this.baseLrs[0]): number {
    this.checkStep(t);
    return baseLr * Math.pow(this.gamma, Math.floor(t / this.stepSize));
  }
}

export interface ExponentialLROptions {
  /** Multiplicative factor per step (required). */
  gamma: number;
}

/** Decays the lr by `gamma` every step. */
export class ExponentialLR extends LRSchedule {
  readonly gamma: number;
  constructor(optimizer: LrTarget, options: ExponentialLROptions) {
    super(optimizer, 'ExponentialLR');
    checkOptions('ExponentialLR', options, ['gamma']);
    this.gamma = need('ExponentialLR', 'gamma', options.gamma, 'nonNegative');
    this.apply();
  }
  lrAt(t: number, baseLr = this.baseLrs[0]): number {
    this.checkStep(t);
    return baseLr * Math.pow(this.gamma, t);
  }
}

export interface CosineAnnealingLROptions {
  /** Steps of the half cosine from base to etaMin (required). */
  tMax: number;
  /** Minimum lr. Default 0. */
  etaMin?: number;
}

/** Cosine annealing from the base lr to `etaMin` over `tMax` steps (SGDR without restarts). */
export class CosineAnnealingLR extends LRSchedule {
  readonly tMax: number;
  readonly etaMin: number;
  constructor(optimizer: LrTarget, options: CosineAnnealingLROptions) {
    super(optimizer, 'CosineAnnealingLR');
    checkOptions('CosineAnnealingLR', options, ['tMax', 'etaMin']);
    this.tMax = need('CosineAnnealingLR', 'tMax', options.tMax, 'positiveInt');
    this.etaMin = need('CosineAnnealingLR', 'etaMin', options.etaMin ?? 0, 'nonNegative');
    this.apply();
  }
  lrAt(t: number, baseLr = this.baseLrs[0]): number {
    this.checkStep(t);
    return this.etaMin + ((baseLr - this.etaMin) * (1 + Math.cos((Math.PI * t) / this.tMax))) / 2;
  }
}

export interface LinearWarmupOptions {
  /** Steps of linear warm-up; step t < warmupSteps uses base·(t + 1)/warmupSteps (required). */
  warmupSteps: number;
  /** The schedule after warm-up, started from its step 0 (only its `lrAt` is used). Default: constant base lr. */
  after?: LRSchedule;
}

/**
 * Linear warm-up to the base lr, then another schedule (or constant).
 *
 * @example
 * const opt = new AdamW(model, { lr: 1e-3 });
 * const sched = new LinearWarmup(opt, { warmupSteps: 100, after: new CosineAnnealingLR(opt, { tMax: 900 }) });
 * for (…each batch…) { …; opt.step(); sched.step(); }
 */
export class LinearWarmup extends LRSchedule {
  readonly warmupSteps: number;
  readonly after: LRSchedule | undefined;
  constructor(optimizer: LrTarget, options: LinearWarmupOptions) {
    super(optimizer, 'LinearWarmup');
    checkOptions('LinearWarmup', options, ['warmupSteps', 'after']);
    this.warmupSteps = need('LinearWarmup', 'warmupSteps', options.warmupSteps, 'positiveInt');
    if (options.after !== undefined && !(options.after instanceof LRSchedule)) {
      throw new ConfigError(`LinearWarmup: after must be a schedule (StepLR, CosineAnnealingLR, …); got ${describeValue(options.after)}`);
    }
    this.after = options.after;
    this.apply();
  }
  lrAt(t: number, baseLr = this.baseLrs[0]): number {
    this.checkStep(t);
    if (t < this.warmupSteps) return (baseLr * (t + 1)) / this.warmupSteps;
    return this.after ? this.after.lrAt(t - this.warmupSteps, baseLr) : baseLr;
  }
}
