// Serves the bundled web app (dist/ui, built by scripts/build-ui.mjs): the
// page at / and content-hashed assets under /assets/, cached forever.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { packageRoot } from '../paths.js';
import { type AgentHttpServer, sendText } from './http-server.js';

export const UI_DIST = join(packageRoot, 'dist', 'ui');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

const CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export function registerStaticRoutes(server: AgentHttpServer, dir = UI_DIST): void {
  // Read once: the bundle is a few hundred KB and never changes while running.
  const assets = new Map<string, Buffer>();
  const assetDir = join(dir, 'assets');
  if (existsSync(assetDir)) for (const f of readdirSync(assetDir)) assets.set(f, readFileSync(join(assetDir, f)));
  const indexPath = join(dir, 'index.html');
  const index = existsSync(indexPath) ? readFileSync(indexPath) : undefined;

  const page = (res: import('node:http').ServerResponse) => {
    if (!index) return sendText(res, 503, `the web UI is not built (${indexPath} is missing): run \`npm run build:ui\`\n`);
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': index.length,
      'Cache-Control': 'no-cache',
      'Content-Security-Policy': CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
    res.end(index);
  };
  server.route('GET', '/', (_req, res) => page(res));
  server.route('GET', '/index.html', (_req, res) => page(res));
  server.route('GET', '/assets/*', (_req, res, url) => {
    const name = url.pathname.slice('/assets/'.length);
    const body = assets.get(name);
    if (!body) return sendText(res, 404, `not found: ${url.pathname}\n`);
    res.writeHead(200, {
      'Content-Type': TYPES[extname(name)] ?? 'application/octet-stream',
      'Content-Length': body.length,
      'Cache-Control': 'public, max-age=31536000, immutable',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(body);
  });
}
