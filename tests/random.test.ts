/**
 * The seeded generator: xoshiro128** against the reference stream, seeding,
 * reproducibility, state save/restore, fork/nextSeed, and the distributions
 * (uniform, normal, int, shuffle) against their moments on 10^5 samples.
 * Randomness lives in JavaScript, so this file has nothing backend-specific;
 * init.test.ts checks that seeded tensors are identical on every backend.
 */
import { describe, expect, test } from 'vitest';
import { Generator, getGenerator, globalGenerator, initialSeed, seed, ValueError } from '../src/index.js';

const N = 100_000;

function moments(xs: ArrayLike<number>): { mean: number; std: number; min: number; max: number } {
  let s = 0, min = Infinity, max = -Infinity;
  for (let i = 0; i < xs.length; i++) {
    s += xs[i];
    min = Math.min(min, xs[i]);
    max = Math.max(max, xs[i]);
  }
  const mean = s / xs.length;
  let v = 0;
  for (let i = 0; i < xs.length; i++) v += (xs[i] - mean) ** 2;
  return { mean, std: Math.sqrt(v / xs.length), min, max };
}

describe('Generator', () => {
  test('xoshiro128** reproduces the reference stream (state 1, 2, 3, 4)', () => {
    // Reference: the C code at prng.di.unimi.it, run as an independent Python port.
    const g = new Generator(0).setState({ words: [1, 2, 3, 4], spareNormal: null });
    const got = Array.from({ length: 8 }, () => g.nextUint32());
    expect(got).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849]);
  });

  test('same seed, same stream; different seeds (including negative and > 2^32) differ; reseed restarts', () => {
    const draw = (g: Generator) => Array.from({ length: 20 }, () => g.nextUint32());
    expect(draw(new Generator(42))).toEqual(draw(new Generator(42)));
    const streams = [0, 1, 42, -1, 2 ** 32, 2 ** 32 + 1, 2 ** 53 - 1].map((s) => draw(new Generator(s)).join());
    expect(new Set(streams).size).toBe(streams.length);
    const g = new Generator(7);
    const first = draw(g);
    g.reseed(7);
    expect(draw(g)).toEqual(first);
    expect(g.initialSeed).toBe(7);
  });

  test('seed() makes the global generator reproducible; getGenerator is stable', () => {
    expect(getGenerator()).toBe(globalGenerator());
    seed(123);
    expect(initialSeed()).toBe(123);
    const a = [getGenerator().uniform(), getGenerator().normal(), getGenerator().int(10)];
    seed(123);
    expect([getGenerator().uniform(), getGenerator().normal(), getGenerator().int(10)]).toEqual(a);
  });

  test('getState / setState resume exactly, including a cached normal', () => {
    const g = new Generator(9);
    g.normal(); // leaves the second Box–Muller value cached
    const st = g.getState();
    expect(st.spareNormal).not.toBeNull();
    const after = [g.normal(), g.uniform(), g.nextUint32()];
    const h = new Generator(1).setState(st);
    expect([h.normal(), h.uniform(), h.nextUint32()]).toEqual(after);
    expect(() => h.setState({ words: [0, 0, 0, 0], spareNormal: null })).toThrow(ValueError);
    expect(() => h.setState({ words: [1, 2, 3] as any, spareNormal: null })).toThrow('four uint32');
  });

  test('fork and nextSeed: independent streams derived from the parent', () => {
    const g = new Generator(5);
    const s = g.nextSeed();
    expect(Number.isSafeInteger(s) && s >= 0).toBe(true);
    const a = new Generator(5);
    a.nextSeed();
    const child = g.fork();
    const child2 = a.fork();
    expect(child.nextUint32()).toBe(child2.nextUint32()); // deterministic
    expect(g.nextUint32()).not.toBe(child.nextUint32());
  });

  test('uniform: in [0, 1), mean 1/2, variance 1/12; uniform(low, high) scales', () => {
    const g = new Generator(1);
    const xs = Float64Array.from({ length: N }, () => g.uniform());
    const m = moments(xs);
    expect(m.min).toBeGreaterThanOrEqual(0);
    expect(m.max).toBeLessThan(1);
    expect(Math.abs(m.mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / N));
    expect(Math.abs(m.std - Math.sqrt(1 / 12))).toBeLessThan(0.01 * Math.sqrt(1 / 12));
    const ys = g.fillUniform(new Float64Array(N), -3, 5);
    const my = moments(ys);
    expect(my.min).toBeGreaterThanOrEqual(-3);
    expect(my.max).toBeLessThan(5);
    expect(Math.abs(my.mean - 1)).toBeLessThan(5 * 8 * Math.sqrt(1 / 12 / N));
  });

  test('normal: mean, std and the one-sigma mass of N(μ, σ²)', () => {
    const g = new Generator(2);
    const xs = g.fillNormal(new Float64Array(N), 1.5, 2);
    const m = moments(xs);
    expect(Math.abs(m.mean - 1.5)).toBeLessThan((5 * 2) / Math.sqrt(N));
    expect(Math.abs(m.std / 2 - 1)).toBeLessThan(0.01);
    let inside = 0;
    for (const x of xs) if (Math.abs(x - 1.5) < 2) inside++;
    expect(Math.abs(inside / N - 0.6826894921370859)).toBeLessThan(0.006);
    expect(xs.every(Number.isFinite)).toBe(true);
  });

  test('int(n): every value equally likely, in range; bad n is an error', () => {
    const g = new Generator(3);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[g.int(7)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500); // ~5 standard deviations
    expect(g.int(1)).toBe(0);
    const big = g.int(2 ** 32);
    expect(big >= 0 && big < 2 ** 32).toBe(true);
    for (const bad of [0, -1, 1.5, 2 ** 32 + 1, NaN]) expect(() => g.int(bad)).toThrow(ValueError);
  });

  test('shuffle: in place, a permutation, uniform over the 6 orders of 3, reproducible', () => {
    const g = new Generator(4);
    const arr = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const same = g.shuffle(arr);
    expect(same).toBe(arr);
    expect([...arr].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const counts = new Map<string, number>();
    for (let i = 0; i < 60_000; i++) {
      const k = g.shuffle([0, 1, 2]).join();
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    for (const c of counts.values()) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    expect(Array.from(new Generator(8).permutation(20))).toEqual(Array.from(new Generator(8).permutation(20)));
    const typed = new Generator(8).shuffle(Float32Array.from([1, 2, 3, 4]));
    expect(Array.from(typed).sort()).toEqual([1, 2, 3, 4]);
  });

  test('bad seeds are ValueErrors', () => {
    for (const bad of [1.5, NaN, Infinity, 2 ** 53, '1' as unknown as number]) {
      expect(() => seed(bad)).toThrow(ValueError);
      expect(() => new Generator(bad)).toThrow('the seed must be an integer');
    }
  });
});
