// psql -X -f of 37 SELECTs, 3 SELECTs of a missing table and 5 INSERTs (issue 9's
// done-when), recorded through the proxy and replayed from both sides: exactly
// 40 SELECT (3 with 42P01) and 5 INSERT, literals never in the attributes.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RecordingProxy, startRecordingProxy } from '../helpers/record-proxy.js';
import { type Cluster, startCluster } from './helpers/cluster.js';
import { replay, tally } from './helpers/replay.js';
import { psql } from './helpers/run.js';
import { doneWhenScript } from './helpers/scripts.js';

describe('psql -f: 37 SELECT, 3 SELECT of a missing table, 5 INSERT', () => {
  let cluster: Cluster;
  let proxy: RecordingProxy;
  before(async () => {
    cluster = await startCluster();
    const setup = await psql(cluster.port, ['-c', 'CREATE TABLE items (id int, name text)']);
    assert.equal(setup.code, 0, setup.stderr);
    proxy = await startRecordingProxy(cluster.port);
    const file = join(cluster.dir, 'script.sql');
    writeFileSync(file, doneWhenScript());
    const r = await psql(proxy.port, ['-f', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((r.stderr.match(/does not exist/g) ?? []).length, 3, r.stderr);
    await proxy.close();
    cluster.stop();
  });
  after(() => {
    void proxy?.close();
    cluster?.stop();
  });

  for (const side of ['client', 'server'] as const) {
    it(`from the ${side} side: exactly 40 SELECT (3 × 42P01) and 5 INSERT`, () => {
      const r = replay(proxy, side);
      assert.equal(r.detected, 1);
      assert.deepEqual(tally(r.ops), { 'SELECT items ok': 37, 'SELECT missing_table 42P01': 3, 'INSERT items ok': 5 });
      assert.deepEqual(r.stats, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 });
      for (const op of r.ops) {
        assert.equal(op.role, side);
        assert.equal(op.family, 'db');
        assert.equal(op.attributes['db.system.name'], 'postgresql');
        assert.equal(op.attributes['db.namespace'], 'postgres');
        assert.equal(op.name, op.attributes['db.query.summary']);
        assert.ok(op.endNs >= op.startNs);
      }
      const failed = r.ops.filter((o) => o.errorType !== undefined);
      assert.deepEqual(failed.map((o) => [o.errorType, o.name, o.attributes['db.query.text']]), [
        ['42P01', 'SELECT missing_table', 'SELECT * FROM missing_table WHERE token = ?;'],
        ['42P01', 'SELECT missing_table', 'SELECT * FROM missing_table WHERE token = ?;'],
        ['42P01', 'SELECT missing_table', 'SELECT * FROM missing_table WHERE token = ?;'],
      ]);
      const insert = r.ops.find((o) => o.operation === 'INSERT');
      assert.equal(insert?.attributes['db.query.text'], 'INSERT INTO items (id, name) VALUES (?, ?);');
      const json = JSON.stringify(r.ops);
      for (const secret of ['secret-', 'hunter', 'alice', 'does not exist']) assert.ok(!json.includes(secret), secret);
    });
  }
});
