// waggle-test: no-kernel
// A real memcached driven through the recording proxy by a tiny client: sets,
// get hits and misses, multi-gets, noreply, deletes, incr/decr, touch, gat,
// cas, stats, version, flush_all and errors, one command a write; replayed
// from the client's and the server's side.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { memcached } from '../../../src/protocols/memcached/index.js';
import { startRecordingProxy } from '../helpers/record-proxy.js';
import { countByName, replay } from '../redis/helpers/replay.js';
import { type RealServer, startMemcached } from '../redis/helpers/servers.js';
import { ends, endsWith, lines, TinyMemcached } from './helpers/client.js';

describe('memcached (text protocol)', () => {
  let server: RealServer;
  before(async () => {
    server = await startMemcached();
  });
  after(async () => {
    await server.stop();
  });

  it('one command a write: exact operations, outcomes and returned rows on both sides', async () => {
    const proxy = await startRecordingProxy(server.port);
    const c = await TinyMemcached.connect(proxy.port);
    try {
      for (let i = 0; i < 100; i++) assert.equal(await c.send(`set k${i} 0 0 ${`val-${i}`.length}\r\nval-${i}\r\n`, lines(1)), 'STORED\r\n');
      for (let i = 0; i < 60; i++) assert.match(await c.send(`get k${i}\r\n`, ends(1)), /^VALUE k\d+ 0 \d+\r\nval-\d+\r\nEND\r\n$/);
      for (let i = 0; i < 25; i++) assert.equal(await c.send(`get missing${i}\r\n`, ends(1)), 'END\r\n');
      // noreply: no reply at all; a version afterwards proves they were processed.
      for (let i = 0; i < 20; i++) await c.send(`set q${i} 0 0 1 noreply\r\nq\r\n`);
      assert.match(await c.send('version\r\n', lines(1)), /^VERSION /);
      for (let i = 0; i < 5; i++) assert.equal((await c.send(`gets k1 k2 q3 nope${i}\r\n`, ends(1))).split('VALUE').length - 1, 3);
      for (let i = 0; i < 10; i++) assert.match(await c.send(`delete k${90 + (i % 5)}\r\n`, lines(1)), /^(DELETED|NOT_FOUND)\r\n$/);
      assert.equal(await c.send('set n 0 0 1\r\n5\r\n', lines(1)), 'STORED\r\n');
      for (let i = 0; i < 10; i++) assert.match(await c.send(i % 2 ? 'decr n 1\r\n' : 'incr n 3\r\n', lines(1)), /^\d+\r\n$/);
      assert.match(await c.send('incr k1 1\r\n', lines(1)), /^CLIENT_ERROR /);
      for (let i = 0; i < 5; i++) assert.equal(await c.send(`touch k${i} 100\r\n`, lines(1)), 'TOUCHED\r\n');
      for (let i = 0; i < 3; i++) assert.match(await c.send(`gat 100 k${i} k${i + 1}\r\n`, ends(1)), /END\r\n$/);
      const gets = await c.send('gets k5\r\n', ends(1));
      const unique = /^VALUE k5 0 \d+ (\d+)\r\n/.exec(gets)![1];
      assert.equal(await c.send(`cas k5 0 0 1 ${unique}\r\nx\r\n`, lines(1)), 'STORED\r\n');
      assert.equal(await c.send(`cas k5 0 0 1 ${unique}\r\ny\r\n`, lines(1)), 'EXISTS\r\n');
      assert.equal(await c.send('add k6 0 0 1\r\nx\r\n', lines(1)), 'NOT_STORED\r\n');
      assert.equal(await c.send('append k6 0 0 2\r\nzz\r\n', lines(1)), 'STORED\r\n');
      assert.equal(await c.send('bogus\r\n', lines(1)), 'ERROR\r\n');
      assert.match(await c.send('stats\r\n', ends(1)), /^STAT pid /);
      assert.equal(await c.send('flush_all\r\n', lines(1)), 'OK\r\n');
      await c.send('quit\r\n');
    } finally {
      await c.close();
      await proxy.close();
    }
    for (const side of ['client', 'server'] as const) {
      const { ops, parser } = replay(memcached, proxy.connection(0), side);
      assert.deepEqual(
        countByName(ops),
        { set: 121, get: 85, version: 1, gets: 6, delete: 10, incr: 6, decr: 5, touch: 5, gat: 3, cas: 2, add: 1, append: 1, bogus: 1, stats: 1, flush_all: 1, quit: 1 },
        side,
      );
      assert.deepEqual({ ...parser.stats }, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 });
      const gets = ops.filter((o) => o.operation === 'get');
      assert.equal(gets.filter((o) => o.attributes['db.response.returned_rows'] === 1).length, 60);
      assert.equal(gets.filter((o) => o.attributes['db.response.returned_rows'] === 0).length, 25);
      const multi = ops.filter((o) => o.operation === 'gets' && o.attributes['db.operation.batch.size'] === 4);
      assert.equal(multi.length, 5);
      assert.ok(multi.every((o) => o.attributes['db.response.returned_rows'] === 3 && o.attributes['db.query.text'] === 'gets ? ? ? ?'));
      const noreply = ops.filter((o) => o.attributes['db.query.text'] === 'set ? ? ? ? noreply');
      assert.equal(noreply.length, 20);
      assert.ok(noreply.every((o) => o.endNs === o.startNs));
      const errors = ops.filter((o) => o.errorType).map((o) => `${o.operation}:${o.attributes['db.response.status_code']}`);
      assert.deepEqual(errors, ['incr:CLIENT_ERROR', 'bogus:ERROR']);
      assert.ok(ops.every((o) => o.role === side && !o.incomplete && o.attributes['db.system.name'] === 'memcached'));
      assert.ok(!JSON.stringify(ops).includes('val-'));
      assert.equal(memcached.detect({ chunk: { direction: side === 'client' ? 'out' : 'in', timeNs: 0, bytes: 20, head: proxy.connection(0)[0]!.data, tail: new Uint8Array(0), lost: 0, tid: 1 }, localPort: 50000, remotePort: 50001 }), side);
    }
  });

  it('pipelined: 200 sets in one write, then 150 gets (100 hits, 50 misses) in one write', async () => {
    const proxy = await startRecordingProxy(server.port);
    const c = await TinyMemcached.connect(proxy.port);
    try {
      const sets = Array.from({ length: 200 }, (_, i) => `set p${i} 0 0 3\r\nabc\r\n`).join('');
      assert.equal((await c.send(sets, lines(200))).split('STORED').length - 1, 200);
      const gets = Array.from({ length: 150 }, (_, i) => `get ${i < 100 ? 'p' : 'nope'}${i}\r\n`).join('');
      await c.send(gets, ends(150));
    } finally {
      await c.close();
      await proxy.close();
    }
    for (const side of ['client', 'server'] as const) {
      // A head that holds every chunk: exact.
      const whole = replay(memcached, proxy.connection(0), side, 1 << 24, 0);
      assert.deepEqual(countByName(whole.ops, true), { set: 200, get: 150 }, side);
      assert.equal(whole.ops.filter((o) => o.attributes['db.response.returned_rows'] === 1).length, 100);
      // The kernel's 2048-byte head: the 3600-byte write of sets has a hole, so
      // only the sets in its head are seen; their replies pair, the rest are orphans.
      const capped = replay(memcached, proxy.connection(0), side);
      const n = countByName(capped.ops, true);
      assert.ok(n.set! > 50 && n.set! < 200 && (n.get ?? 0) <= 150, JSON.stringify(n));
      assert.ok(capped.ops.every((o) => !o.errorType && !o.incomplete));
    }
  });

  it('values larger than the head are skipped by length; a long stats reply ends at its END', async () => {
    const proxy = await startRecordingProxy(server.port);
    const c = await TinyMemcached.connect(proxy.port);
    const big = 'v'.repeat(300_000);
    try {
      for (let i = 0; i < 3; i++) assert.equal(await c.send(`set big${i} 0 0 ${big.length}\r\n${big}\r\n`, lines(1)), 'STORED\r\n');
      for (let i = 0; i < 3; i++) assert.ok((await c.send(`get big${i} big${(i + 1) % 3}\r\n`, ends(1), 10_000)).endsWith('END\r\n'));
      for (let i = 0; i < 2; i++) await c.send('stats settings\r\n', ends(1));
      for (let i = 0; i < 5; i++) await c.send(`get big${i}\r\n`, ends(1));
    } finally {
      await c.close();
      await proxy.close();
    }
    for (const side of ['client', 'server'] as const) {
      const { ops, parser } = replay(memcached, proxy.connection(0), side);
      assert.deepEqual(countByName(ops, true), { set: 3, get: 8, stats: 2 }, side);
      assert.ok(ops.every((o) => !o.incomplete && !o.errorType));
      // A two-value get whose second VALUE line fell into a hole (where the reads
      // were cut decides) has an unknown row count, never a wrong one.
      const rows = ops.filter((o) => o.operation === 'get').map((o) => o.attributes['db.response.returned_rows']);
      assert.ok(rows.slice(0, 3).every((r) => r === undefined || r === 2), JSON.stringify(rows));
      assert.deepEqual(rows.slice(3), [1, 1, 1, 0, 0]);
      assert.ok(parser.stats.unparsed >= rows.slice(0, 3).filter((r) => r === undefined).length);
      assert.equal(parser.stats.orphanResponses, 0);
    }
  });

  it('meta commands: mg/ms/md/ma/mn, and quiet mode ended by mn', async () => {
    const proxy = await startRecordingProxy(server.port);
    const c = await TinyMemcached.connect(proxy.port);
    try {
      assert.equal(await c.send('ms mk 2 T0\r\nhi\r\n', lines(1)), 'HD\r\n');
      assert.equal(await c.send('mg mk v\r\n', lines(2)), 'VA 2\r\nhi\r\n');
      assert.equal(await c.send('mg nope v\r\n', lines(1)), 'EN\r\n');
      assert.equal(await c.send('ms cnt 1\r\n1\r\n', lines(1)), 'HD\r\n');
      assert.equal(await c.send('ma cnt\r\n', lines(1)), 'HD\r\n');
      assert.equal(await c.send('md mk\r\n', lines(1)), 'HD\r\n');
      // Quiet: misses and successes are not answered; the noop ends the batch.
      const quiet = 'mg nope1 v q\r\nmg cnt v q k\r\nmg nope2 v q\r\nms qk 1 q\r\nx\r\nmd nope3 q\r\nmn\r\n';
      assert.equal(await c.send(quiet, endsWith('MN\r\n')), 'VA 1 kcnt\r\n2\r\nNF\r\nMN\r\n');
    } finally {
      await c.close();
      await proxy.close();
    }
    for (const side of ['client', 'server'] as const) {
      const { ops, parser } = replay(memcached, proxy.connection(0), side);
      assert.deepEqual(countByName(ops, true), { ms: 3, mg: 5, ma: 1, md: 2, mn: 1 }, side);
      assert.ok(ops.every((o) => !o.incomplete && !o.errorType));
      assert.deepEqual({ ...parser.stats }, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 });
      // Each quiet reply went to the command that sent it: all of the batch ends at MN's chunk or before.
      const batch = ops.slice(-6);
      assert.deepEqual(batch.map((o) => o.operation), ['mg', 'mg', 'mg', 'ms', 'md', 'mn']);
    }
  });
});
