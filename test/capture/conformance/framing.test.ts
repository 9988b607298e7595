// Conformance: every framing case (helpers/framing-cases.ts) written by the
// scripted raw server, read by each real client on keep-alive connections (each
// case twice, so a mis-framed response shows in the next one too). Both sides are
// watched: the server's exchanges and the client's must each be exactly the
// requests sent, with the right statuses, none incomplete, none framing-lost.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Collected, collect } from '../helpers/capture.js';
import { type ClientRun, type PlannedRequest, runClient } from './helpers/clients.js';
import { type ClientName, FRAMING_CASES } from './helpers/framing-cases.js';
import { type RawServer, startRawServer } from './helpers/raw-server.js';
import { assertExchanges, clientSide, serverSide, settle, target } from './helpers/sides.js';
import type { Exchange } from '../../../src/capture/index.js';

const CLIENTS: ClientName[] = ['curl', 'python-http.client', 'python-urllib', 'undici-fetch'];
const REPEAT = 2;

describe('framing conformance: scripted server × clients', () => {
  let server: RawServer;
  let cap: Collected;
  before(async () => {
    server = await startRawServer(Object.fromEntries(FRAMING_CASES.map((c) => [c.name, c])));
    cap = await collect();
    cap.capture.watch(server.pid);
  });
  after(async () => {
    await cap?.close();
    server?.stop();
  });

  for (const client of CLIENTS) {
    describe(client, () => {
      const cases = FRAMING_CASES.filter((c) => !c.skip?.[client]);
      const path = (name: string, i: number) => `/r/${name}/${client}-${i}`;
      const ofCase = (name: string) => (t: string) => t.startsWith(`/r/${name}/${client}-`);
      let run: ClientRun;
      let servers: Exchange[] = [];
      let clients: Exchange[] = [];
      before(async () => {
        const plan: PlannedRequest[] = cases.flatMap((c) =>
          Array.from({ length: REPEAT }, (_, i) => ({ method: c.method, path: path(c.name, i), headers: c.headers, body: c.body })),
        );
        run = await runClient(client, server.port, plan, (pid) => cap.capture.watch(pid));
        cap.capture.unwatch(run.pid);
        const mine = (t: string) => t.includes(`/${client}-`);
        servers = await settle(cap, plan.length, serverSide([server.pid], server.port, mine));
        clients = await settle(cap, plan.length, clientSide(run.pid));
      });

      test('the client got every response', () => {
        assert.deepEqual(run.exit, { code: 0, signal: null }, run.stderr);
        assert.deepEqual(run.statuses, cases.flatMap((c) => Array(REPEAT).fill(c.status)));
      });

      for (const c of FRAMING_CASES) {
        test(c.name, { skip: c.skip?.[client] ?? false }, () => {
          const expected = Array(REPEAT).fill(c.status);
          assertExchanges(servers.filter((ex) => ofCase(c.name)(target(ex))), expected, `server side of ${c.name}`, cap);
          assertExchanges(clients.filter((ex) => ofCase(c.name)(target(ex))), expected, `client side of ${c.name}`, cap);
        });
      }
    });
  }
});
