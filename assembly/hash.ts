// The counter-based hash behind every dropout mask (dropout.ts and the fused
// attention dropout in attention.ts), mirrored by src/backend/js/hash.ts:
//
//   key  = mix(seed ^ 0x9e3779b9)
//   h(i) = mix(mix(i + key) ^ key)            (u32 arithmetic, wrapping)
//   mix  = "lowbias32" (C. Wellons, hash-prospector): x ^= x>>16; x *= 0x7feb352d;
//          x ^= x>>15; x *= 0x846ca68b; x ^= x>>16
//
// Not re-exported by index.ts: these are inlined helpers, not kernels.

@inline export function mix(x: u32): u32 {
  x ^= x >> 16;
  x *= 0x7feb352d;
  x ^= x >> 15;
  x *= 0x846ca68b;
  x ^= x >> 16;
  return x;
}

/** mix on four u32 lanes. */
@inline export function vmix(x: v128): v128 {
  x = v128.xor(x, i32x4.shr_u(x, 16));
  x = i32x4.mul(x, i32x4.splat(0x7feb352d));
  x = v128.xor(x, i32x4.shr_u(x, 15));
  x = i32x4.mul(x, i32x4.splat(<i32>0x846ca68b));
  x = v128.xor(x, i32x4.shr_u(x, 16));
  return x;
}

/** The per-call key of a dropout mask. */
@inline export function dropoutKey(seed: u32): u32 {
  return mix(seed ^ 0x9e3779b9);
}

/** The hash of element i under a key; kept when ≥ p·2³². */
@inline export function keyedHash(key: u32, i: u32): u32 {
  return mix(mix(i + key) ^ key);
}
