// python3-psycopg2 (Debian's /usr/bin/python3, where the package is): simple-protocol queries with the parameters interpolated by
// the client (so the literals are on the wire and must become `?`), its implicit
// BEGIN, commit, rollback after an error. Replayed from both sides.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RecordingProxy, startRecordingProxy } from '../helpers/record-proxy.js';
import { type Cluster, startCluster } from './helpers/cluster.js';
import { replay, tally } from './helpers/replay.js';
import { runClient } from './helpers/run.js';

const SCRIPT = `
import sys, psycopg2
conn = psycopg2.connect(host='127.0.0.1', port=int(sys.argv[1]), user='postgres', dbname='postgres')
cur = conn.cursor()
cur.execute("CREATE TABLE people (id int, name text)")
for i in range(3):
    cur.execute("INSERT INTO people VALUES (%s, %s)", (i, "secret o'name %d" % i))
conn.commit()
cur.execute("SELECT name FROM people WHERE id = %s", (1,))
assert len(cur.fetchall()) == 1
try:
    cur.execute("SELECT * FROM ghost WHERE pin = %s", ('9999-secret',))
    raise SystemExit('expected an error')
except psycopg2.errors.UndefinedTable:
    conn.rollback()
conn.close()
`;

describe('python3-psycopg2', () => {
  let cluster: Cluster;
  let proxy: RecordingProxy;
  before(async () => {
    cluster = await startCluster();
    proxy = await startRecordingProxy(cluster.port);
    const r = await runClient('/usr/bin/python3', ['-c', SCRIPT, String(proxy.port)]);
    assert.equal(r.code, 0, r.stderr);
    await proxy.close();
    cluster.stop();
  });
  after(() => {
    void proxy?.close();
    cluster?.stop();
  });

  for (const side of ['client', 'server'] as const) {
    it(`from the ${side} side: each statement once, literals as ?`, () => {
      const r = replay(proxy, side);
      assert.equal(r.detected, 1);
      assert.deepEqual(tally(r.ops), {
        'BEGIN - ok': 2,
        'CREATE TABLE people ok': 1,
        'INSERT people ok': 3,
        'COMMIT - ok': 1,
        'SELECT people ok': 1,
        'SELECT ghost 42P01': 1,
        'ROLLBACK - ok': 1,
      });
      assert.deepEqual(r.stats, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 });
      const texts = new Set(r.ops.map((o) => o.attributes['db.query.text']));
      assert.ok(texts.has('INSERT INTO people VALUES (?, ?)'), [...texts].join('\n'));
      assert.ok(texts.has('SELECT * FROM ghost WHERE pin = ?'));
      const json = JSON.stringify(r.ops);
      assert.ok(!json.includes('secret') && !json.includes('9999'));
    });
  }
});
