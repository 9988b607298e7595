// A throwaway MariaDB server on loopback (a fresh data directory under a
// mkdtemp, a free port), the mysql/mysqladmin programs, and a replay helper that
// runs a recording through the module's parser from either side.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mysqlModule } from '../../../../src/protocols/mysql/index.js';
import type { MysqlParser } from '../../../../src/protocols/mysql/parser.js';
import type { ChunkView, Operation } from '../../../../src/protocols/module.js';
import { freePort } from '../../../helpers/agent.js';
import { type Child, startChild, waitFor, within } from '../../../helpers/process.js';
import { type RecordedChunk, toChunks } from '../../helpers/record-proxy.js';

export interface MariaDb {
  port: number;
  dir: string;
  /** Runs SQL (a script: DELIMITER works) as root through the CLI over the unix socket (setup, not recorded). */
  admin(sql: string): void;
  stop(): Promise<void>;
}

export async function startMariaDb(): Promise<MariaDb> {
  const dir = mkdtempSync(join(tmpdir(), 'waggle-mariadb-'));
  const install = spawnSync(
    'mariadb-install-db',
    ['--no-defaults', `--datadir=${dir}/data`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db'],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (install.status !== 0) throw new Error(`mariadb-install-db failed: ${install.stderr}`);
  const port = await freePort();
  const socket = join(dir, 'sock');
  const server: Child = startChild('mariadbd', [
    '--no-defaults', `--datadir=${dir}/data`, `--socket=${socket}`, `--port=${port}`, '--bind-address=127.0.0.1',
    '--user=root', '--skip-name-resolve', '--skip-log-bin', '--innodb-buffer-pool-size=16M', `--pid-file=${dir}/pid`,
    '--local-infile=1',
  ]);
  const admin = (sql: string) => {
    const r = spawnSync('mysql', ['--no-defaults', '-uroot', `--socket=${socket}`], { encoding: 'utf8', input: sql, timeout: 30_000 });
    if (r.status !== 0) throw new Error(`mysql setup failed: ${r.stderr}`);
  };
  try {
    await waitFor(() => spawnSync('mysqladmin', ['--no-defaults', '-uroot', `--socket=${socket}`, 'ping'], { timeout: 5000 }).status === 0, 30_000, 100);
  } catch (e) {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mariadbd did not start: ${server.errors().slice(-1000)} (${String(e)})`);
  }
  return {
    port,
    dir,
    admin,
    stop: async () => {
      await server.stop('SIGTERM', 15_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A client program (mysql, mysqladmin) over TCP to `port` as root with no
 * password. Asynchronous: the recording proxy runs in this process's event loop.
 */
export async function runClient(program: 'mysql' | 'mysqladmin' | 'mysqlslap', port: number, args: string[], input?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = startChild(program, ['--no-defaults', '-h', '127.0.0.1', '-P', String(port), '--protocol=tcp', '-uroot', ...args]);
  child.proc.stdin?.end(input ?? '');
  const status = await within(child.exited, 60_000, `${program} to finish`).catch(async (e: unknown) => {
    await child.stop('SIGKILL');
    throw e;
  });
  return { status: status.code, stdout: child.output(), stderr: child.errors() };
}

export interface Replay {
  ops: Operation[];
  parser: MysqlParser;
}

/** A recorded connection through a fresh parser from `side`, as the platform would feed it (detection on the first chunk). */
export function replay(recorded: readonly RecordedChunk[], side: 'client' | 'server', head = 2048, tail = 256): Replay {
  return replayChunks(toChunks(recorded, side, head, tail), side);
}

export function replayChunks(chunks: readonly ChunkView[], side: 'client' | 'server'): Replay {
  const parser = mysqlModule.createParser(side) as MysqlParser;
  const ops: Operation[] = [];
  const emit = (op: Operation) => ops.push(op);
  for (const c of chunks) parser.feed(c, emit);
  parser.end('closed', emit);
  return { ops, parser };
}

/** operation → count, for exact-count assertions. */
export function countBy(ops: readonly Operation[], key: (op: Operation) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const op of ops) out[key(op)] = (out[key(op)] ?? 0) + 1;
  return out;
}
