// Connections that do not follow the happy path: opened before the capture,
// headers split over many writes, closed mid-response or before it, idle past
// the timeout, and bytes that are not HTTP at all.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sleep } from '../helpers/process.js';
import { type Collected, collect } from './helpers/capture.js';
import { requestLine, statusOf } from './helpers/http-lite.js';
import { connect } from './helpers/raw-client.js';
import { type Server, startNodeServer } from './helpers/servers.js';

const responses = (t: string) => t.split('HTTP/1.1 ').length - 1;

describe('connection edges', () => {
  let server: Server;
  let cap: Collected;
  before(async () => {
    server = await startNodeServer();
  });
  after(async () => {
    // close() asserts that no program stayed loaded: what else the file started stops anyway.
    try {
      await cap?.close();
    } finally {
      server?.stop();
    }
  });

  test('a keep-alive connection opened and used before the capture started still yields exchanges', async () => {
    const client = await connect(server.port);
    await client.write('GET /early HTTP/1.1\r\nHost: x\r\n\r\n');
    await client.waitFor((t) => responses(t) === 1 && t.endsWith('hello'));
    cap = await collect({ idleTimeoutMs: 1000, sweepIntervalMs: 0 });
    cap.capture.watch(server.child.pid);
    await client.write('GET /late1 HTTP/1.1\r\nHost: x\r\n\r\n');
    await client.waitFor((t) => responses(t) === 2 && t.endsWith('hello'));
    await client.write('GET /late2 HTTP/1.1\r\nHost: x\r\n\r\n');
    await client.waitFor((t) => responses(t) === 3 && t.endsWith('hello'));
    const got = await cap.waitFor(2, (ex) => ex.remote.port === client.localPort);
    assert.deepEqual(got.map((ex) => requestLine(ex.request)?.target), ['/late1', '/late2']);
    assert.ok(got.every((ex) => ex.role === 'server' && statusOf(ex.response) === 200));
    client.end();
  });

  test('request headers split over many small writes: one exchange with the whole request', async () => {
    const client = await connect(server.port);
    const raw = 'GET /split/headers HTTP/1.1\r\nHost: example\r\nX-Long-Header: ' + 'v'.repeat(120) + '\r\nAccept: */*\r\n\r\n';
    for (let i = 0; i < raw.length; i += 7) {
      await client.write(raw.slice(i, i + 7));
      await sleep(2); // separate reads on the server
    }
    await client.waitFor((t) => t.endsWith('hello'));
    const got = await cap.waitFor(1, (ex) => ex.remote.port === client.localPort);
    assert.equal(got.length, 1);
    assert.equal(got[0]!.request.toString('latin1'), raw);
    assert.equal(got[0]!.requestBytes, raw.length);
    assert.equal(statusOf(got[0]!.response), 200);
    client.end();
  });

  test('the server closes mid-response: the exchange is reported, marked closed-mid-response', async () => {
    const client = await connect(server.port);
    await client.write('GET /close-mid/100000 HTTP/1.1\r\nHost: x\r\n\r\n');
    await client.closed;
    const got = await cap.waitFor(1, (ex) => ex.remote.port === client.localPort);
    assert.equal(got.length, 1);
    assert.equal(got[0]!.incomplete, 'closed-mid-response');
    assert.equal(statusOf(got[0]!.response), 200);
    const headerBytes = got[0]!.response.indexOf('\r\n\r\n') + 4;
    assert.equal(got[0]!.responseBytes, headerBytes + 50000, 'the half that was sent');
  });

  test('the client closes before any response: closed-before-response', async () => {
    const client = await connect(server.port);
    await client.write('GET /never HTTP/1.1\r\nHost: x\r\n\r\n');
    await sleep(100);
    client.sock.destroy();
    const got = await cap.waitFor(1, (ex) => ex.remote.port === client.localPort);
    assert.equal(got[0]!.incomplete, 'closed-before-response');
    assert.equal(requestLine(got[0]!.request)?.target, '/never');
    assert.equal(got[0]!.responseBytes, 0);
  });

  test('an exchange idle past idleTimeoutMs is reported as timeout by the sweep', async () => {
    const client = await connect(server.port);
    await client.write('GET /never HTTP/1.1\r\nHost: x\r\n\r\n');
    await sleep(1300);
    cap.capture.sweep();
    const got = await cap.waitFor(1, (ex) => ex.remote.port === client.localPort);
    assert.equal(got[0]!.incomplete, 'timeout');
    assert.equal(cap.capture.stats().inFlight, 0);
    client.sock.destroy();
    await sleep(100);
    assert.equal(cap.current((ex) => ex.remote.port === client.localPort).length, 1, 'nothing more after the close');
  });

  test('garbage and a binary protocol on the watched port: no exchanges, server unharmed', async () => {
    const before = cap.exchanges.length;
    const garbage = await connect(server.port);
    await garbage.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, ...Array(64).fill(7)]));
    await garbage.closed; // Node answers 400 and closes
    const binary = await connect(server.port);
    await binary.write(Buffer.from('*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n'));
    await binary.closed;
    const lookalike = await connect(server.port);
    await lookalike.write('GET /not-http-at-all\r\n\r\n'); // HTTP/0.9-ish: no version
    await lookalike.closed;
    const random = await connect(server.port);
    for (let i = 0; i < 20; i++) await random.write(Buffer.from(Array.from({ length: 200 }, () => Math.floor(Math.random() * 256))));
    await random.closed;
    await sleep(200);
    assert.equal(cap.current().length - before, 0);
    assert.ok(cap.capture.stats().notHttp >= 1, 'the request line without a version was refused');
    // Still capturing.
    const ok = await connect(server.port);
    await ok.write('GET /after-garbage HTTP/1.1\r\nHost: x\r\n\r\n');
    await ok.waitFor((t) => t.endsWith('hello'));
    const got = await cap.waitFor(1, (ex) => ex.remote.port === ok.localPort);
    assert.equal(requestLine(got[0]!.request)?.target, '/after-garbage');
    ok.end();
    assert.equal(cap.errors.length, 0);
  });
});
