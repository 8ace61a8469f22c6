// Batch normalisation over the rows of x viewed as [R, C] (channels last:
// NHWC images give R = N·H·W rows of C channels), forward and backward.
//
//   batchnorm_stats  mode 0: mean_c = Σ_r x / R,  var_c = Σ_r (x − mean_c)² / R   (two passes)
//                    mode 1: the same, then the running statistics move:
//                            run_mean ← (1 − m)·run_mean + m·mean
//                            run_var  ← (1 − m)·run_var  + m·var·R/(R − 1)   (unbiased, as PyTorch)
//                    mode 2: mean = run_mean, var = run_var (evaluation)
//                    and in every mode invstd_c = 1/√(var_c + eps).
//   batchnorm_fwd    y = (x − mean)·invstd·γ + β
//   batchnorm_bwd    with x̂ = (x − mean)·invstd:
//                      dβ = Σ_r dy,   dγ = Σ_r dy·x̂
//                      training: dx = γ·invstd·(dy − dβ/R − x̂·dγ/R)
//                      eval:     dx = γ·invstd·dy         (statistics are constants)
//
// γ or β pointer 0 means "none" (γ = 1, β = 0); dx/dγ/dβ pointer 0 means
// "not needed". Per-channel sums run SIMD across channels, row by row; they
// accumulate in float32 over blocks of BLOCK rows and in float64 across
// blocks, so R in the hundreds of thousands loses no accuracy.
//
// ws (scratch from the caller, 16-byte aligned): 28·C bytes.
//   [0, 8C)  f64 sums #1    [8C, 16C)  f64 sums #2    [16C, 28C)  three f32 rows

const BLOCK: i32 = 64;

// acc64[c] += tmp[c] for c < C (then tmp is zeroed).
@inline function flush(acc: usize, tmp: usize, C: i32): void {
  for (let c = 0; c < C; c++) {
    const a = acc + (<usize>c << 3);
    store<f64>(a, load<f64>(a) + <f64>load<f32>(tmp + (<usize>c << 2)));
  }
  memory.fill(tmp, 0, <usize>C << 2);
}

// acc[c] = Σ_r x[r, c]  (center == 0)  or  Σ_r (x[r, c] − center[c])²
function columnSums(acc: usize, tmp: usize, x: usize, R: i32, C: i32, center: usize): void {
  memory.fill(acc, 0, <usize>C << 3);
  memory.fill(tmp, 0, <usize>C << 2);
  const rowB = <usize>C << 2;
  for (let r0 = 0; r0 < R; r0 += BLOCK) {
    const r1 = min(R, r0 + BLOCK);
    for (let r = r0; r < r1; r++) {
      const row = x + <usize>r * rowB;
      let c: usize = 0;
      if (center == 0) {
        for (; c + 16 <= rowB; c += 16) v128.store(tmp + c, f32x4.add(v128.load(tmp + c), v128.load(row + c)));
        for (; c < rowB; c += 4) store<f32>(tmp + c, load<f32>(tmp + c) + load<f32>(row + c));
      } else {
        for (; c + 16 <= rowB; c += 16) {
          const d = f32x4.sub(v128.load(row + c), v128.load(center + c));
          v128.store(tmp + c, f32x4.add(v128.load(tmp + c), f32x4.mul(d, d)));
        }
        for (; c < rowB; c += 4) {
          const d = load<f32>(row + c) - load<f32>(center + c);
          store<f32>(tmp + c, load<f32>(tmp + c) + d * d);
        }
      }
    }
    flush(acc, tmp, C);
  }
}

export function batchnorm_stats(
  mean: usize, invstd: usize, runMean: usize, runVar: usize, ws: usize, x: usize,
  R: i32, C: i32, momentum: f32, eps: f32, mode: i32,
): void {
  if (mode == 2) {
    for (let c = 0; c < C; c++) {
      const o = <usize>c << 2;
      store<f32>(mean + o, load<f32>(runMean + o));
      store<f32>(invstd + o, <f32>(1.0 / Math.sqrt(<f64>load<f32>(runVar + o) + <f64>eps)));
    }
    return;
  }
  const acc = ws;
  const tmp = ws + (<usize>C << 4);
  columnSums(acc, tmp, x, R, C, 0);
  for (let c = 0; c < C; c++) store<f32>(mean + (<usize>c << 2), <f32>(load<f64>(acc + (<usize>c << 3)) / <f64>R));
  columnSums(acc, tmp, x, R, C, mean);
  const m = <f64>momentum;
  for (let c = 0; c < C; c++) {
    const o = <usize>c << 2;
    const v = load<f64>(acc + (<usize>c << 3)) / <f64>R;
    store<f32>(invstd + o, <f32>(1.0 / Math.sqrt(v + <f64>eps)));
    if (mode == 1) {
      const unbiased = R > 1 ? (v * <f64>R) / <f64>(R - 1) : v;
      store<f32>(runMean + o, <f32>((1 - m) * <f64>load<f32>(runMean + o) + m * <f64>load<f32>(mean + o)));
      store<f32>(runVar + o, <f32>((1 - m) * <f64>load<f32>(runVar + o) + m * unbiased));
    }
  }
}

export function batchnorm_fwd(
  y: usize, x: usize, mean: usize, invstd: usize, gamma: usize, beta: usize, R: i32, C: i32,
): void {
  const rowB = <usize>C << 2;
  const one = f32x4.splat(1), zero = f32x4.splat(0);
  for (let r = 0; r < R; r++) {
    const src = x + <usize>r * rowB;
    const dst = y + <usize>r * rowB;
    let c: usize = 0;
    for (; c + 16 <= rowB; c += 16) {
      const g = gamma != 0 ? v128.load(gamma + c) : one;
      const b = beta != 0 ? v128.load(beta + c) : zero;
      const xh = f32x4.mul(f32x4.sub(v128.load(src + c), v128.load(mean + c)), v128.load(invstd + c));
      v128.store(dst + c, f32x4.add(f32x4.mul(xh, g), b));
    }
    for (; c < rowB; c += 4) {
      const g: f32 = gamma != 0 ? load<f32>(gamma + c) : 1;
      const b: f32 = beta != 0 ? load<f32>(beta + c) : 0;
      store<f32>(dst + c, (load<f32>(src + c) - load<f32>(mean + c)) * load<f32>(invstd + c) * g + b);
    }
  }
}

export function batchnorm_bwd(
  dx: usize, dgamma: usize, dbeta: usize, ws: usize,
  x: usize, mean: usize, invstd: usize, gamma: usize, dy: usize,
  R: i32, C: i32, training: i32,
): void {
  const rowB = <usize>C << 2;
  const sumDy = ws;
  const sumDyXc = ws + (<usize>C << 3);
  const t1 = ws + (<usize>C << 4);
  const t2 = t1 + rowB;
  const t3 = t2 + rowB;
  const needSums = dgamma != 0 || dbeta != 0 || (dx != 0 && training != 0);
  if (needSums) {
    // Σ dy and Σ dy·(x − mean), blocked as in columnSums.
    memory.fill(sumDy, 0, <usize>C << 4);
    memory.fill(t1, 0, rowB << 1);
    for (let r0 = 0; r0 < R; r0 += BLOCK) {
      const r1 = min(R, r0 + BLOCK);
      for (let r = r0; r < r1; r++) {
        const xr = x + <usize>r * rowB;
        const gr = dy + <usize>r * rowB;
        let c: usize = 0;
        for (; c + 16 <= rowB; c += 16) {
          const g = v128.load(gr + c);
          const d = f32x4.sub(v128.load(xr + c), v128.load(mean + c));
          v128.store(t1 + c, f32x4.add(v128.load(t1 + c), g));
          v128.store(t2 + c, f32x4.add(v128.load(t2 + c), f32x4.mul(g, d)));
        }
        for (; c < rowB; c += 4) {
          const g = load<f32>(gr + c);
          store<f32>(t1 + c, load<f32>(t1 + c) + g);
          store<f32>(t2 + c, load<f32>(t2 + c) + g * (load<f32>(xr + c) - load<f32>(mean + c)));
        }
      }
      flush(sumDy, t1, C);
      flush(sumDyXc, t2, C);
    }
    for (let c = 0; c < C; c++) {
      const o = <usize>c << 2;
      const sb = load<f64>(sumDy + (<usize>c << 3));
      const sg = load<f64>(sumDyXc + (<usize>c << 3)) * <f64>load<f32>(invstd + o); // Σ dy·x̂
      if (dbeta != 0) store<f32>(dbeta + o, <f32>sb);
      if (dgamma != 0) store<f32>(dgamma + o, <f32>sg);
      // Per-channel constants of the training-mode dx: dx = a·(dy − b − (x − mean)·k).
      const is = <f64>load<f32>(invstd + o);
      const g: f64 = gamma != 0 ? <f64>load<f32>(gamma + o) : 1;
      store<f32>(t1 + o, <f32>(g * is));
      store<f32>(t2 + o, <f32>(sb / <f64>R));
      store<f32>(t3 + o, <f32>((is * sg) / <f64>R));
    }
  }
  if (dx == 0) return;
  if (training == 0) {
    for (let c = 0; c < C; c++) {
      const o = <usize>c << 2;
      const g: f32 = gamma != 0 ? load<f32>(gamma + o) : 1;
      store<f32>(t1 + o, g * load<f32>(invstd + o));
    }
    for (let r = 0; r < R; r++) {
      const gr = dy + <usize>r * rowB;
      const dr = dx + <usize>r * rowB;
      let c: usize = 0;
      for (; c + 16 <= rowB; c += 16) v128.store(dr + c, f32x4.mul(v128.load(gr + c), v128.load(t1 + c)));
      for (; c < rowB; c += 4) store<f32>(dr + c, load<f32>(gr + c) * load<f32>(t1 + c));
    }
    return;
  }
  for (let r = 0; r < R; r++) {
    const xr = x + <usize>r * rowB;
    const gr = dy + <usize>r * rowB;
    const dr = dx + <usize>r * rowB;
    let c: usize = 0;
    for (; c + 16 <= rowB; c += 16) {
      const d = f32x4.sub(v128.load(xr + c), v128.load(mean + c));
      const inner = f32x4.sub(f32x4.sub(v128.load(gr + c), v128.load(t2 + c)), f32x4.mul(d, v128.load(t3 + c)));
      v128.store(dr + c, f32x4.mul(v128.load(t1 + c), inner));
    }
    for (; c < rowB; c += 4) {
      const d = load<f32>(xr + c) - load<f32>(mean + c);
      store<f32>(dr + c, load<f32>(t1 + c) * (load<f32>(gr + c) - load<f32>(t2 + c) - d * load<f32>(t3 + c)));
    }
  }
}
