// Ctrl-C in psql during a long query: libpq opens a second connection with a
// CancelRequest; the running query fails with SQLSTATE 57014. The cancel
// connection is claimed (so no other module guesses at it) and emits nothing;
// the query is one SELECT with 57014.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RecordingProxy, startRecordingProxy } from '../helpers/record-proxy.js';
import { type Cluster, startCluster } from './helpers/cluster.js';
import { replay, tally } from './helpers/replay.js';

describe('psql cancelled by SIGINT: CancelRequest', () => {
  let cluster: Cluster;
  let proxy: RecordingProxy;
  before(async () => {
    cluster = await startCluster();
    proxy = await startRecordingProxy(cluster.port);
    const child = spawn('psql', ['-X', '-h', '127.0.0.1', '-p', String(proxy.port), '-U', 'postgres', '-d', 'postgres', '-c', 'SELECT pg_sleep(30)'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    // Wait until the query is on the wire, then interrupt.
    for (let i = 0; i < 100 && !proxy.chunks.some((c) => c.from === 'client' && c.data[0] === 0x51); i++) await sleep(50);
    await sleep(200);
    child.kill('SIGINT');
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await exited;
    clearTimeout(killer);
    assert.notEqual(code, 0);
    assert.match(stderr, /cancel/i);
    await proxy.close();
    cluster.stop();
  });
  after(() => {
    void proxy?.close();
    cluster?.stop();
  });

  for (const side of ['client', 'server'] as const) {
    it(`from the ${side} side: one SELECT with 57014, the cancel connection claimed and silent`, () => {
      assert.equal(proxy.connections(), 2);
      const r = replay(proxy, side);
      assert.equal(r.detected, 2);
      assert.deepEqual(tally(r.ops), { 'SELECT - 57014': 1 });
      assert.deepEqual(r.stats, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 });
    });
  }
});
