// npm start (for now): multiply matrices on every backend this runtime has and
// print GFLOPS, WASM against plain JavaScript.
import { availableBackends, loadBackend, matmul, tensor, tidy } from 'wasmgrad';

const N = 384;
const data = Float32Array.from({ length: N * N }, (_, i) => Math.sin(i));
console.log(`wasmgrad demo: ${N}×${N} matmul on each backend (single thread)\n`);
const rates = {};
for (const name of availableBackends()) {
  const be = await loadBackend(name);
  const a = tensor(data, [N, N], { backend: be });
  const run = () => tidy(() => { matmul(a, a); });
  run();
  const t0 = performance.now();
  let reps = 0;
  while (performance.now() - t0 < 400) { run(); reps++; }
  const ms = (performance.now() - t0) / reps;
  rates[name] = (2 * N ** 3) / ms / 1e6;
  console.log(`${name.padEnd(18)} ${ms.toFixed(2).padStart(8)} ms  ${rates[name].toFixed(1).padStart(6)} GFLOPS`);
  a.dispose();
}
const best = availableBackends()[0];
if (best !== 'js') console.log(`\n${best} is ${(rates[best] / rates.js).toFixed(1)}× the plain-JS backend.`);
