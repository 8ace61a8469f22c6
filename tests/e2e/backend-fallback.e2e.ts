/**
 * A wasm build that fails to load falls back (next build, then js) with a
 * warning, instead of failing the page: init() in a fresh module state (this
 * file runs in its own process), with broken bytes and unreachable URLs given
 * as overrides. The browser cases (a CSP that blocks WebAssembly, a missing
 * .wasm) are in playground.e2e.ts and bundlers.e2e.ts.
 *
 * The steps depend on each other (loaded backends are cached), so they run in order.
 */
import { afterAll, describe, expect, test, vi } from 'vitest';
import {
  availableBackends, ConfigError, getBackend, getWarnings, init, initSync, onWarning, tensor, WasmError, type BackendWarning,
} from '../../src/index.js';

const BROKEN = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 99]); // a wasm header, then garbage
const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
afterAll(() => warn.mockRestore());

describe.sequential('wasm load failure → fallback', () => {
  const seen: BackendWarning[] = [];
  const unsubscribe = onWarning((w) => seen.push(w));

  test('a named backend that fails to load is still an error (no silent fallback)', async () => {
    await expect(init({ backend: 'wasm-simd', wasm: { simd: BROKEN } })).rejects.toThrow(WasmError);
    await expect(init({ backend: 'wasm-simd', wasm: { simd: BROKEN } })).rejects.toThrow(/init: compiling the wasm-simd build failed/);
    expect(seen).toEqual([]);
  });

  test('every wasm build broken: init() resolves to js, warns once with each failure, and tensors work', async () => {
    expect(availableBackends()[0]).toMatch(/^wasm-/);
    const buggy = onWarning(() => {
      throw new Error('a listener with a bug must not break loading');
    });
    const name = await init({ wasm: { simd: BROKEN, relaxed: 'http://127.0.0.1:9/wasmgrad.relaxed.wasm' } });
    buggy();
    expect(name).toBe('js');
    expect(getBackend()).toBe('js');
    expect(tensor([[1, 2]]).tolist()).toEqual([[1, 2]]);
    expect(seen).toHaveLength(1);
    const w = seen[0];
    expect(w.code).toBe('wasm-load-failed');
    expect(w.backend).toBe('js');
    expect(w.failures).toHaveLength(availableBackends().length - 1);
    expect(w.failures.join('\n')).toMatch(/wasm-simd: init: compiling the wasm-simd build failed/);
    if (availableBackends().includes('wasm-relaxed-simd')) {
      expect(w.failures.join('\n')).toMatch(/wasm-relaxed-simd: init: fetching the wasm-relaxed-simd build failed/);
    }
    expect(w.message).toMatch(/^WebAssembly could not be loaded, so wasmgrad runs on the js backend \(plain JavaScript, slower\)/);
    expect(w.message).toMatch(/hint: a Content-Security-Policy must allow 'wasm-unsafe-eval'/);
    expect(warn).toHaveBeenCalledWith(`wasmgrad: ${w.message}`);
    expect(getWarnings()).toEqual([w]);
  });

  test('only the relaxed build broken: init() takes the plain SIMD build, with a warning naming it', async () => {
    if (!availableBackends().includes('wasm-relaxed-simd')) return; // needs a runtime with relaxed SIMD
    const name = await init({ wasm: { relaxed: BROKEN } });
    expect(name).toBe('wasm-simd');
    expect(seen).toHaveLength(2);
    expect(seen[1].backend).toBe('wasm-simd');
    expect(seen[1].message).toMatch(/runs on the wasm-simd backend: wasm-relaxed-simd: /);
  });

  test('no WebAssembly SIMD at all: js, with a wasm-unsupported warning (once); unsubscribed listeners hear nothing', () => {
    unsubscribe();
    const validate = WebAssembly.validate;
    WebAssembly.validate = () => false;
    try {
      expect(availableBackends()).toEqual(['js']);
      expect(initSync()).toBe('js');
      expect(initSync()).toBe('js');
    } finally {
      WebAssembly.validate = validate;
    }
    expect(seen.some((w) => w.code === 'wasm-unsupported')).toBe(false);
    const unsupported = getWarnings().filter((w) => w.code === 'wasm-unsupported');
    expect(unsupported).toHaveLength(1);
    expect(unsupported[0].message).toMatch(/this runtime has no WebAssembly SIMD, so wasmgrad runs on its plain-JavaScript backend/);
  });

  test('unknown init options are still errors', async () => {
    await expect(init({ bogus: 1 } as never)).rejects.toThrow(ConfigError);
  });
});
