import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Binary fixtures (tests/fixtures/*.safetensors) import as inline data URLs in Node and browser alike.
  assetsInclude: ['**/*.safetensors'],
  test: {
    include: ['tests/**/*.test.ts'],
    pool: 'forks',
    // Relaxed SIMD is behind a flag on Node 20 (on by default from Node 22): the
    // preload turns it on only where needed (scripts/relaxed-simd.cjs);
    // --expose-gc lets the FinalizationRegistry test force a collection.
    execArgv: ['-r', fileURLToPath(new URL('./scripts/relaxed-simd.cjs', import.meta.url)), '--expose-gc'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
