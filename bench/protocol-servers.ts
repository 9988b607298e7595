// The servers bench/protocols.ts drives: redis-server and a throwaway
// PostgreSQL cluster (initdb as the postgres user, which the Debian package
// creates: initdb refuses root), each on a free loopback port.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, sleep } from './http-targets.js';

export interface ProtocolServer {
  port: number;
  stop(): Promise<void>;
}

const PG_BIN = '/usr/lib/postgresql/15/bin';

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${ms} ms`);
    await sleep(100);
  }
}

const succeeds = (cmd: string, args: string[]) => () => {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  await Promise.race([gone, sleep(10_000).then(() => child.kill('SIGKILL'))]);
}

export async function startRedis(): Promise<ProtocolServer> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await until('redis-server', succeeds('redis-cli', ['-p', String(port), 'PING']));
  return { port, stop: () => stopChild(child) };
}

/** A cluster with pgbench's tables (scale 1) in database `postgres`. */
export async function startPostgres(): Promise<ProtocolServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'waggle-bench-pg-'));
  chownSync(dir, 101, 104);
  const asPostgres = (cmd: string, args: string[]) => execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'ignore' });
  asPostgres(`${PG_BIN}/initdb`, ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust']);
  const child = spawn('runuser', ['-u', 'postgres', '--', `${PG_BIN}/postgres`, '-D', join(dir, 'data'), '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'], { stdio: 'ignore' });
  await until('postgres', succeeds('pg_isready', ['-h', '127.0.0.1', '-p', String(port)]));
  execFileSync('pgbench', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-i', '-s', '1', '-q', 'postgres'], { stdio: 'ignore' });
  return {
    port,
    stop: async () => {
      // runuser forwards the signal; postgres' smart shutdown ends the cluster.
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
