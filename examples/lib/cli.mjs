// Small helpers shared by the Node examples: command-line options and a seeded
// data generator independent of the library's own.

/** The value after `--name` on the command line, or `dflt`. */
export const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};

/** mulberry32: uniform [0, 1) from a 32-bit seed, for example data (independent of wasmgrad's generator). */
export function rng(s) {
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
