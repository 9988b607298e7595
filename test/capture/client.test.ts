// The client side: a watched curl or Node fetch() writes the request and reads
// the response, so its exchanges are role 'client' with the server as remote.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startChild, within } from '../helpers/process.js';
import { type Collected, collect } from './helpers/capture.js';
import { requestLine, statusOf } from './helpers/http-lite.js';
import { type Server, startNodeServer } from './helpers/servers.js';

describe('client exchanges', () => {
  let server: Server;
  let cap: Collected;
  before(async () => {
    server = await startNodeServer();
    cap = await collect();
  });
  after(async () => {
    // close() asserts that no program stayed loaded: what else the file started stops anyway.
    try {
      await cap?.close();
    } finally {
      server?.stop();
    }
  });

  test('curl, watched from before its first request: two client exchanges', async () => {
    // curl waits on stdin (-K -) for its config, so it can be watched first.
    const curl = startChild('curl', ['-s', '-K', '-', '-w', '%{local_port}\n']);
    cap.capture.watch(curl.pid);
    curl.write(`url = "http://127.0.0.1:${server.port}/from-curl"\noutput = "/dev/null"\nurl = "http://127.0.0.1:${server.port}/chunked/3"\noutput = "/dev/null"\n`);
    curl.proc.stdin!.end();
    await within(curl.exited, 30_000, 'curl to exit');
    const localPort = Number(curl.output().trim().split('\n')[0]);
    const got = await cap.waitFor(2, (ex) => ex.pid === curl.pid);
    assert.equal(got.length, 2);
    assert.deepEqual(got.map((ex) => requestLine(ex.request)?.target), ['/from-curl', '/chunked/3']);
    for (const ex of got) {
      assert.equal(ex.role, 'client');
      assert.equal(ex.remote.port, server.port);
      assert.equal(ex.remote.address, '127.0.0.1');
      assert.equal(ex.local.port, localPort);
      assert.equal(statusOf(ex.response), 200);
      assert.equal(ex.incomplete, undefined);
      assert.ok(ex.requestStartNs <= ex.responseStartNs && ex.responseStartNs <= ex.responseEndNs);
    }
  });

  test('Node fetch() (undici), three requests: three client exchanges', async () => {
    const script = `
      process.stdin.once('data', async () => {
        for (const p of ['/f1', '/f2', '/bytes/70000']) {
          const r = await fetch('http://127.0.0.1:${server.port}' + p);
          await r.arrayBuffer();
        }
        console.log('done');
      });`;
    const child = startChild(process.execPath, ['-e', script]);
    cap.capture.watch(child.pid);
    child.write('go\n');
    await child.waitForOutput('done');
    const got = await cap.waitFor(3, (ex) => ex.pid === child.pid);
    assert.deepEqual(got.map((ex) => requestLine(ex.request)?.target), ['/f1', '/f2', '/bytes/70000']);
    assert.ok(got.every((ex) => ex.role === 'client' && ex.remote.port === server.port && statusOf(ex.response) === 200));
    const big = got[2]!;
    const headerBytes = big.response.indexOf('\r\n\r\n') + 4;
    assert.ok(headerBytes > 4);
    assert.equal(big.responseBytes, headerBytes + 70000);
    child.kill();
  });

  test('both ends watched: one server and one client exchange per request, mirrored', async () => {
    cap.capture.watch(server.child.pid);
    const script = `process.stdin.once('data', async () => { const r = await fetch('http://127.0.0.1:${server.port}/both-ends'); await r.text(); console.log('done'); });`;
    const child = startChild(process.execPath, ['-e', script]);
    cap.capture.watch(child.pid);
    child.write('go\n');
    await child.waitForOutput('done');
    const got = await cap.waitFor(2, (ex) => requestLine(ex.request)?.target === '/both-ends');
    const client = got.find((ex) => ex.role === 'client')!;
    const srv = got.find((ex) => ex.role === 'server')!;
    assert.ok(client && srv);
    assert.equal(client.pid, child.pid);
    assert.equal(srv.pid, server.child.pid);
    assert.deepEqual(client.local, srv.remote);
    assert.deepEqual(client.remote, srv.local);
    assert.equal(client.requestBytes, srv.requestBytes);
    assert.equal(client.responseBytes, srv.responseBytes);
    assert.ok(client.requestStartNs <= srv.requestStartNs && srv.responseEndNs <= client.responseEndNs, 'the server exchange nests inside the client one');
    child.kill();
  });
});
