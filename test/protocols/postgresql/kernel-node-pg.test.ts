// The real kernel stream capture watching a node `pg` program (its own write
// and writev chunking, not the proxy's): parameterized queries, a named
// prepared statement executed five times, errors in both protocols, a Pool.
// Exact operations through the platform's StreamTracker.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { packageRoot } from '../../../src/paths.js';
import type { LocatedOperation, Operation } from '../../../src/protocols/module.js';
import { postgresql } from '../../../src/protocols/postgresql/index.js';
import { StreamTracker } from '../../../src/protocols/stream/index.js';
import { type Collected, collect } from '../../capture/helpers/capture.js';
import { type Child, sleep, startChild, waitFor, within } from '../../helpers/process.js';
import { type Cluster, startCluster } from './helpers/cluster.js';
import { tally } from './helpers/replay.js';

const PROGRAM = String.raw`
const pg = require('pg');
const port = Number(process.argv[1]);
process.stdin.once('data', () => run().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); }));
async function run() {
  const config = { host: '127.0.0.1', port, user: 'postgres', database: 'postgres' };
  const c = new pg.Client(config);
  await c.connect();
  await c.query('CREATE TABLE accounts (id int PRIMARY KEY, owner text)');
  for (let i = 1; i <= 4; i++) await c.query('INSERT INTO accounts VALUES ($1, $2)', [i, 'secret-owner-' + i]);
  for (let i = 1; i <= 5; i++) await c.query({ name: 'by_id', text: 'SELECT owner FROM accounts WHERE id = $1', values: [1 + (i % 4)] });
  await c.query('SELECT * FROM nope WHERE id = $1', [1]).catch(() => {});
  await c.query('SELECT * FROM nope2').catch(() => {});
  await c.end();
  const pool = new pg.Pool({ ...config, max: 3 });
  await Promise.all(Array.from({ length: 6 }, () => pool.query('SELECT count(*) FROM accounts WHERE owner <> $1', ['x'])));
  await pool.end();
}
`;

describe('kernel stream capture → StreamTracker → postgresql, watching node pg', () => {
  let cluster: Cluster;
  let cap: Collected;
  let child: Child;
  const ops: Operation[] = [];
  let tracker: StreamTracker;
  before(async () => {
    cluster = await startCluster();
    tracker = new StreamTracker({
      modules: [postgresql],
      onOperation: (l: LocatedOperation) => ops.push({ ...l.op, attributes: { ...l.op.attributes } }),
      setVerdict: (inode, verdict) => cap.capture.setStreamVerdict(inode, verdict),
    });
    cap = await collect({ onStreamChunk: (c) => tracker.handleChunk(c), onStreamEnd: (e) => tracker.handleEnd(e) });
    child = startChild(process.execPath, ['-e', PROGRAM, String(cluster.port)], { cwd: packageRoot });
    cap.capture.watch(child.pid);
    await sleep(100);
    child.write('go\n');
    const status = await within(child.exited, 30_000, 'node pg');
    assert.equal(status.code, 0, child.errors());
    await waitFor(() => {
      cap.capture.drain();
      return tracker.stats().connections === 0 && ops.length >= 18;
    }, 10_000).catch(() => undefined);
    await sleep(100);
    cap.capture.drain();
  });
  after(async () => {
    try {
      await cap?.close();
    } finally {
      child?.kill();
      cluster?.stop();
    }
  });

  it('one operation per statement, the named statement text recovered each time', () => {
    assert.deepEqual(tally(ops), {
      'CREATE TABLE accounts ok': 1,
      'INSERT accounts ok': 4,
      'SELECT accounts ok': 5 + 6,
      'SELECT nope 42P01': 1,
      'SELECT nope2 42P01': 1,
    });
    assert.equal(ops.filter((o) => o.attributes['db.query.text'] === 'SELECT owner FROM accounts WHERE id = $1').length, 5);
    assert.ok(!JSON.stringify(ops).includes('secret-owner'));
    const [p] = tracker.stats().protocols;
    assert.deepEqual({ chunksLost: p?.chunksLost, unparsed: p?.unparsed, orphans: p?.orphanResponses }, { chunksLost: 0, unparsed: 0, orphans: 0 });
    assert.ok((p?.connections ?? 0) >= 2);
  });
});
