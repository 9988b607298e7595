// Joined midway: the parser first sees a connection after its startup, at a
// Query (frontend shape + port 5432) or at a response (backend shape + port
// 5432). Every statement from there on is counted exactly; the response whose
// request was not seen is an orphan, not an operation. Without the port hint a
// midway connection is not claimed.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RecordingProxy, startRecordingProxy } from '../helpers/record-proxy.js';
import { type Cluster, startCluster } from './helpers/cluster.js';
import { replay, tally } from './helpers/replay.js';
import { psql } from './helpers/run.js';
import { doneWhenScript } from './helpers/scripts.js';

describe('joined midway in psql -f', () => {
  let cluster: Cluster;
  let proxy: RecordingProxy;
  /** Index of the client chunk carrying the 11th Query (10 SELECT items before it). */
  let eleventh = -1;
  before(async () => {
    cluster = await startCluster();
    assert.equal((await psql(cluster.port, ['-c', 'CREATE TABLE items (id int, name text)'])).code, 0);
    proxy = await startRecordingProxy(cluster.port);
    const file = join(cluster.dir, 'script.sql');
    writeFileSync(file, doneWhenScript());
    assert.equal((await psql(proxy.port, ['-f', file])).code, 0);
    await proxy.close();
    cluster.stop();
    const chunks = proxy.connection(0);
    let queries = 0;
    eleventh = chunks.findIndex((c) => c.from === 'client' && c.data[0] === 0x51 && ++queries === 11);
  });
  after(() => {
    void proxy?.close();
    cluster?.stop();
  });

  for (const side of ['client', 'server'] as const) {
    it(`from the ${side} side, starting at a Query: the 35 statements from there`, () => {
      const r = replay(proxy, side, { skip: eleventh });
      assert.equal(r.detected, 1);
      assert.deepEqual(tally(r.ops), { 'SELECT items ok': 27, 'SELECT missing_table 42P01': 3, 'INSERT items ok': 5 });
      assert.deepEqual(r.stats, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 });
      // No StartupMessage seen: no database name to report.
      assert.equal(r.ops[0]?.attributes['db.namespace'], undefined);
    });

    it(`from the ${side} side, starting at the previous response: one orphan, then the same 35`, () => {
      const chunks = proxy.connection(0);
      assert.equal(chunks[eleventh - 1]?.from, 'server');
      const r = replay(proxy, side, { skip: eleventh - 1 });
      assert.equal(r.detected, 1);
      assert.deepEqual(tally(r.ops), { 'SELECT items ok': 27, 'SELECT missing_table 42P01': 3, 'INSERT items ok': 5 });
      assert.equal(r.stats.orphanResponses, 1);
    });

    it(`from the ${side} side without the port hint: not claimed`, () => {
      const r = replay(proxy, side, { skip: eleventh, serverPort: 15432 });
      assert.equal(r.detected, 0);
    });
  }
});
