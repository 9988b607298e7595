// A throwaway PostgreSQL 15 cluster on loopback for tests: initdb into a
// mkdtemp (as the `postgres` user: initdb refuses root), trust auth, ssl off,
// a free port; stop() shuts it down and removes the directory.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = '/usr/lib/postgresql/15/bin';

export interface Cluster {
  port: number;
  dir: string;
  /** The postmaster's pid (backends are its children). */
  postmasterPid(): number;
  /** Stops the server (immediate) and removes its directory; idempotent. */
  stop(): void;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function asPostgres(args: string[]): string[] {
  return process.getuid?.() === 0 ? ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', '--', ...args] : args;
}

function run(args: string[]): void {
  const [cmd, ...rest] = args as [string, ...string[]];
  const r = spawnSync(cmd, rest, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
}

export async function startCluster(): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'waggle-pg-'));
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) {
    chmodSync(dir, 0o755);
    chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  }
  run(asPostgres([`${BIN}/initdb`, '-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']));
  writeFileSync(join(data, 'postgresql.auto.conf'), 'ssl = off\nfsync = off\nfull_page_writes = off\nsynchronous_commit = off\n');
  const port = await freePort();
  run(asPostgres([`${BIN}/pg_ctl`, '-D', data, '-w', '-t', '30', '-l', join(dir, 'log'), '-o', `-k ${dir} -p ${port} -c listen_addresses=127.0.0.1`, 'start']));
  let stopped = false;
  return {
    port,
    dir,
    postmasterPid: () => Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]),
    stop() {
      if (stopped) return;
      stopped = true;
      const [cmd, ...args] = asPostgres([`${BIN}/pg_ctl`, '-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop']) as [string, ...string[]];
      spawnSync(cmd, args, { timeout: 40_000 });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
