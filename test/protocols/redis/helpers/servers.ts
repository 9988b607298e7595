// Real servers and clients for the Redis and Memcached module tests: each
// server on a free loopback port, its data (if any) under a mkdtemp, stopped by
// the test's after(); client runs are bounded so no test hangs.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../helpers/agent.js';
import { type Child, startChild, waitFor, within } from '../../../helpers/process.js';

export interface RealServer {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

async function startServer(cmd: string, args: (port: number, dir: string) => string[]): Promise<RealServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), `waggle-${cmd}-`));
  const child: Child = startChild(cmd, args(port, dir), { cwd: dir });
  try {
    await waitFor(() => {
      if (child.proc.exitCode !== null) throw new Error(`${cmd} exited: ${child.errors()} ${child.output()}`);
      return listening(port);
    }, 10_000, 50);
  } catch (e) {
    await child.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    port,
    pid: child.pid,
    async stop() {
      await child.stop('SIGTERM', 5000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const startRedis = () =>
  startServer('redis-server', (port, dir) => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dir]);

export const startMemcached = () =>
  startServer('memcached', (port) => ['-p', String(port), '-l', '127.0.0.1', '-U', '0', ...(process.getuid?.() === 0 ? ['-u', 'root'] : [])]);

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a client to completion with `input` on its stdin (60 s at most). */
export async function run(cmd: string, args: string[], input = ''): Promise<Ran> {
  const child = startChild(cmd, args);
  child.proc.stdin?.end(input);
  try {
    const st = await within(child.exited, 60_000, `${cmd} ${args.join(' ')}`);
    return { code: st.code, stdout: child.output(), stderr: child.errors() };
  } finally {
    child.kill();
  }
}
