// A SocketCapture that collects exchanges for assertions, and leaves nothing behind.
import assert from 'node:assert/strict';
import { type Exchange, SocketCapture, type SocketCaptureOptions } from '../../../src/capture/index.js';
import { loadedProgramNames } from '../../helpers/bpftool.js';
import { sleep } from '../../helpers/process.js';

export interface Collected {
  capture: SocketCapture;
  exchanges: Exchange[];
  errors: unknown[];
  /** Waits until at least `n` exchanges (matching `filter`) arrived, then a settle time, and returns them. */
  waitFor(n: number, filter?: (ex: Exchange) => boolean, timeoutMs?: number): Promise<Exchange[]>;
  /** Exchanges so far (after draining the ring buffer). */
  current(filter?: (ex: Exchange) => boolean): Exchange[];
  close(): void;
}

/** Program names of the capture object, as bpftool lists them (truncated to 15 chars). */
const PROGRAMS = ['cap_read', 'cap_recvfrom', 'cap_readv', 'cap_recvmsg', 'cap_write', 'cap_sendto', 'cap_writev', 'cap_sendmsg', 'cap_sendfile', 'cap_sock_state', 'cap_fork', 'cap_exit', 'cap_sweep'];

/** Capture programs the kernel still lists, after the grace period in which it frees closed ones. */
export async function captureProgramsLoaded(): Promise<string[]> {
  const loaded = () => loadedProgramNames().filter((n) => PROGRAMS.includes(n));
  const until = Date.now() + 3000;
  while (loaded().length > 0 && Date.now() < until) await sleep(50);
  return loaded();
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
    close() {
      capture.close();
    },
  };
}

export function describe(ex: Exchange): string {
  const line = (b: Buffer) => b.toString('latin1').split('\r\n')[0];
  return `${ex.role} pid ${ex.pid} ${ex.local.port}→${ex.remote.port} "${line(ex.request)}" "${line(ex.response)}" ${ex.requestBytes}/${ex.responseBytes}${ex.incomplete ? ` ${ex.incomplete}` : ''}`;
}
