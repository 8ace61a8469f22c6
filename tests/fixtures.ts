/**
 * PyTorch-produced fixtures (tests/fixtures/*.safetensors, made by
 * scripts/fixtures/torch_fixtures.py), imported as inline data URLs so the same
 * tests run in Node and in the browser.
 */
import mlp from './fixtures/torch-mlp.safetensors?inline';
import mlpIo from './fixtures/torch-mlp-io.safetensors?inline';

function bytesOf(dataUrl: string): Uint8Array {
  const b64 = dataUrl.slice(dataUrl.indexOf(',') + 1);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

export const FIXTURES = {
  mlp: { state: bytesOf(mlp), io: bytesOf(mlpIo) },
};
