// Elementwise kernels over contiguous float32 arrays: fill, copy, and the four
// arithmetic ops tensor∘tensor and tensor∘scalar.
//
// One family in one file because every member is the same loop: an f32x4 body
// over n & ~3 elements and a scalar tail. `out` may alias an input (in-place).

export function fill_f32(out: usize, n: i32, value: f32): void {
  const v = f32x4.splat(value);
  const end = out + (<usize>n << 2);
  let p = out;
  for (; p + 16 <= end; p += 16) v128.store(p, v);
  for (; p < end; p += 4) store<f32>(p, value);
}

export function copy_f32(out: usize, x: usize, n: i32): void {
  memory.copy(out, x, <usize>n << 2);
}

// The binary ops differ only in the lane operation; @inline makes each one a
// tight loop of its own after inlining.
const OP_ADD = 0;
const OP_SUB = 1;
const OP_MUL = 2;
const OP_DIV = 3;

@inline function vop(op: i32, a: v128, b: v128): v128 {
  if (op == OP_ADD) return f32x4.add(a, b);
  if (op == OP_SUB) return f32x4.sub(a, b);
  if (op == OP_MUL) return f32x4.mul(a, b);
  return f32x4.div(a, b);
}

@inline function sop(op: i32, a: f32, b: f32): f32 {
  if (op == OP_ADD) return a + b;
  if (op == OP_SUB) return a - b;
  if (op == OP_MUL) return a * b;
  return a / b;
}

@inline function binaryVV(op: i32, out: usize, a: usize, b: usize, n: i32): void {
  const bytes = <usize>n << 2;
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) v128.store(out + i, vop(op, v128.load(a + i), v128.load(b + i)));
  for (; i < bytes; i += 4) store<f32>(out + i, sop(op, load<f32>(a + i), load<f32>(b + i)));
}

@inline function binaryVS(op: i32, out: usize, a: usize, n: i32, s: f32): void {
  const bytes = <usize>n << 2;
  const vs = f32x4.splat(s);
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) v128.store(out + i, vop(op, v128.load(a + i), vs));
  for (; i < bytes; i += 4) store<f32>(out + i, sop(op, load<f32>(a + i), s));
}

export function add_f32(out: usize, a: usize, b: usize, n: i32): void { binaryVV(OP_ADD, out, a, b, n); }
export function sub_f32(out: usize, a: usize, b: usize, n: i32): void { binaryVV(OP_SUB, out, a, b, n); }
export function mul_f32(out: usize, a: usize, b: usize, n: i32): void { binaryVV(OP_MUL, out, a, b, n); }
export function div_f32(out: usize, a: usize, b: usize, n: i32): void { binaryVV(OP_DIV, out, a, b, n); }

export function adds_f32(out: usize, a: usize, n: i32, s: f32): void { binaryVS(OP_ADD, out, a, n, s); }
export function subs_f32(out: usize, a: usize, n: i32, s: f32): void { binaryVS(OP_SUB, out, a, n, s); }
export function muls_f32(out: usize, a: usize, n: i32, s: f32): void { binaryVS(OP_MUL, out, a, n, s); }
export function divs_f32(out: usize, a: usize, n: i32, s: f32): void { binaryVS(OP_DIV, out, a, n, s); }

// ─── broadcasting ───────────────────────────────────────────────────────────
//
// out[i0,i1,i2,i3] = a[i0·sa0 + i1·sa1 + i2·sa2 + i3·sa3] ∘ b[… sb …]
// out is contiguous [d0,d1,d2,d3]; a stride of 0 broadcasts that dimension.
// The TypeScript side collapses any broadcast to ≤ 4 dimensions. The innermost
// dimension picks a SIMD loop when both operands are contiguous there or one
// of them is broadcast (a row of a matrix plus a bias vector, a matrix times a
// per-row scale), else a scalar loop.

@inline function innerBcast(op: i32, out: usize, a: usize, b: usize, n: i32, sa: i32, sb: i32): void {
  if (sa == 1 && sb == 1) {
    binaryVV(op, out, a, b, n);
  } else if (sa == 1 && sb == 0) {
    binaryVS(op, out, a, n, load<f32>(b));
  } else if (sa == 0 && sb == 1) {
    const bytes = <usize>n << 2;
    const s = load<f32>(a);
    const vs = f32x4.splat(s);
    let i: usize = 0;
    for (; i + 16 <= bytes; i += 16) v128.store(out + i, vop(op, vs, v128.load(b + i)));
    for (; i < bytes; i += 4) store<f32>(out + i, sop(op, s, load<f32>(b + i)));
  } else {
    const sab = <usize>sa << 2;
    const sbb = <usize>sb << 2;
    for (let i = 0; i < n; i++) {
      store<f32>(out + (<usize>i << 2), sop(op, load<f32>(a), load<f32>(b)));
      a += sab;
      b += sbb;
    }
  }
}

@inline function bcastLoops(
  op: i32, out: usize, a: usize, b: usize, d0: i32, d1: i32, d2: i32, d3: i32,
  sa0: i32, sa1: i32, sa2: i32, sa3: i32, sb0: i32, sb1: i32, sb2: i32, sb3: i32,
): void {
  const rowBytes = <usize>d3 << 2;
  for (let i0 = 0; i0 < d0; i0++) {
    for (let i1 = 0; i1 < d1; i1++) {
      for (let i2 = 0; i2 < d2; i2++) {
        const pa = a + ((<usize>(i0 * sa0 + i1 * sa1 + i2 * sa2)) << 2);
        const pb = b + ((<usize>(i0 * sb0 + i1 * sb1 + i2 * sb2)) << 2);
        const po = out + <usize>((i0 * d1 + i1) * d2 + i2) * rowBytes;
        innerBcast(op, po, pa, pb, d3, sa3, sb3);
      }
    }
  }
}

/** Broadcasting binary op: op 0 add, 1 sub, 2 mul, 3 div. */
export function binary_bcast(
  out: usize, a: usize, b: usize, d0: i32, d1: i32, d2: i32, d3: i32,
  sa0: i32, sa1: i32, sa2: i32, sa3: i32, sb0: i32, sb1: i32, sb2: i32, sb3: i32, op: i32,
): void {
  if (op == OP_ADD) bcastLoops(OP_ADD, out, a, b, d0, d1, d2, d3, sa0, sa1, sa2, sa3, sb0, sb1, sb2, sb3);
  else if (op == OP_SUB) bcastLoops(OP_SUB, out, a, b, d0, d1, d2, d3, sa0, sa1, sa2, sa3, sb0, sb1, sb2, sb3);
  else if (op == OP_MUL) bcastLoops(OP_MUL, out, a, b, d0, d1, d2, d3, sa0, sa1, sa2, sa3, sb0, sb1, sb2, sb3);
  else bcastLoops(OP_DIV, out, a, b, d0, d1, d2, d3, sa0, sa1, sa2, sa3, sb0, sb1, sb2, sb3);
}
