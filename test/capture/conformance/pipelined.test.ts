// Conformance: pipelined requests (one write from the client) answered by
// responses joined and split across writes at awkward places: the last chunk
// joined with the next response, a chunk size split across writes, interim
// responses, HEAD in the middle, the full pipelining depth in one write.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Collected, collect } from '../helpers/capture.js';
import { runRawClient } from './helpers/clients.js';
import { type RawServer, type Script, startRawServer } from './helpers/raw-server.js';
import { assertExchanges, clientSide, serverSide, settle } from './helpers/sides.js';

const OK = 'HTTP/1.1 200 OK\r\n';
const TE = 'Transfer-Encoding: chunked\r\n';
const chunked = (body: string) => `${OK}${TE}\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
const withLength = (body: string, status = '200 OK') => `HTTP/1.1 ${status}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

interface PipelineCase extends Script {
  name: string;
  methods: string[];
  statuses: number[];
}

const CASES: PipelineCase[] = [
  {
    name: 'last-chunk-joined-with-next-response',
    methods: ['GET', 'GET', 'GET'],
    statuses: [200, 200, 204],
    writes: [`${OK}${TE}\r\n2\r\nhi\r\n`, `0\r\n\r\n${withLength('hello')}HTTP/1.1 204 No Content\r\n\r\n`],
  },
  {
    name: 'three-responses-in-one-write',
    methods: ['GET', 'GET', 'GET'],
    statuses: [200, 404, 200],
    writes: [`${chunked('one')}${withLength('nf', '404 Not Found')}${OK}${TE}\r\n3;x=y\r\ntwo\r\n0\r\nX-T: 1\r\n\r\n`],
  },
  {
    name: 'next-chunk-size-split-across-writes',
    methods: ['GET', 'GET'],
    statuses: [200, 200],
    writes: [`${chunked('first')}${OK}${TE}\r\n1`, '0\r\n0123456789abcdef\r\n0\r', '\n\r\n'],
  },
  {
    name: 'interim-responses-between',
    methods: ['GET', 'GET'],
    statuses: [200, 200],
    writes: [`HTTP/1.1 100 Continue\r\n\r\n${chunked('a')}HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n${withLength('b')}`],
  },
  {
    name: 'head-between',
    methods: ['GET', 'HEAD', 'GET'],
    statuses: [200, 200, 304],
    writes: [`${withLength('a')}${OK}Content-Length: 50\r\n\r\n${OK.replace('200 OK', '304 Not Modified')}\r\n`],
  },
  {
    name: 'full-depth-chunked-in-one-write',
    methods: Array(8).fill('GET'),
    statuses: Array(8).fill(200),
    writes: [Array.from({ length: 8 }, (_, i) => chunked(`r${i}`)).join('')],
  },
];

describe('framing conformance: pipelined requests, joined and split responses', () => {
  let server: RawServer;
  let cap: Collected;
  before(async () => {
    server = await startRawServer(Object.fromEntries(CASES.map((c) => [c.name, { ...c, batch: c.methods.length }])));
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
      const requests = c.methods.map((m, i) => `${m} /r/${c.name}/${i} HTTP/1.1\r\nHost: x\r\n\r\n`).join('');
      const expectBytes = c.writes.reduce((a, w) => a + Buffer.byteLength(w, 'latin1'), 0);
      const run = await runRawClient(server.port, [{ send: requests, expectBytes }], (pid) => cap.capture.watch(pid));
      cap.capture.unwatch(run.pid);
      const mine = (t: string) => t.startsWith(`/r/${c.name}/`);
      const servers = await settle(cap, c.statuses.length, serverSide([server.pid], server.port, mine));
      const clients = await settle(cap, c.statuses.length, clientSide(run.pid));
      assert.deepEqual(run.exit, { code: 0, signal: null }, run.stderr);
      assert.deepEqual(run.statuses, c.statuses);
      assertExchanges(servers, c.statuses, 'server side', cap);
      assertExchanges(clients, c.statuses, 'client side', cap);
      const sent = clients.reduce((a, ex) => a + ex.responseBytes, 0);
      assert.equal(sent, expectBytes, 'the responses together are every byte the client read');
    });
  }
});
