// npm run size: what a web page downloads, minified and gzipped (level 9).
//
//   whole bundles:   dist/wasmgrad.browser.min.js (wasm inlined as base64),
//                    dist/wasmgrad.browser.external.min.js + the one .wasm a browser fetches,
//                    dist/wasmgrad.worker.js (the ready-made training worker)
//   tree-shaken:     a user's esbuild bundle importing only a few names from
//                    dist/esm (what bundlers resolve 'wasmgrad' to), to show what
//                    `sideEffects: false` and one module per source file leave out
//
//   node scripts/bundle-size.mjs [--json out.json] [--markdown]
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const arg = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};

const gz = (buf) => zlib.gzipSync(buf, { level: 9 }).length;
const file = (p) => fs.readFileSync(p);

for (const f of ['dist/wasmgrad.browser.min.js', 'dist/wasmgrad.browser.external.min.js', 'dist/wasmgrad.worker.js']) {
  if (!fs.existsSync(f)) {
    console.error(`size: ${f} is missing; run npm run build first`);
    process.exit(1);
  }
}

const esbuild = await import('esbuild');
/** Minified bytes of a user's bundle of `code` (an ES module importing from the given bundle). */
async function userBundle(code) {
  const r = await esbuild.build({
    stdin: { contents: code, resolveDir: root, loader: 'js' },
    bundle: true, minify: true, format: 'esm', target: 'es2022', platform: 'browser', write: false, logLevel: 'silent',
  });
  return Buffer.from(r.outputFiles[0].contents);
}

const rows = [];
const add = (name, parts, note = '') => {
  const min = parts.reduce((s, b) => s + b.length, 0);
  const gzip = parts.reduce((s, b) => s + gz(b), 0);
  rows.push({ name, min, gzip, note });
};

const relaxed = file('dist/wasmgrad.relaxed.wasm');
const simd = file('dist/wasmgrad.simd.wasm');
add('default: dist/wasmgrad.browser.min.js', [file('dist/wasmgrad.browser.min.js')], 'both wasm builds inlined (base64)');
add('external: dist/wasmgrad.browser.external.min.js', [file('dist/wasmgrad.browser.external.min.js')], 'JS only');
add('external + wasmgrad.relaxed.wasm', [file('dist/wasmgrad.browser.external.min.js'), relaxed], 'what a relaxed-SIMD browser fetches');
add('external + wasmgrad.simd.wasm', [file('dist/wasmgrad.browser.external.min.js'), simd], 'what a SIMD-only browser fetches');
add('worker: dist/wasmgrad.worker.js', [file('dist/wasmgrad.worker.js')], 'library + serveTraining, wasm inlined');

// Imports as a bundler resolves 'wasmgrad' for the browser (dist/esm: one module per source file).
const CORE = "import { init, tensor, matmul } from './dist/esm/index.js'; await init(); console.log(matmul(tensor([[1]]), tensor([[2]])).tolist());";
const TRAIN =
  "import { init, tensor, Sequential, Linear, ReLU, Adam, fit } from './dist/esm/index.js';" +
  'await init(); const m = new Sequential(new Linear(2, 8), new ReLU(), new Linear(8, 2));' +
  "fit(m, { x: tensor([[0, 1]]), y: tensor([1], [1], { dtype: 'int32' }) }, { optimizer: new Adam(m.parameters()) });";
const PAGE_WORKER = "import { trainInWorker } from './dist/esm/index.js'; console.log(trainInWorker);";
const EXTERNAL = (code) => code.replace('./dist/esm/index.js', './dist/esm-external/index.js');
add('tree-shaken: { init, tensor, matmul }', [await userBundle(CORE)], 'wasm inlined');
add('tree-shaken: { init, tensor, matmul }, external', [await userBundle(EXTERNAL(CORE)), relaxed], '+ relaxed .wasm');
add('tree-shaken: MLP training (Sequential, Linear, ReLU, Adam, fit)', [await userBundle(TRAIN)], 'wasm inlined');
add('tree-shaken: MLP training, external', [await userBundle(EXTERNAL(TRAIN)), relaxed], '+ relaxed .wasm');
add('tree-shaken: trainInWorker only (page side)', [await userBundle(PAGE_WORKER)], 'wasm inlined (the page may predict too)');

const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
const table = [
  '| what | minified | gzipped | note |',
  '| --- | ---: | ---: | --- |',
  ...rows.map((r) => `| ${r.name} | ${kb(r.min)} | ${kb(r.gzip)} | ${r.note} |`),
].join('\n');
console.log(table);
console.log(`\nwasm builds: relaxed ${kb(relaxed.length)} (gzip ${kb(gz(relaxed))}), simd ${kb(simd.length)} (gzip ${kb(gz(simd))})`);
const out = arg('json');
if (out) fs.writeFileSync(out, JSON.stringify({ rows, wasm: { relaxed: relaxed.length, simd: simd.length } }, null, 2));
