/**
 * Weight initializers (PyTorch's torch.nn.init, Keras's initializers).
 *
 * Each takes a shape and an options object and returns a new float32 tensor:
 *
 *   zeros, ones, constant({ value })
 *   uniform({ low = 0, high = 1 })             U[low, high)
 *   normal({ mean = 0, std = 1 })              N(mean, std²)
 *   truncatedNormal({ mean = 0, std = 1, a = mean − 2·std, b = mean + 2·std })
 *                                              N(mean, std²) resampled until in [a, b]
 *   xavierUniform / glorotUniform({ gain = 1 })   U[−g·√(6/(fanIn+fanOut)), +…]
 *   xavierNormal  / glorotNormal({ gain = 1 })    N(0, g²·2/(fanIn+fanOut))
 *   kaimingUniform / heUniform({ a = 0, mode = 'fanIn', nonlinearity = 'leakyRelu' })
 *                                              U[−gain·√(3/fan), +…]
 *   kaimingNormal  / heNormal(same)            N(0, gain²/fan)
 *   lecunUniform / lecunNormal({ gain = 1 })   kaiming with gain 1 and fanIn (U[−√(3/fanIn), +…], N(0, 1/fanIn))
 *   orthogonal({ gain = 1 })                   gain·Q, Q from the QR of a Gaussian matrix (Saxe et al. 2013)
 *
 * Common options: `seed` (a per-call generator, independent of the global
 * one; default: draw from the global generator, see `seed()` in random.ts),
 * `backend`, `requiresGrad`, `name`, and for fan-based initializers explicit
 * `fanIn` / `fanOut`.
 *
 * Layout and fans. wasmgrad's dense weight is [in, out] (y = x·W), so for a
 * 2-D shape fanIn = shape[0] and fanOut = shape[1] — the opposite of PyTorch's
 * [out, in]. For rank > 2 the default follows the same convention with the
 * receptive field in front, [..., in, out] (Keras's HWIO conv layout):
 *   receptive = Π shape[0 … rank−3],  fanIn = shape[rank−2]·receptive,  fanOut = shape[rank−1]·receptive.
 * Layers with another layout pass `fanIn` / `fanOut` explicitly. Rank 0 and 1
 * have no fans (as in PyTorch): pass them explicitly or it is an error.
 *
 * Numbers are generated in float64 JavaScript and written to the heap, so a
 * seed gives bit-identical tensors on every backend.
 *
 * Fill an existing tensor in place with `initialize(t, 'heNormal', options)`;
 * look an initializer up by name with `getInitializer(name)`.
 */

import type { Backend } from './backend/index.js';
import { ConfigError, DTypeError, ShapeError, ValueError, fmtShape } from './errors.js';
import { generatorFor, type Generator } from './random.js';
import { empty, type Shape, type Tensor } from './tensor.js';

// ─── options ────────────────────────────────────────────────────────────────

export interface InitializerOptions {
  /** Seed for this call only (the global generator is neither used nor advanced). Default: the global generator. */
  seed?: number;
  /** Backend of the new tensor. Default: the current backend. Not accepted by `initialize` (the tensor has one). */
  backend?: Backend;
  /** Mark the new tensor as a parameter. Default false. Not accepted by `initialize`. */
  requiresGrad?: boolean;
  /** Name of the new tensor. Not accepted by `initialize`. */
  name?: string;
}

export interface FanOptions {
  /** Fan-in override. Default: from the shape (see the file header). */
  fanIn?: number;
  /** Fan-out override. Default: from the shape. */
  fanOut?: number;
}

export interface ConstantOptions extends InitializerOptions {
  /** Default 0. */
  value?: number;
}
export interface UniformOptions extends InitializerOptions {
  /** Default 0. */
  low?: number;
  /** Default 1. */
  high?: number;
}
export interface NormalOptions extends InitializerOptions {
  /** Default 0. */
  mean?: number;
  /** Default 1. */
  std?: number;
}
export interface TruncatedNormalOptions extends NormalOptions {
  /** Lower cut-off (absolute). Default mean − 2·std. */
  a?: number;
  /** Upper cut-off (absolute). Default mean + 2·std. */
  b?: number;
}
export interface GainOptions extends InitializerOptions, FanOptions {
  /** Multiplier (see `calculateGain`). Default 1. */
  gain?: number;
}

/** Nonlinearities `calculateGain` knows (PyTorch's names in camelCase). */
export type Nonlinearity = 'linear' | 'sigmoid' | 'tanh' | 'relu' | 'leakyRelu' | 'selu';

export interface KaimingOptions extends InitializerOptions, FanOptions {
  /** Negative slope of the leaky ReLU that follows (only with nonlinearity 'leakyRelu'). Default 0. */
  a?: number;
  /** Preserve the variance of the forward pass ('fanIn') or the backward pass ('fanOut'). Default 'fanIn'. */
  mode?: 'fanIn' | 'fanOut';
  /** Default 'leakyRelu' (with a = 0 this is ReLU's gain √2), as in PyTorch. */
  nonlinearity?: Nonlinearity;
}

export interface OrthogonalOptions extends InitializerOptions {
  /** Default 1. */
  gain?: number;
}

const COMMON = ['seed', 'backend', 'requiresGrad', 'name'] as const;
const FANS = ['fanIn', 'fanOut'] as const;

/** Defaults of every initializer option, in one frozen place. */
export const INITIALIZER_DEFAULTS = Object.freeze({
  value: 0,
  low: 0,
  high: 1,
  mean: 0,
  std: 1,
  gain: 1,
  a: 0,
  mode: 'fanIn' as const,
  nonlinearity: 'leakyRelu' as const,
});

// ─── gains and fans ─────────────────────────────────────────────────────────

const NONLINEARITIES: readonly Nonlinearity[] = ['linear', 'sigmoid', 'tanh', 'relu', 'leakyRelu', 'selu'];

/**
 * The recommended gain for a nonlinearity (PyTorch's `calculate_gain`):
 * linear/sigmoid 1, tanh 5/3, relu √2, leakyRelu √(2/(1+slope²)) (slope default
 * 0.01), selu 3/4.
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leakyRelu': {
      const slope = param ?? 0.01;
      if (typeof slope !== 'number' || !Number.isFinite(slope)) {
        throw new ValueError(`calculateGain: the leakyRelu slope must be a finite number; got ${String(slope)}`);
      }
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new ConfigError(
        `calculateGain: unknown nonlinearity '${String(nonlinearity)}'; valid: ${NONLINEARITIES.map((n) => `'${n}'`).join(', ')}`,
      );
  }
}

/**
 * fanIn and fanOut of a weight of `shape` in wasmgrad's [..., in, out] layout
 * (see the file header); explicit options win.
 */
export function computeFans(shape: Shape, options: FanOptions = {}, where = 'computeFans'): { fanIn: number; fanOut: number } {
  for (const k of FANS) {
    const v = options[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) {
      throw new ValueError(`${where}: ${k} must be a positive integer; got ${String(v)}`);
    }
  }
  let fanIn = options.fanIn;
  let fanOut = options.fanOut;
  if (fanIn === undefined || fanOut === undefined) {
    const r = shape.length;
    if (r < 2) {
      throw new ShapeError(
        `${where}: fans cannot be computed for a tensor with fewer than 2 dimensions (shape ${fmtShape(shape)}); ` +
          `hint: pass fanIn and fanOut explicitly`,
      );
    }
    let receptive = 1;
    for (let i = 0; i < r - 2; i++) receptive *= shape[i];
    fanIn ??= shape[r - 2] * receptive;
    fanOut ??= shape[r - 1] * receptive;
  }
  return { fanIn, fanOut };
}

// ─── the table ──────────────────────────────────────────────────────────────

type AnyOptions = Record<string, unknown>;

interface Spec {
  /** Option names this initializer accepts beyond the common ones. */
  readonly options: readonly string[];
  /** Fills `out` (the tensor's elements, row-major) for `shape`. Throws before drawing on bad options. */
  fill(out: Float64Array, shape: Shape, o: AnyOptions, gen: () => Generator, where: string): void;
}

function num(o: AnyOptions, key: keyof typeof INITIALIZER_DEFAULTS, where: string, check?: (v: number) => boolean, rule?: string): number {
  const v = o[key] ?? INITIALIZER_DEFAULTS[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || (check && !check(v))) {
    throw new ValueError(`${where}: ${key} must be ${rule ?? 'a finite number'}; got ${String(v)}`);
  }
  return v;
}

function fillUniform(out: Float64Array, g: Generator, low: number, high: number): void {
  // Rejects values that round up to `high` in float32, so results stay in [low, high).
  const lo32 = Math.fround(low);
  for (let i = 0; i < out.length; i++) {
    let v = Math.fround(low + (high - low) * g.uniform());
    while (v >= high && high > low) v = Math.fround(low + (high - low) * g.uniform());
    out[i] = high > low ? v : lo32;
  }
}

function fillNormal(out: Float64Array, g: Generator, mean: number, std: number): void {
  for (let i = 0; i < out.length; i++) out[i] = g.normal(mean, std);
}

// Standard normal CDF via erf (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7):
// only used to refuse cut-offs whose acceptance rate would make resampling hang.
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

function fanBased(kind: 'uniform' | 'normal', scale: (shape: Shape, o: AnyOptions, where: string) => number): Spec['fill'] {
  return (out, shape, o, gen, where) => {
    const s = scale(shape, o, where);
    if (kind === 'uniform') {
      const bound = Math.sqrt(3) * s; // U[−b, b] has std b/√3
      fillUniform(out, gen(), -bound, bound);
    } else {
      fillNormal(out, gen(), 0, s);
    }
  };
}

/** std of the xavier/glorot family: gain·√(2/(fanIn + fanOut)). */
function xavierStd(shape: Shape, o: AnyOptions, where: string): number {
  const gain = num(o, 'gain', where);
  const { fanIn, fanOut } = computeFans(shape, o, where);
  return gain * Math.sqrt(2 / (fanIn + fanOut));
}

/** std of the kaiming/he family: gain/√fan. */
function kaimingStd(shape: Shape, o: AnyOptions, where: string): number {
  const a = num(o, 'a', where);
  const mode = o.mode ?? INITIALIZER_DEFAULTS.mode;
  if (mode !== 'fanIn' && mode !== 'fanOut') {
    throw new ConfigError(`${where}: unknown mode '${String(mode)}'; valid: 'fanIn', 'fanOut'`);
  }
  const nl = (o.nonlinearity ?? INITIALIZER_DEFAULTS.nonlinearity) as Nonlinearity;
  if (!NONLINEARITIES.includes(nl)) {
    throw new ConfigError(`${where}: unknown nonlinearity '${String(nl)}'; valid: ${NONLINEARITIES.map((n) => `'${n}'`).join(', ')}`);
  }
  const gain = calculateGain(nl, a);
  const fans = computeFans(shape, o, where);
  return gain / Math.sqrt(mode === 'fanIn' ? fans.fanIn : fans.fanOut);
}

/** std of the lecun family: gain/√fanIn. */
function lecunStd(shape: Shape, o: AnyOptions, where: string): number {
  const gain = num(o, 'gain', where);
  return gain / Math.sqrt(computeFans(shape, o, where).fanIn);
}

const XAVIER = ['gain', ...FANS];
const KAIMING = ['a', 'mode', 'nonlinearity', ...FANS];

const SPECS = {
  zeros: { options: [], fill: (out) => out.fill(0) },
  ones: { options: [], fill: (out) => out.fill(1) },
  constant: {
    options: ['value'],
    fill: (out, _s, o, _g, where) => out.fill(num(o, 'value', where)),
  },
  uniform: {
    options: ['low', 'high'],
    fill: (out, _s, o, gen, where) => {
      const low = num(o, 'low', where);
      const high = num(o, 'high', where);
      if (!(low <= high)) throw new ValueError(`${where}: low must be ≤ high; got low ${low}, high ${high}`);
      fillUniform(out, gen(), low, high);
    },
  },
  normal: {
    options: ['mean', 'std'],
    fill: (out, _s, o, gen, where) => {
      fillNormal(out, gen(), num(o, 'mean', where), num(o, 'std', where, (v) => v >= 0, 'a finite number ≥ 0'));
    },
  },
  truncatedNormal: {
    options: ['mean', 'std', 'a', 'b'],
    fill: (out, _s, o, gen, where) => {
      const mean = num(o, 'mean', where);
      const std = num(o, 'std', where, (v) => v >= 0, 'a finite number ≥ 0');
      const a = o.a ?? mean - 2 * std;
      const b = o.b ?? mean + 2 * std;
      if (typeof a !== 'number' || typeof b !== 'number' || !Number.isFinite(a) || !Number.isFinite(b) || !(a <= b)) {
        throw new ValueError(`${where}: the cut-offs must be finite numbers with a ≤ b; got a ${String(a)}, b ${String(b)}`);
      }
      if (std === 0) {
        if (!(a <= mean && mean <= b)) throw new ValueError(`${where}: with std 0 the mean ${mean} must lie in [a, b] = [${a}, ${b}]`);
        out.fill(mean);
        return;
      }
      const mass = normalCdf((b - mean) / std) - normalCdf((a - mean) / std);
      if (!(mass >= 1e-4)) {
        throw new ValueError(
          `${where}: [a, b] = [${a}, ${b}] holds only ${mass.toExponential(2)} of N(${mean}, ${std}²); ` +
            `resampling would not finish; hint: put the cut-offs around the mean`,
        );
      }
      const g = gen();
      for (let i = 0; i < out.length; i++) {
        let v = Math.fround(g.normal(mean, std));
        while (v < a || v > b) v = Math.fround(g.normal(mean, std));
        out[i] = v;
      }
    },
  },
  xavierUniform: { options: XAVIER, fill: fanBased('uniform', xavierStd) },
  xavierNormal: { options: XAVIER, fill: fanBased('normal', xavierStd) },
  kaimingUniform: { options: KAIMING, fill: fanBased('uniform', kaimingStd) },
  kaimingNormal: { options: KAIMING, fill: fanBased('normal', kaimingStd) },
  lecunUniform: { options: XAVIER, fill: fanBased('uniform', lecunStd) },
  lecunNormal: { options: XAVIER, fill: fanBased('normal', lecunStd) },
  orthogonal: {
    options: ['gain'],
    fill: (out, shape, o, gen, where) => {
      const gain = num(o, 'gain', where);
      if (shape.length < 2) {
        throw new ShapeError(`${where}: only tensors with 2 or more dimensions are supported; got shape ${fmtShape(shape)}`);
      }
      const cols = shape[shape.length - 1];
      const rows = cols === 0 ? 0 : out.length / cols;
      orthogonalFill(out, rows, cols, gain, gen());
    },
  },
} satisfies Record<string, Spec>;

const ALIASES = {
  glorotUniform: 'xavierUniform',
  glorotNormal: 'xavierNormal',
  heUniform: 'kaimingUniform',
  heNormal: 'kaimingNormal',
} as const;

export type InitializerName = keyof typeof SPECS | keyof typeof ALIASES;

/** Every name `getInitializer` and `initialize` accept. */
export const INITIALIZER_NAMES: readonly InitializerName[] = Object.freeze([
  ...(Object.keys(SPECS) as (keyof typeof SPECS)[]),
  ...(Object.keys(ALIASES) as (keyof typeof ALIASES)[]),
]);

function specOf(name: unknown, where: string): [keyof typeof SPECS, Spec] {
  const canonical = (ALIASES as Record<string, keyof typeof SPECS>)[name as string] ?? name;
  if (typeof canonical !== 'string' || !Object.prototype.hasOwnProperty.call(SPECS, canonical)) {
    throw new ConfigError(`${where}: unknown initializer '${String(name)}'; valid: ${INITIALIZER_NAMES.join(', ')}`);
  }
  return [canonical as keyof typeof SPECS, SPECS[canonical as keyof typeof SPECS]];
}

function checkOptionNames(o: AnyOptions, spec: Spec, where: string, allowCreate: boolean): void {
  if (o === null || typeof o !== 'object') throw new ConfigError(`${where}: options must be an object; got ${String(o)}`);
  const valid = [...spec.options, ...(allowCreate ? COMMON : ['seed'])];
  for (const key of Object.keys(o)) {
    if (!valid.includes(key)) {
      const extra = !allowCreate && (COMMON as readonly string[]).includes(key) ? ' (initialize fills an existing tensor)' : '';
      throw new ConfigError(`${where}: unknown option '${key}'${extra}; valid: ${valid.join(', ')}`);
    }
  }
}

/** Values for `shape`, validated and drawn, before any tensor exists. */
function draw(spec: Spec, shape: Shape, o: AnyOptions, where: string): Float64Array {
  let size = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`${where}: dimensions must be non-negative integers; got ${fmtShape(shape)}`);
    size *= d;
  }
  const out = new Float64Array(size);
  // The generator is created lazily so a bad option throws before the global stream moves.
  let g: Generator | undefined;
  const gen = () => (g ??= generatorFor(o.seed as number | undefined, where));
  if (o.seed !== undefined) generatorFor(o.seed as number, where); // validate the seed first
  spec.fill(out, shape, o, gen, where);
  return out;
}

function writeInto(t: Tensor, values: Float64Array): void {
  // Float32Array.set rounds each float64 to float32; views are read after any allocation.
  t.backend.heap.f32.set(values, t.ptr >>> 2);
}

function create(name: InitializerName, shape: Shape, options: AnyOptions): Tensor {
  const where = name;
  const [, spec] = specOf(name, where);
  checkOptionNames(options, spec, where, true);
  const values = draw(spec, shape, options, where);
  const t = empty(shape, { backend: options.backend as Backend | undefined });
  writeInto(t, values);
  if (options.requiresGrad) t.requiresGrad = true;
  if (options.name !== undefined) t.name = String(options.name);
  return t;
}

// ─── public functions ───────────────────────────────────────────────────────

/** All zeros. */
export const zeros = (shape: Shape, options: InitializerOptions = {}): Tensor => create('zeros', shape, options as AnyOptions);
/** All ones. */
export const ones = (shape: Shape, options: InitializerOptions = {}): Tensor => create('ones', shape, options as AnyOptions);
/** Every element `value` (default 0). */
export const constant = (shape: Shape, options: ConstantOptions = {}): Tensor => create('constant', shape, options as AnyOptions);
/** U[low, high) (default [0, 1)). */
export const uniform = (shape: Shape, options: UniformOptions = {}): Tensor => create('uniform', shape, options as AnyOptions);
/** N(mean, std²) (default N(0, 1)). */
export const normal = (shape: Shape, options: NormalOptions = {}): Tensor => create('normal', shape, options as AnyOptions);
/** N(mean, std²) with values outside [a, b] (default mean ± 2·std) redrawn. */
export const truncatedNormal = (shape: Shape, options: TruncatedNormalOptions = {}): Tensor =>
  create('truncatedNormal', shape, options as AnyOptions);

/**
 * Xavier/Glorot uniform: U[−b, b], b = gain·√(6/(fanIn + fanOut)).
 *
 * @example
 * const W = xavierUniform([784, 256], { requiresGrad: true, name: 'fc1.weight' });
 */
export const xavierUniform = (shape: Shape, options: GainOptions = {}): Tensor => create('xavierUniform', shape, options as AnyOptions);
/** Xavier/Glorot normal: N(0, σ²), σ = gain·√(2/(fanIn + fanOut)). */
export const xavierNormal = (shape: Shape, options: GainOptions = {}): Tensor => create('xavierNormal', shape, options as AnyOptions);
export const glorotUniform = xavierUniform;
export const glorotNormal = xavierNormal;

/**
 * Kaiming/He uniform: U[−b, b], b = gain·√(3/fan), gain = calculateGain(nonlinearity, a),
 * fan = fanIn (default) or fanOut.
 *
 * @example
 * const W = kaimingUniform([784, 256], { nonlinearity: 'relu' }); // b = √(6/784)
 */
export const kaimingUniform = (shape: Shape, options: KaimingOptions = {}): Tensor => create('kaimingUniform', shape, options as AnyOptions);
/** Kaiming/He normal: N(0, σ²), σ = gain/√fan. */
export const kaimingNormal = (shape: Shape, options: KaimingOptions = {}): Tensor => create('kaimingNormal', shape, options as AnyOptions);
export const heUniform = kaimingUniform;
export const heNormal = kaimingNormal;

/** LeCun uniform: U[−b, b], b = gain·√(3/fanIn) (for SELU networks). */
export const lecunUniform = (shape: Shape, options: GainOptions = {}): Tensor => create('lecunUniform', shape, options as AnyOptions);
/** LeCun normal: N(0, σ²), σ = gain/√fanIn (a plain normal, not Keras's truncated one). */
export const lecunNormal = (shape: Shape, options: GainOptions = {}): Tensor => create('lecunNormal', shape, options as AnyOptions);

/**
 * Orthogonal: gain·Q where Q has orthonormal columns (rows ≥ cols: WᵀW = gain²·I)
 * or orthonormal rows (rows < cols: W·Wᵀ = gain²·I). rows = Π shape[0 … rank−2],
 * cols = shape[rank−1] (the output units), from a Gaussian matrix's QR with
 * R's diagonal made positive, so Q is uniformly (Haar) distributed.
 */
export const orthogonal = (shape: Shape, options: OrthogonalOptions = {}): Tensor => create('orthogonal', shape, options as AnyOptions);

/** Any of the initializer functions above. */
export type Initializer = (shape: Shape, options?: AnyOptions) => Tensor;

/**
 * The initializer called `name` ('heNormal', 'xavierUniform', …).
 * An unknown name is a ConfigError listing the valid ones.
 */
export function getInitializer(name: InitializerName | string): Initializer {
  const [canonical] = specOf(name, 'getInitializer');
  return (shape, options = {}) => create(canonical, shape, options);
}

/**
 * Fills an existing float32 tensor in place (no autograd record; use it on
 * parameters before training or inside noGrad). Options are the initializer's
 * own plus `seed`. Returns the tensor.
 *
 * @example
 * initialize(layer.weight, 'heNormal', { seed: 1 });
 */
export function initialize(t: Tensor, name: InitializerName | string, options: AnyOptions = {}): Tensor {
  const where = `initialize(${String(name)})`;
  const [, spec] = specOf(name, 'initialize');
  checkOptionNames(options, spec, where, false);
  t.ptr; // DisposedError for a disposed tensor
  if (t.dtype !== 'float32') throw new DTypeError(`${where}: expected a float32 tensor; got ${t.describe()}`);
  const values = draw(spec, t.shape, options, where);
  writeInto(t, values);
  return t;
}

// ─── orthogonal: Householder QR in float64 ──────────────────────────────────

/**
 * Fills out (rows×cols, row-major) with gain·Q. Works on the tall orientation
 * (m ≥ n) of a Gaussian matrix, takes its thin Q by Householder reflections,
 * multiplies column j by sign(R[j][j]), and transposes back when rows < cols.
 */
function orthogonalFill(out: Float64Array, rows: number, cols: number, gain: number, g: Generator): void {
  if (rows === 0 || cols === 0) return;
  const tall = rows >= cols;
  const m = tall ? rows : cols;
  const n = tall ? cols : rows;
  // A: m×n, row-major. Drawn in the [rows, cols] order, then transposed when wide.
  const drawn = new Float64Array(rows * cols);
  for (let i = 0; i < drawn.length; i++) drawn[i] = g.normal();
  const A = new Float64Array(m * n);
  if (tall) A.set(drawn);
  else for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) A[j * n + i] = drawn[i * cols + j];

  const vs: Float64Array[] = [];
  const rdiag = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    // Householder vector for column k below the diagonal.
    let norm = 0;
    for (let i = k; i < m; i++) norm += A[i * n + k] * A[i * n + k];
    norm = Math.sqrt(norm);
    const x0 = A[k * n + k];
    const alpha = x0 >= 0 ? -norm : norm;
    const v = new Float64Array(m - k);
    for (let i = k; i < m; i++) v[i - k] = A[i * n + k];
    v[0] -= alpha;
    let vnorm = 0;
    for (let i = 0; i < v.length; i++) vnorm += v[i] * v[i];
    vnorm = Math.sqrt(vnorm);
    if (vnorm > 0) {
      for (let i = 0; i < v.length; i++) v[i] /= vnorm;
      // A[k:, k:] −= 2·v·(vᵀ·A[k:, k:])
      for (let j = k; j < n; j++) {
        let dot = 0;
        for (let i = k; i < m; i++) dot += v[i - k] * A[i * n + j];
        dot *= 2;
        for (let i = k; i < m; i++) A[i * n + j] -= dot * v[i - k];
      }
    }
    rdiag[k] = vnorm > 0 ? alpha : x0;
    vs.push(v);
  }
  // Q = H_0·H_1·…·H_{n−1}·[I_n; 0], applied right to left.
  const Q = new Float64Array(m * n);
  for (let j = 0; j < n; j++) Q[j * n + j] = 1;
  for (let k = n - 1; k >= 0; k--) {
    const v = vs[k];
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let i = k; i < m; i++) dot += v[i - k] * Q[i * n + j];
      dot *= 2;
      if (dot !== 0) for (let i = k; i < m; i++) Q[i * n + j] -= dot * v[i - k];
    }
  }
  // Sign correction (PyTorch: q *= sign(diag(r))) makes the factorisation unique.
  for (let j = 0; j < n; j++) {
    const s = rdiag[j] < 0 ? -gain : gain;
    for (let i = 0; i < m; i++) Q[i * n + j] *= s;
  }
  if (tall) out.set(Q);
  else for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = Q[j * n + i];
}
