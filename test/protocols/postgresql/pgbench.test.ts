// pgbench (libpq): the built-in select-only script in simple and prepared mode
// (named statements prepared once, executed per transaction: text recovered),
// and a custom pipeline script (\startpipeline: three Executes before one Sync),
// once clean and once with a failing statement in the middle, after which the
// server skips to the Sync and the third statement never runs.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RecordingProxy, startRecordingProxy } from '../helpers/record-proxy.js';
import { type Cluster, startCluster } from './helpers/cluster.js';
import { replay, tally } from './helpers/replay.js';
import { runClient } from './helpers/run.js';

const N = 40;
const PIPELINE = '\\startpipeline\nSELECT 1;\nSELECT bid FROM pgbench_branches WHERE bid = 1;\nSELECT abalance FROM pgbench_accounts WHERE aid = 7;\n\\endpipeline\n';
const FAILING = '\\startpipeline\nSELECT 1;\nSELECT * FROM missing_in_pipeline;\nSELECT abalance FROM pgbench_accounts WHERE aid = 7;\n\\endpipeline\n';

function pgbench(port: number, args: string[]) {
  return runClient('pgbench', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-n', ...args, 'postgres']);
}

describe('pgbench', () => {
  let cluster: Cluster;
  const proxies: Record<string, RecordingProxy> = {};
  before(async () => {
    cluster = await startCluster();
    const init = await pgbench(cluster.port, ['-i', '-s', '1', '-q']);
    assert.equal(init.code, 0, init.stderr);
    writeFileSync(join(cluster.dir, 'pipeline.sql'), PIPELINE);
    writeFileSync(join(cluster.dir, 'failing.sql'), FAILING);
    const runs: Record<string, string[]> = {
      simple: ['-S', '-M', 'simple', '-t', String(N)],
      prepared: ['-S', '-M', 'prepared', '-t', String(N)],
      pipeline: ['-M', 'extended', '-t', '5', '-f', join(cluster.dir, 'pipeline.sql')],
      failing: ['-M', 'extended', '-t', '1', '-f', join(cluster.dir, 'failing.sql')],
    };
    for (const [name, args] of Object.entries(runs)) {
      const proxy = await startRecordingProxy(cluster.port);
      const r = await pgbench(proxy.port, args);
      if (name === 'failing') assert.match(r.stderr, /missing_in_pipeline/);
      else assert.equal(r.code, 0, r.stderr);
      await proxy.close();
      proxies[name] = proxy;
    }
    cluster.stop();
  });
  after(async () => {
    for (const p of Object.values(proxies)) await p.close();
    cluster?.stop();
  });

  for (const side of ['client', 'server'] as const) {
    it(`-S -M simple from the ${side} side: ${N} SELECT pgbench_accounts`, () => {
      const r = replay(proxies.simple as RecordingProxy, side);
      assert.equal(tally(r.ops)['SELECT pgbench_accounts ok'], N);
      assert.deepEqual(r.stats, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 });
      const texts = new Set(r.ops.filter((o) => o.attributes['db.collection.name'] === 'pgbench_accounts').map((o) => o.attributes['db.query.text']));
      assert.deepEqual([...texts], ['SELECT abalance FROM pgbench_accounts WHERE aid = ?;']);
    });

    it(`-S -M prepared from the ${side} side: ${N} executions of the named statement, its text recovered`, () => {
      const r = replay(proxies.prepared as RecordingProxy, side);
      const accounts = r.ops.filter((o) => o.attributes['db.collection.name'] === 'pgbench_accounts');
      assert.equal(accounts.length, N);
      for (const op of accounts) {
        assert.equal(op.operation, 'SELECT');
        assert.equal(op.attributes['db.query.text'], 'SELECT abalance FROM pgbench_accounts WHERE aid = $1;');
        assert.equal(op.errorType, undefined);
      }
      assert.deepEqual(r.stats, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 });
    });

    it(`pipeline from the ${side} side: 3 Executes per Sync, each one operation`, () => {
      const r = replay(proxies.pipeline as RecordingProxy, side);
      assert.deepEqual(tally(r.ops), { 'SELECT - ok': 5, 'SELECT pgbench_branches ok': 5, 'SELECT pgbench_accounts ok': 5 });
      assert.deepEqual(r.stats, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 });
    });

    it(`failing pipeline from the ${side} side: the error on its statement, the next one aborted`, () => {
      const r = replay(proxies.failing as RecordingProxy, side);
      assert.deepEqual(tally(r.ops, (o) => `${o.name} ${o.errorType ?? 'ok'}`), {
        'SELECT ok': 1,
        'SELECT missing_in_pipeline 42P01': 1,
        'SELECT pgbench_accounts pipeline_aborted': 1,
      });
      const aborted = r.ops.find((o) => o.errorType === 'pipeline_aborted');
      assert.equal(aborted?.attributes['db.response.status_code'], undefined);
    });
  }
});
