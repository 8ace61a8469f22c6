/**
 * The playground in headless Chromium: it loads with a wasm backend and no
 * configuration, trains in its worker while the page's own timer keeps
 * firing, the loss goes down, weights stream into the heatmaps, pause/stop
 * work, a drawn digit gets a prediction, the CNN option trains on NHWC
 * images with its filters drawn as 3×3 tiles, the transformer panel draws
 * the real MultiHeadAttention's per-head maps and learns to look one token
 * back, the benchmark charts wasm against js, and bad environments (a CSP
 * that blocks WebAssembly, no Worker, no WebAssembly) get a visible message
 * instead of a blank page.
 *
 * Timing assertions are about trends with generous margins: CI machines are
 * small and shared.
 */
import type { Browser, Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launch, mean, screenshot, serve, watchConsole, type Server } from './helpers.js';

let browser: Browser;
let server: Server;

beforeAll(async () => {
  server = await serve();
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

type PlaygroundState = {
  ready: boolean; pageBackend: string; workerBackend: string | null; training: boolean; paused: boolean; step: number;
  losses: number[]; snapshots: number; warnings: { code: string; message: string; where: string }[];
  prediction: { digit: number; probs: number[]; model: string } | null; heartbeat: { ticks: number; maxGapMs: number }; errors: string[];
  bench?: { group: string; backend: string; value: number }[]; model: string;
  transformer: { heads: number; steps: number; loss: number; losses: number[]; previousToken: number[]; renders: number; backend: string };
};
const pg = (page: Page) => page.evaluate(() => (window as unknown as { playground: PlaygroundState }).playground);

async function open(path = '', init?: () => void): Promise<{ page: Page; log: ReturnType<typeof watchConsole> }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const log = watchConsole(page);
  if (init) await page.addInitScript(init);
  await page.goto(server.url + path);
  return { page, log };
}

async function waitReady(page: Page) {
  await page.waitForFunction(() => (window as unknown as { playground?: PlaygroundState }).playground?.ready === true, null, { timeout: 60_000 });
}

/** Draws a vertical stroke (a "1") on the drawing canvas with the mouse. */
async function drawOne(page: Page) {
  await page.locator('#draw').scrollIntoViewIfNeeded();
  const box = (await page.locator('#draw').boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.52, box.y + box.height * 0.15);
  await page.mouse.down();
  for (let i = 1; i <= 16; i++) await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * (0.15 + (0.7 * i) / 16));
  await page.mouse.up();
}

describe('playground', () => {
  test('trains in a worker without freezing the page; loss falls; weights stream; pause/stop; draw → prediction', async () => {
    const { page, log } = await open();
    try {
      await waitReady(page);
      const s0 = await pg(page);
      expect(s0.pageBackend, log.messages.join('\n')).toMatch(/^wasm-/);
      expect(s0.warnings).toEqual([]);
      await expect.poll(() => page.locator('#page-backend').getAttribute('data-backend')).toBe(s0.pageBackend);

      // Enough epochs that training is still running when we look.
      await page.selectOption('#epochs-select', '50');
      await page.click('#train-btn');
      await page.waitForFunction(() => (window as unknown as { playground: PlaygroundState }).playground.step >= 5, null, { timeout: 90_000 });

      // A few seconds of training while the page's 50 ms timer is watched.
      const before = await page.evaluate(() => {
        const hb = (window as unknown as { playground: PlaygroundState }).playground.heartbeat;
        hb.maxGapMs = 0;
        return { ticks: hb.ticks, t: performance.now() };
      });
      await page.waitForTimeout(4000);
      // On a slow machine, keep going until there is a trend to look at (≥ 150 steps).
      await expect.poll(async () => (await pg(page)).losses.length, { timeout: 90_000, interval: 500 }).toBeGreaterThanOrEqual(150);
      const after = await page.evaluate(() => {
        const p = (window as unknown as { playground: PlaygroundState }).playground;
        return { ticks: p.heartbeat.ticks, maxGap: p.heartbeat.maxGapMs, t: performance.now() };
      });
      const s1 = await pg(page);
      expect(s1.workerBackend).toMatch(/^wasm-/);
      expect(s1.training).toBe(true);
      // The page stayed responsive: the timer kept firing (a frozen page would have ~0 ticks and one huge gap).
      const expected = (after.t - before.t) / 50;
      expect(after.ticks - before.ticks).toBeGreaterThan(expected * 0.4);
      expect(after.maxGap).toBeLessThan(1500);
      // The loss went down (trend over the first and last batches).
      const first = mean(s1.losses.slice(0, 20));
      const last = mean(s1.losses.slice(-20));
      expect(last).toBeLessThan(first * 0.6);
      expect(first).toBeGreaterThan(1.5); // ≈ ln 10 for an untrained 10-class model
      // Weight snapshots arrived and were drawn.
      expect(s1.snapshots).toBeGreaterThanOrEqual(3);
      const tilesInk = await page.evaluate(() => {
        const c = document.getElementById('tiles') as HTMLCanvasElement;
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let coloured = 0;
        for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - d[i + 2]) > 40) coloured++;
        return coloured / (d.length / 4);
      });
      expect(tilesInk).toBeGreaterThan(0.1);
      const status = await page.locator('#status').textContent();
      expect(status).toMatch(/step \d+ · loss \d/);

      // Pause: the step count stops moving; resume: it moves again.
      await page.click('#pause-btn');
      await expect.poll(async () => (await pg(page)).paused, { timeout: 20_000 }).toBe(true);
      const pausedAt = (await pg(page)).step;
      await page.waitForTimeout(700);
      expect((await pg(page)).step).toBe(pausedAt);
      await expect.poll(() => page.locator('#pause-btn').textContent()).toBe('Resume');
      await page.click('#pause-btn');
      await expect.poll(async () => (await pg(page)).step, { timeout: 20_000 }).toBeGreaterThan(pausedAt);

      // Stop: the job ends and hands back its weights.
      await page.click('#stop-btn');
      await expect.poll(async () => (await pg(page)).training, { timeout: 20_000 }).toBe(false);
      await expect.poll(() => page.locator('#status').textContent()).toMatch(/^Stopped after \d+ steps on wasm-/);

      // Draw a digit; read the prediction and its probabilities.
      await drawOne(page);
      await expect.poll(() => page.locator('#prediction').getAttribute('data-digit'), { timeout: 10_000 }).toMatch(/^[0-9]$/);
      const pred = (await pg(page)).prediction!;
      expect(pred.probs).toHaveLength(10);
      expect(mean(pred.probs) * 10).toBeCloseTo(1, 4);
      console.log(`playground: ${s1.losses.length} steps in the window, loss ${first.toFixed(3)} → ${last.toFixed(3)}, ` +
        `timer max gap ${after.maxGap.toFixed(0)} ms, drawn "1" predicted as ${pred.digit} (${(pred.probs[pred.digit] * 100).toFixed(0)}%)`);
      await screenshot(page, 'playground');
      expect(log.errors).toEqual([]);
      expect((await pg(page)).errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  test('the benchmark button runs wasm and js in a worker and charts them', async () => {
    const { page } = await open();
    try {
      await waitReady(page);
      await page.click('#bench-btn');
      await expect.poll(async () => (await pg(page)).bench?.length ?? 0, { timeout: 150_000, interval: 500 }).toBe(9);
      const rows = (await pg(page)).bench!;
      // The in-page WASM-vs-JS numbers, printed so CI logs show them (headless Chromium).
      console.log(`in-browser benchmark (${await page.evaluate(() => navigator.userAgent.match(/Chrom\S+/)?.[0] ?? 'browser')}):\n` +
        rows.map((r) => `  ${r.group.padEnd(40)} ${r.backend.padEnd(18)} ${r.value.toFixed(r.value < 10 ? 2 : 0)} ${r.group.startsWith('matmul') ? 'GFLOPS' : 'samples/s'}`).join('\n'));
      const v = (group: string, backend: string) => rows.find((r) => r.group === group && r.backend === backend)!.value;
      const g = 'matmul 256×256';
      const bestWasm = Math.max(v(g, 'wasm-relaxed-simd'), v(g, 'wasm-simd'));
      expect(v(g, 'js')).toBeGreaterThan(0);
      expect(bestWasm / v(g, 'js')).toBeGreaterThan(1.5); // ~10× on an idle machine
      await expect.poll(() => page.locator('#bench-status').textContent()).toBe('done.');
      await screenshot(page, 'benchmark', { selector: '#bench-panel' });
    } finally {
      await page.close();
    }
  });

  test('the backend switch moves the page and the worker to plain JS', async () => {
    const { page } = await open();
    try {
      await waitReady(page);
      await page.selectOption('#backend-select', 'js');
      await expect.poll(() => page.locator('#page-backend').getAttribute('data-backend')).toBe('js');
      await page.selectOption('#epochs-select', '5');
      await page.click('#train-btn');
      await expect.poll(async () => (await pg(page)).step, { timeout: 90_000 }).toBeGreaterThan(3);
      expect((await pg(page)).workerBackend).toBe('js');
      await expect.poll(() => page.locator('#backend-badge').getAttribute('data-backend')).toBe('js');
      await page.click('#stop-btn');
      await expect.poll(async () => (await pg(page)).training, { timeout: 30_000 }).toBe(false);
      // The transformer panel (which trains on the page's thread) follows the page to js, weights and all.
      const tfRoot = page.locator('#transformer-root');
      await tfRoot.locator('button.tf-train').click();
      await expect.poll(async () => (await pg(page)).transformer.steps, { timeout: 60_000 }).toBeGreaterThan(20);
      expect((await pg(page)).transformer.backend).toBe('js');
      await tfRoot.locator('button.tf-train').click(); // Stop
      await expect.poll(() => tfRoot.getAttribute('data-training')).toBe('false');
      expect((await pg(page)).errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  test('a CSP that blocks WebAssembly: js fallback with a visible warning, and training still works', async () => {
    const { page, log } = await open('csp/');
    try {
      await waitReady(page);
      expect((await pg(page)).pageBackend).toBe('js');
      const banner = page.locator('#banner');
      await expect.poll(() => banner.isVisible()).toBe(true);
      expect(await banner.textContent()).toMatch(/WebAssembly is blocked on this page by its Content-Security-Policy/);
      expect(log.messages.some((m) => m.startsWith('warning: wasmgrad: WebAssembly could not be loaded'))).toBe(true);

      await page.selectOption('#epochs-select', '5');
      await page.click('#train-btn');
      await expect.poll(async () => (await pg(page)).losses.length, { timeout: 90_000, interval: 500 }).toBeGreaterThan(40);
      const s = await pg(page);
      expect(s.workerBackend).toBe('js');
      expect(s.warnings.map((w) => w.where).sort()).toEqual(['page', 'worker']);
      expect(await banner.textContent()).toMatch(/blocked in the training worker/);
      expect(mean(s.losses.slice(-10))).toBeLessThan(mean(s.losses.slice(0, 10)));
      await page.click('#stop-btn');
      await expect.poll(async () => (await pg(page)).training, { timeout: 30_000 }).toBe(false);
      await screenshot(page, 'playground-csp', { fullPage: false });
    } finally {
      await page.close();
    }
  });

  test('a browser without Web Workers gets a clear message, not a blank page', async () => {
    const { page } = await open('', () => {
      delete (globalThis as { Worker?: unknown }).Worker;
    });
    try {
      const banner = page.locator('#banner.fatal');
      await expect.poll(() => banner.isVisible(), { timeout: 30_000 }).toBe(true);
      expect(await banner.textContent()).toMatch(/cannot run the playground: it has no Web Workers/);
      expect(await page.locator('#app').isVisible()).toBe(false);
    } finally {
      await page.close();
    }
  });

  test('a page without WebAssembly runs on js and says so', async () => {
    const { page } = await open('', () => {
      delete (globalThis as { WebAssembly?: unknown }).WebAssembly;
    });
    try {
      await waitReady(page);
      const s = await pg(page);
      expect(s.pageBackend).toBe('js');
      expect(s.warnings.map((w) => w.code)).toContain('wasm-unsupported');
      expect(await page.locator('#banner').textContent()).toMatch(/no WebAssembly/);
    } finally {
      await page.close();
    }
  });
});

/** A canvas's pixels as a data URL (to tell whether a redraw changed it). */
const canvasUrl = (page: Page, selector: string) =>
  page.evaluate((s) => (document.querySelector(s) as HTMLCanvasElement).toDataURL(), selector);

/** Share of a canvas's pixels that are coloured (red or blue, not white or grey). */
const inkShare = (page: Page, selector: string) =>
  page.evaluate((s) => {
    const c = document.querySelector(s) as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let coloured = 0;
    for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - d[i + 2]) > 40) coloured++;
    return coloured / (d.length / 4);
  }, selector);

describe('CNN option', () => {
  test('trains a CNN on NHWC digits in the worker: loss falls, its 3×3 filters stream as tiles, a drawn digit is classified', async () => {
    const { page, log } = await open();
    try {
      await waitReady(page);
      await page.selectOption('#model-select', 'cnn');
      await expect.poll(() => page.locator('#tiles').getAttribute('data-kind')).toBe('filters');
      expect((await pg(page)).model).toBe('cnn');
      expect(await page.locator('#tiles-title').textContent()).toMatch(/8 convolution filters \(3×3 weights\)/);
      expect(await page.locator('#tiles2-box').isVisible()).toBe(true);
      // 8 tiles of 3×3 in a row with 1-pixel gaps; the second layer as 8 channel rows × 16 filter columns.
      expect(await page.evaluate(() => [(document.getElementById('tiles') as HTMLCanvasElement).width, (document.getElementById('tiles') as HTMLCanvasElement).height])).toEqual([33, 5]);
      expect(await page.evaluate(() => [(document.getElementById('tiles2') as HTMLCanvasElement).width, (document.getElementById('tiles2') as HTMLCanvasElement).height])).toEqual([65, 33]);
      const options = await page.locator('#matrix-select option').allTextContents();
      expect(options).toEqual(['0.weight [3×3×1×8] filters', '3.weight [3×3×8×16] filters', '7.weight [784×10]']);
      const filtersBefore = await canvasUrl(page, '#tiles');

      await page.selectOption('#epochs-select', '50');
      await page.click('#train-btn');
      await page.waitForFunction(() => (window as unknown as { playground: PlaygroundState }).playground.step >= 5, null, { timeout: 90_000 });
      await page.waitForTimeout(3000);
      // Enough steps for a trend (and for the drawn digit below), however slow the machine.
      await expect.poll(async () => (await pg(page)).losses.length, { timeout: 120_000, interval: 500 }).toBeGreaterThanOrEqual(250);
      const s = await pg(page);
      expect(s.workerBackend).toMatch(/^wasm-/);
      expect(s.training).toBe(true);
      const first = mean(s.losses.slice(0, 20));
      const last = mean(s.losses.slice(-20));
      expect(first).toBeGreaterThan(1.5); // ≈ ln 10 untrained
      expect(last).toBeLessThan(first * 0.5);
      expect(s.snapshots).toBeGreaterThanOrEqual(3);
      // The filter tiles are redrawn from the streamed weights.
      expect(await canvasUrl(page, '#tiles')).not.toBe(filtersBefore);
      expect(await inkShare(page, '#tiles')).toBeGreaterThan(0.3);
      expect(await page.locator('#status').textContent()).toMatch(/step \d+ · loss \d/);

      await page.click('#stop-btn');
      await expect.poll(async () => (await pg(page)).training, { timeout: 30_000 }).toBe(false);
      await expect.poll(() => page.locator('#status').textContent()).toMatch(/^Stopped after \d+ steps on wasm-/);

      // Draw a "1": the page's copy of the CNN classifies the [1,28,28,1] image, and shows its 8 feature maps.
      await drawOne(page);
      await expect.poll(() => page.locator('#prediction').getAttribute('data-digit'), { timeout: 10_000 }).toMatch(/^[0-9]$/);
      const pred = (await pg(page)).prediction!;
      expect(pred.model).toBe('cnn');
      expect(pred.probs).toHaveLength(10);
      expect(mean(pred.probs) * 10).toBeCloseTo(1, 4);
      // A vertical stroke is the easiest digit there is; ≥ 250 steps of this CNN get it (≈ 95% validation accuracy).
      expect(pred.digit).toBe(1);
      expect(await page.locator('#features-box').isVisible()).toBe(true);
      expect(await inkShare(page, '#features')).toBeGreaterThan(0.02);
      console.log(`CNN: ${s.losses.length} steps, loss ${first.toFixed(3)} → ${last.toFixed(3)}, ` +
        `drawn "1" predicted as ${pred.digit} (${(pred.probs[pred.digit] * 100).toFixed(0)}%)`);
      await screenshot(page, 'playground-cnn');
      await screenshot(page, 'playground-cnn-weights', { selector: '#weights-panel' });
      expect(log.errors).toEqual([]);
      expect((await pg(page)).errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});

describe('transformer panel', () => {
  test('draws the real MultiHeadAttention: a map per head, WQ/WK/WV/WO and per-head slices; training makes it look one token back', async () => {
    const { page, log } = await open();
    try {
      await waitReady(page);
      // (a string: vitest would rewrite a dynamic import inside a function)
      expect(await page.evaluate("import('/dist/wasmgrad.browser.js').then((m) => typeof m.MultiHeadAttention)")).toBe('function');
      const root = page.locator('#transformer-root');
      await expect.poll(() => root.getAttribute('data-state')).toBe('ready');
      const tf = async () => (await pg(page)).transformer;
      const t0 = await tf();
      expect(t0.heads).toBe(2);
      expect(t0.steps).toBe(0);
      // 7 words, 2 heads: the layer returned [1, 2, 7, 7] weights and each head got a map.
      expect(await root.locator('.tf-maps canvas').count()).toBe(2);
      expect(t0.previousToken).toHaveLength(2);
      expect(await root.locator('.tf-mats canvas').count()).toBe(4); // WQ, WK, WV, WO
      expect(await root.locator('.tf-heads canvas').count()).toBe(8); // per head: WQ_h, WK_h, WV_h, WQ_h·WK_hᵀ
      // Weights from the layer (a share in (0, 1) per head), and heatmaps with colour in them.
      for (const p of t0.previousToken) expect(p > 0 && p < 1).toBe(true);
      expect(await inkShare(page, '#transformer-root .tf-mats canvas')).toBeGreaterThan(0.3);
      const mapBefore = await canvasUrl(page, '#transformer-root .tf-maps canvas');
      const wqBefore = await canvasUrl(page, '#transformer-root .tf-mats canvas');
      await screenshot(page, 'transformer-panel-untrained', { selector: '#attention-panel' });

      await root.locator('button.tf-train').click();
      await expect.poll(async () => (await tf()).steps, { timeout: 120_000, interval: 250 }).toBe(300);
      await expect.poll(() => root.getAttribute('data-training'), { timeout: 10_000 }).toBe('false');
      const t1 = await tf();
      const first = mean(t1.losses.slice(0, 20));
      const last = mean(t1.losses.slice(-20));
      expect(first).toBeGreaterThan(2.3); // ≈ ln 16: guessing
      expect(last).toBeLessThan(Math.log(16) * 0.3); // it fetches the previous token
      // It learned to attend one back: the best head puts far more weight on the previous word than before.
      const best = (xs: number[]) => Math.max(...xs);
      expect(best(t1.previousToken)).toBeGreaterThan(0.4);
      expect(best(t1.previousToken)).toBeGreaterThan(best(t0.previousToken) + 0.2);
      expect(await canvasUrl(page, '#transformer-root .tf-maps canvas')).not.toBe(mapBefore);
      expect(await canvasUrl(page, '#transformer-root .tf-mats canvas')).not.toBe(wqBefore);
      expect(await root.locator('.tf-status-text').textContent()).toMatch(/^step 300 · loss \d/);
      console.log(`transformer panel: loss ${first.toFixed(3)} → ${last.toFixed(3)}, attention on the previous word ` +
        `${t0.previousToken.map((p) => p.toFixed(2)).join('/')} → ${t1.previousToken.map((p) => p.toFixed(2)).join('/')}`);
      await screenshot(page, 'transformer-panel', { selector: '#attention-panel' });

      // The layer's own head averaging (averageWeights): one map.
      await root.locator('select[aria-label="attention maps"]').selectOption('average');
      await expect.poll(() => root.locator('.tf-maps canvas').count()).toBe(1);
      expect((await tf()).previousToken).toHaveLength(1);
      // 4 heads: a new layer, 4 maps, 4 × 4 slices of 16×4.
      await root.locator('select[aria-label="attention maps"]').selectOption('heads');
      await root.locator('select[aria-label="attention heads"]').selectOption('4');
      await expect.poll(() => root.locator('.tf-maps canvas').count()).toBe(4);
      expect(await root.locator('.tf-heads canvas').count()).toBe(16);
      expect(await page.evaluate(() => (document.querySelector('#transformer-root .tf-heads canvas') as HTMLCanvasElement).width)).toBe(4 * 7);
      const t2 = await tf();
      expect(t2.heads).toBe(4);
      expect(t2.steps).toBe(0);
      // A shorter sentence redraws smaller maps.
      await root.locator('input[aria-label="input sentence"]').fill('one two three');
      await expect.poll(async () => (await tf()).previousToken.length).toBe(4);
      expect(log.errors).toEqual([]);
      expect((await pg(page)).errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
