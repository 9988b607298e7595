// A throwaway RabbitMQ node (one per test file: it takes ~10 s to boot) on free
// loopback ports, with its own epmd, cookie, mnesia and logs under a mkdtemp.
// stop() stops the node and its epmd and kills whatever of them is left, so the
// test runner finds no leftovers.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Child, startChild, waitFor } from '../../helpers/process.js';
import { freePort } from '../nats/support.js';

export interface Rabbit {
  port: number;
  node: string;
  /** The Erlang VM (beam.smp) that holds the broker's sockets. */
  beamPid(): number | undefined;
  stop(): Promise<void>;
}

const BIN = '/usr/lib/rabbitmq/bin';

/** Processes whose environment names our epmd port: beam, epmd, erl_child_setup, inet_gethost. */
function ours(epmdPort: number): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').includes(`ERL_EPMD_PORT=${epmdPort}`)) found.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

export async function startRabbit(tag: string): Promise<Rabbit> {
  const dir = mkdtempSync(join(tmpdir(), 'waggle-rabbit-'));
  const [port, dist, epmdPort] = [await freePort(), await freePort(), await freePort()];
  const node = `waggle-test-${tag}-${process.pid}@localhost`;
  writeFileSync(join(dir, 'rabbitmq.conf'), `listeners.tcp.default = 127.0.0.1:${port}\n`);
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  const env = {
    ...process.env,
    HOME: dir,
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_NODENAME: node,
    RABBITMQ_DIST_PORT: String(dist),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    ERL_EPMD_PORT: String(epmdPort),
  };
  // Our own epmd, in the foreground: the node would otherwise daemonise one.
  const epmd: Child = startChild('epmd', ['-port', String(epmdPort)], { env });
  const server: Child = startChild(join(BIN, 'rabbitmq-server'), [], { env, cwd: dir });
  const stop = async () => {
    spawnSync(join(BIN, 'rabbitmqctl'), ['-n', node, 'stop'], { env, timeout: 20_000, stdio: 'ignore' });
    await server.stop('SIGTERM', 5000);
    await epmd.stop('SIGTERM', 2000);
    for (const pid of ours(epmdPort)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      () =>
        new Promise<boolean>((resolve) => {
          const s = net.connect(port, '127.0.0.1');
          s.on('connect', () => (s.destroy(), resolve(true)));
          s.on('error', () => resolve(false));
        }),
      60_000,
      200,
    );
  } catch (e) {
    await stop();
    throw new Error(`rabbitmq-server did not listen on ${port}: ${String(e)}; ${server.output().slice(-500)} ${server.errors().slice(-500)}`);
  }
  const beamPid = () => ours(epmdPort).find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'latin1').trim().startsWith('beam');
    } catch {
      return false;
    }
  });
  return { port, node, stop, beamPid };
}
