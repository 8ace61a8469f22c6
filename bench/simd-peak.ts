// The WebAssembly SIMD128 peak of this machine, for reporting GEMM speed as a
// fraction of it: twelve independent f32x4 multiply-add chains, no memory
// traffic. `peak_muladd` uses f32x4.mul + f32x4.add (what the plain-SIMD build
// can do); `peak_fma` uses f32x4.relaxed_madd (the relaxed build).
// Both do 96 flops per iteration (12 vectors).

export function peak_muladd(n: i32, x: f32): f32 {
  // Twelve chains c = c·a + b: a mul→add chain has ~6 cycles of latency, so
  // twelve keep two multipliers and two adders busy.
  let c0 = f32x4.splat(x), c1 = f32x4.splat(x + 1), c2 = f32x4.splat(x + 2), c3 = f32x4.splat(x + 3);
  let c4 = f32x4.splat(x + 4), c5 = f32x4.splat(x + 5), c6 = f32x4.splat(x + 6), c7 = f32x4.splat(x + 7);
  let c8 = f32x4.splat(x + 8), c9 = f32x4.splat(x + 9), c10 = f32x4.splat(x + 10), c11 = f32x4.splat(x + 11);
  const a = f32x4.splat(0.999), b = f32x4.splat(0.001);
  for (let i = 0; i < n; i++) {
    c0 = f32x4.add(f32x4.mul(c0, a), b); c1 = f32x4.add(f32x4.mul(c1, a), b);
    c2 = f32x4.add(f32x4.mul(c2, a), b); c3 = f32x4.add(f32x4.mul(c3, a), b);
    c4 = f32x4.add(f32x4.mul(c4, a), b); c5 = f32x4.add(f32x4.mul(c5, a), b);
    c6 = f32x4.add(f32x4.mul(c6, a), b); c7 = f32x4.add(f32x4.mul(c7, a), b);
    c8 = f32x4.add(f32x4.mul(c8, a), b); c9 = f32x4.add(f32x4.mul(c9, a), b);
    c10 = f32x4.add(f32x4.mul(c10, a), b); c11 = f32x4.add(f32x4.mul(c11, a), b);
  }
  const s = f32x4.add(
    f32x4.add(f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)), f32x4.add(f32x4.add(c4, c5), f32x4.add(c6, c7))),
    f32x4.add(f32x4.add(c8, c9), f32x4.add(c10, c11)),
  );
  return f32x4.extract_lane(s, 0);
}

export function peak_fma(n: i32, x: f32): f32 {
  // Twelve chains: an FMA has 4 cycles of latency on two pipes, so eight
  // chains are the bare minimum and leave no slack for the loop's own
  // instructions; twelve saturate both pipes.
  let c0 = f32x4.splat(x), c1 = f32x4.splat(x + 1), c2 = f32x4.splat(x + 2), c3 = f32x4.splat(x + 3);
  let c4 = f32x4.splat(x + 4), c5 = f32x4.splat(x + 5), c6 = f32x4.splat(x + 6), c7 = f32x4.splat(x + 7);
  let c8 = f32x4.splat(x + 8), c9 = f32x4.splat(x + 9), c10 = f32x4.splat(x + 10), c11 = f32x4.splat(x + 11);
  const a = f32x4.splat(0.999), b = f32x4.splat(0.001);
  for (let i = 0; i < n; i++) {
    c0 = f32x4.relaxed_madd(c0, a, b); c1 = f32x4.relaxed_madd(c1, a, b);
    c2 = f32x4.relaxed_madd(c2, a, b); c3 = f32x4.relaxed_madd(c3, a, b);
    c4 = f32x4.relaxed_madd(c4, a, b); c5 = f32x4.relaxed_madd(c5, a, b);
    c6 = f32x4.relaxed_madd(c6, a, b); c7 = f32x4.relaxed_madd(c7, a, b);
    c8 = f32x4.relaxed_madd(c8, a, b); c9 = f32x4.relaxed_madd(c9, a, b);
    c10 = f32x4.relaxed_madd(c10, a, b); c11 = f32x4.relaxed_madd(c11, a, b);
  }
  const s = f32x4.add(
    f32x4.add(f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)), f32x4.add(f32x4.add(c4, c5), f32x4.add(c6, c7))),
    f32x4.add(f32x4.add(c8, c9), f32x4.add(c10, c11)),
  );
  return f32x4.extract_lane(s, 0);
}
