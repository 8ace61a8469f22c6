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
