// ONNX Runtime Web contender (`ort-wasm`), matmul only: the wasm execution
// provider with ort.env.wasm.numThreads = 1 (no pthread workers are started),
// on a one-node MatMul model encoded here by hand (ONNX is protobuf; a
// MatMul graph needs a dozen fields).
//
// A and B are both graph inputs — fed every run, copied into ORT's wasm heap,
// and the product copied out — so ORT packs B every call like the others do;
// with B as an initializer ORT would pre-pack it once. session.run is async,
// and its per-call overhead is part of what a user of ORT pays.
import path from 'node:path';
import { randomMatrix } from '../cases/matmul.mjs';
import { watchWasmReads } from './tfjs.mjs';

// --- a minimal protobuf writer for the ONNX messages used here (onnx.proto3)
const varint = (n) => {
  const out = [];
  let v = BigInt(n);
  while (v > 127n) {
    out.push(Number(v & 127n) | 128);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
};
const intField = (field, n) => [...varint(field << 3), ...varint(n)];
const bytesField = (field, bytes) => [...varint((field << 3) | 2), ...varint(bytes.length), ...bytes];
const strField = (field, s) => bytesField(field, [...new TextEncoder().encode(s)]);

/** ValueInfoProto{name=1, type=2: TypeProto{tensor_type=1: {elem_type=1 (FLOAT=1), shape=2: {dim=1: {dim_value=1}}}}} */
const valueInfo = (name, dims) => [
  ...strField(1, name),
  ...bytesField(2, bytesField(1, [...intField(1, 1), ...bytesField(2, dims.flatMap((d) => bytesField(1, intField(1, d))))])),
];

/** ModelProto{ir_version=1: 8, producer_name=2, graph=7, opset_import=8: {version=2: 13}} for C = MatMul(A, B). */
export function matmulModel(m, k, n) {
  const node = [...strField(1, 'A'), ...strField(1, 'B'), ...strField(2, 'C'), ...strField(3, 'matmul'), ...strField(4, 'MatMul')];
  const graph = [
    ...bytesField(1, node), ...strField(2, 'matmul'),
    ...bytesField(11, valueInfo('A', [m, k])), ...bytesField(11, valueInfo('B', [k, n])),
    ...bytesField(12, valueInfo('C', [m, n])),
  ];
  return new Uint8Array([...intField(1, 8), ...strField(2, 'wasmgrad-bench'), ...bytesField(7, graph), ...bytesField(8, intField(2, 13))]);
}

export async function loadOrt() {
  let ort;
  try {
    ort = await import('onnxruntime-web');
  } catch (e) {
    return { ort: null, info: { ok: false, reason: `import onnxruntime-web failed: ${e.message}` } };
  }
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  const info = { version: ort.env.versions?.web ?? 'unknown', numThreads: ort.env.wasm.numThreads };
  try {
    // Initialise the runtime with a tiny session, observing which .wasm it reads.
    info.wasmReads = await watchWasmReads(async () => {
      const s = await ort.InferenceSession.create(matmulModel(2, 2, 2), { executionProviders: ['wasm'] });
      const t = new ort.Tensor('float32', new Float32Array(4).fill(1), [2, 2]);
      const r = await s.run({ A: t, B: t });
      if (r.C.data[0] !== 2) throw new Error(`ORT MatMul self-check gave ${r.C.data[0]}, expected 2`);
      await s.release();
    });
    info.ok = true;
    info.file = info.wasmReads.map((r) => path.basename(r.file)).join(', ') || 'unknown';
    info.flavour = /threaded/.test(info.file)
      ? `onnxruntime-web ${info.version} ships only SIMD+threads wasm builds; this is the plain one (not JSEP/JSPI/asyncify); with numThreads = 1 it starts no pthread workers: single thread`
      : info.file;
  } catch (e) {
    info.ok = false;
    info.reason = `onnxruntime-web failed in Node: ${String(e?.message ?? e).split('\n')[0]}`;
  }
  return { ort, info };
}

export async function ortMatmul({ ort, info }, spec) {
  const name = 'ort-wasm';
  if (!info.ok) return { name, status: 'unsupported', reason: info.reason };
  const session = await ort.InferenceSession.create(matmulModel(spec.m, spec.k, spec.n), {
    executionProviders: ['wasm'], graphOptimizationLevel: 'all',
  });
  const feeds = {
    A: new ort.Tensor('float32', randomMatrix(spec.m * spec.k, 1), [spec.m, spec.k]),
    B: new ort.Tensor('float32', randomMatrix(spec.k * spec.n, 2), [spec.k, spec.n]),
  };
  return {
    name, status: 'ok', workPerStep: spec.workPerStep,
    step: async () => {
      const out = await session.run(feeds);
      out.C.dispose?.();
    },
    dispose: () => session.release(),
  };
}
