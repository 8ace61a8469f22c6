// @as-pect/transform 8.1.0 hardcodes AssemblyScript 0.27's enum numbers
// (NodeKind, CommonFlags, …); AS 0.28 renumbered them, which breaks specs that
// use classes (TS2339 __aspectStrictEquals). This rewrites each hardcoded
// `N /* Enum.Member */` to the installed AS's value. Idempotent; run before asp.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const as = await import('assemblyscript');
const require = createRequire(import.meta.url);
const dir = path.dirname(require.resolve('@as-pect/transform/package.json'));
const lib = path.join(dir, 'lib');
let changed = 0;
for (const f of fs.readdirSync(lib).filter((f) => f.endsWith('.js'))) {
  const p = path.join(lib, f);
  const src = fs.readFileSync(p, 'utf8');
  const out = src.replace(/\b(\d+) \/\* (NodeKind|CommonFlags|AssertionKind)\.(\w+) \*\//g, (m, _n, e, k) => {
    const v = as[e]?.[k];
    return typeof v === 'number' ? `${v} /* ${e}.${k} */` : m;
  });
  if (out !== src) {
    fs.writeFileSync(p, out);
    changed++;
  }
}
if (process.argv.includes('--verbose')) console.log(`patch-aspect: ${changed} file(s) updated`);
