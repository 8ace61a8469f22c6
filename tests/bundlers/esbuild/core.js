// Tree-shaking probe: only tensors and matmul. The bundle must leave out training, io, workers.
import { init, matmul, tensor } from 'wasmgrad';

await init();
window.__result = { matmul: matmul(tensor([[1, 2]]), tensor([[3], [4]])).tolist() };
