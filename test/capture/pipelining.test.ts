// HTTP/1.1 pipelining: requests written together give one exchange each, in
// order, each with its own captured request bytes.
import assert from 'node:assert/strict';
import { createConnection } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type Collected, collect } from './helpers/capture.js';
import { requestLine, statusOf } from './helpers/http-lite.js';
import { type Server, startNodeServer, startPythonServer } from './helpers/servers.js';

/** Writes `raw` in one write() and reads until `responses` responses (each ending in "hello" or "slow") arrived. */
function exchangeRaw(port: number, raw: string, until: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ port, host: '127.0.0.1' }, () => sock.write(raw));
    let text = '';
    sock.on('data', (d) => {
      text += d.toString('latin1');
      if (until(text)) {
        sock.end();
        resolve(text);
      }
    });
    sock.on('error', reject);
    setTimeout(() => reject(new Error(`timeout; got ${JSON.stringify(text)}`)), 5000).unref();
  });
}

const count = (text: string, what: string) => text.split(what).length - 1;

for (const [name, start] of [
  ['node', startNodeServer],
  ['python', startPythonServer],
] as const) {
  describe(`pipelining against ${name}`, () => {
    let server: Server;
    let cap: Collected;
    before(async () => {
      server = await start();
      cap = await collect();
      cap.capture.watch(server.child.pid);
    });
    after(async () => {
      // close() asserts that no program stayed loaded: what else the file started stops anyway.
      try {
        await cap?.close();
      } finally {
        server?.stop();
      }
    });

    test('two requests in one write: two exchanges, in order', async () => {
      const raw = 'GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\n';
      const text = await exchangeRaw(server.port, raw, (t) => count(t, 'HTTP/1.1 200') === 2 && t.endsWith('hello'));
      assert.equal(count(text, 'HTTP/1.1 200'), 2);
      const got = await cap.waitFor(2, (ex) => /\/(first|second) /.test(ex.request.toString('latin1')));
      assert.deepEqual(got.map((ex) => requestLine(ex.request)?.target), ['/first', '/second']);
      for (const ex of got) {
        assert.equal(ex.request.toString('latin1').split('GET ').length - 1, 1, 'each exchange carries only its own request');
        assert.equal(statusOf(ex.response), 200);
        assert.equal(ex.requestBytes, 'GET /first HTTP/1.1\r\nHost: x\r\n\r\n'.length + (ex.request.includes('/second') ? 1 : 0));
        assert.equal(ex.incomplete, undefined);
      }
      assert.equal(got[0]!.connectionId, got[1]!.connectionId);
      assert.ok(got[0]!.responseEndNs <= got[1]!.responseStartNs);
      // Responses are attributed byte-exactly: together they are everything the client read.
      assert.equal(got[0]!.responseBytes + got[1]!.responseBytes, Buffer.byteLength(text, 'latin1'));
    });

    test('five pipelined requests, one with a body: five exchanges, in order', async () => {
      const reqs = [
        'GET /p1 HTTP/1.1\r\nHost: x\r\n\r\n',
        'POST /p2 HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world',
        'HEAD /p3 HTTP/1.1\r\nHost: x\r\n\r\n',
        'GET /p4 HTTP/1.1\r\nHost: x\r\n\r\n',
        'GET /p5 HTTP/1.1\r\nHost: x\r\n\r\n',
      ];
      await exchangeRaw(server.port, reqs.join(''), (t) => count(t, 'HTTP/1.1 20') === 5 && t.endsWith('hello') && !t.endsWith('hello world'));
      const got = await cap.waitFor(5, (ex) => /\/p\d /.test(ex.request.toString('latin1')));
      assert.deepEqual(got.map((ex) => requestLine(ex.request)?.target), ['/p1', '/p2', '/p3', '/p4', '/p5']);
      assert.deepEqual(got.map((ex) => ex.requestBytes), reqs.map((r) => r.length));
    });
  });
}
