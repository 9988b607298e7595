// waggle-test: no-kernel
// redis-benchmark's SET load, pipelined (-P 16: 16 commands a write) and not,
// through the recording proxy: every connection replayed from both sides.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { redis } from '../../../src/protocols/redis/index.js';
import { startRecordingProxy } from '../helpers/record-proxy.js';
import { countByName, replay } from './helpers/replay.js';
import { type RealServer, run, startRedis } from './helpers/servers.js';

describe('redis-benchmark', () => {
  let server: RealServer;
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await server.stop();
  });

  for (const pipeline of [16, 1]) {
    it(`-n 2000 -P ${pipeline} -t set is exactly 2000 SET on each side`, async () => {
      const proxy = await startRecordingProxy(server.port);
      try {
        const r = await run('redis-benchmark', ['-p', String(proxy.port), '-n', '2000', '-P', String(pipeline), '-t', 'set', '-c', '10', '-q']);
        assert.equal(r.code, 0, r.stderr);
        for (const side of ['client', 'server'] as const) {
          const total: Record<string, number> = {};
          let incomplete = 0;
          for (let i = 0; i < proxy.connections(); i++) {
            const { ops, parser } = replay(redis, proxy.connection(i), side);
            for (const [k, v] of Object.entries(countByName(ops))) total[k] = (total[k] ?? 0) + v;
            incomplete += ops.filter((o) => o.incomplete).length;
            assert.equal(parser.stats.unparsed + parser.stats.orphanResponses + parser.stats.pendingOverflow, 0);
          }
          // Besides the load, redis-benchmark reads the server's config first.
          assert.equal(total.SET, 2000, `${side}: ${JSON.stringify(total)}`);
          assert.deepEqual(Object.keys(total).filter((k) => k !== 'SET' && k !== 'CONFIG GET'), []);
          assert.equal(incomplete, 0);
        }
      } finally {
        await proxy.close();
      }
    });
  }
});
