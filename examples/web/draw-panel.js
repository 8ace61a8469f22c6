// The drawing canvas: strokes in white on black, turned into the 28×28 input
// the network expects the way MNIST digits were made (ink's bounding box
// scaled to fit 20×20, then centred by its centre of mass in 28×28).

/** Wires `canvas` for drawing; calls onChange(x: Float32Array(784) | null) while drawing and after each stroke. */
export function mountDrawing(canvas, preview, onChange) {
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const reset = () => {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
  };
  reset();
  let drawing = false;
  let last = null;
  let pending = false;
  const pos = (e) => {
    const r = canvas.getBoundingClientRect();
    return [((e.clientX - r.left) * canvas.width) / r.width, ((e.clientY - r.top) * canvas.height) / r.height];
  };
  const update = () => {
    pending = false;
    const x = toInput(ctx, canvas.width, canvas.height);
    drawPreview(preview, x);
    onChange(x);
  };
  const schedule = () => {
    if (!pending) {
      pending = true;
      requestAnimationFrame(update);
    }
  };
  const stroke = (p) => {
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = canvas.width / 12;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(...(last ?? p));
    ctx.lineTo(...p);
    ctx.stroke();
    last = p;
  };
  canvas.addEventListener('pointerdown', (e) => {
    drawing = true;
    last = null;
    canvas.setPointerCapture?.(e.pointerId);
    stroke(pos(e));
    schedule();
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!drawing) return;
    stroke(pos(e));
    schedule();
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    last = null;
    schedule();
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  canvas.addEventListener('pointerleave', end);
  return {
    clear() {
      reset();
      drawPreview(preview, null);
      onChange(null);
    },
    /** The current input (null when nothing is drawn). */
    input: () => toInput(ctx, canvas.width, canvas.height),
  };
}

/** MNIST-style preprocessing of the canvas; null when it is blank. */
export function toInput(ctx, w, h) {
  const src = ctx.getImageData(0, 0, w, h).data;
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (src[(y * w + x) * 4] > 20) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return null;
  // Scale the ink's box so its longer side is 20 px (anti-aliased by the canvas).
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  const s = 20 / Math.max(bw, bh);
  const tw = Math.max(1, Math.round(bw * s)), th = Math.max(1, Math.round(bh * s));
  const small = document.createElement('canvas');
  small.width = tw;
  small.height = th;
  const sctx = small.getContext('2d', { willReadFrequently: true });
  sctx.imageSmoothingEnabled = true;
  sctx.imageSmoothingQuality = 'high';
  sctx.drawImage(ctx.canvas, x0, y0, bw, bh, 0, 0, tw, th);
  const px = sctx.getImageData(0, 0, tw, th).data;
  // Centre of mass of the scaled ink → placed at (14, 14).
  let m = 0, mx = 0, my = 0;
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const v = px[(y * tw + x) * 4] / 255;
      m += v;
      mx += v * x;
      my += v * y;
    }
  }
  const ox = Math.round(14 - (m > 0 ? mx / m : tw / 2));
  const oy = Math.round(14 - (m > 0 ? my / m : th / 2));
  const out = new Float32Array(784);
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const X = x + ox, Y = y + oy;
      if (X >= 0 && X < 28 && Y >= 0 && Y < 28) out[Y * 28 + X] = px[(y * tw + x) * 4] / 255;
    }
  }
  return out;
}

export function drawPreview(canvas, x) {
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = x ? Math.round(x[i] * 255) : 0;
    img.data[i * 4] = img.data[i * 4 + 1] = img.data[i * 4 + 2] = v;
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}
