// as-pect specs for assembly/vmath.ts: the vector exp, log, log1p, tanh,
// sigmoid, erf and erfc against float64 scalar references (Math.* and, for
// erf/erfc, a series and a continued fraction) over wide ranges, every lane
// checked (and vexpNeg, the attention kernels' exp for x ≤ 0). The measured
// worst relative errors are logged.
import { verf, verfc, vexp, vexpNeg, vlog, vlog1p, vsigmoid, vtanh } from "../vmath";

// ─── float64 references ─────────────────────────────────────────────────────

// erf by the all-positive series 2/√π·e^{−x²}·Σ 2ⁿx^{2n+1}/(2n+1)!! (|x| < 3),
// erfc by the continued fraction e^{−x²}/√π / (x + ½/(x + 1/(x + …))) (x ≥ 3).
function erfc64(x: f64): f64 {
  if (x < 0) return 2 - erfc64(-x);
  if (x < 3) return 1 - erf64(x);
  let f = x;
  for (let k = 300; k >= 1; k--) f = x + <f64>k / 2 / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

function erf64(x: f64): f64 {
  if (x < 0) return -erf64(-x);
  if (x >= 3) return 1 - erfc64(x);
  let term = x, sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x * x) / <f64>(2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return 1.1283791670955126 * Math.exp(-x * x) * sum;
}

function exp64(x: f64): f64 { return Math.exp(x); }
function log64(x: f64): f64 { return Math.log(x); }
function log1p64(x: f64): f64 { return Math.log1p(x); }
function tanh64(x: f64): f64 { return Math.tanh(x); }
function sigmoid64(x: f64): f64 { return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)); }

// ─── harness ────────────────────────────────────────────────────────────────

// Worst |f(x) − ref(x)| / |ref(x)| over n float32 points from lo to hi
// (geometric when geo), four per vector in distinct lanes; results below
// 1e-37 in magnitude (subnormal) are skipped.
function worstRelError(f: (v: v128) => v128, ref: (x: f64) => f64, lo: f64, hi: f64, n: i32, geo: bool): f64 {
  let worst: f64 = 0;
  for (let i = 0; i < n; i += 4) {
    const x0 = point(lo, hi, i, n, geo), x1 = point(lo, hi, i + 1, n, geo);
    const x2 = point(lo, hi, i + 2, n, geo), x3 = point(lo, hi, i + 3, n, geo);
    const y = f(f32x4(x0, x1, x2, x3));
    worst = Math.max(worst, relErr(f32x4.extract_lane(y, 0), ref(<f64>x0)));
    worst = Math.max(worst, relErr(f32x4.extract_lane(y, 1), ref(<f64>x1)));
    worst = Math.max(worst, relErr(f32x4.extract_lane(y, 2), ref(<f64>x2)));
    worst = Math.max(worst, relErr(f32x4.extract_lane(y, 3), ref(<f64>x3)));
  }
  return worst;
}

function point(lo: f64, hi: f64, i: i32, n: i32, geo: bool): f32 {
  const t = <f64>min(i, n - 1) / <f64>(n - 1);
  return <f32>(geo ? lo * Math.pow(hi / lo, t) : lo + (hi - lo) * t);
}

function relErr(y: f32, r: f64): f64 {
  if (Math.abs(r) < 1e-37) return Math.abs(<f64>y) < 1e-30 ? 0 : 1;
  const e = Math.abs(<f64>y - r) / Math.abs(r);
  return isNaN(e) ? 1 : e;
}


// Function values for the harness (the vmath functions themselves are @inline).
function fexp(v: v128): v128 { return vexp(v); }
function fexpNeg(v: v128): v128 { return vexpNeg(v); }
function flog(v: v128): v128 { return vlog(v); }
function flog1p(v: v128): v128 { return vlog1p(v); }
function ftanh(v: v128): v128 { return vtanh(v); }
function fsigmoid(v: v128): v128 { return vsigmoid(v); }
function ferf(v: v128): v128 { return verf(v); }
function ferfc(v: v128): v128 { return verfc(v); }

describe("vmath", () => {
  test("vexp: ≤ 1e-6 relative over the whole finite range", () => {
    const e = Math.max(worstRelError(fexp, exp64, -87.3, 88.7, 400000, false), worstRelError(fexp, exp64, -1, 1, 100000, false));
    log<f64>(e);
    expect<f64>(e).toBeLessThan(1e-6);
  });

  test("vexpNeg (attention's exp): ≤ 2.5e-7 relative from −87 to 0; −∞ → 0, below −88 → 0, NaN", () => {
    let e = worstRelError(fexpNeg, exp64, -87, 0, 400000, false);
    e = Math.max(e, worstRelError(fexpNeg, exp64, -1, 0, 100000, false));
    log<f64>(e);
    expect<f64>(e).toBeLessThan(2.5e-7);
    expect<f64>(e).toBeGreaterThan(0); // (the harness runs)
    const y = vexpNeg(f32x4(-Infinity, -100, 0, NaN));
    expect<f32>(f32x4.extract_lane(y, 0)).toBe(0);
    expect<f32>(f32x4.extract_lane(y, 1)).toBe(0);
    expect<f32>(f32x4.extract_lane(y, 2)).toBe(1);
    expect<bool>(isNaN(f32x4.extract_lane(y, 3))).toBe(true);
  });

  test("vexp: limits (underflow to 0, overflow to +Inf, NaN, subnormal results)", () => {
    const y = vexp(f32x4(-200, 200, -Infinity, Infinity));
    expect<f32>(f32x4.extract_lane(y, 0)).toBe(0);
    expect<f32>(f32x4.extract_lane(y, 1)).toBe(Infinity);
    expect<f32>(f32x4.extract_lane(y, 2)).toBe(0);
    expect<f32>(f32x4.extract_lane(y, 3)).toBe(Infinity);
    expect<bool>(isNaN(f32x4.extract_lane(vexp(f32x4.splat(NaN)), 0))).toBe(true);
    // e^{-100} ≈ 3.7e-44 is subnormal: within one subnormal step.
    expect<f64>(Math.abs(<f64>f32x4.extract_lane(vexp(f32x4.splat(-100)), 0) - Math.exp(-100))).toBeLessThan(1.5e-45);
  });

  test("vlog: ≤ 1e-6 relative for normal and subnormal inputs; 0, negatives, Inf, NaN", () => {
    let e = worstRelError(flog, log64, 1e-37, 3e38, 400000, true);
    e = Math.max(e, worstRelError(flog, log64, 0.5, 2, 100000, false));
    e = Math.max(e, worstRelError(flog, log64, 1e-45, 1e-38, 10000, true));
    log<f64>(e);
    expect<f64>(e).toBeLessThan(1e-6);
    const y = vlog(f32x4(0, -1, Infinity, NaN));
    expect<f32>(f32x4.extract_lane(y, 0)).toBe(-Infinity);
    expect<bool>(isNaN(f32x4.extract_lane(y, 1))).toBe(true);
    expect<f32>(f32x4.extract_lane(y, 2)).toBe(Infinity);
    expect<bool>(isNaN(f32x4.extract_lane(y, 3))).toBe(true);
  });

  test("vlog1p: ≤ 1e-6 relative from 1e-30 to 1e30", () => {
    const e = worstRelError(flog1p, log1p64, 1e-30, 1e30, 200000, true);
    log<f64>(e);
    expect<f64>(e).toBeLessThan(1e-6);
  });

  test("vtanh and vsigmoid: ≤ 1e-6 relative; saturate without NaN", () => {
    let e = worstRelError(ftanh, tanh64, -20, 20, 200000, false);
    e = Math.max(e, worstRelError(ftanh, tanh64, 1e-30, 1, 100000, true));
    log<f64>(e);
    expect<f64>(e).toBeLessThan(1e-6);
    const s = worstRelError(fsigmoid, sigmoid64, -87, 100, 200000, false);
    log<f64>(s);
    expect<f64>(s).toBeLessThan(1e-6);
    const t = vtanh(f32x4(-50, 50, -1000, 1000));
    expect<f32>(f32x4.extract_lane(t, 0)).toBe(-1);
    expect<f32>(f32x4.extract_lane(t, 3)).toBe(1);
    const g = vsigmoid(f32x4(-1000, 1000, -100, 100));
    expect<f32>(f32x4.extract_lane(g, 0)).toBe(0);
    expect<f32>(f32x4.extract_lane(g, 1)).toBe(1);
    expect<f32>(f32x4.extract_lane(g, 3)).toBe(1);
  });

  test("verf: ≤ 1e-6 relative, including tiny arguments; saturates to ±1", () => {
    let e = worstRelError(ferf, erf64, -6, 6, 200000, false);
    e = Math.max(e, worstRelError(ferf, erf64, 1e-30, 1, 100000, true));
    log<f64>(e);
    expect<f64>(e).toBeLessThan(1e-6);
    const y = verf(f32x4(-10, 10, 0, NaN));
    expect<f32>(f32x4.extract_lane(y, 0)).toBe(-1);
    expect<f32>(f32x4.extract_lane(y, 1)).toBe(1);
    expect<f32>(f32x4.extract_lane(y, 2)).toBe(0);
    expect<bool>(isNaN(f32x4.extract_lane(y, 3))).toBe(true);
  });

  test("verfc: ≤ 1e-6 relative far into the tail (erfc(9) ≈ 4e-37)", () => {
    const e = worstRelError(ferfc, erfc64, -6, 9.1, 200000, false);
    log<f64>(e);
    expect<f64>(e).toBeLessThan(1e-6);
  });
});
