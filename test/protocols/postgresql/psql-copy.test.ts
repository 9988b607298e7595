// COPY through psql: FROM STDIN (CopyInResponse, the client's CopyData/CopyDone)
// and TO STDOUT of 20,000 rows (a response far longer than the kernel's 2048-byte
// head: framing is lost in the holes and found again where the run ends with
// CopyDone/CommandComplete/ReadyForQuery), each one COPY operation, then a
// SELECT of the 20,000 rows and a count(*) that shows the connection is in step. Replayed from both sides.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RecordingProxy, startRecordingProxy } from '../helpers/record-proxy.js';
import { type Cluster, startCluster } from './helpers/cluster.js';
import { replay, tally } from './helpers/replay.js';
import { psql } from './helpers/run.js';

describe('psql COPY FROM STDIN and TO STDOUT', () => {
  let cluster: Cluster;
  let proxy: RecordingProxy;
  let copied = '';
  before(async () => {
    cluster = await startCluster();
    assert.equal((await psql(cluster.port, ['-c', 'CREATE TABLE items (id int, name text)'])).code, 0);
    proxy = await startRecordingProxy(cluster.port);
    const rows = Array.from({ length: 20_000 }, (_, i) => `${i}\tsecret-row-${i}`).join('\n') + '\n\\.\n';
    const input = `COPY items FROM STDIN;\n${rows}COPY items TO STDOUT;\nSELECT id, name FROM items;\nSELECT count(*) FROM items;\n`;
    const r = await psql(proxy.port, ['-f', '-', '-At'], { input });
    assert.equal(r.code, 0, r.stderr);
    copied = r.stdout;
    await proxy.close();
    cluster.stop();
  });
  after(() => {
    void proxy?.close();
    cluster?.stop();
  });

  it('the server really copied 20,000 rows each way', () => {
    const lines = copied.trim().split('\n');
    assert.equal(lines.length, 40_001);
    assert.equal(lines.at(-1), '20000');
  });

  for (const side of ['client', 'server'] as const) {
    it(`from the ${side} side: two COPY items and two SELECT items, nothing orphaned`, () => {
      const r = replay(proxy, side);
      assert.deepEqual(tally(r.ops), { 'COPY items ok': 2, 'SELECT items ok': 2 });
      assert.equal(r.stats.orphanResponses, 0);
      assert.equal(r.stats.pendingOverflow, 0);
      assert.ok(!JSON.stringify(r.ops).includes('secret-row'));
      const selects = r.ops.filter((o) => o.operation === 'SELECT');
      assert.deepEqual(selects.map((o) => o.attributes['db.response.returned_rows']), [20_000, 1]);
    });
  }

  it('with the whole bytes (no holes) nothing is unparsed', () => {
    for (const side of ['client', 'server'] as const) {
      const r = replay(proxy, side, { head: 1 << 30, tail: 0 });
      assert.deepEqual(tally(r.ops), { 'COPY items ok': 2, 'SELECT items ok': 2 });
      assert.deepEqual(r.stats, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 });
    }
  });
});
