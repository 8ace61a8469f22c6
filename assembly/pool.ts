// 2-D pooling over NHWC images, SIMD across channels.
//
//   x [N, H, W, C] → out [N, OH, OW, C]; the window of output pixel (oh, ow)
//   covers rows oh·sH − pT … + kH − 1 and columns ow·sW − pL … + kW − 1,
//   clipped to the image (taps in the padding are skipped).
//
//   maxpool2d_fwd:  out = max over the window; idx = flat element index into x
//                   of the (first) maximum. NaN propagates (a NaN in the
//                   window is the maximum).
//   relu_pool_mask: turns maxpool2d_fwd's results into those of
//                   maxpool2d(relu(x)) = relu(maxpool2d(x)): out = max(out, 0)
//                   and idx = −1 (no gradient) where out ≤ 0, on the pooled
//                   output — 1/(kH·kW) of the elements a relu pass reads and
//                   writes, and the relu backward disappears (Sequential fuses
//                   ReLU → MaxPool2d with it; see src/ops/pool.ts).
//   maxpool2d_bwd:  dx[idx[o]] += dy[o] (idx < 0: nothing). Windows that do not overlap
//                   (stride ≥ window) write every tap of their window in one
//                   SIMD pass — dy where the tap is the argmax, else 0 — so
//                   dx needs no separate zero fill except for pixels no
//                   window covers; overlapping windows scatter-add into a
//                   zero-filled dx.
//   avgpool2d_fwd:  out = Σ window / div, div = kH·kW (countIncludePad ≠ 0,
//                   PyTorch's default) or the number of taps inside the image.
//   avgpool2d_bwd:  dx[tap] += dy / div for every tap of every window
//                   (dx pre-filled by the caller).
//
// In NHWC the C channels of one pixel are contiguous, so every tap is one
// f32x4 load per 4 channels and the per-lane maximum and its index are kept
// with compare + bitselect. A scalar tail handles C mod 4. The 2×2 windows'
// channel loops run on pointers and end on a pointer comparison (V8,
// TurboFan: no index shift and add per load and store).

const LANES = i32x4(0, 1, 2, 3);

export function maxpool2d_fwd(
  out: usize, idx: usize, x: usize,
  N: i32, H: i32, W: i32, C: i32, kH: i32, kW: i32, OH: i32, OW: i32,
  sH: i32, sW: i32, pT: i32, pL: i32,
): void {
  let o: usize = 0; // element offset of the output pixel's first channel
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const hs = oh * sH - pT;
      const kh0 = max(0, -hs), kh1 = min(kH, H - hs);
      for (let ow = 0; ow < OW; ow++) {
        const ws = ow * sW - pL;
        const kw0 = max(0, -ws), kw1 = min(kW, W - ws);
        // Element index of tap (kh0, kw0), channel 0.
        const first = ((n * H + hs + kh0) * W + ws + kw0) * C;
        let c = 0;
        if (kH == 2 && kW == 2 && kh0 == 0 && kw0 == 0 && kh1 == 2 && kw1 == 2) {
          // The common 2×2 window, fully inside: four taps unrolled.
          // Runs on pointers (no index arithmetic per step; see the header).
          const dW = C, dH = W * C;
          const dWb = <usize>dW << 2, dHb = <usize>dH << 2, dHWb = <usize>(dH + dW) << 2;
          let p0 = x + (<usize>first << 2);
          const pEnd = p0 + (<usize>(C & ~3) << 2);
          let po = out + (o << 2), pi = idx + (o << 2);
          let i0 = i32x4.add(i32x4.splat(first), LANES);
          while (p0 < pEnd) {
            let best = v128.load(p0);
            let bi = i0;
            let v = v128.load(p0 + dWb);
            let m = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
            best = v128.bitselect(v, best, m);
            bi = v128.bitselect(i32x4.add(i0, i32x4.splat(dW)), bi, m);
            v = v128.load(p0 + dHb);
            m = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
            best = v128.bitselect(v, best, m);
            bi = v128.bitselect(i32x4.add(i0, i32x4.splat(dH)), bi, m);
            v = v128.load(p0 + dHWb);
            m = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
            best = v128.bitselect(v, best, m);
            bi = v128.bitselect(i32x4.add(i0, i32x4.splat(dH + dW)), bi, m);
            v128.store(po, best);
            v128.store(pi, bi);
            p0 += 16; po += 16; pi += 16;
            i0 = i32x4.add(i0, i32x4.splat(4));
          }
          c = C & ~3;
        }
        for (; c + 4 <= C; c += 4) {
          let bi = i32x4.add(i32x4.splat(first + c), LANES);
          let best = v128.load(x + (<usize>(first + c) << 2));
          for (let kh = kh0; kh < kh1; kh++) {
            let e = ((n * H + hs + kh) * W + ws + kw0) * C + c;
            for (let kw = kw0; kw < kw1; kw++) {
              const v = v128.load(x + (<usize>e << 2));
              const m = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
              best = v128.bitselect(v, best, m);
              bi = v128.bitselect(i32x4.add(i32x4.splat(e), LANES), bi, m);
              e += C;
            }
          }
          v128.store(out + ((o + c) << 2), best);
          v128.store(idx + ((o + c) << 2), bi);
        }
        for (; c < C; c++) {
          let bi = first + c;
          let best = load<f32>(x + (<usize>bi << 2));
          for (let kh = kh0; kh < kh1; kh++) {
            let e = ((n * H + hs + kh) * W + ws + kw0) * C + c;
            for (let kw = kw0; kw < kw1; kw++) {
              const v = load<f32>(x + (<usize>e << 2));
              if (v > best || (v != v && best == best)) {
                best = v;
                bi = e;
              }
              e += C;
            }
          }
          store<f32>(out + ((o + c) << 2), best);
          store<i32>(idx + ((o + c) << 2), bi);
        }
        o += C;
      }
    }
  }
}

export function avgpool2d_fwd(
  out: usize, x: usize,
  N: i32, H: i32, W: i32, C: i32, kH: i32, kW: i32, OH: i32, OW: i32,
  sH: i32, sW: i32, pT: i32, pL: i32, countIncludePad: i32,
): void {
  let o: usize = 0;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const hs = oh * sH - pT;
      const kh0 = max(0, -hs), kh1 = min(kH, H - hs);
      for (let ow = 0; ow < OW; ow++) {
        const ws = ow * sW - pL;
        const kw0 = max(0, -ws), kw1 = min(kW, W - ws);
        const div: f32 = countIncludePad != 0 ? <f32>(kH * kW) : <f32>((kh1 - kh0) * (kw1 - kw0));
        const inv = f32x4.splat(<f32>1 / div);
        let c = 0;
        for (; c + 4 <= C; c += 4) {
          let s = f32x4.splat(0);
          for (let kh = kh0; kh < kh1; kh++) {
            let e = ((n * H + hs + kh) * W + ws + kw0) * C + c;
            for (let kw = kw0; kw < kw1; kw++) {
              s = f32x4.add(s, v128.load(x + (<usize>e << 2)));
              e += C;
            }
          }
          v128.store(out + ((o + c) << 2), f32x4.mul(s, inv));
        }
        for (; c < C; c++) {
          let s: f32 = 0;
          for (let kh = kh0; kh < kh1; kh++) {
            let e = ((n * H + hs + kh) * W + ws + kw0) * C + c;
            for (let kw = kw0; kw < kw1; kw++) {
              s += load<f32>(x + (<usize>e << 2));
              e += C;
            }
          }
          store<f32>(out + ((o + c) << 2), s * (<f32>1 / div));
        }
        o += C;
      }
    }
  }
}

export function avgpool2d_bwd(
  dx: usize, dy: usize,
  N: i32, H: i32, W: i32, C: i32, kH: i32, kW: i32, OH: i32, OW: i32,
  sH: i32, sW: i32, pT: i32, pL: i32, countIncludePad: i32,
): void {
  let o: usize = 0;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const hs = oh * sH - pT;
      const kh0 = max(0, -hs), kh1 = min(kH, H - hs);
      for (let ow = 0; ow < OW; ow++) {
        const ws = ow * sW - pL;
        const kw0 = max(0, -ws), kw1 = min(kW, W - ws);
        const div: f32 = countIncludePad != 0 ? <f32>(kH * kW) : <f32>((kh1 - kh0) * (kw1 - kw0));
        const inv = f32x4.splat(<f32>1 / div);
        let c = 0;
        for (; c + 4 <= C; c += 4) {
          const g = f32x4.mul(v128.load(dy + ((o + c) << 2)), inv);
          for (let kh = kh0; kh < kh1; kh++) {
            let e = ((n * H + hs + kh) * W + ws + kw0) * C + c;
            for (let kw = kw0; kw < kw1; kw++) {
              const p = dx + (<usize>e << 2);
              v128.store(p, f32x4.add(v128.load(p), g));
              e += C;
            }
          }
        }
        for (; c < C; c++) {
          const g = load<f32>(dy + ((o + c) << 2)) * (<f32>1 / div);
          for (let kh = kh0; kh < kh1; kh++) {
            let e = ((n * H + hs + kh) * W + ws + kw0) * C + c;
            for (let kw = kw0; kw < kw1; kw++) {
              const p = dx + (<usize>e << 2);
              store<f32>(p, load<f32>(p) + g);
              e += C;
            }
          }
        }
        o += C;
      }
    }
  }
}

export function maxpool2d_bwd(
  dx: usize, idx: usize, dy: usize,
  N: i32, H: i32, W: i32, C: i32, kH: i32, kW: i32, OH: i32, OW: i32,
  sH: i32, sW: i32, pT: i32, pL: i32,
): void {
  const total = N * OH * OW * C;
  if (sH < kH || sW < kW) {
    // Overlapping windows: scatter-add (dx zero-filled by the caller).
    for (let o = 0; o < total; o++) {
      const i = load<i32>(idx + (<usize>o << 2));
      if (i < 0) continue; // no gradient (relu_pool_mask)
      const p = dx + (<usize>i << 2);
      store<f32>(p, load<f32>(p) + load<f32>(dy + (<usize>o << 2)));
    }
    return;
  }
  const zero = f32x4.splat(0);
  let o: usize = 0;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const hs = oh * sH - pT;
      const kh0 = max(0, -hs), kh1 = min(kH, H - hs);
      for (let ow = 0; ow < OW; ow++) {
        const ws = ow * sW - pL;
        const kw0 = max(0, -ws), kw1 = min(kW, W - ws);
        let c = 0;
        if (kH == 2 && kW == 2 && kh0 == 0 && kw0 == 0 && kh1 == 2 && kw1 == 2) {
          const dW = C, dH = W * C;
          const first = ((n * H + hs) * W + ws) * C;
          const dWb = <usize>dW << 2, dHb = <usize>dH << 2, dHWb = <usize>(dH + dW) << 2;
          let p0 = dx + (<usize>first << 2);
          const pEnd = p0 + (<usize>(C & ~3) << 2);
          let pg = dy + (o << 2), pi = idx + (o << 2);
          let i0 = i32x4.add(i32x4.splat(first), LANES);
          while (p0 < pEnd) {
            const g = v128.load(pg);
            const bi = v128.load(pi);
            v128.store(p0, v128.bitselect(g, zero, i32x4.eq(bi, i0)));
            v128.store(p0 + dWb, v128.bitselect(g, zero, i32x4.eq(bi, i32x4.add(i0, i32x4.splat(dW)))));
            v128.store(p0 + dHb, v128.bitselect(g, zero, i32x4.eq(bi, i32x4.add(i0, i32x4.splat(dH)))));
            v128.store(p0 + dHWb, v128.bitselect(g, zero, i32x4.eq(bi, i32x4.add(i0, i32x4.splat(dH + dW)))));
            p0 += 16; pg += 16; pi += 16;
            i0 = i32x4.add(i0, i32x4.splat(4));
          }
          c = C & ~3;
        }
        for (; c + 4 <= C; c += 4) {
          const g = v128.load(dy + ((o + c) << 2));
          const bi = v128.load(idx + ((o + c) << 2));
          for (let kh = kh0; kh < kh1; kh++) {
            let e = ((n * H + hs + kh) * W + ws + kw0) * C + c;
            for (let kw = kw0; kw < kw1; kw++) {
              const hit = i32x4.eq(bi, i32x4.add(i32x4.splat(e), LANES));
              v128.store(dx + (<usize>e << 2), v128.bitselect(g, zero, hit));
              e += C;
            }
          }
        }
        for (; c < C; c++) {
          const g = load<f32>(dy + ((o + c) << 2));
          const bi = load<i32>(idx + ((o + c) << 2));
          for (let kh = kh0; kh < kh1; kh++) {
            let e = ((n * H + hs + kh) * W + ws + kw0) * C + c;
            for (let kw = kw0; kw < kw1; kw++) {
              store<f32>(dx + (<usize>e << 2), e == bi ? g : 0);
              e += C;
            }
          }
        }
        o += C;
      }
    }
  }
}

/** out = max(out, 0), idx = −1 where out ≤ 0 (NaN stays NaN with idx −1), over n pooled outputs. See the header. */
export function relu_pool_mask(out: usize, idx: usize, n: i32): void {
  const zero = f32x4.splat(0);
  const none = i32x4.splat(-1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const p = out + (<usize>i << 2), q = idx + (<usize>i << 2);
    const v = v128.load(p);
    v128.store(p, f32x4.max(v, zero));
    v128.store(q, v128.bitselect(v128.load(q), none, f32x4.gt(v, zero)));
  }
  for (; i < n; i++) {
    const p = out + (<usize>i << 2), q = idx + (<usize>i << 2);
    const v = load<f32>(p);
    store<f32>(p, max(v, 0));
    if (!(v > 0)) store<i32>(q, -1);
  }
}
