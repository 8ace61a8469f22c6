import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Binary fixtures (tests/fixtures/*.safetensors) import as inline data URLs in Node and browser alike.
  assetsInclude: ['**/*.safetensors'],
  test: {
    include: ['tests/**/*.test.ts'],
    pool: 'forks',
    // Relaxed SIMD is behind a flag on Node 20 (on by default from Node 22);
    // --expose-gc lets the FinalizationRegistry test force a collection.
    execArgv: ['--experimental-wasm-relaxed-simd', '--expose-gc'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
