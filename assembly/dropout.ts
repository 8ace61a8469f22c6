// Inverted dropout with a counter-based mask: element i is kept when
// hash(seed, i) ≥ p·2³², and kept elements are scaled by 1/(1 − p), so the
// expected value of every element is unchanged.
//
//   key = mix(seed ^ 0x9e3779b9),  h(i) = mix(mix(i + key) ^ key)   (hash.ts)
//
// No state: the mask depends only on (seed, i), so the SIMD body, the scalar
// tail and the js backend (src/backend/js/dropout.ts, the same integer ops
// with Math.imul) give the same mask for the same seed.
//
// mask[i] = 1/(1 − p) or 0 (float32), saved for the backward: dx = dy·mask
// (mul_f32). out = x·mask.

import { keyedHash, dropoutKey, vmix } from "./hash";

/** out = x·mask, mask = hash(seed, i) ≥ p·2³² ? 1/(1 − p) : 0, for 0 ≤ p < 1. */
export function dropout_fwd(out: usize, mask: usize, x: usize, n: i32, p: f32, seed: i32): void {
  const key = dropoutKey(<u32>seed);
  const threshold = <u32>(<f64>p * 4294967296.0); // p < 1 (checked by the op), so < 2³²
  const scale = <f32>(1.0 / (1.0 - <f64>p));
  const vkey = i32x4.splat(<i32>key);
  const vthr = i32x4.splat(<i32>threshold);
  const vscale = f32x4.splat(scale);
  let idx = i32x4(0, 1, 2, 3);
  const four = i32x4.splat(4);
  const bytes = <usize>n << 2;
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) {
    const h = vmix(v128.xor(vmix(i32x4.add(idx, vkey)), vkey));
    const m = v128.and(vscale, i32x4.ge_u(h, vthr));
    v128.store(mask + i, m);
    v128.store(out + i, f32x4.mul(v128.load(x + i), m));
    idx = i32x4.add(idx, four);
  }
  for (; i < bytes; i += 4) {
    const m: f32 = keyedHash(key, <u32>(i >> 2)) >= threshold ? scale : 0;
    store<f32>(mask + i, m);
    store<f32>(out + i, load<f32>(x + i) * m);
  }
}
