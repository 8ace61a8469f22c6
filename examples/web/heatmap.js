// Heatmaps of weight matrices on a canvas: a diverging colour map (blue < 0 <
// red, white at 0), first-layer weights as 28×28 tiles, any matrix, and a
// histogram. Plain canvas, no dependencies.

/** [r, g, b] for v on a diverging map; |v| ≥ scale saturates. */
export function diverging(v, scale) {
  let t = scale > 0 ? v / scale : 0;
  t = t < -1 ? -1 : t > 1 ? 1 : t;
  const a = Math.sqrt(Math.abs(t)); // perceptually gentler near 0
  if (t < 0) return [255 + (59 - 255) * a, 255 + (76 - 255) * a, 255 + (192 - 255) * a];
  return [255 + (180 - 255) * a, 255 + (4 - 255) * a, 255 + (38 - 255) * a];
}

// 511 precomputed colours over [-1, 1] (index 255 is 0): painting 100,000
// weights is then a lookup per pixel, not a colour computation.
const LUT_HALF = 255;
const LUT = (() => {
  const t = new Uint8ClampedArray((2 * LUT_HALF + 1) * 3);
  for (let i = 0; i <= 2 * LUT_HALF; i++) t.set(diverging(i - LUT_HALF, LUT_HALF), i * 3);
  return t;
})();

/** Index into LUT for v at the given scale. */
const lutIndex = (v, inv) => {
  const i = Math.round(v * inv) + LUT_HALF;
  return (i < 0 ? 0 : i > 2 * LUT_HALF ? 2 * LUT_HALF : i) * 3;
};

/** White → deep blue for values in [0, 1] (attention weights, probabilities). */
export function sequential(v) {
  const t = Math.max(0, Math.min(1, v));
  return [255 - 225 * t, 255 - 190 * t, 255 - 100 * t];
}

/** The 99th percentile of |x| (a robust colour scale), from a sample of at most 4096 values. */
export function robustScale(values) {
  const n = values.length;
  if (n === 0) return 1;
  const step = Math.max(1, Math.floor(n / 4096));
  const s = [];
  for (let i = 0; i < n; i += step) s.push(Math.abs(values[i]));
  s.sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))] || 1e-6;
}

/**
 * Tiles of a first layer: W is [side·side, units] (wasmgrad's [in, out] layout),
 * tile j shows column j as a side×side image.
 */
export function drawTiles(canvas, W, units, { side = 28, cols = 16, gap = 1, scale = robustScale(W) } = {}) {
  const rows = Math.ceil(units / cols);
  const width = cols * (side + gap) + gap;
  const height = rows * (side + gap) + gap;
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(width, height);
  const px = img.data;
  px.fill(235);
  const inv = LUT_HALF / scale;
  for (let j = 0; j < units; j++) {
    const ox = gap + (j % cols) * (side + gap);
    const oy = gap + Math.floor(j / cols) * (side + gap);
    for (let r = 0; r < side; r++) {
      for (let c = 0; c < side; c++) {
        const l = lutIndex(W[(r * side + c) * units + j], inv);
        const o = ((oy + r) * width + ox + c) * 4;
        px[o] = LUT[l];
        px[o + 1] = LUT[l + 1];
        px[o + 2] = LUT[l + 2];
        px[o + 3] = 255;
      }
    }
  }
  ctx.putImageData(img, 0, 0);
  return scale;
}

/**
 * A [rows, cols] matrix as a heatmap filling `canvas`'s width; tall matrices
 * are shown transposed (returns whether it did). `color(v)` → [r, g, b].
 */
export function drawMatrix(canvas, M, rows, cols, { color, maxHeight = 260, transposeTall = true, width = canvas.width } = {}) {
  const scale = robustScale(M);
  const inv = LUT_HALF / scale;
  const paint = color ?? ((v) => {
    const l = lutIndex(v, inv);
    return [LUT[l], LUT[l + 1], LUT[l + 2]];
  });
  const transpose = transposeTall && rows > cols;
  const R = transpose ? cols : rows;
  const C = transpose ? rows : cols;
  const off = document.createElement('canvas');
  off.width = C;
  off.height = R;
  const octx = off.getContext('2d');
  const img = octx.createImageData(C, R);
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < C; c++) {
      const v = transpose ? M[c * cols + r] : M[r * cols + c];
      const [Rr, G, B] = paint(v);
      const o = (r * C + c) * 4;
      img.data[o] = Rr;
      img.data[o + 1] = G;
      img.data[o + 2] = B;
      img.data[o + 3] = 255;
    }
  }
  octx.putImageData(img, 0, 0);
  const cellW = width / C;
  const height = Math.max(8, Math.round(Math.min(maxHeight, R * Math.max(cellW, 24)))); // thin matrices get taller cells
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, 0, 0, width, height);
  return { transposed: transpose, scale };
}

/** min, max, mean, std of an array. */
export function stats(values) {
  let min = Infinity, max = -Infinity, sum = 0, sq = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sq += v * v;
  }
  const mean = sum / values.length;
  return { min, max, mean, std: Math.sqrt(Math.max(0, sq / values.length - mean * mean)) };
}

function histogram(values, lo, hi, bins) {
  const h = new Float64Array(bins);
  const w = (hi - lo) / bins;
  for (let i = 0; i < values.length; i++) {
    const b = Math.floor((values[i] - lo) / w);
    h[b < 0 ? 0 : b >= bins ? bins - 1 : b]++;
  }
  return h;
}

/** Histogram of `values` (filled), with `ghost` (e.g. the initial values) as an outline on the same bins. */
export function drawHistogram(canvas, values, { ghost = null, bins = 60 } = {}) {
  const ctx = canvas.getContext('2d');
  const { width, height } = canvas;
  const pad = { l: 8, r: 8, t: 8, b: 22 };
  let lim = 0;
  for (const arr of ghost ? [values, ghost] : [values]) {
    const s = stats(arr);
    lim = Math.max(lim, Math.abs(s.min), Math.abs(s.max));
  }
  lim = lim || 1;
  const h = histogram(values, -lim, lim, bins);
  const g = ghost ? histogram(ghost, -lim, lim, bins) : null;
  let top = 0;
  for (const v of h) top = Math.max(top, v);
  if (g) for (const v of g) top = Math.max(top, v);
  ctx.clearRect(0, 0, width, height);
  const pw = width - pad.l - pad.r;
  const ph = height - pad.t - pad.b;
  const bw = pw / bins;
  ctx.fillStyle = '#2f6fde';
  for (let i = 0; i < bins; i++) {
    const bh = (h[i] / top) * ph;
    ctx.fillRect(pad.l + i * bw + 0.5, pad.t + ph - bh, Math.max(1, bw - 1), bh);
  }
  if (g) {
    ctx.strokeStyle = '#8a93a3';
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    for (let i = 0; i < bins; i++) {
      const y = pad.t + ph - (g[i] / top) * ph;
      ctx.lineTo(pad.l + i * bw, y);
      ctx.lineTo(pad.l + (i + 1) * bw, y);
    }
    ctx.stroke();
  }
  ctx.fillStyle = '#667085';
  ctx.font = '11px system-ui, sans-serif';
  ctx.textAlign = 'left';
  ctx.fillText((-lim).toFixed(3), pad.l, height - 6);
  ctx.textAlign = 'center';
  ctx.fillText('0', pad.l + pw / 2, height - 6);
  ctx.textAlign = 'right';
  ctx.fillText(lim.toFixed(3), width - pad.r, height - 6);
  ctx.strokeStyle = '#c9ced8';
  ctx.beginPath();
  ctx.moveTo(pad.l + pw / 2, pad.t);
  ctx.lineTo(pad.l + pw / 2, pad.t + ph);
  ctx.stroke();
}
