/**
 * Property-based fuzzing of the safetensors parser and writer (fast-check).
 *
 *   (a) random valid files round-trip: parse(serialize(x)) = x, and
 *       serialize(parse(bytes)) = bytes;
 *   (b) valid files corrupted — random bytes, truncation, extension,
 *       header-length tampering, JSON field mutations, duplicate keys,
 *       token splices — and wholly random bytes or random JSON headers: the
 *       parser either returns a result that passes every invariant (views of
 *       the right length, inside the input window, tiling the data buffer) or
 *       throws a FormatError — never another exception type (no RangeError,
 *       no TypeError), never a view outside the input.
 *
 * Inputs sit inside a larger buffer with junk on both sides, so a read
 * outside the window would show up as a view outside it. Seeds are fixed so
 * CI is reproducible; FUZZ_SEED / FUZZ_SCALE override them locally.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  DTYPE_BYTES, FormatError, parseSafetensors, serializeSafetensors, type ParsedSafetensors, type SafetensorsDType,
} from '../src/index.js';

// `process` does not exist in the browser run (vitest.browser.config.ts): fixed seeds there.
const env: Record<string, string | undefined> = typeof process === 'undefined' ? {} : process.env;
const SEED = Number(env.FUZZ_SEED ?? 20240611);
const SCALE = Number(env.FUZZ_SCALE ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));

const DTYPES = Object.keys(DTYPE_BYTES) as SafetensorsDType[];

// ─── arbitraries ───────────────────────────────────────────────────────────

interface Spec {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  seed: number;
}

const nameArb = fc
  .oneof(
    fc.string({ maxLength: 12 }),
    fc.string({ unit: 'binary', maxLength: 6 }),
    fc.constantFrom('weight', 'bias', 'fc1.weight', '__proto__', 'constructor', '', 'a"b', 'x\\y', 'toString'),
  )
  .filter((s) => s !== '__metadata__');

const specArb: fc.Arbitrary<Omit<Spec, 'name'>> = fc.record({
  dtype: fc.constantFrom(...DTYPES),
  shape: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 4 }),
  seed: fc.integer(),
});

const specsArb = fc
  .uniqueArray(fc.tuple(nameArb, specArb), { maxLength: 8, selector: ([n]) => n })
  .map((list) => list.map(([name, s]) => ({ name, ...s })));

const metadataArb = fc.uniqueArray(fc.tuple(fc.string({ unit: 'binary', maxLength: 8 }), fc.string({ maxLength: 16 })), {
  maxLength: 4,
  selector: ([k]) => k,
});

function bytesFor(spec: Spec): Uint8Array {
  const n = spec.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[spec.dtype];
  const out = new Uint8Array(n);
  let s = spec.seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

function build(specs: Spec[], meta: [string, string][]): Uint8Array {
  return serializeSafetensors(
    new Map(specs.map((s) => [s.name, { dtype: s.dtype, shape: s.shape, data: bytesFor(s) }])),
    new Map(meta),
  );
}

const validFileArb = fc.tuple(specsArb, metadataArb).map(([specs, meta]) => build(specs, meta));

// ─── mutations ─────────────────────────────────────────────────────────────

type Mutation = (file: Uint8Array) => Uint8Array;

/** A mutation that needs a readable header leaves the file alone when an earlier one broke it. */
const safely = (m: Mutation): Mutation => (file) => {
  try {
    return m(file);
  } catch {
    return file;
  }
};

const enc = new TextEncoder();
const dec = new TextDecoder();

function headerOf(file: Uint8Array): { n: number; json: string; data: Uint8Array } {
  const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  return { n, json: dec.decode(file.subarray(8, 8 + n)), data: file.subarray(8 + n) };
}

function assemble(json: string, data: Uint8Array, n?: bigint, pad = true): Uint8Array {
  let h = enc.encode(json);
  if (pad && h.length % 8 !== 0) {
    const p = new Uint8Array(Math.ceil(h.length / 8) * 8).fill(0x20);
    p.set(h);
    h = p;
  }
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, n ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

const wildNumber = fc.oneof(
  fc.integer({ min: -3, max: 70 }),
  fc.constantFrom(-1, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 64, 1e300, 0.5, -0, 1e-7),
  fc.double(),
);
const wildValue: fc.Arbitrary<unknown> = fc.oneof(
  wildNumber,
  fc.constantFrom(null, true, false, '', 'F32', 'BF16', 'F8_E4M3', 'x', [], {}, [0], [0, 0, 0], ['0', '8']),
  fc.array(wildNumber, { maxLength: 4 }),
  fc.jsonValue({ maxDepth: 2 }),
);

const byteLen = (e: Record<string, unknown>) => (e.data_offsets as number[])[1] - (e.data_offsets as number[])[0];

/** Parses the generated header, changes one field of one entry (or __metadata__), writes it back. */
const jsonFieldMutation: fc.Arbitrary<Mutation> = fc
  .record({
    pick: fc.nat(),
    field: fc.constantFrom(
      'dtype', 'shape', 'data_offsets', 'entry', 'delete', 'shapeDim', 'offset', 'move', 'swap', 'swap', '__metadata__',
    ),
    value: wildValue,
    delta: fc.integer({ min: -9, max: 9 }),
    idx: fc.nat(3),
    // Mostly the true header length; sometimes a lie of a few bytes.
    lie: fc.oneof(
      { weight: 4, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.integer({ min: -16, max: 16 }) },
    ),
    pad: fc.boolean(),
    fit: fc.boolean(),
  })
  .map(({ pick, field, value, delta, idx, lie, pad, fit }) => safely((file: Uint8Array) => {
    const { json, data } = headerOf(file);
    const obj = JSON.parse(json) as Record<string, Record<string, unknown>>;
    const names = Object.keys(obj).filter((k) => k !== '__metadata__');
    if (field === '__metadata__') obj.__metadata__ = value as Record<string, unknown>;
    else if (names.length > 0) {
      const name = names[pick % names.length];
      const e = obj[name];
      if (field === 'entry') obj[name] = value as Record<string, unknown>;
      else if (field === 'delete') delete e[['dtype', 'shape', 'data_offsets'][idx % 3]];
      else if (field === 'shapeDim' && Array.isArray(e.shape) && e.shape.length > 0) {
        (e.shape as number[])[idx % e.shape.length] += delta;
      } else if (field === 'offset') (e.data_offsets as number[])[idx % 2] += delta;
      else if (field === 'move') {
        // Both ends move: the byte count still matches, the tiling breaks (overlap or gap).
        const o = e.data_offsets as number[];
        o[0] += delta;
        o[1] += delta;
      } else if (field === 'swap') {
        // Two tensors of the same byte length trade places: still a valid file.
        const other = names.find((k) => k !== name && byteLen(obj[k]) === byteLen(e));
        if (other !== undefined) [e.data_offsets, obj[other].data_offsets] = [obj[other].data_offsets, e.data_offsets];
      }
      else e[field] = value;
    }
    const text = JSON.stringify(obj);
    const h = enc.encode(text).length;
    // fit: resize the data buffer to the furthest end, so a moved tensor overlaps or leaves a gap
    // while the last one still ends exactly at the end of the file.
    let body = data;
    if (fit) {
      const ends = names.map((k) => Number((obj[k]?.data_offsets as unknown[] | undefined)?.[1])).filter((x) => Number.isSafeInteger(x) && x >= 0 && x < 1 << 20);
      const len = Math.max(0, ...ends);
      body = new Uint8Array(len);
      body.set(data.subarray(0, len));
    }
    return assemble(text, body, lie === undefined ? undefined : BigInt(Math.max(0, h + lie)), pad);
  }));

/** Textual splices that JSON.stringify cannot produce: duplicate keys, stray tokens, deep nesting. */
const spliceMutation: fc.Arbitrary<Mutation> = fc
  .record({
    at: fc.nat(),
    what: fc.constantFrom(
      'dupEntry', 'dupEmpty', 'dupKey', '{', '}', '[', ']', ',', ':', '"', '\\', '\\u', '\\ud800', '1e999', '-', 'null', '\u0000', '\ufeff',
      '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[',
    ),
  })
  .map(({ at, what }) => safely((file: Uint8Array) => {
    const { json, data } = headerOf(file);
    let text: string;
    if (what === 'dupEntry' || what === 'dupEmpty' || what === 'dupKey') {
      const m = /"((?:[^"\\]|\\.)*)":(\{"dtype":"([A-Z0-9]+)"[^}]*\})/.exec(json);
      if (!m) return file;
      const key = JSON.stringify(JSON.parse(`"${m[1]}"`));
      if (what === 'dupEntry') text = json.replace(/\}\s*$/, `,${key}:${m[2]}}`); // the same entry twice
      else if (what === 'dupEmpty') text = json.replace(/\}\s*$/, `,${key}:{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}`);
      else text = json.replace(m[2], m[2].replace('{', `{"dtype":"${m[3]}",`));
    } else {
      const i = at % (json.trimEnd().length + 1);
      text = json.slice(0, i) + what + json.slice(i);
    }
    return assemble(text, data);
  }));

/** Far deeper nesting than any recursion limit: must be a FormatError, not a stack overflow. Costly, so rarer. */
const deepMutation: fc.Arbitrary<Mutation> = fc.constant(
  safely((file: Uint8Array) => {
    const { json, data } = headerOf(file);
    const i = json.indexOf('"dtype"');
    if (i < 0) return file;
    return assemble(`${json.slice(0, i)}"deep":${'['.repeat(20_000)}${']'.repeat(20_000)},${json.slice(i)}`, data);
  }),
);

const textMutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 20, arbitrary: spliceMutation },
  { weight: 1, arbitrary: deepMutation },
);

const byteMutation: fc.Arbitrary<Mutation> = fc.oneof(
  // overwrite a few bytes anywhere
  fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }).map((edits) => (f: Uint8Array) => {
    const out = f.slice();
    for (const [at, v] of edits) if (out.length > 0) out[at % out.length] = v;
    return out;
  }),
  // flip a bit in the header region (most likely to reach the validator)
  fc.tuple(fc.nat(), fc.nat(7)).map(([at, bit]) => safely((f: Uint8Array) => {
    const out = f.slice();
    const n = Math.min(out.length, 8 + headerOf(f).n);
    if (n > 0) out[at % n] ^= 1 << bit;
    return out;
  })),
  // truncate
  fc.nat().map((len) => (f: Uint8Array) => f.slice(0, len % (f.length + 1))),
  // extend
  fc.uint8Array({ minLength: 1, maxLength: 16 }).map((tail) => (f: Uint8Array) => {
    const out = new Uint8Array(f.length + tail.length);
    out.set(f);
    out.set(tail, f.length);
    return out;
  }),
  // tamper with the u64 header length
  fc
    .oneof(
      fc.integer({ min: -24, max: 24 }).map((d) => ({ delta: d })),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((v) => ({ value: v })),
      fc.constantFrom(0n, 1n, 2n ** 53n - 1n, 2n ** 53n, 100_000_000n, 100_000_001n, 2n ** 63n, 2n ** 64n - 1n).map((v) => ({ value: v })),
    )
    .map((t) => safely((f: Uint8Array) => {
      const out = f.slice();
      const dv = new DataView(out.buffer);
      const n = dv.getBigUint64(0, true);
      const v = 'value' in t ? t.value : n + BigInt(t.delta) < 0n ? 0n : n + BigInt(t.delta);
      dv.setBigUint64(0, v, true);
      return out;
    })),
);

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: byteMutation },
  { weight: 3, arbitrary: jsonFieldMutation },
  { weight: 2, arbitrary: textMutation },
);

// ─── the oracle ────────────────────────────────────────────────────────────

/** Places `file` inside a larger buffer with junk before and after; returns the window. */
function embed(file: Uint8Array, before: number, after: number): Uint8Array {
  const big = new Uint8Array(before + file.length + after).fill(0xa5);
  big.set(file, before);
  return big.subarray(before, before + file.length);
}

let outcomes = { ok: 0, rejected: 0 };

/** A plain assertion: vitest's expect is too slow for the hot loop of tens of thousands of checks. */
function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`invariant broken: ${what}`);
}

/** Parses; a FormatError is fine; a result must satisfy every invariant; anything else fails the property. */
function parseChecked(input: Uint8Array): ParsedSafetensors | null {
  let r: ParsedSafetensors;
  try {
    r = parseSafetensors(input);
  } catch (e) {
    if (!(e instanceof FormatError)) throw new Error(`not a FormatError: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    check(e.message.startsWith('safetensors: '), `message prefix: ${e.message}`);
    outcomes.rejected++;
    return null;
  }
  outcomes.ok++;
  const n = Number(new DataView(input.buffer, input.byteOffset).getBigUint64(0, true));
  const dataStart = input.byteOffset + 8 + n;
  const windowEnd = input.byteOffset + input.byteLength;
  check(dataStart <= windowEnd, 'header inside the input');
  const ranges: [number, number][] = [];
  for (const [name, e] of r.tensors) {
    check(DTYPES.includes(e.dtype), `known dtype ${e.dtype}`);
    check(e.data instanceof Uint8Array && e.data.buffer === input.buffer, `${name}: a view into the input, not a copy`);
    let size = DTYPE_BYTES[e.dtype];
    for (const d of e.shape) {
      check(Number.isSafeInteger(d) && d >= 0, `${name}: dimension ${d}`);
      size *= d;
    }
    check(e.data.byteLength === size, `${name}: ${e.data.byteLength} bytes for ${size}`);
    check(e.data.byteOffset >= dataStart, `${name}: starts in the data buffer`);
    check(e.data.byteOffset + e.data.byteLength <= windowEnd, `${name}: ends inside the input`);
    ranges.push([e.data.byteOffset, e.data.byteOffset + e.data.byteLength]);
  }
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let at = dataStart;
  for (const [b, e] of ranges) {
    check(b === at, `contiguous at ${at}`);
    at = e;
  }
  check(at === windowEnd, 'the tensors tile the data buffer exactly');
  for (const v of Object.values(r.metadata)) check(typeof v === 'string', 'metadata values are strings');
  return r;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ─── properties ────────────────────────────────────────────────────────────

describe('safetensors fuzz', () => {
  test('(a) random valid files round-trip exactly', () => {
    fc.assert(
      fc.property(specsArb, metadataArb, fc.nat(7), fc.nat(7), (specs, meta, before, after) => {
        const bytes = build(specs, meta);
        expect(Number(new DataView(bytes.buffer).getBigUint64(0, true)) % 8).toBe(0);
        const parsed = parseChecked(embed(bytes, before, after))!;
        expect(parsed).not.toBeNull();
        expect(parsed.tensors.size).toBe(specs.length);
        for (const s of specs) {
          const e = parsed.tensors.get(s.name)!;
          expect(e.dtype).toBe(s.dtype);
          expect(e.shape).toEqual(s.shape);
          expect(sameBytes(e.data, bytesFor(s))).toBe(true);
          expect(e.data.byteOffset % DTYPE_BYTES[e.dtype]).toBe(before % DTYPE_BYTES[e.dtype]); // aligned in the file
        }
        expect(Object.entries(parsed.metadata).sort()).toEqual(meta.slice().sort());
        // Writing what was read gives the same bytes.
        expect(sameBytes(serializeSafetensors(parsed.tensors, parsed.metadata), bytes)).toBe(true);
      }),
      { numRuns: runs(1500), seed: SEED },
    );
  });

  test('(b) corrupted valid files: a valid result or a FormatError, nothing else', () => {
    outcomes = { ok: 0, rejected: 0 };
    fc.assert(
      fc.property(validFileArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), fc.nat(9), fc.nat(9), (file, muts, before, after) => {
        let f = file;
        for (const m of muts) f = m(f);
        parseChecked(embed(f, before, after));
      }),
      { numRuns: runs(6000), seed: SEED + 1 },
    );
    // The mutations must exercise both outcomes, mostly rejections.
    if (env.FUZZ_VERBOSE) console.log('(b) corrupted:', outcomes);
    expect(outcomes.rejected).toBeGreaterThan(runs(6000) / 2);
    expect(outcomes.ok).toBeGreaterThan(0);
  });

  test('(b) random bytes and random JSON headers: a valid result or a FormatError', () => {
    outcomes = { ok: 0, rejected: 0 };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        parseChecked(bytes);
      }),
      { numRuns: runs(1500), seed: SEED + 2 },
    );
    fc.assert(
      fc.property(fc.json({ maxDepth: 3 }), fc.uint8Array({ maxLength: 24 }), fc.boolean(), (json, data, pad) => {
        parseChecked(assemble(json, data, undefined, pad));
      }),
      { numRuns: runs(1500), seed: SEED + 3 },
    );
    // Random objects shaped like headers: plausible keys with wild values.
    const entryArb = fc.dictionary(fc.constantFrom('dtype', 'shape', 'data_offsets', 'x'), wildValue, { maxKeys: 4 });
    fc.assert(
      fc.property(fc.dictionary(nameArb, fc.oneof(entryArb, wildValue), { maxKeys: 4 }), fc.nat(24), (header, dataLen) => {
        parseChecked(assemble(JSON.stringify(header), new Uint8Array(dataLen)));
      }),
      { numRuns: runs(1500), seed: SEED + 4 },
    );
    if (env.FUZZ_VERBOSE) console.log('(b) random:', outcomes);
    expect(outcomes.rejected).toBeGreaterThan(0);
  });
});
