/**
 * Seeded randomness: one small, fast PRNG that everything random in wasmgrad
 * draws from (initializers, shuffles, dropout seeds), so `seed(42)` makes a
 * whole run reproducible.
 *
 * Generator: xoshiro128** (Blackman & Vigna, https://prng.di.unimi.it/), 128
 * bits of state, period 2^128 − 1, all 32-bit integer math (`Math.imul`, shifts),
 * so every JavaScript engine produces the same stream. The four state words
 * are filled from the seed by SplitMix32-style mixing (never all zero).
 *
 * Numbers are made in JavaScript and written to the heap, never drawn inside a
 * kernel, so a seed gives bit-identical tensors on every backend.
 *
 *   uniform()  53-bit float64 in [0, 1) from two 32-bit outputs
 *   normal()   Box–Muller (polar-free form: r = √(−2 ln(1 − u1)), θ = 2π·u2);
 *              the second value of each pair is cached for the next call
 *   int(n)     unbiased integer in [0, n) by rejection
 *
 * A fresh process seeds the global generator from `crypto.getRandomValues`
 * (so unseeded runs differ, as in PyTorch); `initialSeed()` tells which seed
 * was used, so a run can be reproduced afterwards.
 */

import { ValueError } from './errors.js';

/** Everything a Generator needs to resume exactly (for checkpoints). */
export interface GeneratorState {
  /** The four xoshiro128** state words (uint32). */
  words: [number, number, number, number];
  /** The cached second Box–Muller value, or null. */
  spareNormal: number | null;
}

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

function checkSeed(seed: unknown, where: string): number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new ValueError(`${where}: the seed must be an integer in ±(2^53 − 1); got ${String(seed)}`);
  }
  return seed;
}

/** SplitMix32-style finaliser: a bijection on uint32 with good avalanche. */
function mix32(z: number): number {
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * A seedable source of random numbers. Independent generators (`new
 * Generator(seed)`, `fork()`) never affect the global one.
 *
 * @example
 * const g = new Generator(7);
 * g.uniform();        // 0 ≤ u < 1
 * g.normal(0, 0.1);
 * g.shuffle(indices); // in place
 */
export class Generator {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare: number | null = null;
  private seedValue = 0;

  constructor(seed: number) {
    this.reseed(seed);
  }

  /** The seed this generator was last (re)seeded with. */
  get initialSeed(): number {
    return this.seedValue;
  }

  /** Restarts the stream from `seed` (any safe integer). */
  reseed(seed: number): this {
    checkSeed(seed, 'Generator.reseed');
    this.seedValue = seed;
    const lo = seed >>> 0; // two's complement for negative seeds
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    let x = (lo ^ mix32(hi ^ 0x5bd1e995)) >>> 0;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      return mix32(x);
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
    this.spare = null;
    return this;
  }

  /** The next 32 random bits, as an unsigned integer in [0, 2^32). */
  nextUint32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /**
   * Uniform in [low, high); with no arguments, a float64 in [0, 1) with 53
   * random bits.
   */
  uniform(low = 0, high = 1): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    const u = (a * 67108864 + b) / TWO_POW_53;
    return low === 0 && high === 1 ? u : low + (high - low) * u;
  }

  /** Normal with the given mean and standard deviation (Box–Muller). */
  normal(mean = 0, std = 1): number {
    let z: number;
    if (this.spare !== null) {
      z = this.spare;
      this.spare = null;
    } else {
      const r = Math.sqrt(-2 * Math.log(1 - this.uniform())); // 1 − u ∈ (0, 1]: log is finite
      const theta = 2 * Math.PI * this.uniform();
      z = r * Math.cos(theta);
      this.spare = r * Math.sin(theta);
    }
    return mean + std * z;
  }

  /** A uniform integer in [0, n), without modulo bias. n: an integer in [1, 2^32]. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new ValueError(`Generator.int: n must be an integer in [1, 2^32]; got ${n}`);
    }
    // Reject the top partial block of 2^32 so every residue is equally likely.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** Shuffles `array` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: any }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = array[i];
      array[i] = array[j];
      array[j] = t;
    }
    return array;
  }

  /** A random permutation of 0 … n−1. */
  permutation(n: number): Int32Array {
    if (!Number.isInteger(n) || n < 0) throw new ValueError(`Generator.permutation: n must be a non-negative integer; got ${n}`);
    const a = new Int32Array(n);
    for (let i = 0; i < n; i++) a[i] = i;
    return this.shuffle(a);
  }

  /** Fills `out` with uniform values in [low, high) (rounded to the array's type). Returns `out`. */
  fillUniform<T extends Float32Array | Float64Array>(out: T, low = 0, high = 1): T {
    for (let i = 0; i < out.length; i++) out[i] = low + (high - low) * this.uniform();
    return out;
  }

  /** Fills `out` with normal values. Returns `out`. */
  fillNormal<T extends Float32Array | Float64Array>(out: T, mean = 0, std = 1): T {
    for (let i = 0; i < out.length; i++) out[i] = this.normal(mean, std);
    return out;
  }

  /** A fresh seed (a safe integer in [0, 2^53)) drawn from this stream: the way per-call seeds are derived. */
  nextSeed(): number {
    const hi = this.nextUint32() >>> 11; // 21 bits
    return hi * TWO_POW_32 + this.nextUint32();
  }

  /** An independent generator seeded from this one's stream (advances this one by one seed). */
  fork(): Generator {
    return new Generator(this.nextSeed());
  }

  /** A copy of the state, to resume exactly with `setState` (checkpoints). */
  getState(): GeneratorState {
    return { words: [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0], spareNormal: this.spare };
  }

  setState(state: GeneratorState): this {
    const w = state?.words;
    if (!Array.isArray(w) || w.length !== 4 || !w.every((x) => Number.isInteger(x) && x >= 0 && x < TWO_POW_32)) {
      throw new ValueError('Generator.setState: words must be four uint32 integers');
    }
    if ((w[0] | w[1] | w[2] | w[3]) === 0) throw new ValueError('Generator.setState: the state words must not all be zero');
    const spare = state.spareNormal ?? null;
    if (spare !== null && !Number.isFinite(spare)) throw new ValueError(`Generator.setState: spareNormal must be finite or null; got ${spare}`);
    [this.s0, this.s1, this.s2, this.s3] = w;
    this.spare = spare;
    return this;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

// ─── the global generator ───────────────────────────────────────────────────

function entropySeed(): number {
  const c = (globalThis as { crypto?: { getRandomValues?: (a: Uint32Array) => Uint32Array } }).crypto;
  if (c?.getRandomValues) {
    const w = c.getRandomValues(new Uint32Array(2));
    return (w[0] >>> 11) * TWO_POW_32 + w[1];
  }
  return Math.floor(Math.random() * TWO_POW_53);
}

const globalGen = new Generator(entropySeed());

/**
 * Reseeds the global generator: every later initializer (and shuffle, dropout
 * mask, …) that is not given its own `seed` becomes reproducible.
 *
 * @example
 * seed(42);
 * const w = heNormal([784, 256]);  // the same numbers on every run and backend
 */
export function seed(n: number): void {
  checkSeed(n, 'seed');
  globalGen.reseed(n);
}

/** The seed the global generator was last seeded with (random at start-up unless `seed()` was called). */
export function initialSeed(): number {
  return globalGen.initialSeed;
}

/** The global generator (the same object for the whole process; `seed()` reseeds it in place). */
export function getGenerator(): Generator {
  return globalGen;
}

/** Alias of `getGenerator()`. */
export const globalGenerator = getGenerator;

/** @internal The generator a call should use: its own when it passes a seed, else the global one. */
export function generatorFor(seedOption: number | undefined, where: string): Generator {
  if (seedOption === undefined) return globalGen;
  checkSeed(seedOption, where);
  return new Generator(seedOption);
}
