// The capture's legacy build (5.10–5.16: bounded loops instead of bpf_loop, a
// sweep fed by user space instead of bpf_for_each_map_elem) loads on this kernel
// too: it must frame exactly as the modern builds do, and its sweep must end
// idle exchanges and count what is pending.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { CAPTURE_OBJECT_LEGACY } from '../../src/capture/index.js';
import { sleep } from '../helpers/process.js';
import { collect } from './helpers/capture.js';
import { requestLine, statusOf } from './helpers/http-lite.js';
import { connect } from './helpers/raw-client.js';
import { startNodeServer } from './helpers/servers.js';

describe('capture legacy build', () => {
  test("'legacy': keep-alive chunked and Content-Length responses, exactly one exchange each", async () => {
    const server = await startNodeServer();
    const cap = await collect({ kernelReads: 'legacy' });
    let got;
    try {
      cap.capture.watch(server.child.pid);
      const urls = Array.from({ length: 10 }, (_, i) => `http://127.0.0.1:${server.port}/${i % 2 ? 'chunked/3' : 'plain'}?n=${i}`);
      execFileSync('curl', ['-s', '--max-time', '10', ...urls.flatMap((u) => ['-o', '/dev/null', u])], { timeout: 15_000 });
      got = await cap.waitFor(10, (ex) => /\?n=\d+ /.test(ex.request.toString('latin1')));
    } finally {
      await cap.close();
      server.stop();
    }
    assert.equal(cap.capture.object, CAPTURE_OBJECT_LEGACY);
    assert.equal(got.length, 10);
    assert.deepEqual(
      got.map((ex) => requestLine(ex.request)?.target),
      Array.from({ length: 10 }, (_, i) => `/${i % 2 ? 'chunked/3' : 'plain'}?n=${i}`),
    );
    assert.ok(got.every((ex) => statusOf(ex.response) === 200 && ex.incomplete === undefined && !ex.framingLost));
    assert.equal(new Set(got.map((ex) => ex.connectionId)).size, 1, 'one keep-alive connection');
  });

  test("'legacy': the sweep counts a pending exchange, then reports it as timeout once idle", async () => {
    const server = await startNodeServer();
    const cap = await collect({ kernelReads: 'legacy', idleTimeoutMs: 1000, sweepIntervalMs: 0 });
    let client;
    try {
      cap.capture.watch(server.child.pid);
      client = await connect(server.port);
      await client.write('GET /never HTTP/1.1\r\nHost: x\r\n\r\n');
      await sleep(200);
      const early = cap.capture.sweep();
      await sleep(1300);
      cap.capture.sweep();
      const got = await cap.waitFor(1, (ex) => ex.remote.port === client!.localPort);
      const late = cap.capture.sweep();
      client.sock.destroy();
      assert.deepEqual(early, { inFlight: 1, connections: 1 });
      assert.equal(got.length, 1);
      assert.equal(got[0]!.incomplete, 'timeout');
      assert.equal(requestLine(got[0]!.request)?.target, '/never');
      assert.deepEqual(late, { inFlight: 0, connections: 0 });
    } finally {
      client?.sock.destroy();
      await cap.close();
      server.stop();
    }
  });
});
