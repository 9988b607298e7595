// The servers bench/http.ts drives: a Node `http` hello-world and nginx serving a
// small static file (sendfile), each on a free loopback port.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export interface Target {
  name: string;
  port: number;
  url: string;
  pids(): number[];
  stop(): void;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

export async function startNode(): Promise<Target> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-e', `require('http').createServer((q, r) => r.end('hello world\\n')).listen(${port}, '127.0.0.1', () => console.log('up'))`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((r) => child.stdout!.once('data', r));
  return { name: 'node', port, url: `http://127.0.0.1:${port}/`, pids: () => [child.pid!], stop: () => child.kill('SIGKILL') };
}

/** nginx with one worker; `work` is a scratch directory readable by the worker. */
export async function startNginx(work: string): Promise<Target> {
  const port = await freePort();
  const root = join(work, 'www');
  execFileSync('mkdir', ['-p', root, join(work, 'tmp')]);
  writeFileSync(join(root, 'index.html'), 'hello world\n');
  const t = join(work, 'tmp');
  writeFileSync(
    join(work, 'nginx.conf'),
    `daemon off; master_process on; worker_processes 1; pid ${work}/nginx.pid; error_log ${work}/error.log;
events { worker_connections 4096; }
http { access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;
  client_body_temp_path ${t}; proxy_temp_path ${t}; fastcgi_temp_path ${t}; uwsgi_temp_path ${t}; scgi_temp_path ${t};
  server { listen 127.0.0.1:${port}; root ${root}; } }`,
  );
  const child = spawn('nginx', ['-c', join(work, 'nginx.conf'), '-p', work], { stdio: 'ignore' });
  for (let i = 0; i < 100 && childrenOf(child.pid!).length === 0; i++) await sleep(50);
  const pids = () => [child.pid!, ...childrenOf(child.pid!)];
  // The workers too: killing only the master would leave them running.
  const stop = () => {
    for (const pid of pids().reverse()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  };
  return { name: 'nginx', port, url: `http://127.0.0.1:${port}/index.html`, pids, stop };
}
