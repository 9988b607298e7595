// A raw TCP client for byte-exact scenarios (split writes, garbage, closes).
import { type Socket, createConnection } from 'node:net';
import { sleep } from '../../helpers/process.js';

export interface RawClient {
  sock: Socket;
  /** The client's port (kept: the socket forgets it once closed). */
  localPort: number;
  /** Everything received so far. */
  received(): string;
  write(data: string | Buffer): Promise<void>;
  /** Resolves when received() satisfies `until`. */
  waitFor(until: (text: string) => boolean, timeoutMs?: number): Promise<string>;
  closed: Promise<void>;
  end(): void;
}

export function connect(port: number): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    let text = '';
    const sock = createConnection({ port, host: '127.0.0.1', noDelay: true });
    sock.on('data', (d) => (text += d.toString('latin1')));
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    sock.on('error', () => undefined);
    sock.once('connect', () =>
      resolve({
        sock,
        localPort: sock.localPort!,
        received: () => text,
        write: (data) => new Promise((r) => sock.write(data, () => r())),
        async waitFor(until, timeoutMs = 5000) {
          const end = Date.now() + timeoutMs;
          while (!until(text)) {
            if (Date.now() > end) throw new Error(`timed out; received ${JSON.stringify(text.slice(0, 300))}`);
            await sleep(10);
          }
          return text;
        },
        closed,
        end: () => sock.end(),
      }),
    );
    sock.once('error', reject);
  });
}
