// A Node http server (libuv: read, writev) driven by ab and curl; chunked
// responses written in many pieces end at their terminator.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { type Collected, collect } from './helpers/capture.js';
import { requestLine, statusOf } from './helpers/http-lite.js';
import { type Server, startNodeServer } from './helpers/servers.js';

function ab(args: string[]): number {
  const out = execFileSync('ab', ['-q', ...args], { timeout: 60_000, encoding: 'utf8' });
  assert.equal(Number(/Failed requests:\s+(\d+)/.exec(out)![1]), 0, out);
  return Number(/Complete requests:\s+(\d+)/.exec(out)![1]);
}

describe('node http server', () => {
  let server: Server;
  let cap: Collected;
  before(async () => {
    server = await startNodeServer();
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

  test('ab -n 300 -c 8 (a connection per request): exactly 300 exchanges', async () => {
    const completed = ab(['-n', '300', '-c', '8', `http://127.0.0.1:${server.port}/ab-new`]);
    assert.equal(completed, 300);
    const got = await cap.waitFor(completed, (ex) => ex.request.includes('/ab-new '));
    assert.equal(got.length, 300);
    assert.ok(got.every((ex) => ex.role === 'server' && ex.local.port === server.port && statusOf(ex.response) === 200));
    assert.equal(new Set(got.map((ex) => ex.remote.port)).size > 8, true, 'new connections');
  });

  test('ab -k -n 500 -c 5: exactly 500 exchanges', async () => {
    // (Node answers ab's HTTP/1.0 keep-alive requests with Connection: close.)
    const completed = ab(['-k', '-n', '500', '-c', '5', `http://127.0.0.1:${server.port}/ab-k`]);
    const got = await cap.waitFor(completed, (ex) => ex.request.includes('/ab-k '));
    assert.equal(got.length, completed);
    assert.equal(completed, 500);
    assert.ok(got.every((ex) => requestLine(ex.request)?.target === '/ab-k' && ex.incomplete === undefined));
  });

  test('curl with five URLs on one keep-alive connection: five exchanges on one connection', async () => {
    const urls = [1, 2, 3, 4, 5].map((i) => `http://127.0.0.1:${server.port}/ka${i}`);
    execFileSync('curl', ['-s', ...urls.flatMap((u) => ['-o', '/dev/null', u])], { timeout: 60_000 });
    const got = await cap.waitFor(5, (ex) => /\/ka\d /.test(ex.request.toString('latin1')));
    assert.deepEqual(got.map((ex) => requestLine(ex.request)?.target), ['/ka1', '/ka2', '/ka3', '/ka4', '/ka5']);
    assert.equal(new Set(got.map((ex) => ex.connectionId)).size, 1);
    assert.equal(new Set(got.map((ex) => ex.remote.port)).size, 1);
  });

  test('a chunked response written in 200 pieces is one exchange ending at its last byte', async () => {
    const out = execFileSync('curl', ['-s', '-o', '/dev/null', '-w', '%{size_header} %{size_download}', `http://127.0.0.1:${server.port}/chunked/200`], { timeout: 60_000, encoding: 'utf8' });
    const [sizeHeader, sizeDownload] = out.split(' ').map(Number);
    const [ex] = await cap.waitFor(1, (e) => requestLine(e.request)?.target === '/chunked/200');
    assert.ok(ex);
    assert.match(ex.response.toString('latin1'), /transfer-encoding: chunked/i);
    // curl's size_download is the de-chunked body; count the wire bytes from the framing.
    const body = Array.from({ length: 200 }, (_, i) => `chunk${i}`);
    const wire = body.reduce((n, c) => n + c.length.toString(16).length + 2 + c.length + 2, 0) + 5;
    assert.equal(sizeDownload, body.join('').length);
    assert.equal(ex.responseBytes, sizeHeader! + wire);
    assert.equal(ex.incomplete, undefined);
  });

  test('204 and 304 have no body: the next exchange on the connection is still paired', async () => {
    const urls = ['/status/204', '/status/304', '/after-no-body'].map((p) => `http://127.0.0.1:${server.port}${p}`);
    execFileSync('curl', ['-s', ...urls.flatMap((u) => ['-o', '/dev/null', u])], { timeout: 60_000 });
    const got = await cap.waitFor(3, (ex) => /\/(status\/[23]04|after-no-body) /.test(ex.request.toString('latin1')));
    assert.deepEqual(got.map((ex) => [requestLine(ex.request)?.target, statusOf(ex.response)]), [
      ['/status/204', 204],
      ['/status/304', 304],
      ['/after-no-body', 200],
    ]);
    assert.equal(new Set(got.map((ex) => ex.connectionId)).size, 1);
    assert.ok(got.every((ex) => ex.incomplete === undefined && !ex.framingLost));
  });

  test('Expect: 100-continue: one exchange, the final response captured, the interim one counted', async () => {
    const out = execFileSync('curl', ['-s', '-o', '/dev/null', '-w', '%{size_header} %{size_download}', '-H', 'Expect: 100-continue', '--data-binary', 'b'.repeat(2000), `http://127.0.0.1:${server.port}/continue`], { timeout: 60_000, encoding: 'utf8' });
    const [sizeHeader, sizeDownload] = out.split(' ').map(Number);
    const got = await cap.waitFor(1, (ex) => requestLine(ex.request)?.target === '/continue');
    assert.equal(got.length, 1);
    assert.equal(statusOf(got[0]!.response), 200);
    assert.equal(got[0]!.statusHint, 200);
    assert.equal(got[0]!.responseBytes, sizeHeader! + sizeDownload!, "curl's header size includes the 100 Continue");
    assert.ok(got[0]!.requestBytes > 2000);
  });

  test('a 1 MiB body with Content-Length: responseBytes counts every byte', async () => {
    const out = execFileSync('curl', ['-s', '-o', '/dev/null', '-w', '%{size_header} %{size_download}', `http://127.0.0.1:${server.port}/bytes/1048576`], { timeout: 60_000, encoding: 'utf8' });
    const [sizeHeader, sizeDownload] = out.split(' ').map(Number);
    const [ex] = await cap.waitFor(1, (e) => requestLine(e.request)?.target === '/bytes/1048576');
    assert.equal(sizeDownload, 1048576);
    assert.equal(ex!.responseBytes, sizeHeader! + sizeDownload!);
    assert.equal(ex!.response.length, 256, 'capture is capped at responseCaptureBytes');
  });
});
