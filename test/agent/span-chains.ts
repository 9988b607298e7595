// Spans of the agent's --spans-file checked against the requests they belong to:
// each request carries a unique id in its path, which every hop repeats (the
// Python service below forwards it), so a parent of the wrong request shows.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { python3, startChild } from '../helpers/process.js';
import type { TestServer } from './servers.js';

/**
 * A ThreadingHTTPServer on argv[1] (port, 0: any) at argv[3] (default 127.0.0.1); with an
 * upstream (argv[2]: "port" or "host:port"), each GET /…/<id> first calls upstream
 * /b/<id>?q=<id> with urllib (a new connection per call).
 */
const PYTHON = String.raw`
import http.server, socketserver, sys, urllib.request
upstream = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] != "0" else ""
if upstream and ":" not in upstream: upstream = "127.0.0.1:" + upstream
bind = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        rid = self.path.split("?")[0].rsplit("/", 1)[-1]
        body = ("b " + rid).encode()
        if upstream:
            with urllib.request.urlopen("http://%s/b/%s?q=%s" % (upstream, rid, rid), timeout=10) as r:
                body = b"a " + r.read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
s = S((bind, int(sys.argv[1])), H)
print("port", s.server_address[1], flush=True)
s.serve_forever()
`;

/** `prefix`: a command the server runs under, e.g. ['ip', 'netns', 'exec', 'ns'] (it execs: the pid stays the server's). */
export async function startPython(name: string, upstream: number | string = 0, opts: { bind?: string; port?: number; prefix?: string[] } = {}): Promise<TestServer> {
  const argv = [python3, '-c', PYTHON, String(opts.port ?? 0), String(upstream), opts.bind ?? '127.0.0.1'];
  const command = [...(opts.prefix ?? []), ...argv];
  const child = startChild(command[0]!, command.slice(1), { env: { ...process.env, OTEL_SERVICE_NAME: name } });
  await child.waitForOutput(/port (\d+)/);
  const port = Number(/port (\d+)/.exec(child.output())![1]);
  return { child, port, pid: child.pid, stop: () => child.kill() };
}

export interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: string;
  attributes: Record<string, string | number>;
  resource: Record<string, string | number>;
}

export function readSpans(path: string): JsonSpan[] {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as JsonSpan);
}

export const service = (s: JsonSpan) => String(s.resource['service.name']);
/** The request id a span is about: the last path segment of url.path (server) or url.full (client). */
export function requestId(s: JsonSpan): string | undefined {
  const url = String(s.attributes['url.path'] ?? s.attributes['url.full'] ?? '');
  const path = url.replace(/^https?:\/\/[^/]+/, '').split('?')[0]!;
  return /\/(\d+)$/.exec(path)?.[1];
}

/** Runs `count` GETs of `url(i)`, `concurrency` at a time, from this (unwatched) process. */
export async function load(count: number, concurrency: number, url: (i: number) => string): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const r = await fetch(url(i), { signal: AbortSignal.timeout(15_000) });
      assert.equal(r.status, 200, `request ${i}`);
      await r.text();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

export interface ChainReport {
  roots: number;
  linked: number;
  wrong: number;
}

/**
 * For each SERVER span of `front` whose id is in `ids`: its client children in
 * `front` and their server children in `back`. Linked: exactly one client
 * child with the same id whose one child is back's server span with the same
 * id, all in one trace. Wrong: any link between spans of different ids.
 */
export function checkChains(spans: JsonSpan[], front: string, back: string): ChainReport {
  const byParent = new Map<string, JsonSpan[]>();
  const byId = new Map<string, JsonSpan>();
  for (const s of spans) {
    byId.set(s.spanId, s);
    if (s.parentSpanId) byParent.set(s.parentSpanId, [...(byParent.get(s.parentSpanId) ?? []), s]);
  }
  let wrong = 0;
  for (const s of spans) {
    const p = s.parentSpanId ? byId.get(s.parentSpanId) : undefined;
    if (p === undefined) continue;
    if (requestId(p) !== requestId(s) || p.traceId !== s.traceId) wrong++;
  }
  let linked = 0;
  let roots = 0;
  const clients = spans.filter((s) => service(s) === front && s.kind === 'client');
  for (const c of clients) {
    if (c.parentSpanId === undefined) {
      roots++;
      continue;
    }
    const parent = byId.get(c.parentSpanId);
    const kids = byParent.get(c.spanId) ?? [];
    if (parent && service(parent) === front && parent.kind === 'server' && kids.length === 1 && service(kids[0]!) === back && kids[0]!.kind === 'server') linked++;
  }
  return { roots, linked, wrong };
}
