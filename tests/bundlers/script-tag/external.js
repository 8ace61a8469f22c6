// The external-asset build: the bundle has no inlined wasm; init() fetches
// wasmgrad.{relaxed,simd}.wasm from next to the bundle (or the URLs given).
import { getWarnings, init, matmul, tensor } from './node_modules/wasmgrad/dist/wasmgrad.browser.external.min.js';

const base = new URL('./node_modules/wasmgrad/dist/', location.href);
init({ wasm: { simd: new URL('wasmgrad.simd.wasm', base), relaxed: new URL('wasmgrad.relaxed.wasm', base) } })
  .then((backend) => {
    window.__result = { backend, matmul: matmul(tensor([[1, 2], [3, 4]]), tensor([[1], [1]])).tolist(), warnings: getWarnings().map((w) => w.message) };
  })
  .catch((e) => (window.__result = { error: String(e?.stack ?? e) }));
