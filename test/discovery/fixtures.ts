// Real programs for discovery tests: small Python and Node servers written to a
// temp directory, started as children, and a recorder of Discovery's events.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Discovery, SelectionReason } from '../../src/discovery/index.js';
import type { ServiceIdentity } from '../../src/telemetry/span.js';
import { type Child, python3, startChild, within } from '../helpers/process.js';

export const APP_PY = `
import http.server, sys, time
port = int(sys.argv[1])
delay = float(sys.argv[2]) if len(sys.argv) > 2 else 0
print('started', flush=True)
time.sleep(delay)
srv = http.server.HTTPServer(('127.0.0.1', port), http.server.SimpleHTTPRequestHandler)
print('listening', flush=True)
srv.serve_forever()
`;

// Pre-fork workers (no exec) and, on a line on stdin, one more worker and a `sleep` child.
export const WORKERS_PY = `
import os, sys, time, subprocess
kids = []
def fork():
    pid = os.fork()
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    kids.append(pid)
fork(); fork()
print('workers', *kids, flush=True)
for line in sys.stdin:
    fork()
    p = subprocess.Popen(['sleep', '60'])
    kids.append(p.pid)
    print('more', kids[-2], p.pid, flush=True)
`;

export const SERVER_JS = `
const port = Number(process.argv[2]);
require('http').createServer((q, s) => s.end('ok')).listen(port, '127.0.0.1', () => console.log('listening'));
`;

export class Workdir {
  readonly dir = mkdtempSync(join(tmpdir(), 'waggle-discovery-'));

  file(rel: string, text: string): string {
    const path = join(this.dir, rel);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
    return path;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Recorded {
  added: Map<number, { identity: ServiceIdentity; reason: SelectionReason; at: number }>;
  removed: Map<number, number>;
  log: string[];
}

export function record(d: Discovery): Recorded {
  const r: Recorded = { added: new Map(), removed: new Map(), log: [] };
  d.on('added', (p, identity, reason) => {
    r.added.set(p.pid, { identity, reason, at: performance.now() });
    r.log.push(`+${p.pid} ${identity.name}`);
  });
  d.on('removed', (pid) => {
    r.removed.set(pid, performance.now());
    r.log.push(`-${pid}`);
  });
  return r;
}

export class Children {
  private readonly all: Child[] = [];

  start(cmd: string, args: string[], env: Record<string, string> = {}, cwd?: string): Child {
    // Own process group, so forked grandchildren die with it.
    const c = startChild(cmd, args, { env: { ...process.env, ...env }, detached: true, ...(cwd ? { cwd } : {}) });
    this.all.push(c);
    return c;
  }

  python(script: string, args: string[], env: Record<string, string> = {}, cwd?: string): Child {
    return this.start(python3, [script, ...args], env, cwd);
  }

  async killAll(): Promise<void> {
    for (const c of this.all) {
      try {
        process.kill(-c.pid, 'SIGKILL');
      } catch {
        // group already gone
      }
    }
    await within(Promise.all(this.all.map((c) => c.exited)), 10_000, 'test processes to exit after SIGKILL');
    this.all.length = 0;
  }
}

// A socket activator (like systemd): listens, then runs `sleep` holding the
// listening socket; the sleeper never calls listen() itself.
export const ACTIVATOR_PY = `
import socket, subprocess, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', int(sys.argv[1])))
s.listen()
print('listening', flush=True)
sys.stdin.readline()
p = subprocess.Popen(['sleep', '60'], pass_fds=[s.fileno()])
print('handed', p.pid, flush=True)
time.sleep(60)
`;
