// as-pect specs for assembly/elementwise.ts: every op against the scalar
// float32 result, on lengths that exercise the SIMD body and the scalar tail.
import {
  add_f32, sub_f32, mul_f32, div_f32, adds_f32, subs_f32, muls_f32, divs_f32, fill_f32, copy_f32,
} from "../elementwise";

function buf(n: i32): usize {
  return heap.alloc(<usize>max(n, 1) << 2);
}
function f(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}

const LENGTHS: i32[] = [0, 1, 3, 4, 5, 17, 64, 1001];

function refOp(op: i32, x: f32, y: f32): f32 {
  if (op == 0) return x + y;
  if (op == 1) return x - y;
  if (op == 2) return x * y;
  return x / y;
}

// Number of elements that differ from the scalar reference, over all lengths.
function mismatches(op: i32, scalar: bool): i32 {
  let bad = 0;
  for (let li = 0; li < LENGTHS.length; li++) {
    const n = LENGTHS[li];
    const a = buf(n), b = buf(n), out = buf(n);
    for (let i = 0; i < n; i++) {
      store<f32>(a + (<usize>i << 2), <f32>(i % 13) * 0.75 - 3);
      store<f32>(b + (<usize>i << 2), <f32>(i % 7) * 0.5 + 0.25);
    }
    const s: f32 = 1.75;
    if (scalar) {
      if (op == 0) adds_f32(out, a, n, s);
      else if (op == 1) subs_f32(out, a, n, s);
      else if (op == 2) muls_f32(out, a, n, s);
      else divs_f32(out, a, n, s);
    } else {
      if (op == 0) add_f32(out, a, b, n);
      else if (op == 1) sub_f32(out, a, b, n);
      else if (op == 2) mul_f32(out, a, b, n);
      else div_f32(out, a, b, n);
    }
    for (let i = 0; i < n; i++) {
      const expected = refOp(op, f(a, i), scalar ? s : f(b, i));
      if (f(out, i) != expected) bad++;
    }
    heap.free(a);
    heap.free(b);
    heap.free(out);
  }
  return bad;
}

describe("elementwise", () => {
  test("tensor∘tensor add/sub/mul/div equal the scalar float32 result", () => {
    for (let op = 0; op < 4; op++) expect<i32>(mismatches(op, false)).toBe(0);
  });
  test("tensor∘scalar add/sub/mul/div equal the scalar float32 result", () => {
    for (let op = 0; op < 4; op++) expect<i32>(mismatches(op, true)).toBe(0);
  });
  test("fill writes exactly n elements", () => {
    const p = buf(24);
    memory.fill(p, 0, 24 * 4);
    fill_f32(p, 21, 2.5);
    let sum: f32 = 0;
    for (let i = 0; i < 24; i++) sum += f(p, i);
    expect<f32>(sum).toBe(52.5);
    heap.free(p);
  });
  test("copy moves n elements", () => {
    const a = buf(7), b = buf(7);
    for (let i = 0; i < 7; i++) store<f32>(a + (<usize>i << 2), <f32>i);
    copy_f32(b, a, 7);
    expect<f32>(f(b, 6)).toBe(6);
    expect<f32>(f(b, 0)).toBe(0);
    heap.free(a);
    heap.free(b);
  });
});
