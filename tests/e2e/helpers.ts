/**
 * Shared plumbing for the end-to-end tests: Chromium (Debian's, never a
 * download), the playground server on a free port, screenshots under
 * test-output/e2e/, and a small static server for built fixtures.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright';
// @ts-expect-error -- a plain .mjs script without types
import { startServer } from '../../scripts/demo-web.mjs';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const outDir = path.join(root, 'test-output', 'e2e');

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

export interface Server {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** The playground server (port 0: any free port); `mounts` adds URL prefixes → directories. */
export function serve(options: { mounts?: Record<string, string>; headers?: (p: string) => Record<string, string> } = {}): Promise<Server> {
  return startServer({ port: 0, quiet: true, ...options });
}

/** Saves a screenshot as test-output/e2e/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean; selector?: string } = {}): Promise<string> {
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${name}.png`);
  if (options.selector) await page.locator(options.selector).screenshot({ path: file });
  else await page.screenshot({ path: file, fullPage: options.fullPage ?? true });
  return file;
}

/** Collects console messages and page errors, for assertions and for failure messages. */
export function watchConsole(page: Page): { messages: string[]; errors: string[] } {
  const log = { messages: [] as string[], errors: [] as string[] };
  page.on('console', (m) => log.messages.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.errors.push(e.message));
  return log;
}

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
