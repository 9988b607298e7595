// A throwaway mosquitto on a free loopback port (config in a mkdtemp).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChild, waitFor } from '../../helpers/process.js';
import { freePort } from '../nats/support.js';

export interface Broker {
  port: number;
  pid: number;
  dir: string;
  stop(): Promise<void>;
}

/** A fixed port someone else holds would connect the test to a stranger's broker: say so instead. */
async function mustBeFree(port: number): Promise<void> {
  const s = net.createServer();
  await new Promise<void>((resolve, reject) => {
    s.once('error', (e) => reject(new Error(`port ${port} is in use (another broker or test run?): ${String(e)}`)));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve()));
  });
}

/** `extra`: more mosquitto.conf lines (per-listener auth, …); `port`: a fixed one (default: a free one). */
export async function startMosquitto(extra = '', fixedPort?: number): Promise<Broker> {
  const dir = mkdtempSync(join(tmpdir(), 'waggle-mqtt-'));
  if (fixedPort !== undefined) await mustBeFree(fixedPort);
  const port = fixedPort ?? (await freePort());
  writeFileSync(join(dir, 'mosquitto.conf'), `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n${extra}`);
  const child = startChild('mosquitto', ['-c', join(dir, 'mosquitto.conf')]);
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        s.on('connect', () => (s.destroy(), resolve(true)));
        s.on('error', () => resolve(false));
      }),
    10_000,
    50,
  );
  return {
    port,
    pid: child.pid,
    dir,
    async stop() {
      await child.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
