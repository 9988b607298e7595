// The table-driven cell: one client runs every case of a server (each case
// REPEAT times, in order, on keep-alive connections where the client keeps them),
// then each case is a test asserting both capture sides exactly.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Exchange } from '../../../../src/capture/index.js';
import type { Collected } from '../../helpers/capture.js';
import { type ClientRun, runClient } from './clients.js';
import type { ClientName } from './framing-cases.js';
import { assertExchanges, clientSide, serverSide, settle, target } from './sides.js';

export interface MatrixCase {
  name: string;
  /** Path on the server; the case, the client's name and the repetition go in the query. */
  path: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  status: number;
  skip?: Partial<Record<ClientName, string>>;
}

export interface MatrixTarget {
  cap: Collected;
  port: number;
  serverPids: number[];
}

export const REPEAT = 2;

/** describe(client) with a test per case; `target()` is read once the suite's before hooks ran. */
export function describeClient(client: ClientName, cases: MatrixCase[], get: () => MatrixTarget): void {
  describe(client, () => {
    const runs = cases.filter((c) => !c.skip?.[client]);
    // The case's index tells apart cases on one path (GET and HEAD of it).
    const tag = (c: MatrixCase) => `${c.path}?k=${cases.indexOf(c)}&c=${client}-`;
    let run: ClientRun;
    let servers: Exchange[] = [];
    let clients: Exchange[] = [];
    let cap: Collected;
    before(async () => {
      const t = get();
      cap = t.cap;
      const plan = runs.flatMap((c) => Array.from({ length: REPEAT }, (_, i) => ({ method: c.method, path: `${tag(c)}${i}`, headers: c.headers, body: c.body })));
      run = await runClient(client, t.port, plan, (pid) => cap.capture.watch(pid));
      cap.capture.unwatch(run.pid);
      const mine = (p: string) => p.includes(`c=${client}-`);
      servers = await settle(cap, plan.length, serverSide(t.serverPids, t.port, mine));
      clients = await settle(cap, plan.length, clientSide(run.pid));
    });

    test('the client got every response', () => {
      assert.deepEqual(run.exit, { code: 0, signal: null }, run.stderr);
      assert.deepEqual(run.statuses, runs.flatMap((c) => Array(REPEAT).fill(c.status)));
    });

    for (const c of cases) {
      test(c.name, { skip: c.skip?.[client] ?? false }, () => {
        const ofCase = (ex: Exchange) => target(ex).startsWith(tag(c));
        const expected = Array(REPEAT).fill(c.status);
        assertExchanges(servers.filter(ofCase), expected, `server side of ${c.name}`, cap);
        assertExchanges(clients.filter(ofCase), expected, `client side of ${c.name}`, cap);
      });
    }
  });
}
