// Preloaded (`node -r ./scripts/relaxed-simd.cjs …`) by the package scripts and
// the vitest configs: turns WebAssembly relaxed SIMD on where this Node ships
// it behind a flag (Node 20, V8 11.3), so the wasm-relaxed-simd backend can be
// tested and measured. Passing --experimental-wasm-relaxed-simd on the command
// line instead would break on Node versions where the feature is on by default
// and V8 has dropped the flag ("bad option"), as it did --experimental-wasm-simd.
'use strict';
// The smallest module using a relaxed-SIMD opcode (as src/backend/index.ts probes).
const PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 15, 1, 13, 0, 65, 1, 253, 15, 65, 2, 253, 15, 253, 128, 2, 11,
]);
let how = null; // null: on by default in this runtime
if (typeof WebAssembly === 'object' && !WebAssembly.validate(PROBE)) {
  require('node:v8').setFlagsFromString('--experimental-wasm-relaxed-simd');
  how = 'v8.setFlagsFromString (scripts/relaxed-simd.cjs)';
}
/** How relaxed SIMD was turned on here (null when it is on by default); benchmarks report it. */
module.exports = { relaxedSimdFlag: how };
