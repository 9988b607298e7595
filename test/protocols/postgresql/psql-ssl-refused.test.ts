// psql with sslmode=prefer against a server with ssl=off: the SSLRequest, the
// server's bare 'N', then the StartupMessage on the same connection. Detection
// claims the connection from the SSLRequest and the queries after it count.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RecordingProxy, startRecordingProxy } from '../helpers/record-proxy.js';
import { type Cluster, startCluster } from './helpers/cluster.js';
import { replay, tally } from './helpers/replay.js';
import { psql } from './helpers/run.js';

describe('SSLRequest refused, startup on the same connection', () => {
  let cluster: Cluster;
  let proxy: RecordingProxy;
  before(async () => {
    cluster = await startCluster();
    proxy = await startRecordingProxy(cluster.port);
    const r = await psql(proxy.port, ['-c', 'SELECT 1', '-c', 'SELECT now()', '-c', 'SHOW server_version'], { env: { PGSSLMODE: 'prefer', PGGSSENCMODE: 'disable' } });
    assert.equal(r.code, 0, r.stderr);
    await proxy.close();
    cluster.stop();
  });
  after(() => {
    void proxy?.close();
    cluster?.stop();
  });

  it('the recording opens with SSLRequest and the refusal', () => {
    const chunks = proxy.connection(0);
    assert.equal(proxy.connections(), 1);
    assert.deepEqual([...(chunks[0]?.data ?? [])], [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
    assert.equal(chunks[1]?.from, 'server');
    assert.equal(chunks[1]?.data.toString('latin1'), 'N');
  });

  for (const side of ['client', 'server'] as const) {
    it(`from the ${side} side: the three queries, with the database`, () => {
      const r = replay(proxy, side);
      assert.equal(r.detected, 1);
      assert.deepEqual(tally(r.ops), { 'SELECT - ok': 2, 'SHOW - ok': 1 });
      assert.deepEqual(r.stats, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 });
      for (const op of r.ops) assert.equal(op.attributes['db.namespace'], 'postgres');
    });
  }
});
