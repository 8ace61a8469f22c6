/**
 * Loading and choosing backends.
 *
 * `await init()` compiles the wasm build this runtime supports — relaxed SIMD,
 * else plain SIMD, else falls back to the js backend — and makes it the
 * default for new tensors. Feature detection is exact: each embedded build is
 * checked with `WebAssembly.validate`, so a runtime gets the best build it can
 * actually run. Everything after `init` is synchronous. Calling `init` again is
 * cheap (compiled modules are cached); `init({ backend })` switches.
 *
 * Several backends can be loaded at once (tests and benchmarks run the same
 * model on each); a tensor lives on the backend that made it.
 *
 * A failed wasm load is not fatal when the caller did not name a backend:
 * `init()` (and the lazy first-use load) tries the next build, then the js
 * backend, and reports why with `console.warn` and a warning that pages can
 * show (`onWarning(listener)`, `getWarnings()`, and a `wasmgrad:warning`
 * event on `globalThis`). Typical cause in a browser: a Content-Security-Policy
 * without `'wasm-unsafe-eval'`. The external-asset build (no inlined bytes)
 * fetches `wasmgrad.{relaxed,simd}.wasm` next to itself unless `init({ wasm })`
 * gives URLs or bytes.
 */

import { ConfigError, WasmError } from '../errors.js';
import { Heap, MAX_HEAP_BYTES } from './heap.js';
import { createJsHeap, createJsKernels } from './js/index.js';
import { KERNEL_SIGNATURES, type Kernels } from './kernels.js';
import type { Backend, BackendName } from './types.js';
import { inflateRaw } from './inflate.js';
import {
  RELAXED_WASM_BASE64, RELAXED_WASM_BYTES, SIMD_WASM_BASE64, SIMD_WASM_BYTES, WASM_DEFLATED, wasmAssetUrl,
} from './wasm-bytes.js';

export type { Backend, BackendName } from './types.js';

/** Bytes of a wasm build, or where to fetch them (for a strict-CSP page that serves the .wasm separately). */
export type WasmSource = BufferSource | URL | string | Response | Promise<Response>;

export interface InitOptions {
  /**
   * Which backend new tensors use. `'auto'` (default) and `'wasm'` pick the
   * best wasm build the runtime supports and fall back to `'js'` when it has no
   * WebAssembly SIMD; a named backend that cannot run here is an error.
   */
  backend?: 'auto' | 'wasm' | BackendName;
  /** Largest the heap may grow to, in bytes. Default: 4 GiB (the wasm32 limit). Applies to backends loaded by this call. */
  maxMemoryBytes?: number;
  /** Override the embedded wasm builds (bytes or a URL to fetch). */
  wasm?: { simd?: WasmSource; relaxed?: WasmSource };
}

export const BACKEND_NAMES: readonly BackendName[] = ['wasm-relaxed-simd', 'wasm-simd', 'js'];
const INIT_DEFAULTS = Object.freeze({ backend: 'auto' as const, maxMemoryBytes: MAX_HEAP_BYTES });

const loaded = new Map<BackendName, Backend>();
const modules = new Map<BackendName, WebAssembly.Module>();
let active: Backend | null = null;

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// The browser bundles inline both builds deflated, the Node bundles raw
// (scripts/build.mjs); the external-asset bundles inline none (size 0) and
// fetch them instead.
const EMBEDDED = {
  'wasm-simd': { size: SIMD_WASM_BYTES, base64: SIMD_WASM_BASE64 },
  'wasm-relaxed-simd': { size: RELAXED_WASM_BYTES, base64: RELAXED_WASM_BASE64 },
} as const;
const embedded = new Map<BackendName, Uint8Array<ArrayBuffer>>();

const hasEmbedded = (name: 'wasm-relaxed-simd' | 'wasm-simd'): boolean => EMBEDDED[name].size > 0;

/**
 * The embedded build's bytes, decoded once on first use. Synchronous, so
 * `initSync` and the lazy load of the first tensor can use it; inflating
 * ~110 KiB takes a few ms (the platform's DecompressionStream is async, and
 * in Node slower to start than this).
 */
function embeddedBytes(name: 'wasm-relaxed-simd' | 'wasm-simd'): Uint8Array<ArrayBuffer> {
  let bytes = embedded.get(name);
  if (!bytes) {
    const { size, base64 } = EMBEDDED[name];
    bytes = WASM_DEFLATED ? inflateRaw(decodeBase64(base64), size) : decodeBase64(base64);
    embedded.set(name, bytes);
  }
  return bytes;
}

// Feature probes for builds whose bytes are not embedded (the external-asset
// build): the smallest modules using a SIMD opcode and a relaxed-SIMD opcode
// (the bytes the wasm-feature-detect package uses).
const FEATURE_PROBES = {
  'wasm-simd': [0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11],
  'wasm-relaxed-simd': [
    0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 15, 1, 13, 0, 65, 1, 253, 15, 65, 2, 253, 15, 253, 128, 2, 11,
  ],
} as const;

/**
 * True when this runtime can run the given backend: `WebAssembly.validate` of
 * the smallest module using the build's opcodes (SIMD; SIMD + relaxed SIMD).
 * A build that passes the probe but then fails to compile still falls back
 * (with a warning) in `init()`.
 */
export function isBackendSupported(name: BackendName): boolean {
  if (name === 'js') return true;
  if (typeof WebAssembly !== 'object' || typeof WebAssembly.validate !== 'function') return false;
  try {
    return WebAssembly.validate(new Uint8Array(FEATURE_PROBES[name]));
  } catch {
    return false;
  }
}

// ─── warnings: a wasm build that could not load ────────────────────────────

/** Why wasmgrad runs on a slower backend than the runtime advertises. */
export interface BackendWarning {
  /** 'wasm-load-failed': a wasm build failed to fetch, compile or instantiate; 'wasm-unsupported': no WebAssembly SIMD here. */
  code: 'wasm-load-failed' | 'wasm-unsupported';
  /** A sentence a page can show as is. */
  message: string;
  /** The backend that runs instead. */
  backend: BackendName;
  /** One line per build that failed: `wasm-relaxed-simd: <error>`. */
  failures: string[];
}

const warningListeners = new Set<(w: BackendWarning) => void>();
const warningLog: BackendWarning[] = [];

/**
 * Calls `listener` for every backend warning from now on (a failed wasm load
 * that fell back). Returns a function that unsubscribes.
 * @example onWarning((w) => banner.textContent = w.message);
 */
export function onWarning(listener: (w: BackendWarning) => void): () => void {
  warningListeners.add(listener);
  return () => warningListeners.delete(listener);
}

/** Every backend warning so far (for a page that subscribes after `init`). */
export function getWarnings(): BackendWarning[] {
  return [...warningLog];
}

function emitWarning(w: BackendWarning): void {
  warningLog.push(w);
  console.warn(`wasmgrad: ${w.message}`);
  for (const l of warningListeners) {
    try {
      l(w);
    } catch {
      // a listener's bug must not break backend loading
    }
  }
  const g = globalThis as { dispatchEvent?: (e: Event) => boolean };
  if (typeof g.dispatchEvent === 'function' && typeof CustomEvent === 'function') {
    g.dispatchEvent(new CustomEvent('wasmgrad:warning', { detail: w }));
  }
}

function fallbackWarning(failures: string[], now: BackendName): void {
  if (failures.length === 0) {
    if (now === 'js' && !warningLog.some((w) => w.code === 'wasm-unsupported')) {
      emitWarning({
        code: 'wasm-unsupported', backend: now, failures,
        message: 'this runtime has no WebAssembly SIMD, so wasmgrad runs on its plain-JavaScript backend (slower); ' +
          'WebAssembly SIMD needs Chrome 91+, Firefox 89+, Safari 16.4+ or Node 16.4+',
      });
    }
    return;
  }
  emitWarning({
    code: 'wasm-load-failed', backend: now, failures,
    message: `WebAssembly could not be loaded, so wasmgrad runs on the ${now} backend` +
      `${now === 'js' ? ' (plain JavaScript, slower)' : ''}: ${failures.join('; ')}; ` +
      `hint: a Content-Security-Policy must allow 'wasm-unsafe-eval' in script-src, and the external-asset build ` +
      `must be able to fetch its .wasm files`,
  });
}

/** The backends this runtime can run, best first. */
export function availableBackends(): BackendName[] {
  return BACKEND_NAMES.filter(isBackendSupported);
}

function resolveName(choice: InitOptions['backend']): BackendName {
  const valid = ['auto', 'wasm', ...BACKEND_NAMES];
  if (choice === undefined || choice === 'auto' || choice === 'wasm') {
    return availableBackends()[0];
  }
  if (!BACKEND_NAMES.includes(choice)) {
    throw new ConfigError(`init: unknown backend '${String(choice)}'; valid: ${valid.map((v) => `'${v}'`).join(', ')}`);
  }
  if (!isBackendSupported(choice)) {
    throw new ConfigError(
      `init: backend '${choice}' cannot run here (this runtime rejects its WebAssembly features); ` +
        `available: ${availableBackends().join(', ')}` +
        (choice === 'wasm-relaxed-simd' ? `; hint: Node 20 needs --experimental-wasm-relaxed-simd` : ''),
    );
  }
  return choice;
}

function bindKernels(name: BackendName, instance: WebAssembly.Instance): Kernels {
  const exp = instance.exports as Record<string, unknown>;
  const k: Record<string, unknown> = {};
  for (const [kname, sig] of Object.entries(KERNEL_SIGNATURES)) {
    const fn = exp[kname];
    if (typeof fn !== 'function' || fn.length !== sig.length) {
      throw new WasmError(
        `${name}: the wasm module's export '${kname}' is missing or takes ${typeof fn === 'function' ? fn.length : 'no'} ` +
          `arguments instead of ${sig.length}; hint: rebuild with npm run build`,
      );
    }
    k[kname] = fn;
  }
  return k as Kernels;
}

function makeWasmBackend(name: BackendName, module: WebAssembly.Module, maxBytes: number): Backend {
  let instance: WebAssembly.Instance;
  try {
    instance = new WebAssembly.Instance(module, {});
  } catch (e) {
    throw new WasmError(`init: instantiating the ${name} build failed: ${(e as Error).message}`);
  }
  const memory = instance.exports.memory as WebAssembly.Memory;
  const heapBase = (instance.exports.heap_base as () => number)();
  const heap = new Heap(memory, heapBase, maxBytes);
  const k = bindKernels(name, instance);
  const gemmWs = heap.alloc(k.gemm_workspace_bytes(), 'the gemm workspace');
  return { name, heap, k, gemmWs };
}

function makeJsBackend(maxBytes: number): Backend {
  const heap = createJsHeap(maxBytes);
  const k = createJsKernels(heap);
  return { name: 'js', heap, k, gemmWs: 0 };
}

async function sourceBytes(src: WasmSource): Promise<BufferSource> {
  let s: unknown = await src;
  if (typeof s === 'string' || s instanceof URL) s = await fetch(s);
  if (typeof Response !== 'undefined' && s instanceof Response) {
    if (!s.ok) throw new WasmError(`init: fetching the wasm build failed: HTTP ${s.status} ${s.url}`);
    return new Uint8Array(await s.arrayBuffer());
  }
  return s as BufferSource;
}

async function compile(name: 'wasm-relaxed-simd' | 'wasm-simd', override?: WasmSource): Promise<WebAssembly.Module> {
  let mod = modules.get(name);
  if (!mod || override) {
    // The external-asset build embeds no bytes: fetch the .wasm that sits next to the bundle.
    const source = override ?? (hasEmbedded(name) ? null : wasmAssetUrl(name === 'wasm-simd' ? 'simd' : 'relaxed'));
    let bytes: BufferSource;
    try {
      bytes = source ? await sourceBytes(source) : embeddedBytes(name);
    } catch (e) {
      if (e instanceof WasmError) throw e;
      throw new WasmError(`init: fetching the ${name} build failed: ${(e as Error).message}`);
    }
    try {
      mod = await WebAssembly.compile(bytes);
    } catch (e) {
      throw new WasmError(`init: compiling the ${name} build failed: ${(e as Error).message}`);
    }
    modules.set(name, mod);
  }
  return mod;
}

function compileSync(name: 'wasm-relaxed-simd' | 'wasm-simd'): WebAssembly.Module {
  let mod = modules.get(name);
  if (!mod) {
    if (!hasEmbedded(name)) {
      throw new WasmError(`initSync: this build fetches its wasm separately; hint: await init() (optionally with { wasm: { simd: url, relaxed: url } }) before creating tensors`);
    }
    try {
      mod = new WebAssembly.Module(embeddedBytes(name) as BufferSource);
    } catch (e) {
      throw new WasmError(`initSync: compiling the ${name} build failed: ${(e as Error).message}`);
    }
    modules.set(name, mod);
  }
  return mod;
}

function checkOptions(options: InitOptions, fn: string): Required<Pick<InitOptions, 'maxMemoryBytes'>> & InitOptions {
  const known = ['backend', 'maxMemoryBytes', 'wasm'];
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new ConfigError(`${fn}: unknown option '${key}'; valid: ${known.join(', ')}`);
  }
  const o = { ...INIT_DEFAULTS, ...options };
  const max = o.maxMemoryBytes;
  if (!Number.isInteger(max) || max < 65536 || max > MAX_HEAP_BYTES) {
    throw new ConfigError(`${fn}: maxMemoryBytes must be an integer from 65536 to ${MAX_HEAP_BYTES}; got ${max}`);
  }
  return o;
}

/**
 * Loads (once) and returns a backend without making it the default.
 * Tests and benchmarks use this to run the same work on every backend.
 */
export async function loadBackend(name: BackendName, options: InitOptions = {}): Promise<Backend> {
  const o = checkOptions(options, 'loadBackend');
  const have = loaded.get(name);
  if (have) return have;
  resolveName(name);
  let b: Backend;
  if (name === 'js') b = makeJsBackend(o.maxMemoryBytes);
  else {
    const override = name === 'wasm-simd' ? o.wasm?.simd : o.wasm?.relaxed;
    b = makeWasmBackend(name, await compile(name, override), o.maxMemoryBytes);
  }
  loaded.set(name, b);
  return b;
}

/** Synchronous `loadBackend` (compiles the embedded wasm on the calling thread). */
export function loadBackendSync(name: BackendName, options: InitOptions = {}): Backend {
  const o = checkOptions(options, 'loadBackendSync');
  const have = loaded.get(name);
  if (have) return have;
  resolveName(name);
  const b = name === 'js' ? makeJsBackend(o.maxMemoryBytes) : makeWasmBackend(name, compileSync(name), o.maxMemoryBytes);
  loaded.set(name, b);
  return b;
}

/**
 * Loads the best backend this runtime supports (or the one named) and makes
 * it the default for new tensors. Idempotent; returns the backend's name.
 *
 * @example
 * await init();                    // 'wasm-relaxed-simd', 'wasm-simd' or 'js'
 * await init({ backend: 'js' });   // plain JavaScript kernels
 */
export async function init(options: InitOptions = {}): Promise<BackendName> {
  const o = checkOptions(options, 'init');
  const name = resolveName(o.backend);
  if (!isAutomatic(o.backend)) {
    active = await loadBackend(name, options);
    return name;
  }
  // 'auto' / 'wasm': best build first; a build that fails to load falls back, with a warning.
  const failures: string[] = [];
  for (const candidate of availableBackends()) {
    try {
      active = await loadBackend(candidate, options);
      fallbackWarning(failures, candidate);
      return candidate;
    } catch (e) {
      if (candidate === 'js' || !(e instanceof WasmError)) throw e;
      failures.push(`${candidate}: ${(e as Error).message}`);
    }
  }
  throw new WasmError('init: no backend could be loaded'); // unreachable: js always loads
}

function isAutomatic(choice: InitOptions['backend']): boolean {
  return choice === undefined || choice === 'auto' || choice === 'wasm';
}

/** Synchronous `init` for code that cannot await (compiles on the calling thread). */
export function initSync(options: Omit<InitOptions, 'wasm'> = {}): BackendName {
  const o = checkOptions(options, 'initSync');
  const name = resolveName(o.backend);
  if (!isAutomatic(o.backend)) {
    active = loadBackendSync(name, options);
    return name;
  }
  const failures: string[] = [];
  for (const candidate of availableBackends()) {
    try {
      active = loadBackendSync(candidate, options);
      fallbackWarning(failures, candidate);
      return candidate;
    } catch (e) {
      if (candidate === 'js' || !(e instanceof WasmError)) throw e;
      failures.push(`${candidate}: ${(e as Error).message}`);
    }
  }
  throw new WasmError('initSync: no backend could be loaded'); // unreachable: js always loads
}

/** The name of the backend new tensors use. */
export function getBackend(): BackendName {
  return currentBackend().name;
}

/** Makes an already-loaded backend (or a loaded Backend object) the default. */
export function setBackend(b: BackendName | Backend): void {
  if (typeof b === 'string') {
    const have = loaded.get(b);
    if (!have) {
      throw new ConfigError(`setBackend: backend '${b}' is not loaded; hint: await init({ backend: '${b}' }) first`);
    }
    active = have;
  } else {
    active = b;
  }
}

/** @internal The default backend; loads the best one synchronously on first use if `init` was never called. */
export function currentBackend(): Backend {
  if (active === null) initSync();
  return active!;
}
