// waggle-test: no-kernel
// ioredis (the npm client) through the recording proxy: a pipeline, a
// MULTI/EXEC, an error reply, pub/sub and a RESP3 connection.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { Operation } from '../../../src/protocols/module.js';
import { redis } from '../../../src/protocols/redis/index.js';
import { type RecordingProxy, startRecordingProxy } from '../helpers/record-proxy.js';
import { countByName, replay } from './helpers/replay.js';
import { type RealServer, startRedis } from './helpers/servers.js';
import { waitFor } from '../../helpers/process.js';

/** What ioredis 6 sends on connecting (Redis 7.0 answers the CLIENT ones with ERR). */
const HANDSHAKE = new Set(['HELLO', 'CLIENT SETINFO', 'CLIENT MAINT_NOTIFICATIONS']);

/** Operations of every proxied connection, replayed from `side`, but the handshake's. */
function opsOf(proxy: RecordingProxy, side: 'client' | 'server'): Operation[] {
  const out: Operation[] = [];
  for (let i = 0; i < proxy.connections(); i++) out.push(...replay(redis, proxy.connection(i), side).ops);
  return out.filter((o) => !HANDSHAKE.has(o.operation));
}

describe('ioredis', () => {
  let server: RealServer;
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await server.stop();
  });

  async function withClient(fn: (c: Redis) => Promise<void>, options: { protocol?: 2 | 3 } = {}): Promise<RecordingProxy> {
    const proxy = await startRecordingProxy(server.port);
    const client = new Redis({ port: proxy.port, host: '127.0.0.1', enableReadyCheck: false, lazyConnect: true, ...options });
    try {
      await client.connect();
      await fn(client);
    } finally {
      client.disconnect();
      await proxy.close();
    }
    return proxy;
  }

  for (const protocol of [2, 3] as const) {
  it(`RESP${protocol}: a pipeline of 30 commands is 30 operations paired in order; an error keeps its code`, async () => {
    const proxy = await withClient(async (c) => {
      const p = c.pipeline();
      for (let i = 0; i < 10; i++) p.set(`k${i}`, `v${i}`).get(`k${i}`).hset(`h${i}`, 'f', 'x');
      const res = await p.exec();
      assert.equal(res!.length, 30);
      await assert.rejects(c.incr('k0'), /not an integer/);
      await assert.rejects(c.lpush('k1', 'x'), /WRONGTYPE/);
    }, { protocol });
    for (const side of ['client', 'server'] as const) {
      const ops = opsOf(proxy, side);
      assert.deepEqual(countByName(ops), { SET: 10, GET: 10, HSET: 10, INCR: 1, LPUSH: 1 }, side);
      const incr = ops.find((o) => o.operation === 'INCR')!;
      assert.equal(incr.attributes['db.response.status_code'], 'ERR');
      assert.equal(incr.errorType, 'ERR');
      const lpush = ops.find((o) => o.operation === 'LPUSH')!;
      assert.equal(lpush.attributes['db.response.status_code'], 'WRONGTYPE');
      assert.equal(ops.filter((o) => o.errorType).length, 2);
      assert.equal(ops.find((o) => o.operation === 'HSET')!.attributes['db.query.text'], 'HSET ? ? ?');
    }
  });

  it(`RESP${protocol}: MULTI/EXEC: each queued command is its own operation, ending with EXEC, with its own outcome`, async () => {
    const proxy = await withClient(async (c) => {
      await c.set('str', 'abc');
      const res = await c.multi().set('a', '1').incr('a').incr('str').get('a').exec();
      assert.equal(res!.length, 4);
      assert.ok(res![2]![0] instanceof Error);
      // A MULTI sent on its own, then DISCARD: the queued SET never runs and is not emitted.
      await c.multi({ pipeline: false });
      await c.set('b', '2');
      await c.discard();
    }, { protocol });
    for (const side of ['client', 'server'] as const) {
      const ops = opsOf(proxy, side);
      assert.deepEqual(countByName(ops), { SET: 2, MULTI: 2, INCR: 2, GET: 1, EXEC: 1, DISCARD: 1 }, side);
      // The transaction's commands are emitted when EXEC answers, just before it.
      const exec = ops.findIndex((o) => o.operation === 'EXEC');
      const inTx = ops.slice(exec - 4, exec);
      assert.ok(inTx.every((o) => o.endNs === ops[exec]!.endNs));
      assert.equal(ops[exec - 5]!.operation, 'MULTI');
      assert.deepEqual(inTx.map((o) => `${o.operation}:${o.errorType ?? 'ok'}`), ['SET:ok', 'INCR:ok', 'INCR:ERR', 'GET:ok']);
    }
  });

  it(`RESP${protocol}: pub/sub: SUBSCRIBE and PUBLISH are operations, the 25 messages pushed are not`, async () => {
    const proxy = await startRecordingProxy(server.port);
    const sub = new Redis({ port: proxy.port, host: '127.0.0.1', enableReadyCheck: false, lazyConnect: true, protocol });
    const pub = new Redis({ port: proxy.port, host: '127.0.0.1', enableReadyCheck: false, lazyConnect: true, protocol });
    let got = 0;
    try {
      await sub.connect();
      await pub.connect();
      sub.on('message', () => got++);
      await sub.subscribe('news', 'sport');
      for (let i = 0; i < 25; i++) await pub.publish(i % 2 ? 'news' : 'sport', `m${i}`);
      await waitFor(() => got === 25, 5000);
      await sub.unsubscribe('news', 'sport');
      await sub.ping();
    } finally {
      sub.disconnect();
      pub.disconnect();
      await proxy.close();
    }
    for (const side of ['client', 'server'] as const) {
      const subOps = replay(redis, proxy.connection(0), side);
      const named = subOps.ops.filter((o) => !HANDSHAKE.has(o.operation));
      assert.deepEqual(countByName(named, true), { SUBSCRIBE: 1, UNSUBSCRIBE: 1, PING: 1 }, side);
      assert.ok(named.every((o) => !o.incomplete && !o.errorType));
      assert.equal((subOps.parser.stats as unknown as { pushes: number }).pushes, 25);
      assert.equal(subOps.parser.stats.orphanResponses, 0);
      const pubOps = replay(redis, proxy.connection(1), side).ops.filter((o) => !HANDSHAKE.has(o.operation));
      assert.deepEqual(countByName(pubOps, true), { PUBLISH: 25 });
    }
  });
  }

  it('RESP3 (HELLO 3): replies and pushes in RESP3 types are paired and skipped alike', async () => {
    const proxy = await withClient(async (c) => {
      await c.call('HELLO', '3');
      await c.hset('h3', 'a', '1', 'b', '2');
      await c.call('HGETALL', 'h3'); // a map (%) in RESP3
      await c.call('SMEMBERS', 'nosuch'); // an empty set (~)
      await c.call('ZSCORE', 'nosuch', 'm'); // a null (_)
      await c.call('CLIENT', 'SETNAME', 'waggle');
      await c.call('CLIENT', 'TRACKING', 'on');
      await c.get('h3').catch(() => undefined);
      await c.set('tracked', '1');
      await c.get('tracked');
      await c.set('tracked', '2'); // invalidation push (>) for the tracked key
      await c.ping();
    });
    for (const side of ['client', 'server'] as const) {
      const ops = opsOf(proxy, side);
      assert.deepEqual(countByName(ops), { HSET: 1, HGETALL: 1, SMEMBERS: 1, ZSCORE: 1, 'CLIENT SETNAME': 1, 'CLIENT TRACKING': 1, GET: 2, SET: 2, PING: 1 }, side);
      assert.equal(ops.find((o) => o.operation === 'CLIENT SETNAME')!.attributes['db.query.text'], 'CLIENT SETNAME ?');
      assert.equal(ops.filter((o) => o.errorType).map((o) => o.errorType).join(), 'WRONGTYPE');
      // The handshake: HELLO 3 and three CLIENT commands Redis 7.0 does not know.
      const all = replay(redis, proxy.connection(0), side).ops;
      assert.deepEqual(all.slice(0, 4).map((o) => `${o.operation}:${o.errorType ?? 'ok'}`), ['HELLO:ok', 'CLIENT SETINFO:ERR', 'CLIENT SETINFO:ERR', 'CLIENT MAINT_NOTIFICATIONS:ERR']);
      assert.equal(all.filter((o) => o.operation === 'HELLO').length, 2);
      // The tracked key's invalidation came as a push, not a reply.
      assert.equal((replay(redis, proxy.connection(0), side).parser.stats as unknown as { pushes: number }).pushes, 1);
    }
  });
});
