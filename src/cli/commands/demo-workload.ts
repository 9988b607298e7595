// The demo workload (demo/ in the package): inventory (Python) ← nginx ← api
// (Node, with a PostgreSQL database and a Redis cache) ← frontend (Node) ← load
// driver (Node), all on loopback ports, run from a private directory and
// stopped together. Without nginx the API calls the inventory directly (the map
// just has one hop less); without postgresql or redis-server installed, the API
// does without them. postgres and redis-server are not watched by the demo's
// agent: they appear on the map from the API's side, as the database and cache
// nodes its queries and commands go to.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../paths.js';
import { type DatastoreChild, startPostgres, startRedis } from './demo-datastores.js';

export const DEMO_DIR = join(packageRoot, 'demo');
export const DEFAULT_DEMO_PORT = 18080;

export interface DemoPorts {
  frontend: number;
  api: number;
  nginx: number;
  inventory: number;
  postgres: number;
  redis: number;
}

export interface DemoProcess {
  name: string;
  pid: number;
}

export interface DemoWorkload {
  ports: DemoPorts;
  /** Every process the agent watches (nginx: its master; workers are its children). */
  processes: DemoProcess[];
  /** postgres and redis-server, when they run (not watched: seen from the API's side). */
  datastores: DemoProcess[];
  /** Datastores left out, with the reason (not installed…). */
  skipped: string[];
  /** Private runtime directory (nginx config, logs); removed by stop(). */
  dir: string;
  /** False when nginx is not installed: the API then calls the inventory directly. */
  nginx: boolean;
  stop(): Promise<void>;
}

export interface DemoOptions {
  /** Requests per second of the load driver (default 20; 0 starts no load driver). */
  rate?: number;
  /** First port to try; the next five follow (default 18080). Busy ports are replaced by free ones. */
  basePort?: number;
  python?: string;
  nginxPath?: string;
}

const NGINX_CANDIDATES = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx'];

export async function startDemoWorkload(opts: DemoOptions = {}): Promise<DemoWorkload> {
  const python = opts.python ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  const nginxPath = opts.nginxPath ?? NGINX_CANDIDATES.find((p) => existsSync(p));
  const rate = opts.rate ?? 20;
  const dir = mkdtempSync(join(tmpdir(), 'waggle-demo-'));
  // nginx workers run as an unprivileged user and must read the static file.
  chmodSync(dir, 0o755);
  const children: Array<{ name: string; proc: ChildProcess; signal?: NodeJS.Signals }> = [];
  const datastoreChildren: DatastoreChild[] = [];
  const addDatastore = (c: DatastoreChild) => {
    datastoreChildren.push(c);
    children.push(c);
  };
  let datastoresStarting: Promise<unknown> = Promise.resolve();
  const stop = async () => {
    await datastoresStarting.catch(() => undefined); // an initdb in progress finishes first
    await stopAll(children.splice(0).reverse());
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const base = opts.basePort ?? DEFAULT_DEMO_PORT;
    const ports: DemoPorts = {
      frontend: await freePort(base),
      api: await freePort(base + 1),
      nginx: await freePort(base + 2),
      inventory: await freePort(base + 3),
      postgres: await freePort(base + 4),
      redis: await freePort(base + 5),
    };
    const start = async (name: string, cmd: string, args: string[], env: Record<string, string>, port?: number) => {
      const log = openSync(join(dir, `${name}.log`), 'a');
      const proc = spawn(cmd, args, { cwd: dir, stdio: ['ignore', log, log], env: { ...process.env, ...env } });
      children.push({ name, proc });
      if (port !== undefined) await waitForPort(port, proc, name, join(dir, `${name}.log`));
    };

    // The datastores start alongside the rest (initdb takes seconds); the API waits for them.
    const logOf = (name: string) => join(dir, `${name}.log`);
    const datastores = (async () => {
      const [pgs, rds] = await Promise.all([startPostgres(dir, ports.postgres, addDatastore), startRedis(dir, ports.redis, addDatastore)]);
      if (pgs.child) await waitForPort(ports.postgres, pgs.child.proc, 'postgres', logOf('postgres'), 20_000);
      if (rds.child) await waitForPort(ports.redis, rds.child.proc, 'redis', logOf('redis'));
      return { postgres: pgs, redis: rds };
    })();
    datastoresStarting = datastores;
    await start('inventory', python, [join(DEMO_DIR, 'inventory.py')], { PORT: String(ports.inventory), OTEL_SERVICE_NAME: 'inventory' }, ports.inventory);
    if (nginxPath) {
      mkdirSync(join(dir, 'tmp'), { recursive: true });
      mkdirSync(join(dir, 'static'), { mode: 0o755 });
      copyFileSync(join(DEMO_DIR, 'static', 'items.json'), join(dir, 'static', 'items.json'));
      chmodSync(join(dir, 'static', 'items.json'), 0o644);
      const conf = readFileSync(join(DEMO_DIR, 'nginx.conf.template'), 'utf8')
        .replaceAll('{{dir}}', dir)
        .replaceAll('{{port}}', String(ports.nginx))
        .replaceAll('{{inventory_port}}', String(ports.inventory));
      writeFileSync(join(dir, 'nginx.conf'), conf);
      await start('nginx', nginxPath, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], {}, ports.nginx);
    }
    const upstream: Record<string, string> = nginxPath ? { NGINX_URL: `http://127.0.0.1:${ports.nginx}` } : { INVENTORY_URL: `http://127.0.0.1:${ports.inventory}` };
    const { postgres, redis } = await datastores;
    const stores: Record<string, string> = {
      ...(postgres.child ? { DATABASE_URL: `postgres://postgres@127.0.0.1:${ports.postgres}/postgres` } : {}),
      ...(redis.child ? { REDIS_URL: `redis://127.0.0.1:${ports.redis}` } : {}),
    };
    await start('api', process.execPath, [join(DEMO_DIR, 'api.js')], { PORT: String(ports.api), OTEL_SERVICE_NAME: 'api', ...upstream, ...stores }, ports.api);
    await start('frontend', process.execPath, [join(DEMO_DIR, 'frontend.js')], { PORT: String(ports.frontend), API_URL: `http://127.0.0.1:${ports.api}`, OTEL_SERVICE_NAME: 'frontend' }, ports.frontend);
    if (rate > 0) await start('loadgen', process.execPath, [join(DEMO_DIR, 'load.js')], { TARGET: `http://127.0.0.1:${ports.frontend}`, RATE: String(rate), OTEL_SERVICE_NAME: 'loadgen' });
    return {
      ports,
      processes: children.filter((c) => !datastoreChildren.includes(c as DatastoreChild)).map((c) => ({ name: c.name, pid: c.proc.pid! })),
      datastores: datastoreChildren.map((c) => ({ name: c.name, pid: c.proc.pid! })),
      skipped: [postgres.skipped, redis.skipped].filter((s): s is string => s !== undefined),
      dir,
      nginx: nginxPath !== undefined,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** `preferred` if nothing listens there on loopback, else a free port the kernel picks. */
async function freePort(preferred: number): Promise<number> {
  const tryListen = (port: number) =>
    new Promise<number | undefined>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(undefined));
      srv.listen(port, '127.0.0.1', () => {
        const addr = srv.address();
        const got = typeof addr === 'object' && addr ? addr.port : undefined;
        srv.close(() => resolve(got));
      });
    });
  return (await tryListen(preferred)) ?? (await tryListen(0))!;
}

async function waitForPort(port: number, proc: ChildProcess, name: string, logPath: string, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`demo: ${name} exited before listening on port ${port}: ${tail(logPath)}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`demo: ${name} did not listen on port ${port} within ${timeoutMs / 1000} s: ${tail(logPath)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-5).join(' | ') || '(no output)';
  } catch {
    return '(no output)';
  }
}

/** SIGTERM (or the child's own stop signal) each (newest first), then SIGKILL whatever is still running after 3 s. */
async function stopAll(children: Array<{ name: string; proc: ChildProcess; signal?: NodeJS.Signals }>): Promise<void> {
  const alive = (p: ChildProcess) => p.exitCode === null && p.signalCode === null;
  const exits = children.map(({ proc }) => (alive(proc) ? new Promise<void>((r) => proc.once('exit', () => r())) : Promise.resolve()));
  for (const { proc, signal } of children) if (alive(proc)) proc.kill(signal ?? 'SIGTERM');
  const timer = new Promise<void>((r) => setTimeout(r, 3000).unref());
  await Promise.race([Promise.all(exits), timer]);
  for (const { proc } of children) if (alive(proc)) proc.kill('SIGKILL');
  await Promise.race([Promise.all(exits), new Promise<void>((r) => setTimeout(r, 1000).unref())]);
}
