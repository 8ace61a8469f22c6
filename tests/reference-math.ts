/**
 * float64 references for the activation, softmax and loss tests: erf/erfc and
 * the normal CDF by series and continued fraction (independent of the
 * Chebyshev fits the kernels use), softmax over an axis, cross-entropy.
 */

const TWO_OVER_SQRT_PI = 1.1283791670955126;

/**
 * erfc(x) in float64, to ~1e-15 relative:
 *   |x| < 3:  erf(x) = 2/√π · e^{−x²} · Σ 2ⁿ x^{2n+1} / (1·3·…·(2n+1))   (A&S 7.1.6, all terms positive)
 *   x ≥ 3:    erfc(x) = e^{−x²}/√π / (x + ½/(x + 1/(x + (3/2)/(x + …))))  (A&S 7.1.14, evaluated from the tail)
 */
export function erfc64(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc64(-x);
  if (x < 3) return 1 - erf64(x);
  let f = x;
  for (let k = 300; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

export function erf64(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return -erf64(-x);
  if (x >= 3) return 1 - erfc64(x);
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x * x) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x * x) * sum;
}

/** Φ(x), the standard normal CDF. */
export function normCdf64(x: number): number {
  return 0.5 * erfc64(-x / Math.SQRT2);
}

/** φ(x), the standard normal density. */
export function normPdf64(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

export function sigmoid64(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

const GELU_K = Math.sqrt(2 / Math.PI);

/** Forward and backward (given x, dy) of every unary op, in float64. */
export const UNARY_REF: Record<string, { f: (x: number) => number; df: (x: number) => number }> = {
  relu: { f: (x) => Math.max(x, 0), df: (x) => (x > 0 ? 1 : 0) },
  leakyRelu: { f: (x) => (x > 0 ? x : 0.01 * x), df: (x) => (x > 0 ? 1 : 0.01) },
  sigmoid: { f: sigmoid64, df: (x) => sigmoid64(x) * sigmoid64(-x) },
  tanh: { f: Math.tanh, df: (x) => 1 - Math.tanh(x) ** 2 },
  gelu: { f: (x) => x * normCdf64(x), df: (x) => normCdf64(x) + x * normPdf64(x) },
  // ½x(1 + tanh u) = x·σ(2u): the σ form has no cancellation for x ≪ 0.
  geluTanh: {
    f: (x) => x * sigmoid64(2 * GELU_K * (x + 0.044715 * x ** 3)),
    df: (x) => {
      const a = 2 * GELU_K * (x + 0.044715 * x ** 3);
      return sigmoid64(a) + x * sigmoid64(a) * sigmoid64(-a) * 2 * GELU_K * (1 + 3 * 0.044715 * x * x);
    },
  },
  silu: { f: (x) => x * sigmoid64(x), df: (x) => sigmoid64(x) * (1 + x * sigmoid64(-x)) },
  exp: { f: Math.exp, df: Math.exp },
  log: { f: Math.log, df: (x) => 1 / x },
  sqrt: { f: Math.sqrt, df: (x) => 0.5 / Math.sqrt(x) },
  neg: { f: (x) => -x, df: () => -1 },
  abs: { f: Math.abs, df: (x) => Math.sign(x) },
};

/** softmax (or log-softmax) of x with shape `shape` over `axis`, in float64. */
export function softmax64(x: ArrayLike<number>, shape: readonly number[], axis: number, log = false): Float64Array {
  const rank = shape.length;
  const ax = axis < 0 ? axis + rank : axis;
  const n = shape[ax] ?? 1;
  const inner = shape.slice(ax + 1).reduce((a, b) => a * b, 1);
  const outer = shape.slice(0, ax).reduce((a, b) => a * b, 1);
  const y = new Float64Array(x.length);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const at = (k: number) => o * n * inner + k * inner + j;
      let m = -Infinity;
      for (let k = 0; k < n; k++) m = Math.max(m, x[at(k)]);
      let s = 0;
      for (let k = 0; k < n; k++) s += Math.exp(x[at(k)] - m);
      for (let k = 0; k < n; k++) y[at(k)] = log ? x[at(k)] - m - Math.log(s) : Math.exp(x[at(k)] - m) / s;
    }
  }
  return y;
}

/** Per-row softmax cross-entropy with label smoothing ε, in float64. */
export function crossEntropy64(logits: ArrayLike<number>, labels: ArrayLike<number>, c: number, eps = 0): Float64Array {
  const n = labels.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = Array.from({ length: c }, (_, j) => logits[i * c + j]);
    const lp = softmax64(row, [c], 0, true);
    let l = 0;
    for (let j = 0; j < c; j++) l -= ((j === labels[i] ? 1 - eps : 0) + eps / c) * lp[j];
    out[i] = l;
  }
  return out;
}
