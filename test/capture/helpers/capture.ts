// A SocketCapture that collects exchanges for assertions, and leaves nothing behind.
import assert from 'node:assert/strict';
import { type Exchange, SocketCapture, type SocketCaptureOptions } from '../../../src/capture/index.js';
import { loadedProgramIds } from '../../helpers/bpftool.js';
import { sleep } from '../../helpers/process.js';

export interface Collected {
  capture: SocketCapture;
  exchanges: Exchange[];
  errors: unknown[];
  /** Waits until at least `n` exchanges (matching `filter`) arrived, then a settle time, and returns them. */
  waitFor(n: number, filter?: (ex: Exchange) => boolean, timeoutMs?: number): Promise<Exchange[]>;
  /** Exchanges so far (after draining the ring buffer). */
  current(filter?: (ex: Exchange) => boolean): Exchange[];
  /** Closes the capture and checks the kernel no longer lists any of its programs. */
  close(): Promise<void>;
}

/**
 * After close(): the ids of this capture's programs that the kernel still
 * lists, once the grace period in which it frees closed programs has passed.
 * (Ids, not names: other test runs may load the same programs meanwhile.)
 */
export async function leftoverPrograms(ids: number[]): Promise<number[]> {
  const left = () => {
    const loaded = loadedProgramIds();
    return ids.filter((id) => loaded.has(id));
  };
  const until = Date.now() + 3000;
  while (left().length > 0 && Date.now() < until) await sleep(50);
  return left();
}

export async function collect(opts: Partial<SocketCaptureOptions> = {}): Promise<Collected> {
  const exchanges: Exchange[] = [];
  const errors: unknown[] = [];
  const capture = await SocketCapture.start({
    ...opts,
    onExchange: (ex) => {
      // Keep copies: the record views die with their batch otherwise.
      exchanges.push({ ...ex, request: Buffer.from(ex.request), response: Buffer.from(ex.response) });
    },
    onError: (e) => errors.push(e),
  });
  const current = (filter: (ex: Exchange) => boolean = () => true) => {
    capture.drain();
    return exchanges.filter(filter);
  };
  return {
    capture,
    exchanges,
    errors,
    current,
    async waitFor(n, filter = () => true, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      while (current(filter).length < n) {
        if (Date.now() > until) {
          assert.fail(`expected ${n} exchanges, got ${current(filter).length}: ${current(filter).map(describe).join(' | ')}; stats ${JSON.stringify(capture.stats())}`);
        }
        await sleep(25);
      }
      await sleep(150); // anything beyond n would show up now
      return current(filter);
    },
    async close() {
      const coll = capture.collection;
      const ids = [...coll.spec.programs.values()].filter((p) => p.autoload).map((p) => coll.program(p.name).info().id);
      capture.close();
      assert.deepEqual(await leftoverPrograms(ids), [], 'programs left loaded after close()');
    },
  };
}

export function describe(ex: Exchange): string {
  const line = (b: Buffer) => b.toString('latin1').split('\r\n')[0];
  return `${ex.role} pid ${ex.pid} ${ex.local.port}→${ex.remote.port} "${line(ex.request)}" "${line(ex.response)}" ${ex.requestBytes}/${ex.responseBytes}${ex.incomplete ? ` ${ex.incomplete}` : ''}`;
}
