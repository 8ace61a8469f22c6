// Reductions along one axis of a tensor viewed as [outer, n, inner]:
//
//   sum_axis:  out[o, i] = Σ_k x[o, k, i]
//   max_axis:  out[o, i] = max_k x[o, k, i],  idx[o, i] = first k attaining it
//   max_axis_bwd: dx[o, idx[o,i], i] += dy[o, i]   (dx zero-filled by the caller)
//
// Any reduction over one axis is this shape (inner = product of the trailing
// dimensions); several axes reduce one after another. With inner == 1 the
// reduction is along contiguous memory (four f32x4 partial sums); otherwise
// whole rows of `inner` elements are added with SIMD.
// Sums accumulate in float32 (pairs of SIMD lanes for the contiguous case).

export function sum_axis(out: usize, x: usize, outer: i32, n: i32, inner: i32): void {
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      const row = x + ((<usize>o * n) << 2);
      let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0);
      let k = 0;
      for (; k + 8 <= n; k += 8) {
        acc0 = f32x4.add(acc0, v128.load(row + (<usize>k << 2)));
        acc1 = f32x4.add(acc1, v128.load(row + (<usize>k << 2), 16));
      }
      const acc = f32x4.add(acc0, acc1);
      let s = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
      for (; k < n; k++) s += load<f32>(row + (<usize>k << 2));
      store<f32>(out + (<usize>o << 2), s);
    }
    return;
  }
  const rowBytes = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const dst = out + <usize>o * rowBytes;
    const src = x + <usize>o * n * rowBytes;
    if (n == 0) {
      memory.fill(dst, 0, rowBytes);
      continue;
    }
    memory.copy(dst, src, rowBytes);
    for (let k = 1; k < n; k++) {
      const r = src + <usize>k * rowBytes;
      let i: usize = 0;
      for (; i + 16 <= rowBytes; i += 16) v128.store(dst + i, f32x4.add(v128.load(dst + i), v128.load(r + i)));
      for (; i < rowBytes; i += 4) store<f32>(dst + i, load<f32>(dst + i) + load<f32>(r + i));
    }
  }
}

export function max_axis(out: usize, idx: usize, x: usize, outer: i32, n: i32, inner: i32): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let p = x + ((<usize>(o * n * inner + i)) << 2);
      let best = load<f32>(p);
      let arg = 0;
      for (let k = 1; k < n; k++) {
        p += <usize>inner << 2;
        const v = load<f32>(p);
        // NaN propagates: a NaN becomes the max and stays.
        if (v > best || (v != v && best == best)) {
          best = v;
          arg = k;
        }
      }
      const j = <usize>(o * inner + i) << 2;
      store<f32>(out + j, best);
      store<i32>(idx + j, arg);
    }
  }
}

export function max_axis_bwd(dx: usize, idx: usize, dy: usize, outer: i32, n: i32, inner: i32): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const j = <usize>(o * inner + i) << 2;
      const k = load<i32>(idx + j);
      const p = dx + ((<usize>((o * n + k) * inner + i)) << 2);
      store<f32>(p, load<f32>(p) + load<f32>(dy + j));
    }
  }
}
