// Conformance: Python's http.server, every way it frames a response, × clients;
// both sides watched, exact counts.
import { after, before, describe } from 'node:test';
import { type Collected, collect } from '../helpers/capture.js';
import type { ClientName } from './helpers/framing-cases.js';
import { describeClient } from './helpers/matrix.js';
import { PYTHON_CASES, type RealServer, startPythonConformanceServer } from './helpers/real-servers.js';

const CLIENTS: ClientName[] = ['curl', 'python-http.client', 'python-urllib', 'undici-fetch', 'node-http'];

describe('framing conformance: Python http.server × clients', () => {
  let server: RealServer;
  let cap: Collected;
  before(async () => {
    server = await startPythonConformanceServer();
    cap = await collect();
    cap.capture.watch(server.child.pid);
  });
  after(async () => {
    // close() asserts that no program stayed loaded: the servers stop anyway.
    try {
      await cap?.close();
    } finally {
      server?.stop();
    }
  });
  for (const client of CLIENTS) describeClient(client, PYTHON_CASES, () => ({ cap, port: server.port, serverPids: server.pids() }));
});
