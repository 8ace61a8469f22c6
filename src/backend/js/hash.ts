/**
 * The counter-based dropout hash of assembly/hash.ts in plain JS: the same u32
 * arithmetic (Math.imul, >>> 0), so a seed gives the same mask on every
 * backend. Used by the js dropout and attention kernels.
 *
 *   key = mix(seed ^ 0x9e3779b9);  h(i) = mix(mix(i + key) ^ key)
 */

/** "lowbias32" (C. Wellons, hash-prospector), on u32. */
export function mix(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The per-call key of a dropout mask. */
export function dropoutKey(seed: number): number {
  return mix((seed ^ 0x9e3779b9) >>> 0);
}

/** The hash of element i under a key (u32); kept when ≥ p·2³². */
export function keyedHash(key: number, i: number): number {
  return mix((mix((i + key) >>> 0) ^ key) >>> 0);
}
