// A tiny memcached text-protocol client for the tests: writes what it is
// given in one write and waits (bounded) for the replies it says to expect.
import net from 'node:net';

export class TinyMemcached {
  private buf = '';
  private waiter: (() => void) | undefined;
  private constructor(private readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf += d.toString('latin1');
      this.waiter?.();
    });
  }

  static connect(port: number): Promise<TinyMemcached> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new TinyMemcached(s)));
      s.on('error', reject);
    });
  }

  /** Writes `data` (one write) and resolves with what came back once `until` holds for it (5 s at most). */
  async send(data: string, until: (received: string) => boolean = () => true, timeoutMs = 5000): Promise<string> {
    this.sock.write(Buffer.from(data, 'latin1'));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${JSON.stringify(data.slice(0, 80))}: ${JSON.stringify(this.buf.slice(-200))}`)), timeoutMs);
      const check = () => {
        if (until(this.buf)) {
          clearTimeout(timer);
          this.waiter = undefined;
          resolve();
        }
      };
      this.waiter = check;
      check();
    });
    const out = this.buf;
    this.buf = '';
    return out;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.sock.once('close', () => resolve());
      this.sock.end();
      setTimeout(() => this.sock.destroy(), 2000).unref();
    });
  }
}

/** Until `n` lines (CRLF-terminated) came: replies without data blocks. */
export const lines = (n: number) => (s: string) => s.split('\r\n').length - 1 >= n;
/** Until `n` retrieval or stats replies ended (END lines). */
export const ends = (n: number) => (s: string) => s.split('END\r\n').length - 1 >= n;
/** Until the text ends with `tail`. */
export const endsWith = (tail: string) => (s: string) => s.endsWith(tail);
