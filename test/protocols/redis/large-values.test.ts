// waggle-test: no-kernel
// Values larger than the captured head, from real ioredis traffic: a bulk
// string is skipped across the hole by its declared length; a huge array
// (whose element headers fall into holes) is absorbed until the next command.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { redis } from '../../../src/protocols/redis/index.js';
import { startRecordingProxy } from '../helpers/record-proxy.js';
import { countByName, replay } from './helpers/replay.js';
import { type RealServer, startRedis } from './helpers/servers.js';

describe('redis values larger than the capture head', () => {
  let server: RealServer;
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await server.stop();
  });

  for (const protocol of [2, 3] as const) {
    it(`RESP${protocol}: 1 MB SET/GET, a 20000-element LRANGE, then small commands: every one paired`, async () => {
      const proxy = await startRecordingProxy(server.port);
      const c = new Redis({ port: proxy.port, host: '127.0.0.1', enableReadyCheck: false, lazyConnect: true, protocol });
      try {
        await c.connect();
        const big = 'x'.repeat(1 << 20);
        for (let i = 0; i < 3; i++) {
          await c.set(`big${protocol}${i}`, big);
          assert.equal((await c.get(`big${protocol}${i}`))!.length, big.length);
        }
        for (let i = 0; i < 20; i++) await c.rpush(`list${protocol}`, ...Array.from({ length: 1000 }, (_, j) => `item-${i}-${j}`));
        assert.equal((await c.lrange(`list${protocol}`, 0, -1)).length, 20000);
        // A pipeline after the lost framing: replies resynchronise at the next chunk.
        const p = c.pipeline();
        for (let i = 0; i < 10; i++) p.incr('counter');
        await p.exec();
        await c.get('nosuch');
      } finally {
        c.disconnect();
        await proxy.close();
      }
      for (const side of ['client', 'server'] as const) {
        const { ops, parser } = replay(redis, proxy.connection(0), side);
        const counts = countByName(ops.filter((o) => !o.operation.startsWith('CLIENT') && o.operation !== 'HELLO'), true);
        assert.deepEqual(counts, { SET: 3, GET: 4, RPUSH: 20, LRANGE: 1, INCR: 10 }, side);
        assert.deepEqual(ops.filter((o) => o.incomplete).map((o) => o.operation + ':' + o.incomplete), [], JSON.stringify(parser.stats));
        assert.equal(parser.stats.orphanResponses, 0);
        // The 1 MB values are skipped by length; framing is lost (and counted) in
        // each 15 KB RPUSH (its element headers fall in the hole) and in the LRANGE
        // reply, on the client exactly 20 + 1 times (the server's reads split differently).
        if (side === 'client') assert.equal(parser.stats.unparsed, 21);
        else assert.ok(parser.stats.unparsed >= 1 && parser.stats.unparsed <= 60, JSON.stringify(parser.stats));
      }
    });
  }
});
