// The demo API's PostgreSQL database and Redis cache: real servers from the
// distribution's packages, on loopback, with throwaway data in the workload's
// private directory (no fsync, no snapshots: the data dies with the demo).
// Either is left out, with the reason, when its server is not installed; the
// API then answers from memory. postgres refuses to run as root, so as root it
// runs as the `postgres` system user the package creates.
import { type ChildProcess, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface DatastoreChild {
  name: 'postgres' | 'redis';
  proc: ChildProcess;
  /** How to stop it quickly: postgres's fast shutdown is SIGINT (SIGTERM waits for clients). */
  signal: NodeJS.Signals;
}

export interface Started {
  child?: DatastoreChild;
  /** Why it is not running (not installed, no user to run it as…). */
  skipped?: string;
}

const REDIS_CANDIDATES = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'];

/** The newest installed PostgreSQL's bin directory. */
function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] && join(root, versions[0], 'bin');
}

/** uid/gid of a system user, from /etc/passwd. */
function systemUser(name: string): { uid: number; gid: number } | undefined {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 4) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

function exited(proc: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve(proc.exitCode);
    else proc.once('exit', (code) => resolve(code));
  });
}

/** initdb into dir/postgres, then postgres on 127.0.0.1:port (TCP only, trust auth, user postgres). */
export async function startPostgres(dir: string, port: number, onChild: (c: DatastoreChild) => void): Promise<Started> {
  const bin = postgresBin();
  if (!bin) return { skipped: 'postgresql is not installed' };
  const root = process.getuid?.() === 0;
  const user = root ? systemUser('postgres') : undefined;
  if (root && !user) return { skipped: 'no postgres system user to run postgres as (it refuses root)' };
  const data = join(dir, 'postgres');
  mkdirSync(data, { mode: 0o700 });
  if (user) chownSync(data, user.uid, user.gid);
  const log = openSync(join(dir, 'postgres.log'), 'a');
  const as = user ? { uid: user.uid, gid: user.gid } : {};
  const init = spawn(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '--encoding=UTF8', '--locale=C'], { cwd: dir, stdio: ['ignore', log, log], ...as });
  const timer = setTimeout(() => init.kill('SIGKILL'), 30_000);
  const code = await exited(init);
  clearTimeout(timer);
  if (code !== 0) throw new Error(`demo: initdb failed (exit ${code}), see ${join(dir, 'postgres.log')}`);
  const proc = spawn(
    join(bin, 'postgres'),
    ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=20'],
    { cwd: dir, stdio: ['ignore', log, log], ...as },
  );
  const child: DatastoreChild = { name: 'postgres', proc, signal: 'SIGINT' };
  onChild(child);
  return { child };
}

/** redis-server on 127.0.0.1:port, nothing persisted. */
export function startRedis(dir: string, port: number, onChild: (c: DatastoreChild) => void): Started {
  const server = REDIS_CANDIDATES.find((p) => existsSync(p));
  if (!server) return { skipped: 'redis-server is not installed' };
  const data = join(dir, 'redis');
  mkdirSync(data);
  const log = openSync(join(dir, 'redis.log'), 'a');
  const proc = spawn(server, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', data, '--protected-mode', 'no'], { cwd: dir, stdio: ['ignore', log, log] });
  const child: DatastoreChild = { name: 'redis', proc, signal: 'SIGTERM' };
  onChild(child);
  return { child };
}
