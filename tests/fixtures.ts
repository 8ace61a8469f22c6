/**
 * PyTorch-produced fixtures (tests/fixtures/*.safetensors, made by
 * scripts/fixtures/torch_fixtures.py), imported as inline data URLs so the same
 * tests run in Node and in the browser. Each fixture is a state_dict (`state`)
 * and its inputs and PyTorch's output (`io`); a new fixture is two imports and
 * one line below.
 */
import mlp from './fixtures/torch-mlp.safetensors?inline';
import mlpIo from './fixtures/torch-mlp-io.safetensors?inline';
import cnn from './fixtures/torch-cnn.safetensors?inline';
import cnnIo from './fixtures/torch-cnn-io.safetensors?inline';
import batchnorm from './fixtures/torch-batchnorm.safetensors?inline';
import batchnormIo from './fixtures/torch-batchnorm-io.safetensors?inline';
import encoderLayer from './fixtures/torch-encoder-layer.safetensors?inline';
import encoderLayerIo from './fixtures/torch-encoder-layer-io.safetensors?inline';
import encoderLayerPrenorm from './fixtures/torch-encoder-layer-prenorm.safetensors?inline';
import encoderLayerPrenormIo from './fixtures/torch-encoder-layer-prenorm-io.safetensors?inline';
import encoder from './fixtures/torch-encoder.safetensors?inline';
import encoderIo from './fixtures/torch-encoder-io.safetensors?inline';
import decoderLayer from './fixtures/torch-decoder-layer.safetensors?inline';
import decoderLayerIo from './fixtures/torch-decoder-layer-io.safetensors?inline';
import mhaKdim from './fixtures/torch-mha-kdim.safetensors?inline';
import mhaKdimIo from './fixtures/torch-mha-kdim-io.safetensors?inline';
import embedding from './fixtures/torch-embedding.safetensors?inline';
import embeddingIo from './fixtures/torch-embedding-io.safetensors?inline';
import lstm from './fixtures/torch-lstm.safetensors?inline';
import lstmIo from './fixtures/torch-lstm-io.safetensors?inline';

function bytesOf(dataUrl: string): Uint8Array {
  const b64 = dataUrl.slice(dataUrl.indexOf(',') + 1);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

export interface TorchFixture {
  /** The model's state_dict as PyTorch saved it. */
  state: Uint8Array;
  /** The inputs (usually 'input') and 'output', PyTorch's result for them. */
  io: Uint8Array;
}

export const FIXTURES: Record<string, TorchFixture> = {
  'mlp': { state: bytesOf(mlp), io: bytesOf(mlpIo) },
  'cnn': { state: bytesOf(cnn), io: bytesOf(cnnIo) },
  'batchnorm': { state: bytesOf(batchnorm), io: bytesOf(batchnormIo) },
  'encoder-layer': { state: bytesOf(encoderLayer), io: bytesOf(encoderLayerIo) },
  'encoder-layer-prenorm': { state: bytesOf(encoderLayerPrenorm), io: bytesOf(encoderLayerPrenormIo) },
  'encoder': { state: bytesOf(encoder), io: bytesOf(encoderIo) },
  'decoder-layer': { state: bytesOf(decoderLayer), io: bytesOf(decoderLayerIo) },
  'mha-kdim': { state: bytesOf(mhaKdim), io: bytesOf(mhaKdimIo) },
  'embedding': { state: bytesOf(embedding), io: bytesOf(embeddingIo) },
  'lstm': { state: bytesOf(lstm), io: bytesOf(lstmIo) },
};
