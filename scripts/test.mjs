// npm test: build, then every suite, then one closing line CI can read:
//   "N passed, N failed"
// Suites: as-pect (AssemblyScript kernel specs), vitest in Node (every op on
// every backend), vitest in headless Chromium when a browser config exists, and
// the end-to-end tests (tests/e2e: Node drives Chromium against the playground
// and against consumer projects built with esbuild and Vite).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
fs.mkdirSync('test-output', { recursive: true });

let passed = 0;
let failed = 0;
const results = [];

function run(name, cmd, args, opts = {}) {
  console.log(`\n── ${name} ──`);
  const r = spawnSync(cmd, args, { stdio: opts.capture ? ['inherit', 'pipe', 'inherit'] : 'inherit', encoding: 'utf8', ...opts });
  if (opts.capture) process.stdout.write(r.stdout ?? '');
  return r;
}

function suite(name, p, f) {
  passed += p;
  failed += f;
  results.push(`${name}: ${p} passed, ${f} failed`);
}

const node = process.execPath;

// 1. Build (wasm, bundles, types): a broken build is one failure.
const build = run('build', node, ['scripts/build.mjs']);
if (build.status !== 0) {
  suite('build', 0, 1);
} else {
  // 2. as-pect kernel specs.
  run('as-pect setup', node, ['scripts/patch-aspect.mjs']);
  const asp = run('as-pect (assembly/__tests__)', node, ['node_modules/@as-pect/cli/bin/asp.js', '--config', 'as-pect.config.js'], {
    capture: true,
  });
  const plain = (asp.stdout ?? '').replace(/\x1b\[[0-9;]*m/g, '');
  const m = plain.match(/\[Tests\]:\s*(\d+)\s*\/\s*(\d+)/);
  if (m) suite('as-pect', Number(m[1]), Number(m[2]) - Number(m[1]) + (asp.status !== 0 && m[1] === m[2] ? 1 : 0));
  else suite('as-pect', 0, 1);

  // 3. vitest in Node, and in Chromium when configured.
  const configs = [['vitest (node)', 'vitest.config.ts', 'test-output/vitest-node.json']];
  if (fs.existsSync('vitest.browser.config.ts')) {
    configs.push(['vitest (chromium)', 'vitest.browser.config.ts', 'test-output/vitest-browser.json']);
  }
  // End-to-end: the playground, the worker helper and consumer bundles (script tag, esbuild, Vite) in Chromium.
  if (fs.existsSync('vitest.e2e.config.ts')) {
    configs.push(['vitest (e2e: playground, worker, bundlers)', 'vitest.e2e.config.ts', 'test-output/vitest-e2e.json']);
  }
  for (const [name, config, out] of configs) {
    fs.rmSync(out, { force: true });
    const r = run(name, node, [
      'node_modules/vitest/vitest.mjs', 'run', '--config', config, '--reporter=default', '--reporter=json', `--outputFile.json=${out}`,
    ]);
    if (fs.existsSync(out)) {
      const j = JSON.parse(fs.readFileSync(out, 'utf8'));
      const extra = r.status !== 0 && j.numFailedTests === 0 ? 1 : 0; // e.g. a suite that failed to load
      suite(name, j.numPassedTests, j.numFailedTests + extra);
    } else {
      suite(name, 0, 1);
    }
  }
}

console.log('\n' + results.join('\n'));
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
