// node `pg` through the recording proxy: simple queries, parameterized queries
// (extended protocol), a named prepared statement executed five times (its text
// recovered from the one Parse), errors in both protocols, a multi-statement
// simple query, and a Pool of three connections. Replayed from both sides.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { type RecordingProxy, startRecordingProxy } from '../helpers/record-proxy.js';
import { type Cluster, startCluster } from './helpers/cluster.js';
import { replay, tally } from './helpers/replay.js';

async function failsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: { code?: string }) => e.code === code);
}

describe('node pg: simple, extended, named prepared statements, errors, a Pool', () => {
  let cluster: Cluster;
  let proxy: RecordingProxy;
  before(async () => {
    cluster = await startCluster();
    proxy = await startRecordingProxy(cluster.port);
    const config = { host: '127.0.0.1', port: proxy.port, user: 'postgres', database: 'postgres' };
    const client = new pg.Client(config);
    await client.connect();
    await client.query('CREATE TABLE accounts (id int PRIMARY KEY, owner text, balance int)');
    for (let i = 1; i <= 4; i++) await client.query('INSERT INTO accounts VALUES ($1, $2, $3)', [i, `owner-secret-${i}`, 100 * i]);
    for (let i = 1; i <= 5; i++) {
      const r = await client.query({ name: 'owner_by_id', text: 'SELECT owner FROM accounts WHERE id = $1', values: [(i % 4) + 1] });
      assert.equal(r.rowCount, 1);
    }
    await failsWith(client.query('SELECT * FROM nope WHERE id = $1', [1]), '42P01');
    await failsWith(client.query('SELECT * FROM nope2'), '42P01');
    await failsWith(client.query('INSERT INTO accounts VALUES ($1, $2, $3)', [1, 'dup', 0]), '23505');
    await client.query("BEGIN; UPDATE accounts SET balance = 0 WHERE owner = 'owner-secret-1'; COMMIT");
    await client.end();
    const pool = new pg.Pool({ ...config, max: 3 });
    await Promise.all(Array.from({ length: 6 }, () => pool.query('SELECT count(*) FROM accounts')));
    await pool.end();
    await proxy.close();
    cluster.stop();
  });
  after(() => {
    void proxy?.close();
    cluster?.stop();
  });

  for (const side of ['client', 'server'] as const) {
    it(`from the ${side} side: exact operations per statement`, () => {
      const r = replay(proxy, side);
      assert.equal(r.detected, proxy.connections());
      assert.ok(proxy.connections() >= 2 && proxy.connections() <= 4, `${proxy.connections()} connections`);
      assert.deepEqual(tally(r.ops), {
        'CREATE TABLE accounts ok': 1,
        'INSERT accounts ok': 4,
        'SELECT accounts ok': 5 + 6,
        'SELECT nope 42P01': 1,
        'SELECT nope2 42P01': 1,
        'INSERT accounts 23505': 1,
        'BATCH accounts ok': 1,
      });
      assert.deepEqual(r.stats, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 });
      const named = r.ops.filter((o) => o.attributes['db.query.text'] === 'SELECT owner FROM accounts WHERE id = $1');
      assert.equal(named.length, 5, 'the named statement text, recovered for each of its five executions');
      for (const op of named) {
        assert.equal(op.name, 'SELECT accounts');
        assert.equal(op.attributes['db.response.returned_rows'], 1);
      }
      const batch = r.ops.find((o) => o.operation === 'BATCH');
      assert.equal(batch?.attributes['db.operation.batch.size'], 3);
      assert.equal(batch?.attributes['db.query.text'], 'BEGIN; UPDATE accounts SET balance = ? WHERE owner = ?; COMMIT');
      assert.equal(batch?.attributes['db.query.summary'], 'BEGIN; UPDATE accounts; COMMIT');
      const json = JSON.stringify(r.ops);
      assert.ok(!json.includes('owner-secret'));
      assert.ok(!json.includes('dup'));
    });
  }
});
