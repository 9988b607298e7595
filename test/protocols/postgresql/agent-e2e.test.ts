// Issue 9's done-when, end to end: `waggle run` with no selector (every
// process), psql -X -f of 37 SELECTs, 3 SELECTs of a missing table and 5
// INSERTs → /metrics has exactly 40 SELECT (3 with db_response_status_code
// 42P01) and 5 INSERT in db_client_operation_duration_seconds_count for
// service_name="psql", and the same in db_server_operation_duration_seconds
// for the postgres backend; the spans file carries the query summaries with
// literals replaced.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type AgentProcess, parseSeries, startAgentProcess } from '../../helpers/agent.js';
import { waitFor } from '../../helpers/process.js';
import { type Cluster, startCluster } from './helpers/cluster.js';
import { psql } from './helpers/run.js';
import { doneWhenScript } from './helpers/scripts.js';

const CLIENT = 'db_client_operation_duration_seconds_count';
const SERVER = 'db_server_operation_duration_seconds_count';

describe('waggle run (no selector) watching psql -f against PostgreSQL', () => {
  let cluster: Cluster;
  let agent: AgentProcess;
  let spansFile = '';
  let metrics = '';
  before(async () => {
    cluster = await startCluster();
    // Before the agent: this setup statement is not part of the count.
    assert.equal((await psql(cluster.port, ['-c', 'CREATE TABLE items (id int, name text)'])).code, 0);
    const script = join(cluster.dir, 'script.sql');
    writeFileSync(script, doneWhenScript());
    spansFile = join(cluster.dir, 'spans.jsonl');
    agent = await startAgentProcess(['--spans-file', spansFile]);
    const r = await psql(cluster.port, ['-f', script]);
    assert.equal(r.code, 0, r.stderr);
    const count = async (name: string, service: string) =>
      parseSeries(await agent.metrics())
        .filter((s) => s.name === name && s.labels.service_name === service && s.labels.db_system_name === 'postgresql' && s.labels.server_port === String(cluster.port))
        .reduce((a, s) => a + s.value, 0);
    await waitFor(async () => (await count(CLIENT, 'psql')) >= 45 && (await count(SERVER, 'postgres')) >= 45, 15_000).catch(() => undefined);
    metrics = await agent.metrics();
  });
  after(async () => {
    await agent?.stop();
    cluster?.stop();
  });

  const series = (name: string, service: string) =>
    parseSeries(metrics)
      // This cluster's port only: other psql runs on the host are watched too.
      .filter((s) => s.name === name && s.labels.service_name === service && s.labels.db_system_name === 'postgresql' && s.labels.server_port === String(cluster.port))
      .map((s) => ({ op: s.labels.db_operation_name, collection: s.labels.db_collection_name ?? '', status: s.labels.db_response_status_code ?? '', error: s.labels.error_type ?? '', port: s.labels.server_port, value: s.value }))
      .sort((a, b) => `${a.op}${a.status}`.localeCompare(`${b.op}${b.status}`));

  it('client side: exactly 40 SELECT (3 × 42P01) and 5 INSERT for service_name="psql"', () => {
    assert.deepEqual(series(CLIENT, 'psql'), [
      { op: 'INSERT', collection: 'items', status: '', error: '', port: String(cluster.port), value: 5 },
      { op: 'SELECT', collection: 'items', status: '', error: '', port: String(cluster.port), value: 37 },
      { op: 'SELECT', collection: 'missing_table', status: '42P01', error: '42P01', port: String(cluster.port), value: 3 },
    ]);
  });

  it('server side: the same 40 + 5 for the postgres backend', () => {
    assert.deepEqual(
      series(SERVER, 'postgres').map(({ op, collection, status, value }) => ({ op, collection, status, value })),
      [
        { op: 'INSERT', collection: 'items', status: '', value: 5 },
        { op: 'SELECT', collection: 'items', status: '', value: 37 },
        { op: 'SELECT', collection: 'missing_table', status: '42P01', value: 3 },
      ],
    );
  });

  it('spans: the summary as name, literals replaced, no secret', async () => {
    await waitFor(() => readFileSync(spansFile, 'utf8').split('\n').filter((l) => l.includes('"postgresql"')).length >= 90, 10_000).catch(() => undefined);
    const text = readFileSync(spansFile, 'utf8');
    const spans = text.split('\n').filter((l) => l.includes('"postgresql"')).map((l) => JSON.parse(l) as { name: string; attributes: Record<string, unknown> } & Record<string, unknown>);
    const names = spans.map((s) => s.name);
    assert.equal(names.filter((n) => n === 'SELECT missing_table').length, 6, 'three from each side');
    assert.equal(names.filter((n) => n === 'INSERT items').length, 10);
    for (const secret of ['secret-', 'hunter', 'alice']) assert.ok(!text.includes(secret), secret);
    assert.match(text, /INSERT INTO items \(id, name\) VALUES \(\?, \?\);/);
  });
});
