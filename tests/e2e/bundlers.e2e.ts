/**
 * wasmgrad as a dependency of web pages: a plain <script type="module"> (no
 * bundler), esbuild, Vite (build and dev server), and the external-asset
 * build (under a strict CSP, and through Vite). Each fixture in
 * tests/bundlers/ is copied next to a packed copy of the package
 * (test-output/bundlers/node_modules/wasmgrad: package.json, dist/, README,
 * LICENSE), built, served and opened in headless Chromium; its page reports
 * window.__result.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launch, root, serve, watchConsole, type Server } from './helpers.js';

const work = path.join(root, 'test-output', 'bundlers');
const fixtures = path.join(root, 'tests', 'bundlers');
let browser: Browser;
const servers: Server[] = [];

/** What `npm pack` would ship, under work/node_modules/wasmgrad. */
function packPackage() {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const dest = path.join(work, 'node_modules', 'wasmgrad');
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(dest, { recursive: true });
  fs.copyFileSync(path.join(root, 'package.json'), path.join(dest, 'package.json'));
  for (const f of pkg.files as string[]) fs.cpSync(path.join(root, f), path.join(dest, f), { recursive: true });
}

function copyFixture(name: string): string {
  const dir = path.join(work, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.cpSync(path.join(fixtures, name), dir, { recursive: true });
  return dir;
}

/** Serves `dir` at / (plus the packed package at /node_modules/), with optional extra headers. */
async function serveDir(dir: string, headers?: (p: string) => Record<string, string>): Promise<Server> {
  const s = await serve({ mounts: { '/': dir, '/node_modules/': path.join(work, 'node_modules') }, headers });
  servers.push(s);
  return s;
}

interface Result {
  backend?: string;
  matmul?: number[][];
  worker?: { backend: string; first: number; last: number; steps: number };
  warnings?: string[];
  error?: string;
}

async function resultOf(page: Page, url: string): Promise<Result> {
  const log = watchConsole(page);
  await page.goto(url);
  try {
    await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, null, { timeout: 90_000 });
  } catch (e) {
    throw new Error(`${url}: no result; console:\n${log.messages.join('\n')}\nerrors:\n${log.errors.join('\n')}`);
  }
  const r = (await page.evaluate(() => (window as unknown as { __result: Result }).__result)) as Result;
  expect(r.error, `${url}\n${log.messages.join('\n')}`).toBeUndefined();
  return r;
}

function expectTrained(r: Result) {
  expect(r.backend).toMatch(/^wasm-/);
  expect(r.matmul).toEqual([[3], [7]]);
  expect(r.worker!.backend).toMatch(/^wasm-/);
  expect(r.worker!.steps).toBe(200);
  expect(r.worker!.last).toBeLessThan(r.worker!.first / 5);
}

beforeAll(async () => {
  fs.mkdirSync(work, { recursive: true });
  packPackage();
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => s.close()));
});

describe('no bundler', () => {
  test('<script type="module"> from dist/wasmgrad.browser.min.js: wasm with no configuration, and the ready-made worker', async () => {
    const dir = copyFixture('script-tag');
    const s = await serveDir(dir);
    const page = await browser.newPage();
    try {
      expectTrained(await resultOf(page, `${s.url}index.html`));
    } finally {
      await page.close();
    }
  });

  test('the external-asset build under a strict CSP (script-src self + wasm-unsafe-eval) fetches its .wasm', async () => {
    const dir = copyFixture('script-tag');
    const s = await serveDir(dir, () => ({ 'Content-Security-Policy': "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'" }));
    for (const file of ['external.html', 'external-default.html']) {
      const page = await browser.newPage();
      const wasmRequests: string[] = [];
      page.on('request', (req) => {
        if (req.url().endsWith('.wasm')) wasmRequests.push(path.basename(new URL(req.url()).pathname));
      });
      try {
        const r = await resultOf(page, `${s.url}${file}`);
        expect(r.backend).toMatch(/^wasm-/);
        expect(r.matmul).toEqual([[3], [7]]);
        expect(wasmRequests).toEqual([r.backend === 'wasm-relaxed-simd' ? 'wasmgrad.relaxed.wasm' : 'wasmgrad.simd.wasm']);
      } finally {
        await page.close();
      }
    }
  });

  test('the external-asset build with its .wasm missing falls back to js with a warning', async () => {
    const dir = copyFixture('script-tag');
    const s = await serveDir(dir);
    const page = await browser.newPage();
    await page.route('**/*.wasm', (route) => route.fulfill({ status: 404, body: 'gone' }));
    try {
      const r = await resultOf(page, `${s.url}external.html`);
      expect(r.backend).toBe('js');
      expect(r.matmul).toEqual([[3], [7]]);
      expect(r.warnings!.join('\n')).toMatch(/WebAssembly could not be loaded.*HTTP 404/);
    } finally {
      await page.close();
    }
  });
});

describe('esbuild', () => {
  test("import from 'wasmgrad' bundled by esbuild: wasm inlined, a worker entry, tree-shaking", async () => {
    const esbuild = await import('esbuild');
    const dir = copyFixture('esbuild');
    await esbuild.build({
      entryPoints: [path.join(dir, 'main.js'), path.join(dir, 'worker.js'), path.join(dir, 'core.js')],
      outdir: path.join(dir, 'out'), bundle: true, format: 'esm', target: 'es2022', platform: 'browser', minify: true, logLevel: 'warning',
    });
    const s = await serveDir(dir);
    const page = await browser.newPage();
    try {
      expectTrained(await resultOf(page, `${s.url}index.html`));
    } finally {
      await page.close();
    }
    // Only tensors and matmul: training, models, safetensors and workers are left out.
    const core = fs.readFileSync(path.join(dir, 'out', 'core.js'), 'utf8');
    const full = fs.readFileSync(path.join(dir, 'out', 'main.js'), 'utf8');
    for (const absent of ['serveTraining', 'safetensors', 'fit: options', 'Adam']) expect(core.includes(absent), absent).toBe(false);
    expect(full.includes('trainInWorker')).toBe(true);
    expect(core.length).toBeLessThan(full.length - 30_000);
  });
});

describe('Vite', () => {
  test("vite build of a page importing 'wasmgrad' (worker via new URL): wasm inlined, no configuration", async () => {
    const vite = await import('vite');
    const dir = copyFixture('vite');
    await vite.build({ root: dir, configFile: false, logLevel: 'warn', build: { outDir: path.join(dir, 'dist'), emptyOutDir: true } });
    const s = await serveDir(path.join(dir, 'dist'));
    const page = await browser.newPage();
    try {
      expectTrained(await resultOf(page, s.url));
    } finally {
      await page.close();
    }
  });

  test('the Vite dev server serves the same page', async () => {
    const vite = await import('vite');
    const dir = copyFixture('vite');
    const server = await vite.createServer({
      root: dir, configFile: false, logLevel: 'warn', server: { host: '127.0.0.1', port: 0, strictPort: false }, cacheDir: path.join(dir, '.vite'),
    });
    await server.listen();
    const page = await browser.newPage();
    try {
      const url = server.resolvedUrls!.local[0];
      expectTrained(await resultOf(page, url));
    } finally {
      await page.close();
      await server.close();
    }
  });

  test("vite build of 'wasmgrad/external': ?url imports and Vite-emitted .wasm files; the ready-made worker by URL", async () => {
    const vite = await import('vite');
    const dir = copyFixture('vite-external');
    await vite.build({ root: dir, configFile: false, logLevel: 'warn', build: { outDir: path.join(dir, 'dist'), emptyOutDir: true } });
    const emitted = fs.readdirSync(path.join(dir, 'dist', 'assets')).filter((f) => f.endsWith('.wasm'));
    expect(emitted.length).toBeGreaterThanOrEqual(2);
    // No base64 wasm in the page's or its worker's code (the ready-made worker, copied as is, has its own inlined).
    const js = fs.readdirSync(path.join(dir, 'dist', 'assets')).filter((f) => f.endsWith('.js') && !f.startsWith('wasmgrad.worker'));
    expect(js.length).toBeGreaterThanOrEqual(2);
    for (const f of js) expect(fs.readFileSync(path.join(dir, 'dist', 'assets', f), 'utf8').includes('AGFzbQ'), f).toBe(false);
    const s = await serveDir(path.join(dir, 'dist'));
    const page = await browser.newPage();
    const wasmRequests: string[] = [];
    page.on('request', (req) => {
      if (req.url().endsWith('.wasm')) wasmRequests.push(req.url());
    });
    try {
      const r = await resultOf(page, s.url);
      expectTrained(r);
      expect(wasmRequests.length).toBeGreaterThanOrEqual(2); // page (?url imports) + worker (default URLs)
      expect((r as { readyMade?: { backend: string; steps: number } }).readyMade).toEqual({ backend: r.backend, steps: 5 });
    } finally {
      await page.close();
    }
  });
});
