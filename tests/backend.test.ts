/**
 * Backend loading and selection, the kernel table, and tensor creation with
 * its bad-input errors.
 */
import { describe, expect, test } from 'vitest';
import {
  availableBackends, ConfigError, getBackend, init, initSync, isBackendSupported, loadBackend, setBackend,
  ShapeError, tensor, ValueError,
} from '../src/index.js';
import { KERNEL_SIGNATURES } from '../src/backend/kernels.js';
import { EACH_BACKEND, withBackend } from './helpers.js';

describe('backend selection', () => {
  test('init picks the best supported backend, in the documented order', async () => {
    const avail = availableBackends();
    expect(avail[avail.length - 1]).toBe('js');
    expect(avail[0]).toBe(isBackendSupported('wasm-relaxed-simd') ? 'wasm-relaxed-simd' : isBackendSupported('wasm-simd') ? 'wasm-simd' : 'js');
    expect(await init()).toBe(avail[0]);
    expect(getBackend()).toBe(avail[0]);
    expect(await init({ backend: 'wasm' })).toBe(avail[0]);
  });

  test('init({ backend }) overrides; init is idempotent and returns the same backend object', async () => {
    expect(await init({ backend: 'js' })).toBe('js');
    expect(getBackend()).toBe('js');
    const a = await loadBackend('wasm-simd');
    const b = await loadBackend('wasm-simd');
    expect(a).toBe(b);
    expect(initSync({ backend: 'wasm-simd' })).toBe('wasm-simd');
    expect(tensor([1]).backend).toBe(a);
    setBackend('js');
    expect(getBackend()).toBe('js');
  });

  test('unknown backends and options are errors that list the valid ones', async () => {
    await expect(init({ backend: 'gpu' as never })).rejects.toThrow(
      "init: unknown backend 'gpu'; valid: 'auto', 'wasm', 'wasm-relaxed-simd', 'wasm-simd', 'js'",
    );
    await expect(init({ backnd: 'js' } as never)).rejects.toThrow(ConfigError);
    await expect(init({ maxMemoryBytes: -1 })).rejects.toThrow('init: maxMemoryBytes must be an integer');
  });

  test('the embedded wasm builds are stored deflated and inflate to valid modules of the recorded size', async () => {
    const wb = await import('../src/backend/wasm-bytes.js');
    const { inflateRaw } = await import('../src/backend/inflate.js');
    expect(wb.WASM_DEFLATED).toBe(true);
    for (const [size, b64] of [[wb.SIMD_WASM_BYTES, wb.SIMD_WASM_BASE64], [wb.RELAXED_WASM_BYTES, wb.RELAXED_WASM_BASE64]] as const) {
      const packed = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      expect(packed.length).toBeLessThan(size / 2);
      const bytes = inflateRaw(packed, size);
      expect([...bytes.subarray(0, 4)]).toEqual([0, 0x61, 0x73, 0x6d]); // "\0asm"
      // Compiles (the relaxed build only where the runtime has relaxed SIMD).
      if (size === wb.SIMD_WASM_BYTES || isBackendSupported('wasm-relaxed-simd')) expect(new WebAssembly.Module(bytes)).toBeInstanceOf(WebAssembly.Module);
    }
  });
});

describe.each(EACH_BACKEND)('kernel table on %s', (_name, be) => {
  test('every declared kernel exists with the declared arity', () => {
    for (const [name, sig] of Object.entries(KERNEL_SIGNATURES)) {
      const fn = (be.k as Record<string, (...a: number[]) => unknown>)[name];
      expect(typeof fn, name).toBe('function');
      if (be.name !== 'js') expect(fn.length, name).toBe(sig.length);
    }
  });

  test('tensor creation: nested, flat with shape, typed arrays, int32, scalars', () => {
    withBackend(be, () => {
      expect(tensor([[1, 2, 3], [4, 5, 6]]).shape).toEqual([2, 3]);
      expect(tensor([1, 2, 3, 4, 5, 6], [3, 2]).tolist()).toEqual([[1, 2], [3, 4], [5, 6]]);
      expect(tensor(new Float32Array([1.5, 2]), [2, 1]).tolist()).toEqual([[1.5], [2]]);
      expect(tensor(7).shape).toEqual([]);
      expect(tensor(7).item()).toBe(7);
      const labels = tensor([0, 2, 1], undefined, { dtype: 'int32' });
      expect(labels.dtype).toBe('int32');
      expect(Array.from(labels.data())).toEqual([0, 2, 1]);
      expect(tensor([], [0, 3]).size).toBe(0);
    });
  });

  test('bad data: wrong length, ragged arrays, bad dims, non-integer int32 — nothing allocated', () => {
    withBackend(be, () => {
      const before = be.heap.liveBytes;
      expect(() => tensor([1, 2, 3], [2, 2])).toThrow('tensor: data has 3 elements but shape [2,2] needs 4');
      expect(() => tensor([[1, 2], [3]])).toThrow(ShapeError);
      expect(() => tensor([1, 2], [-1, -2])).toThrow('dimensions must be non-negative integers');
      expect(() => tensor([1, 2], [2.5])).toThrow(ShapeError);
      expect(() => tensor([1.5], undefined, { dtype: 'int32' })).toThrow(ValueError);
      expect(() => tensor([1], undefined, { dtype: 'float64' as never })).toThrow("unknown dtype 'float64'");
      expect(() => tensor([1, 2]).item()).toThrow('item: tensor');
      expect(be.heap.liveBytes).toBe(before + 16); // only the [1,2] tensor of the item() line
    });
  });
});
