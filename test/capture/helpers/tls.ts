// TLS fixtures for capture and agent tests: a self-signed certificate made with
// `openssl req`, and HTTPS servers and clients of the kinds TLS capture hooks
// (Python's ssl and curl through libssl.so.3, Node through the OpenSSL linked
// into its executable).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Child, python3, startChild } from '../../helpers/process.js';
import type { Server } from './servers.js';

export interface Certificate {
  cert: string;
  key: string;
  remove(): void;
}

export function opensslAvailable(): boolean {
  try {
    execFileSync('openssl', ['version'], { timeout: 10_000, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A self-signed P-256 certificate for localhost/127.0.0.1 in a fresh directory. */
export function makeCertificate(): Certificate {
  const dir = mkdtempSync(join(tmpdir(), 'waggle-tls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
    { timeout: 30_000, stdio: 'ignore' },
  );
  return { cert, key, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

async function portOf(child: Child): Promise<number> {
  await child.waitForOutput(/port (\d+)/);
  return Number(/port (\d+)/.exec(child.output())![1]);
}

/** Python http.server over ssl (threaded, HTTP/1.1 keep-alive): /bytes/N sends N bytes, anything else "hello". */
const PYTHON_HTTPS = String.raw`
import http.server, socketserver, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        parts = self.path.split("/")
        body = b"x" * int(parts[2]) if len(parts) > 2 and parts[1] == "bytes" else b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
s = S(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
s.socket = ctx.wrap_socket(s.socket, server_side=True)
print("port", s.server_address[1], flush=True)
s.serve_forever()
`;

/** `env`: added to the child's environment (e.g. OTEL_SERVICE_NAME). */
export async function startPythonHttps(cert: Certificate, env: Record<string, string> = {}): Promise<Server> {
  const child = startChild(python3, ['-c', PYTHON_HTTPS, cert.cert, cert.key], { env: { ...process.env, ...env } });
  const port = await portOf(child);
  return { child, port, stop: () => child.kill() };
}

/** Node https server (keep-alive): /bytes/N sends N bytes, anything else "hello". */
const NODE_HTTPS = String.raw`
const https = require('https'), fs = require('fs');
const s = https.createServer({ cert: fs.readFileSync(process.argv[1]), key: fs.readFileSync(process.argv[2]) }, (req, res) => {
  const parts = req.url.split('/');
  const body = parts[1] === 'bytes' ? 'x'.repeat(Number(parts[2])) : 'hello';
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
s.listen(0, '127.0.0.1', () => console.log('port', s.address().port));
`;

export async function startNodeHttps(cert: Certificate, env: Record<string, string> = {}): Promise<Server> {
  const child = startChild(process.execPath, ['-e', NODE_HTTPS, cert.cert, cert.key], { env: { ...process.env, ...env } });
  const port = await portOf(child);
  return { child, port, stop: () => child.kill() };
}

/**
 * A Node process that, on the line "go" on stdin, fetches `url` `count` times
 * one after another with undici's fetch (certificate checks off), prints
 * "done N" with the statuses' count, and waits for stdin to close.
 */
const NODE_FETCH = String.raw`
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
process.emitWarning = () => {};
const [url, count] = [process.argv[1], Number(process.argv[2])];
console.log('ready');
process.stdin.once('data', async () => {
  let ok = 0;
  for (let i = 0; i < count; i++) {
    const res = await fetch(url + '?i=' + i);
    await res.text();
    if (res.status === 200) ok++;
  }
  console.log('done', ok);
});
`;

export function startNodeFetcher(url: string, count: number, env: Record<string, string> = {}): Child {
  return startChild(process.execPath, ['-e', NODE_FETCH, url, String(count)], { env: { ...process.env, ...env } });
}

/** `requests` curl -k GETs of `url` on `connections` keep-alive connections (one curl process each). */
export function curlHttps(url: string, requests: number, connections: number, extra: string[] = []): void {
  const per = requests / connections;
  for (let c = 0; c < connections; c++) {
    const args = ['-k', '-s', '--max-time', '20', '-w', '%{http_code}\n', ...extra];
    for (let i = 0; i < per; i++) args.push('-o', '/dev/null', `${url}?c=${c}&i=${i}`);
    const out = execFileSync('curl', args, { timeout: 60_000, encoding: 'utf8' });
    const codes = out.trim().split('\n');
    if (codes.length !== per || codes.some((s) => s !== '200')) throw new Error(`curl: ${out}`);
  }
}
