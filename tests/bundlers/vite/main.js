// A page built by Vite: import from 'wasmgrad' (wasm inlined), train in a worker.
import { init, matmul, ReLU, Linear, seed, Sequential, tensor, trainInWorker } from 'wasmgrad';

async function main() {
  const backend = await init();
  const product = matmul(tensor([[1, 2], [3, 4]]), tensor([[1], [1]])).tolist();
  seed(42); // a fixed initialisation: some random ones leave XOR in a local minimum
  const model = new Sequential(new Linear(2, 8), new ReLU(), new Linear(8, 2));
  const x = tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
  const y = tensor([0, 1, 1, 0], [4], { dtype: 'int32' });
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  const losses = [];
  const r = await trainInWorker(worker, model, { x, y }, {
    epochs: 200, batchSize: 4, optimizer: { type: 'Adam', lr: 0.05 }, onEpochEnd: (l) => losses.push(l.loss),
  }).done;
  return { backend, matmul: product, worker: { backend: r.backend, first: losses[0], last: losses[losses.length - 1], steps: r.history.steps } };
}

main().then((r) => (window.__result = r), (e) => (window.__result = { error: String(e?.stack ?? e) }));
