import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';

// The same test files, run in headless Chromium (Debian's /usr/bin/chromium;
// .ci/run installs it when missing). Tests that need Node (files, --expose-gc)
// check for it and skip themselves in the browser.
export default defineConfig({
  // Binary fixtures (tests/fixtures/*.safetensors) import as inline data URLs in Node and browser alike.
  assetsInclude: ['**/*.safetensors'],
  test: {
    include: ['tests/**/*.test.ts'],
    exclude: ['tests/node/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    browser: {
      enabled: true,
      headless: true,
      screenshotFailures: false,
      provider: playwright({
        launchOptions: {
          executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
          args: [
            '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
            '--disable-component-update', '--disable-sync', '--js-flags=--expose-gc',
          ],
        },
      }),
      instances: [{ browser: 'chromium' }],
    },
  },
});
