// Hand-drawn canvas charts (smaller than any charting library): the training
// chart (loss per step, smoothed, on the left axis; accuracy on the right)
// and horizontal/vertical bar charts.

const FONT = '12px system-ui, sans-serif';

/** Loss and accuracy over optimizer steps. */
export class TrainingChart {
  constructor(canvas) {
    this.canvas = canvas;
    this.clear();
  }

  clear() {
    this.loss = []; // [step, loss] per batch
    this.smooth = []; // [step, EMA of the loss]
    this.acc = []; // [step, running epoch accuracy]
    this.val = []; // [step, validation accuracy] per epoch
    this.ema = null;
    this.draw();
  }

  addLosses(firstStep, losses) {
    losses.forEach((l, i) => {
      const s = firstStep + i;
      this.loss.push([s, l]);
      this.ema = this.ema === null ? l : 0.95 * this.ema + 0.05 * l;
      this.smooth.push([s, this.ema]);
    });
  }

  addAccuracy(step, acc) {
    this.acc.push([step, acc]);
  }

  addValidation(step, acc) {
    this.val.push([step, acc]);
  }

  draw() {
    const { canvas } = this;
    const ctx = canvas.getContext('2d');
    const W = canvas.width, H = canvas.height;
    const pad = { l: 52, r: 52, t: 30, b: 30 };
    const pw = W - pad.l - pad.r, ph = H - pad.t - pad.b;
    ctx.clearRect(0, 0, W, H);
    ctx.font = FONT;
    const maxStep = Math.max(10, this.loss.length ? this.loss[this.loss.length - 1][0] : 0);
    let maxLoss = 0;
    for (const [, l] of this.loss) if (Number.isFinite(l)) maxLoss = Math.max(maxLoss, l);
    maxLoss = niceCeil(Math.min(maxLoss || 2.5, 5));
    const x = (s) => pad.l + (s / maxStep) * pw;
    const yL = (l) => pad.t + ph - (Math.min(l, maxLoss) / maxLoss) * ph;
    const yA = (a) => pad.t + ph - a * ph;

    // grid and axes
    ctx.strokeStyle = '#edf0f4';
    ctx.fillStyle = '#667085';
    ctx.lineWidth = 1;
    for (let i = 0; i <= 5; i++) {
      const y = pad.t + (ph * i) / 5;
      ctx.beginPath();
      ctx.moveTo(pad.l, y);
      ctx.lineTo(pad.l + pw, y);
      ctx.stroke();
      ctx.textAlign = 'right';
      ctx.fillText((maxLoss * (1 - i / 5)).toFixed(2), pad.l - 6, y + 4);
      ctx.textAlign = 'left';
      ctx.fillText(`${Math.round(100 * (1 - i / 5))}%`, pad.l + pw + 6, y + 4);
    }
    ctx.textAlign = 'center';
    for (let i = 0; i <= 5; i++) ctx.fillText(String(Math.round((maxStep * i) / 5)), x((maxStep * i) / 5), H - 10);
    ctx.fillText('step', pad.l + pw / 2, H - 10); // between the 40% and 60% ticks
    ctx.save();
    ctx.translate(14, pad.t + ph / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillStyle = '#d9480f';
    ctx.fillText('loss', 0, 0);
    ctx.restore();
    ctx.save();
    ctx.translate(W - 10, pad.t + ph / 2);
    ctx.rotate(Math.PI / 2);
    ctx.fillStyle = '#1a7f4b';
    ctx.fillText('accuracy', 0, 0);
    ctx.restore();

    const line = (pts, y, color, width) => {
      if (pts.length === 0) return;
      ctx.strokeStyle = color;
      ctx.lineWidth = width;
      ctx.beginPath();
      const stride = Math.max(1, Math.floor(pts.length / (pw * 2)));
      for (let i = 0; i < pts.length; i += stride) {
        const [s, v] = pts[i];
        if (i === 0) ctx.moveTo(x(s), y(v));
        else ctx.lineTo(x(s), y(v));
      }
      ctx.stroke();
    };
    line(this.loss, yL, 'rgba(217, 72, 15, 0.22)', 1);
    line(this.smooth, yL, '#d9480f', 2);
    line(this.acc, yA, '#1a7f4b', 2);
    ctx.fillStyle = '#0b5cad';
    for (const [s, a] of this.val) {
      ctx.beginPath();
      ctx.arc(x(s), yA(a), 4, 0, Math.PI * 2);
      ctx.fill();
    }

    // legend
    const items = [['#d9480f', 'loss (smoothed; faint: every batch)'], ['#1a7f4b', 'training accuracy'], ['#0b5cad', 'validation accuracy (per epoch)']];
    let lx = pad.l + 10;
    ctx.textAlign = 'left';
    for (const [c, label] of items) {
      ctx.fillStyle = c;
      ctx.fillRect(lx, 8, 12, 3);
      ctx.fillStyle = '#3b4457';
      ctx.fillText(label, lx + 16, 13);
      lx += ctx.measureText(label).width + 36;
    }
  }
}

function niceCeil(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** Vertical bars with labels underneath; `highlight` is the index drawn in the accent colour. */
export function drawBars(canvas, values, labels, { highlight = -1, max = 1, format = (v) => `${Math.round(v * 100)}%` } = {}) {
  const ctx = canvas.getContext('2d');
  const W = canvas.width, H = canvas.height;
  const pad = { l: 6, r: 6, t: 16, b: 20 };
  const pw = W - pad.l - pad.r, ph = H - pad.t - pad.b;
  const bw = pw / values.length;
  ctx.clearRect(0, 0, W, H);
  ctx.font = FONT;
  ctx.textAlign = 'center';
  values.forEach((v, i) => {
    const h = (Math.max(0, v) / max) * ph;
    ctx.fillStyle = i === highlight ? '#2f6fde' : '#b9c3d3';
    ctx.fillRect(pad.l + i * bw + 4, pad.t + ph - h, bw - 8, h);
    ctx.fillStyle = '#1d2330';
    ctx.fillText(labels[i], pad.l + i * bw + bw / 2, H - 5);
    if (v >= 0.005) {
      ctx.fillStyle = '#667085';
      ctx.fillText(format(v), pad.l + i * bw + bw / 2, pad.t + ph - h - 4);
    }
  });
}

/**
 * Benchmark results: groups of horizontal bars, one group per test, one bar
 * per backend, each group scaled to its own maximum, with the speed-up over js.
 * rows: [{ group, backend, value, unit }]
 */
export function drawBenchmark(canvas, rows, colors) {
  const ctx = canvas.getContext('2d');
  const groups = [...new Set(rows.map((r) => r.group))];
  const perGroup = Math.max(1, ...groups.map((g) => rows.filter((r) => r.group === g).length));
  const barH = 18, gapH = 6, groupGap = 18, headH = 18;
  const H = Math.max(60, groups.length * (headH + perGroup * (barH + gapH) + groupGap));
  if (canvas.height !== H) canvas.height = H;
  const W = canvas.width;
  ctx.clearRect(0, 0, W, H);
  ctx.font = FONT;
  if (rows.length === 0) {
    ctx.fillStyle = '#98a2b3';
    ctx.fillText('Press “Run the benchmark”: results appear here, backend by backend.', 0, 30);
    return;
  }
  const labelW = 150, valueW = 250;
  const pw = W - labelW - valueW;
  let y = 4;
  for (const g of groups) {
    const rs = rows.filter((r) => r.group === g);
    const top = Math.max(...rs.map((r) => r.value || 0)) || 1;
    const js = rs.find((r) => r.backend === 'js')?.value;
    ctx.fillStyle = '#1d2330';
    ctx.textAlign = 'left';
    ctx.font = `600 ${FONT}`;
    ctx.fillText(g, 0, y + 12);
    ctx.font = FONT;
    y += headH;
    for (const r of rs) {
      ctx.fillStyle = '#3b4457';
      ctx.textAlign = 'right';
      ctx.fillText(r.backend, labelW - 8, y + 13);
      if (r.value > 0) {
        ctx.fillStyle = colors[r.backend] ?? '#888';
        ctx.fillRect(labelW, y, Math.max(2, (r.value / top) * pw), barH);
        ctx.fillStyle = '#1d2330';
        ctx.textAlign = 'left';
        const speedup = js && r.backend !== 'js' ? `  ${(r.value / js).toFixed(1)}× js` : '';
        ctx.fillText(`${fmt(r.value)} ${r.unit}${speedup}`, labelW + (r.value / top) * pw + 8, y + 13);
      } else {
        ctx.fillStyle = '#9a5b00';
        ctx.textAlign = 'left';
        ctx.fillText(r.note ?? 'not available', labelW, y + 13);
      }
      y += barH + gapH;
    }
    y += groupGap;
  }
}

function fmt(v) {
  return v >= 100 ? Math.round(v).toLocaleString('en') : v.toFixed(1);
}
