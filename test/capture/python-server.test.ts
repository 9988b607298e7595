// Python's http.server (HTTP/1.1 keep-alive) driven by curl and ab: every request
// is exactly one server exchange with the right method, path, status and ports.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { type Collected, collect } from './helpers/capture.js';
import { requestLine, statusOf } from './helpers/http-lite.js';
import { type Server, startPythonServer } from './helpers/servers.js';

describe('python http.server', () => {
  let server: Server;
  let cap: Collected;
  before(async () => {
    server = await startPythonServer();
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

  test('curl with three URLs on one keep-alive connection: three exchanges, in order', async () => {
    const base = `http://127.0.0.1:${server.port}`;
    const urls = [`${base}/a`, `${base}/status/404`, `${base}/bytes/3000`];
    const out = execFileSync('curl', ['-s', '-w', '%{local_port} %{http_code} %{size_header} %{size_download}\n', ...urls.flatMap((u) => ['-o', '/dev/null', u])], {
      timeout: 60_000,
      encoding: 'utf8',
    });
    const lines = out.trim().split('\n').map((l) => l.split(' ').map(Number));
    const mine = (ex: { remote: { port: number } }) => ex.remote.port === lines[0]![0];
    const got = await cap.waitFor(3, mine);
    assert.equal(got.length, 3);
    assert.deepEqual(got.map((ex) => requestLine(ex.request)), [
      { method: 'GET', target: '/a' },
      { method: 'GET', target: '/status/404' },
      { method: 'GET', target: '/bytes/3000' },
    ]);
    assert.deepEqual(got.map((ex) => statusOf(ex.response)), [200, 404, 200]);
    got.forEach((ex, i) => {
      const [localPort, , sizeHeader, sizeDownload] = lines[i]!;
      assert.equal(ex.role, 'server');
      assert.equal(ex.pid, server.child.pid);
      assert.equal(ex.local.address, '127.0.0.1');
      assert.equal(ex.local.port, server.port);
      assert.equal(ex.remote.port, localPort, 'one connection: curl reused its port');
      assert.equal(ex.responseBytes, sizeHeader! + sizeDownload!);
      assert.equal(ex.incomplete, undefined);
      assert.equal(ex.statusHint, statusOf(ex.response));
      assert.ok(ex.requestStartNs <= ex.requestEndNs && ex.requestEndNs <= ex.responseStartNs && ex.responseStartNs <= ex.responseEndNs);
    });
    assert.equal(new Set(got.map((ex) => ex.connectionId)).size, 1);
    assert.ok(got[0]!.responseEndNs <= got[1]!.requestStartNs, 'keep-alive exchanges follow each other');
  });

  test('ab -n 200 -c 4 -k: exactly as many exchanges as ab completed', async () => {
    const before = cap.current((ex) => ex.request.includes('/ab-k ')).length;
    const out = execFileSync('ab', ['-q', '-n', '200', '-c', '4', '-k', `http://127.0.0.1:${server.port}/ab-k`], { timeout: 60_000, encoding: 'utf8' });
    const completed = Number(/Complete requests:\s+(\d+)/.exec(out)![1]);
    const failed = Number(/Failed requests:\s+(\d+)/.exec(out)![1]);
    assert.equal(completed, 200);
    assert.equal(failed, 0);
    const got = await cap.waitFor(before + completed, (ex) => ex.request.includes('/ab-k '));
    assert.equal(got.length - before, completed);
    assert.ok(got.every((ex) => ex.role === 'server' && statusOf(ex.response) === 200 && requestLine(ex.request)?.method === 'GET'));
    assert.ok(new Set(got.map((ex) => ex.connectionId)).size <= 4, 'keep-alive: at most 4 connections');
  });

  test('HEAD, POST with a body, and a chunked response', async () => {
    const base = `http://127.0.0.1:${server.port}`;
    execFileSync('curl', ['-s', '-o', '/dev/null', '-I', `${base}/head`], { timeout: 60_000 });
    execFileSync('curl', ['-s', '-o', '/dev/null', '-d', 'x'.repeat(5000), `${base}/post`], { timeout: 60_000 });
    execFileSync('curl', ['-s', '-o', '/dev/null', `${base}/chunked/40`], { timeout: 60_000 });
    const pick = (path: string) => (ex: { request: Buffer }) => requestLine(ex.request)?.target === path;
    const [head] = await cap.waitFor(1, pick('/head'));
    assert.equal(head!.request.subarray(0, 5).toString(), 'HEAD ');
    assert.equal(statusOf(head!.response), 200);
    assert.equal(head!.incomplete, undefined);
    const [post] = await cap.waitFor(1, pick('/post'));
    assert.equal(statusOf(post!.response), 201);
    assert.ok(post!.requestBytes > 5000, 'request bytes include the body');
    assert.ok(post!.responseBytes > 5000, 'the echoed body');
    const [chunked] = await cap.waitFor(1, pick('/chunked/40'));
    assert.equal(statusOf(chunked!.response), 200);
    const headerBytes = chunked!.response.indexOf('\r\n\r\n') + 4;
    assert.equal(chunked!.responseBytes, headerBytes + 40 * 10 + 5, 'ends at the chunked terminator');
  });
});
