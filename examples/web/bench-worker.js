// The in-page benchmark, in a worker so the page stays responsive: the same
// kernels on every backend this browser can run — square matrix products
// (GFLOPS) and one training step of MLP 784-256-10 with Adam, batch 64
// (samples/s): the matmul and MLP cases of `npm run bench`, in the page.
import * as wg from '../../dist/wasmgrad.browser.js';

const BACKENDS = ['wasm-relaxed-simd', 'wasm-simd', 'js'];

/** Runs fn repeatedly for about `ms` (after one warm-up call); returns the median time of one call. */
function time(fn, ms = 250) {
  fn();
  const times = [];
  const end = performance.now() + ms;
  while (performance.now() < end || times.length < 3) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

function gemm(be, n) {
  const a = wg.tensor(Float32Array.from({ length: n * n }, (_, i) => ((i * 7) % 13) / 13 - 0.5), [n, n], { backend: be });
  const b = wg.tensor(Float32Array.from({ length: n * n }, (_, i) => ((i * 5) % 11) / 11 - 0.5), [n, n], { backend: be });
  const ms = time(() => wg.tidy(() => wg.matmul(a, b)));
  a.dispose();
  b.dispose();
  return (2 * n ** 3) / (ms * 1e6);
}

function mlpStep(be, batch = 64) {
  wg.setBackend(be);
  wg.seed(1);
  const model = new wg.Sequential(new wg.Linear(784, 256), new wg.ReLU(), new wg.Linear(256, 10));
  const opt = new wg.Adam(model.parameters(), { lr: 1e-3 });
  const x = wg.tensor(Float32Array.from({ length: batch * 784 }, (_, i) => ((i * 7919) % 256) / 255), [batch, 784]);
  const y = wg.tensor(Int32Array.from({ length: batch }, (_, i) => i % 10), [batch], { dtype: 'int32' });
  const ms = time(() => wg.tidy(() => {
    const loss = wg.crossEntropy(model.forward(x), y);
    opt.zeroGrad();
    wg.backward(loss);
    opt.step();
  }));
  model.dispose();
  opt.dispose();
  x.dispose();
  y.dispose();
  return (batch / ms) * 1000;
}

self.onmessage = async () => {
  const tests = [
    ['matmul 256×256', 'GFLOPS', (be) => gemm(be, 256)],
    ['matmul 512×512', 'GFLOPS', (be) => gemm(be, 512)],
    ['train MLP 784-256-10, batch 64', 'samples/s', (be) => mlpStep(be)],
  ];
  for (const name of BACKENDS) {
    let be = null, note = '';
    if (!wg.isBackendSupported(name)) note = 'not supported by this browser';
    else {
      try {
        be = await wg.loadBackend(name);
      } catch (e) {
        note = `could not load: ${e.message.slice(0, 80)}`;
      }
    }
    for (const [group, unit, run] of tests) {
      const row = { group, unit, backend: name, value: 0, note };
      if (be) {
        try {
          row.value = run(be);
        } catch (e) {
          row.note = `failed: ${e.message.slice(0, 80)}`;
        }
      }
      self.postMessage({ type: 'result', row });
      await new Promise((r) => setTimeout(r, 0));
    }
  }
  self.postMessage({ type: 'done' });
};
