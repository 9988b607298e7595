// Conformance: every framing case (helpers/framing-cases.ts) written by the
// scripted raw server, read by each real client on keep-alive connections (each
// case twice, so a mis-framed response shows in the next one too). Both sides are
// watched: the server's exchanges and the client's must each be exactly the
// requests sent, with the right statuses, none incomplete, none framing-lost.
import { after, before, describe } from 'node:test';
import { type Collected, collect } from '../helpers/capture.js';
import { type ClientName, FRAMING_CASES } from './helpers/framing-cases.js';
import { describeClient } from './helpers/matrix.js';
import { type RawServer, startRawServer } from './helpers/raw-server.js';

const CLIENTS: ClientName[] = ['curl', 'python-http.client', 'python-urllib', 'undici-fetch', 'node-http'];

describe('framing conformance: scripted server × clients', () => {
  let server: RawServer;
  let cap: Collected;
  before(async () => {
    server = await startRawServer(Object.fromEntries(FRAMING_CASES.map((c) => [c.name, c])));
    cap = await collect();
    cap.capture.watch(server.pid);
  });
  after(async () => {
    // close() asserts that no program stayed loaded: the servers stop anyway.
    try {
      await cap?.close();
    } finally {
      server?.stop();
    }
  });

  const cases = FRAMING_CASES.map((c) => ({ ...c, path: `/r/${c.name}` }));
  for (const client of CLIENTS) describeClient(client, cases, () => ({ cap, port: server.port, serverPids: [server.pid] }));
});
