// Bounded state: what does not fit is counted, exactly. Connection states past
// maxConnections are evicted (counted as evicted), records past the ring buffer
// are dropped (counted as ringBufferDrops), and options are checked up front.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { SocketCapture } from '../../src/capture/index.js';
import { WaggleError } from '../../src/ebpf/index.js';
import { sleep } from '../helpers/process.js';
import { collect } from './helpers/capture.js';
import { connect } from './helpers/raw-client.js';
import { type Server, startNodeServer } from './helpers/servers.js';

describe('capture limits', () => {
  let server: Server;
  before(async () => {
    server = await startNodeServer();
  });
  after(() => server?.stop());

  test('more connections in flight than maxConnections: every request is either reported or counted as evicted', async () => {
    const cap = await collect({ maxConnections: 16, sweepIntervalMs: 0 });
    try {
      cap.capture.watch(server.child.pid);
      const n = 48;
      const clients = await Promise.all(Array.from({ length: n }, () => connect(server.port)));
      // All requests are read (states created) before any response is written.
      await Promise.all(clients.map((c) => c.write('GET /slow/1500 HTTP/1.1\r\nHost: x\r\n\r\n')));
      await Promise.all(clients.map((c) => c.waitFor((t) => t.endsWith('slow'))));
      await sleep(300);
      const delivered = cap.current((ex) => ex.request.includes('/slow/1500 ')).length;
      const stats = cap.capture.stats();
      assert.ok(stats.evicted > 0, `some states were evicted (${JSON.stringify(stats)})`);
      assert.equal(delivered + stats.evicted, n, JSON.stringify(stats));
      assert.equal(stats.inFlight, 0);
      clients.forEach((c) => c.end());
    } finally {
      await cap.close();
    }
  });

  test('a full ring buffer drops records and counts each one', async () => {
    const cap = await collect({ ringBufferBytes: 1 << 16, sweepIntervalMs: 0 });
    try {
      cap.capture.watch(server.child.pid);
      // execFileSync blocks this event loop: nothing is consumed while ab runs.
      const out = execFileSync('ab', ['-q', '-k', '-n', '2000', '-c', '4', `http://127.0.0.1:${server.port}/flood`], { timeout: 60_000, encoding: 'utf8' });
      const completed = Number(/Complete requests:\s+(\d+)/.exec(out)![1]);
      assert.equal(completed, 2000);
      await sleep(200);
      const delivered = cap.current((ex) => ex.request.includes('/flood ')).length;
      const stats = cap.capture.stats();
      assert.ok(stats.ringBufferDrops > 0, 'the 64 KiB ring overflowed');
      assert.equal(delivered + stats.ringBufferDrops, completed, JSON.stringify(stats));
      assert.equal(stats.exchanges, delivered, 'the kernel counts what it could send');
    } finally {
      await cap.close();
    }
  });

  test('options are validated, naming the field', async () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ requestCaptureBytes: 4096 }, /requestCaptureBytes/],
      [{ responseCaptureBytes: -1 }, /responseCaptureBytes/],
      [{ ringBufferBytes: 100000 }, /ringBufferBytes: must be a power of two/],
      [{ maxConnections: 2.5 }, /maxConnections/],
      [{ idleTimeoutMs: 'soon' }, /idleTimeoutMs/],
      [{ captureBytes: 10 }, /captureBytes|Unrecognized/],
    ];
    for (const [opts, message] of bad) {
      await assert.rejects(
        SocketCapture.start({ onExchange: () => undefined, ...opts } as never),
        (e: unknown) => e instanceof WaggleError && e.code === 'WAGGLE_ERR_INVALID_ARGUMENT' && message.test(e.message),
        JSON.stringify(opts),
      );
    }
    await assert.rejects(SocketCapture.start({} as never), /onExchange: must be a function/);
  });
});
