// Real servers for capture tests: Python's http.server, a Node http server and
// nginx, each on a loopback port chosen by the kernel and reported back.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Child, python3, startChild, waitFor } from '../../helpers/process.js';

export interface Server {
  child: Child;
  port: number;
  stop(): void;
}

/**
 * Python HTTP/1.1 (keep-alive) server. Paths: /status/N answers N, /bytes/N sends
 * N bytes, /slow/MS sleeps first, /chunked/N sends N chunks, anything else "hello".
 */
const PYTHON_SERVER = String.raw`
import http.server, socketserver, sys, time
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def end_headers(self):
        # ab -k (HTTP/1.0 keep-alive) needs to see the word in the response.
        self.send_header("Connection", "keep-alive")
        super().end_headers()
    def do_HEAD(self): self.reply(True)
    def do_GET(self): self.reply(False)
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        self.send_response(201)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def reply(self, head):
        parts = self.path.split("/")
        status, body = 200, b"hello"
        if len(parts) > 2 and parts[1] == "status": status = int(parts[2])
        if len(parts) > 2 and parts[1] == "bytes": body = b"x" * int(parts[2])
        if len(parts) > 2 and parts[1] == "slow": time.sleep(int(parts[2]) / 1000)
        if len(parts) > 2 and parts[1] == "chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(int(parts[2])):
                self.wfile.write(b"5\r\nchunk\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head: self.wfile.write(body)
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
s = S(("127.0.0.1", 0), H)
print("port", s.server_address[1], flush=True)
s.serve_forever()
`;

async function portOf(child: Child): Promise<number> {
  await child.waitForOutput(/port (\d+)/);
  return Number(/port (\d+)/.exec(child.output())![1]);
}

export async function startPythonServer(): Promise<Server> {
  const child = startChild(python3, ['-c', PYTHON_SERVER]);
  const port = await portOf(child);
  return { child, port, stop: () => child.kill() };
}

/**
 * Node http server. /chunked/N writes N chunks then ends; /bytes/N sends N bytes
 * with Content-Length; /slow/MS waits; /close-mid/N declares N bytes, sends half
 * and destroys the socket; /status/N answers N (no body for 204 and 304);
 * anything else "hello".
 */
const NODE_SERVER = String.raw`
const http = require('http');
const server = http.createServer((req, res) => {
  const [, kind, arg] = req.url.split('/');
  const n = Number(arg);
  if (kind === 'chunked') { for (let i = 0; i < n; i++) res.write('chunk' + i); res.end(); return; }
  if (kind === 'bytes') { res.setHeader('Content-Length', n); res.end(Buffer.alloc(n, 120)); return; }
  if (kind === 'slow') { setTimeout(() => res.end('slow'), n); return; }
  if (kind === 'close-mid') { res.setHeader('Content-Length', n); res.write(Buffer.alloc(n >> 1, 120)); setTimeout(() => req.socket.destroy(), 50); return; }
  if (kind === 'never') { return; }
  if (kind === 'status') { res.statusCode = n; res.end(n === 204 || n === 304 ? undefined : 'status'); return; }
  req.on('data', () => {});
  req.on('end', () => res.end('hello'));
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log('port', server.address().port));
`;

export async function startNodeServer(): Promise<Server> {
  const child = startChild(process.execPath, ['-e', NODE_SERVER]);
  const port = await portOf(child);
  return { child, port, stop: () => child.kill() };
}

export interface Nginx extends Server {
  /** SIGTERM, SIGKILL after 2 s; resolves once the master has exited and the directory is gone. */
  stop(): Promise<void>;
  root: string;
  /** Master and worker pids. */
  pids(): number[];
}

export function nginxAvailable(): boolean {
  try {
    execFileSync('nginx', ['-v'], { timeout: 60_000, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

/** A free loopback port: bind to 0, read, release. */
async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * nginx (master + `workers` workers, sendfile on) serving `root`, in the
 * foreground; `directives` go into its server block (locations, gzip…),
 * `listenParams` after its listen address (e.g. `ssl`).
 */
export async function startNginx(files: Record<string, Buffer | string>, workers = 1, directives = '', listenParams = ''): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'waggle-nginx-'));
  chmodSync(dir, 0o755); // workers run as an unprivileged user
  const root = join(dir, 'www');
  execFileSync('mkdir', ['-p', root, join(dir, 'tmp')], { timeout: 60_000 });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(root, name), content);
  const port = await freePort();
  const conf = `
daemon off;
master_process on;
worker_processes ${workers};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  client_body_temp_path ${dir}/tmp;
  proxy_temp_path ${dir}/tmp;
  fastcgi_temp_path ${dir}/tmp;
  uwsgi_temp_path ${dir}/tmp;
  scgi_temp_path ${dir}/tmp;
  server {
    listen 127.0.0.1:${port} ${listenParams};
    root ${root};
    location = /hello { return 200 "hello"; }
    ${directives}
  }
}`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child = startChild('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir]);
  await waitFor(() => childrenOf(child.pid).length >= workers, 10_000);
  return {
    child,
    port,
    root,
    pids: () => [child.pid, ...childrenOf(child.pid)],
    async stop() {
      // The master takes its workers with it on SIGTERM; awaited, so none outlives the test file.
      await child.stop('SIGTERM', 2000).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
