/**
 * Learning-rate schedules: lr sequences against their closed forms, the
 * optimizer actually stepping with the scheduled lr (on every backend),
 * per-group base rates, warm-up chained into another schedule, state dicts,
 * and bad options.
 */
import { describe, expect, test } from 'vitest';
import {
  backward, ConfigError, CosineAnnealingLR, ExponentialLR, LinearWarmup, SGD, StepLR, tensor, tidy, ValueError,
} from '../src/index.js';
import { EACH_BACKEND, expectClose, values, withBackend } from './helpers.js';

/** lr after construction and after each of `steps` calls to step(). */
function sequence(sched: { lr: number; step(): number }, target: { lr: number }, steps: number): number[] {
  const out = [target.lr];
  for (let i = 0; i < steps; i++) {
    const r = sched.step();
    expect(r).toBe(target.lr);
    out.push(target.lr);
  }
  return out;
}

const close = (a: number[], b: number[]) => a.forEach((v, i) => expect(v).toBeCloseTo(b[i], 12));
const range = (n: number) => Array.from({ length: n }, (_, t) => t);

describe('schedules (closed forms)', () => {
  test('StepLR: base·γ^⌊t/stepSize⌋ (default γ 0.1)', () => {
    const o = { lr: 0.5 };
    close(sequence(new StepLR(o, { stepSize: 3, gamma: 0.5 }), o, 10), range(11).map((t) => 0.5 * 0.5 ** Math.floor(t / 3)));
    const p = { lr: 1 };
    close(sequence(new StepLR(p, { stepSize: 2 }), p, 5), range(6).map((t) => 0.1 ** Math.floor(t / 2)));
  });

  test('ExponentialLR: base·γ^t', () => {
    const o = { lr: 0.2 };
    close(sequence(new ExponentialLR(o, { gamma: 0.9 }), o, 12), range(13).map((t) => 0.2 * 0.9 ** t));
  });

  test('CosineAnnealingLR: etaMin + (base − etaMin)(1 + cos(πt/tMax))/2, reaching etaMin at tMax', () => {
    const o = { lr: 0.1 };
    const s = new CosineAnnealingLR(o, { tMax: 10, etaMin: 0.001 });
    const want = range(21).map((t) => 0.001 + (0.099 * (1 + Math.cos((Math.PI * t) / 10))) / 2);
    close(sequence(s, o, 20), want);
    expect(s.lrAt(10)).toBeCloseTo(0.001, 15);
    expect(s.lrAt(20)).toBeCloseTo(0.1, 15); // PyTorch's closed form: period 2·tMax
  });

  test('LinearWarmup: base·(t+1)/W, then constant or the next schedule from its step 0', () => {
    const o = { lr: 0.4 };
    close(sequence(new LinearWarmup(o, { warmupSteps: 4 }), o, 6), [0.1, 0.2, 0.3, 0.4, 0.4, 0.4, 0.4]);
    const p = { lr: 1 };
    const cos = new CosineAnnealingLR(p, { tMax: 4 });
    const w = new LinearWarmup(p, { warmupSteps: 2, after: cos });
    close(sequence(w, p, 7), [0.5, 1, ...range(6).map((t) => (1 + Math.cos((Math.PI * t) / 4)) / 2)]);
  });

  test('lrAt is pure; stateDict / loadStateDict restore the step', () => {
    const o = { lr: 1 };
    const s = new ExponentialLR(o, { gamma: 0.5 });
    expect(s.lrAt(3)).toBe(0.125);
    expect(s.lrAt(3, 8)).toBe(1);
    expect(o.lr).toBe(1);
    s.step();
    s.step();
    const d = s.stateDict();
    const o2 = { lr: 1 };
    const s2 = new ExponentialLR(o2, { gamma: 0.5 });
    s2.loadStateDict(d);
    expect(o2.lr).toBe(0.25);
    expect(s2.step()).toBe(0.125);
  });

  test('bad options: clear errors', () => {
    const o = { lr: 1 };
    expect(() => new StepLR(o, { stepSize: 0 })).toThrow('StepLR: stepSize must be an integer ≥ 1; got number 0');
    expect(() => new StepLR(o, { stepSize: 2, gamma: NaN })).toThrow(ValueError);
    expect(() => new StepLR(o, { stepSize: 2, step_size: 3 } as any)).toThrow("StepLR: unknown option 'step_size'; valid: stepSize, gamma");
    expect(() => new ExponentialLR(o, {} as any)).toThrow('ExponentialLR: gamma must be a finite number ≥ 0');
    expect(() => new CosineAnnealingLR(o, { tMax: 1.5 })).toThrow(ValueError);
    expect(() => new CosineAnnealingLR(o, { tMax: 5, etaMin: -1 })).toThrow('etaMin must be a finite number ≥ 0');
    expect(() => new LinearWarmup(o, { warmupSteps: 3, after: 0.1 as any })).toThrow(ConfigError);
    expect(() => new LinearWarmup(null as any, { warmupSteps: 3 })).toThrow('LinearWarmup: expected an optimizer');
    expect(() => new ExponentialLR(o, { gamma: 0.5 }).lrAt(-1)).toThrow('ExponentialLR.lrAt: t must be an integer ≥ 0');
    expect(o.lr).toBe(1);
  });
});

describe.each(EACH_BACKEND)('schedules driving an optimizer on %s', (_name, be) => {
  test('each param group scales from its own initial lr; SGD steps with the scheduled lr', () => {
    withBackend(be, () => {
      const p = tensor([0, 0], undefined, { requiresGrad: true });
      const q = tensor([0], undefined, { requiresGrad: true });
      const opt = new SGD([{ params: [p] }, { params: [q], lr: 1 }], { lr: 0.1 });
      const sched = new StepLR(opt, { stepSize: 1, gamma: 0.5 });
      let sumP = 0;
      let sumQ = 0;
      for (let t = 0; t < 5; t++) {
        expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.1 * 0.5 ** t, 0.5 ** t]);
        sumP += opt.paramGroups[0].lr;
        sumQ += opt.paramGroups[1].lr;
        opt.zeroGrad();
        tidy(() => {
          backward(p, tensor([1, 2]));
          backward(q, tensor([1]));
        });
        opt.step(); // p ← p − lr·g
        sched.step();
      }
      expectClose(values(p), [-sumP, -2 * sumP], 1e-6);
      expectClose(values(q), [-sumQ], 1e-6);
      expect(opt.lr).toBeCloseTo(0.1 * 0.5 ** 5, 15);
      opt.dispose();
      p.dispose();
      q.dispose();
    });
  });
});
