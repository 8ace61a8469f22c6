// The external-asset build with no URLs: it fetches the .wasm next to the bundle (import.meta.url).
import { init, matmul, tensor } from './node_modules/wasmgrad/dist/wasmgrad.browser.external.min.js';

init()
  .then((backend) => (window.__result = { backend, matmul: matmul(tensor([[1, 2], [3, 4]]), tensor([[1], [1]])).tolist() }))
  .catch((e) => (window.__result = { error: String(e?.stack ?? e) }));
