// One real server (watched), every client, every case: the suite the Node and
// Python conformance files share.
import { after, before, describe } from 'node:test';
import { type Collected, collect } from '../../helpers/capture.js';
import type { ClientName } from './framing-cases.js';
import { type MatrixCase, describeClient } from './matrix.js';
import type { RealServer } from './real-servers.js';

const CLIENTS: ClientName[] = ['curl', 'python-http.client', 'python-urllib', 'undici-fetch', 'node-http'];

export function describeServerMatrix(title: string, start: () => Promise<RealServer>, cases: MatrixCase[]): void {
  describe(title, () => {
    let server: RealServer;
    let cap: Collected;
    before(async () => {
      server = await start();
      cap = await collect();
      cap.capture.watch(server.child.pid);
    });
    after(async () => {
      // close() asserts that no program stayed loaded: the server stops anyway.
      try {
        await cap?.close();
      } finally {
        server?.stop();
      }
    });
    for (const client of CLIENTS) describeClient(client, cases, () => ({ cap, port: server.port, serverPids: server.pids() }));
  });
}
