// Conformance, request side: requests written in pieces (each its own write(),
// so the server's reads split them too) — the request line, a CRLF, a
// Content-Length body, a chunked body's size line and last chunk, a long header
// line, a pipelined request cut in two. Both sides: exactly one exchange per
// request, every request byte counted, none incomplete, none framing-lost.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Collected, collect } from '../helpers/capture.js';
import { runRawClient } from './helpers/clients.js';
import { type RawServer, startRawServer } from './helpers/raw-server.js';
import { assertExchanges, clientSide, serverSide, settle, target } from './helpers/sides.js';

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
const H = 'Host: x\r\n';

/** Each case: requests (by target) and the pieces they are written in. */
const CASES: { name: string; pieces: string[]; requests: number }[] = [
  { name: 'request-line-split', requests: 1, pieces: ['GE', `T /r/ok/request-line-split HTTP/1.1\r\n${H}\r\n`] },
  { name: 'version-split', requests: 1, pieces: ['GET /r/ok/version-split HTTP/1', `.1\r\n${H}\r\n`] },
  { name: 'crlf-split', requests: 1, pieces: ['GET /r/ok/crlf-split HTTP/1.1\r', `\n${H}\r`, '\n'] },
  { name: 'content-length-body-split', requests: 1, pieces: [`POST /r/ok/content-length-body-split HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\nhello`, 'world'] },
  {
    name: 'chunked-body-size-line-split',
    requests: 1,
    pieces: [`POST /r/ok/chunked-body-size-line-split HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5`, '\r\nhello\r\n', '0\r\n', '\r\n'],
  },
  {
    name: 'chunked-body-extensions-trailers',
    requests: 1,
    pieces: [`POST /r/ok/chunked-body-extensions-trailers HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nX-T: 1\r\n`, '\r\n'],
  },
  { name: 'long-header-line', requests: 1, pieces: [`GET /r/ok/long-header-line HTTP/1.1\r\nX-Long: ${'a'.repeat(2000)}`, `${'b'.repeat(2000)}\r\n${H}\r\n`] },
  {
    name: 'pipelined-second-split',
    requests: 2,
    pieces: [`GET /r/ok/pipelined-second-split HTTP/1.1\r\n${H}\r\nGET /r/ok/pipelined-second-split HT`, `TP/1.1\r\n${H}\r\n`],
  },
];

describe('framing conformance: requests written in pieces', () => {
  let server: RawServer;
  let cap: Collected;
  before(async () => {
    server = await startRawServer({ ok: { writes: [OK] } });
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

  for (const c of CASES) {
    test(c.name, async () => {
      const steps = c.pieces.map((send, i) => ({ send, expectBytes: i === c.pieces.length - 1 ? c.requests * OK.length : 0 }));
      const run = await runRawClient(server.port, steps, (pid) => cap.capture.watch(pid));
      cap.capture.unwatch(run.pid);
      const mine = (t: string) => t === `/r/ok/${c.name}`;
      const servers = await settle(cap, c.requests, serverSide([server.pid], server.port, mine));
      const clients = await settle(cap, c.requests, clientSide(run.pid));
      const statuses = Array(c.requests).fill(200);
      assert.deepEqual(run.exit, { code: 0, signal: null }, run.stderr);
      assert.deepEqual(run.statuses, statuses);
      assertExchanges(servers, statuses, 'server side', cap);
      assertExchanges(clients, statuses, 'client side', cap);
      const sent = c.pieces.reduce((a, p) => a + p.length, 0);
      assert.equal(servers.reduce((a, ex) => a + ex.requestBytes, 0), sent, 'every request byte, read side');
      assert.equal(clients.reduce((a, ex) => a + ex.requestBytes, 0), sent, 'every request byte, written side');
      assert.ok(clients.every((ex) => target(ex) === `/r/ok/${c.name}`));
    });
  }
});
