// Convolution support: im2col and its adjoint col2im over NHWC images.
//
// A convolution is one GEMM over the patch matrix ("im2col"):
//
//   x [N, H, W, C] (NHWC)  ──im2col──▶  cols [N·OH·OW, kH·kW·C]
//   y [N·OH·OW, O] = cols · w[kH·kW·C, O]        (w is HWIO: already the GEMM's B)
//   dw            = colsᵀ · dy                    (one GEMM, Aᵀ·B)
//   dcols         = dy · wᵀ                       (one GEMM, A·Bᵀ) ──col2im──▶ dx
//
// With NHWC input and HWIO filters no transpose is ever materialised: the
// output rows ARE the NHWC output. Row r of cols is output pixel
// r = (n·OH + oh)·OW + ow; its columns run over (kh, kw, c), c fastest:
//
//   cols[r, (kh·kW + kw)·C + c] = x[n, oh·sH − pT + kh·dH, ow·sW − pL + kw·dW, c]
//                                 (0 where the tap falls in the padding)
//
// One kernel-row (kh) of a patch with dilation 1 is kW·C consecutive floats
// of x, copied with SIMD in one go; taps in the padding are zero-filled.
// Both kernels work on rows [row0, row0 + rows) so the ops can bound the size
// of the cols workspace by processing the batch in chunks.
//
// col2im is the exact adjoint: dx[tap of r] += cols[r, tap] (dx pre-filled by
// the caller, usually with zeros); overlapping patches accumulate.
//
// Why im2col + GEMM and not a direct convolution: measured in bench/train/cnn.mjs
// (see src/ops/conv.ts for the numbers), the packed, register-blocked GEMM
// runs the contraction at its full speed, and all three products (forward,
// filter gradient, input gradient) reuse it with transpose flags.

// dst[0:bytes] = src[0:bytes] (bytes a multiple of 4; regions do not overlap).
@inline function copyF32(dst: usize, src: usize, bytes: usize): void {
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) v128.store(dst + i, v128.load(src + i));
  for (; i < bytes; i += 4) store<f32>(dst + i, load<f32>(src + i));
}

// dst[0:bytes] += src[0:bytes].
@inline function addF32(dst: usize, src: usize, bytes: usize): void {
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) v128.store(dst + i, f32x4.add(v128.load(dst + i), v128.load(src + i)));
  for (; i < bytes; i += 4) store<f32>(dst + i, load<f32>(dst + i) + load<f32>(src + i));
}

/**
 * cols[0:rows, :] = patches of output pixels row0 … row0+rows−1 (see header).
 * cols is [rows, kH·kW·C]; x is [N, H, W, C].
 */
export function im2col(
  cols: usize, x: usize,
  H: i32, W: i32, C: i32, kH: i32, kW: i32, OH: i32, OW: i32,
  sH: i32, sW: i32, pT: i32, pL: i32, dH: i32, dW: i32,
  row0: i32, rows: i32,
): void {
  const cb = <usize>C << 2; // bytes of one pixel
  const rowB = <usize>W * cb; // bytes of one image row
  const imgB = <usize>H * rowB;
  const kRowB = <usize>kW * cb; // bytes of one kernel row of a patch
  const plane = OH * OW;
  let n = row0 / plane;
  let rem = row0 - n * plane;
  let oh = rem / OW;
  let ow = rem - oh * OW;
  let dst = cols;
  for (let r = 0; r < rows; r++) {
    const img = x + <usize>n * imgB;
    const ih0 = oh * sH - pT;
    const iw0 = ow * sW - pL;
    const inside = dW == 1 && iw0 >= 0 && iw0 + kW <= W;
    for (let kh = 0; kh < kH; kh++) {
      const ih = ih0 + kh * dH;
      if (ih < 0 || ih >= H) {
        memory.fill(dst, 0, kRowB);
        dst += kRowB;
        continue;
      }
      const src = img + <usize>ih * rowB;
      if (inside) {
        copyF32(dst, src + <usize>iw0 * cb, kRowB);
        dst += kRowB;
        continue;
      }
      for (let kw = 0; kw < kW; kw++) {
        const iw = iw0 + kw * dW;
        if (iw < 0 || iw >= W) memory.fill(dst, 0, cb);
        else copyF32(dst, src + <usize>iw * cb, cb);
        dst += cb;
      }
    }
    if (++ow == OW) {
      ow = 0;
      if (++oh == OH) {
        oh = 0;
        n++;
      }
    }
  }
}

/**
 * dx[patch taps of rows row0 … row0+rows−1] += cols[0:rows, :] — the adjoint
 * of im2col. dx is [N, H, W, C], pre-filled by the caller.
 */
export function col2im(
  dx: usize, cols: usize,
  H: i32, W: i32, C: i32, kH: i32, kW: i32, OH: i32, OW: i32,
  sH: i32, sW: i32, pT: i32, pL: i32, dH: i32, dW: i32,
  row0: i32, rows: i32,
): void {
  const cb = <usize>C << 2;
  const rowB = <usize>W * cb;
  const imgB = <usize>H * rowB;
  const kRowB = <usize>kW * cb;
  const plane = OH * OW;
  let n = row0 / plane;
  let rem = row0 - n * plane;
  let oh = rem / OW;
  let ow = rem - oh * OW;
  let src = cols;
  for (let r = 0; r < rows; r++) {
    const img = dx + <usize>n * imgB;
    const ih0 = oh * sH - pT;
    const iw0 = ow * sW - pL;
    const inside = dW == 1 && iw0 >= 0 && iw0 + kW <= W;
    for (let kh = 0; kh < kH; kh++) {
      const ih = ih0 + kh * dH;
      if (ih < 0 || ih >= H) {
        src += kRowB;
        continue;
      }
      const dst = img + <usize>ih * rowB;
      if (inside) {
        addF32(dst + <usize>iw0 * cb, src, kRowB);
        src += kRowB;
        continue;
      }
      for (let kw = 0; kw < kW; kw++) {
        const iw = iw0 + kw * dW;
        if (iw >= 0 && iw < W) addF32(dst + <usize>iw * cb, src, cb);
        src += cb;
      }
    }
    if (++ow == OW) {
      ow = 0;
      if (++oh == OH) {
        oh = 0;
        n++;
      }
    }
  }
}
