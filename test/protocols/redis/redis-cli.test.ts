// waggle-test: no-kernel
// redis-cli through the recording proxy: commands one by one from stdin, and
// a --pipe batch, replayed from the client's and the server's side.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { redis } from '../../../src/protocols/redis/index.js';
import { type RecordingProxy, startRecordingProxy } from '../helpers/record-proxy.js';
import { countByName, replay } from './helpers/replay.js';
import { type RealServer, run, startRedis } from './helpers/servers.js';

const resp = (...args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;

describe('redis-cli', () => {
  let server: RealServer;
  let proxy: RecordingProxy;
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await proxy?.close();
    await server.stop();
  });

  it('100 SET and 50 GET from stdin are exactly 100 SET and 50 GET on both sides', async () => {
    proxy = await startRecordingProxy(server.port);
    const lines = [...Array.from({ length: 100 }, (_, i) => `SET key:${i} value-${i}`), ...Array.from({ length: 50 }, (_, i) => `GET key:${i}`)];
    const r = await run('redis-cli', ['-p', String(proxy.port)], lines.join('\n') + '\n');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('\n').filter((l) => l === 'OK').length, 100);
    assert.equal(proxy.connections(), 1);
    for (const side of ['client', 'server'] as const) {
        const { ops, parser } = replay(redis, proxy.connection(0), side);
      // redis-cli 7 first asks for COMMAND DOCS (for its hints): a reply of
      // hundreds of KB whose framing is lost in the capture holes; it is absorbed
      // until the next command, so it is one operation and pairing stays right.
      assert.deepEqual(countByName(ops, true), { 'COMMAND DOCS': 1, SET: 100, GET: 50 }, side);
      assert.ok(ops.every((o) => o.role === side && !o.errorType && !o.incomplete && o.endNs >= o.startNs));
      const sets = ops.filter((o) => o.operation === 'SET');
      assert.equal(sets[0]!.attributes['db.query.text'], 'SET ? ?');
      assert.equal(ops.find((o) => o.operation === 'GET')!.attributes['db.query.text'], 'GET ?');
      assert.equal(sets[0]!.attributes['db.system.name'], 'redis');
      assert.equal(ops[0]!.attributes['db.query.text'], 'COMMAND DOCS');
      assert.deepEqual({ ...parser.stats }, { unparsed: 1, pendingOverflow: 0, orphanResponses: 0, pushes: 0, discarded: 0 });
      // With a head that holds every chunk, nothing is lost at all.
      assert.deepEqual({ ...replay(redis, proxy.connection(0), side, 1 << 24, 0).parser.stats }, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0, pushes: 0, discarded: 0 });
      assert.equal(redis.detect({ chunk: { ...toView(proxy, side) }, localPort: side === 'server' ? 6379 : 40000, remotePort: side === 'server' ? 40000 : 6379 }), side);
    }
    await proxy.close();
  });

  it('redis-cli -3 (RESP3): maps, sets, doubles, nulls and errors paired in order', async () => {
    proxy = await startRecordingProxy(server.port);
    const lines = ['HSET h3 a 1 b 2', 'HGETALL h3', 'SADD s3 x y', 'SMEMBERS s3', 'ZADD z3 1.5 m', 'ZSCORE z3 m', 'GET nosuch', 'INCR h3', 'SELECT 2', 'SET k v', 'CONFIG GET maxmemory', 'AUTH user secret-password'];
    const r = await run('redis-cli', ['-3', '-p', String(proxy.port)], lines.join('\n') + '\n');
    assert.equal(r.code, 0, r.stderr);
    for (const side of ['client', 'server'] as const) {
      const { ops, parser } = replay(redis, proxy.connection(0), side);
      const mine = ops.filter((o) => o.operation !== 'COMMAND DOCS' && o.operation !== 'HELLO');
      assert.deepEqual(
        mine.map((o) => `${o.operation}:${o.errorType ?? 'ok'}`),
        ['HSET:ok', 'HGETALL:ok', 'SADD:ok', 'SMEMBERS:ok', 'ZADD:ok', 'ZSCORE:ok', 'GET:ok', 'INCR:WRONGTYPE', 'SELECT:ok', 'SET:ok', 'CONFIG GET:ok', 'AUTH:WRONGPASS'],
        side,
      );
      assert.equal(ops.filter((o) => o.operation === 'HELLO').length, 1);
      assert.equal(mine.find((o) => o.operation === 'SET')!.attributes['db.namespace'], '2');
      assert.equal(mine.find((o) => o.operation === 'CONFIG GET')!.attributes['db.query.text'], 'CONFIG GET ?');
      // AUTH's arguments never leave the parser.
      assert.equal(mine.at(-1)!.attributes['db.query.text'], 'AUTH ? ?');
      assert.ok(!JSON.stringify(ops).includes('secret-password'));
      assert.equal(parser.stats.orphanResponses, 0);
    }
    await proxy.close();
  });

  it('--pipe of 1000 SET: exact with a head that covers the write, and honest (no misattribution) with the 2048-byte head', async () => {
    proxy = await startRecordingProxy(server.port);
    const input = Array.from({ length: 1000 }, (_, i) => resp('SET', `pipe:${i}`, `v${i}`)).join('');
    const r = await run('redis-cli', ['-p', String(proxy.port), '--pipe'], input);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /replies: 1000/);
    for (const side of ['client', 'server'] as const) {
      // redis-cli --pipe ends with an ECHO of a random marker it waits for.
      const whole = replay(redis, proxy.connection(0), side, 1 << 24, 0);
      assert.deepEqual(countByName(whole.ops, true), { SET: 1000, ECHO: 1 }, side);
      assert.equal(whole.parser.stats.orphanResponses, 0);
      // With the kernel's default head the commands inside each write's hole are
      // unseen: what is emitted is a subset, every one complete and a SET, and the
      // unseen commands' replies are counted as orphans, never paired wrongly.
      const capped = replay(redis, proxy.connection(0), side);
      const counts = countByName(capped.ops, true);
      assert.ok(counts.SET! > 0 && counts.SET! < 1000, JSON.stringify(counts));
      assert.ok(capped.ops.every((o) => (o.operation === 'SET' || o.operation === 'ECHO') && !o.errorType));
      assert.ok(capped.parser.stats.unparsed > 0);
    }
    await proxy.close();
  });
});

function toView(proxy: RecordingProxy, side: 'client' | 'server') {
  const first = proxy.connection(0).find((c) => c.from === 'client')!;
  return { direction: side === 'client' ? ('out' as const) : ('in' as const), timeNs: 0, bytes: first.data.length, head: first.data.subarray(0, 2048), tail: new Uint8Array(0), lost: 0, tid: 1 };
}
