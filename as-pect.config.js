import v8 from 'node:v8';

// The relaxed-SIMD specs need this on Node 20 (asp re-spawns node, so a
// command-line flag would not reach it).
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

export default {
  entries: ['assembly/__tests__/**/*.spec.ts'],
  include: ['assembly/__tests__/**/*.include.ts'],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    return instantiate(binary, createImports({ env: { memory } }));
  },
  outputBinary: false,
};
