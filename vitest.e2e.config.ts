import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// End-to-end tests: Node drives headless Chromium (Debian's /usr/bin/chromium,
// through playwright) against the playground's own server (scripts/demo-web.mjs)
// and against consumer projects built by esbuild and Vite (tests/bundlers/).
// Files are *.e2e.ts, so the unit configs (tests/**/*.test.ts) never pick them up.
export default defineConfig({
  test: {
    include: ['tests/e2e/**/*.e2e.ts'],
    pool: 'forks',
    execArgv: ['-r', fileURLToPath(new URL('./scripts/relaxed-simd.cjs', import.meta.url))],
    // One file at a time: each drives a browser, and CI machines have 2 cores.
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
