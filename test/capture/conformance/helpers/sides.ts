// Reading a cell's outcome off the capture: the exchanges of one side (server or
// client), waited for without throwing (tests stop what they started before
// asserting), and compared with what the cell must be, exactly.
import assert from 'node:assert/strict';
import type { Exchange } from '../../../../src/capture/index.js';
import { sleep } from '../../../helpers/process.js';
import { type Collected, describe as describeExchange } from '../../helpers/capture.js';
import { statusOf } from '../../helpers/http-lite.js';

export type Filter = (ex: Exchange) => boolean;

/** Waits until `n` exchanges match (or the time is up), then a moment for any extra ones; never throws. */
export async function settle(cap: Collected, n: number, filter: Filter, timeoutMs = 5000): Promise<Exchange[]> {
  const until = Date.now() + timeoutMs;
  while (cap.current(filter).length < n && Date.now() < until) await sleep(25);
  await sleep(150);
  return cap.current(filter);
}

export const target = (ex: Exchange): string => /^[A-Z]+ (\S+)/.exec(ex.request.toString('latin1'))?.[1] ?? '';

export const serverSide = (pids: number[], port: number, match: (target: string) => boolean): Filter => (ex) =>
  ex.role === 'server' && pids.includes(ex.pid) && ex.local.port === port && match(target(ex));

export const clientSide = (pid: number, match: (target: string) => boolean = () => true): Filter => (ex) =>
  ex.role === 'client' && ex.pid === pid && match(target(ex));

/** The final status an exchange reports: the kernel's hint, checked against the captured bytes. */
function statusOfExchange(ex: Exchange): number {
  const fromBytes = statusOf(ex.response) ?? 0;
  return ex.statusHint === fromBytes ? fromBytes : -1;
}

/** Exactly these statuses, in order, none incomplete, none with framing lost. */
export function assertExchanges(got: Exchange[], statuses: number[], what: string, cap: Collected): void {
  const detail = () => `${what}: ${got.map((ex) => `${describeExchange(ex)}${ex.framingLost ? ' framing-lost' : ''} hint ${ex.statusHint}`).join(' | ') || 'none'}; stats ${JSON.stringify(cap.capture.stats())}`;
  assert.deepEqual(got.map(statusOfExchange), statuses, detail());
  assert.deepEqual(got.filter((ex) => ex.incomplete || ex.framingLost).map(describeExchange), [], detail());
}
