/**
 * The playground in headless Chromium: it loads with a wasm backend and no
 * configuration, trains in its worker while the page's own timer keeps
 * firing, the loss goes down, weights stream into the heatmaps, pause/stop
 * work, a drawn digit gets a prediction, the benchmark charts wasm against
 * js, and bad environments (a CSP that blocks WebAssembly, no Worker, no
 * WebAssembly) get a visible message instead of a blank page.
 *
 * Timing assertions are about trends with generous margins: CI machines are
 * small and shared.
 */
import path from 'node:path';
import type { Browser, Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launch, mean, root, screenshot, serve, watchConsole, type Server } from './helpers.js';

let browser: Browser;
let server: Server;

beforeAll(async () => {
  server = await serve({ mounts: { '/__e2e__/': path.join(root, 'tests', 'e2e', 'pages') } });
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

type PlaygroundState = {
  ready: boolean; pageBackend: string; workerBackend: string | null; training: boolean; paused: boolean; step: number;
  losses: number[]; snapshots: number; warnings: { code: string; message: string; where: string }[];
  prediction: { digit: number; probs: number[] } | null; heartbeat: { ticks: number; maxGapMs: number }; errors: string[];
  bench?: { group: string; backend: string; value: number }[];
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

describe('transformer panel', () => {
  test('says the attention layers are coming when wasmgrad has no MultiHeadAttention', async () => {
    const { page } = await open();
    try {
      await waitReady(page);
      // (a string: vitest would rewrite a dynamic import inside a function)
      const hasMha = await page.evaluate("import('/dist/wasmgrad.browser.js').then((m) => 'MultiHeadAttention' in m)");
      const root = page.locator('#transformer-root');
      if (hasMha) {
        await expect.poll(() => root.getAttribute('data-state')).toBe('ready');
      } else {
        await expect.poll(() => page.locator('#transformer-root [data-state=coming]').textContent()).toMatch(/Coming with the attention layers/);
      }
    } finally {
      await page.close();
    }
  });

  test('against the expected MultiHeadAttention API (a reference shim): maps per head, WQ/WK/WV, and training changes them', async () => {
    const { page, log } = await open('__e2e__/transformer.html');
    try {
      await page.waitForFunction(() => (window as unknown as { __panel?: string }).__panel !== undefined, null, { timeout: 60_000 });
      expect(await page.evaluate(() => (window as unknown as { __panel: string }).__panel), log.errors.join('\n')).toBe('mounted');
      const root = page.locator('#root');
      await expect.poll(() => root.getAttribute('data-state')).toBe('ready');
      expect(await root.locator('.tf-row').first().locator('canvas').count()).toBe(2); // 2 heads
      expect(await root.locator('.tf-row').nth(1).locator('canvas').count()).toBe(3); // WQ, WK, WV
      const mapBefore = await page.evaluate(() => (document.querySelector('#root .tf-row canvas') as HTMLCanvasElement).toDataURL());
      await root.locator('button').click();
      await expect.poll(async () => (await root.locator('.caption').textContent()) ?? '', { timeout: 60_000 }).toMatch(/step 300 /);
      const loss = Number((await root.locator('.caption').textContent())!.match(/loss ([\d.]+)/)![1]);
      expect(loss).toBeLessThan(Math.log(16) * 0.8); // learned something about the previous token
      const mapAfter = await page.evaluate(() => (document.querySelector('#root .tf-row canvas') as HTMLCanvasElement).toDataURL());
      expect(mapAfter).not.toBe(mapBefore);
      await screenshot(page, 'transformer-panel-shim');
      expect(log.errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
