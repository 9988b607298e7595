// Real HTTP/2 and gRPC peers for the http2 module's tests, on loopback.
import { execFile } from 'node:child_process';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';

export interface H2Server {
  port: number;
  /** Requests the server answered. */
  served: number;
  close(): Promise<void>;
}

/**
 * A Node h2c server (prior knowledge; with `allowHTTP1` also the Upgrade-less
 * HTTP/1 fallback): /status/NNN answers NNN, /big answers `bigBytes` bytes,
 * /users/N a small JSON body, anything else "ok".
 */
export async function startH2Server(bigBytes = 100_000): Promise<H2Server> {
  const big = Buffer.alloc(bigBytes, 0x61);
  const state = { served: 0 };
  const server = http2.createServer((req, res) => {
    let size = 0;
    req.on('data', (d: Buffer) => (size += d.length));
    req.on('end', () => {
      state.served++;
      const url = req.url ?? '/';
      const status = /^\/status\/(\d{3})$/.exec(url);
      if (status) {
        res.writeHead(Number(status[1]), { 'content-type': 'text/plain' });
        res.end(`status ${status[1]}`);
      } else if (url === '/big') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(big);
      } else if (url.startsWith('/users/')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: url.slice(7), received: size }));
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok');
      }
    });
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get served() {
      return state.served;
    },
    close: async () => {
      for (const s of sessions) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const code: unknown = error ? (error as { code?: unknown }).code : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** `requests` requests on one Node http2 client session, `concurrency` in flight at once. */
export async function nodeClient(port: number, paths: readonly string[], concurrency: number, body?: Buffer): Promise<number[]> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  const statuses: number[] = [];
  try {
    let next = 0;
    const worker = async () => {
      while (next < paths.length) {
        const path = paths[next++]!;
        statuses.push(
          await new Promise<number>((resolve, reject) => {
            const req = session.request({ ':method': body ? 'POST' : 'GET', ':path': path, 'user-agent': 'waggle-test/1' });
            let status = 0;
            req.on('response', (h) => (status = Number(h[':status'])));
            req.on('data', () => undefined);
            req.on('end', () => resolve(status));
            req.on('error', reject);
            req.end(body);
          }),
        );
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    await new Promise<void>((resolve) => session.close(() => resolve()));
  }
  return statuses;
}
