// Issue 9's done-when, end to end: `waggle run` with no selector (every
// process), psql -X -f of 37 SELECTs, 3 SELECTs of a missing table and 5
// INSERTs → /metrics has exactly 40 SELECT (3 with db_response_status_code
// 42P01) and 5 INSERT in db_client_operation_duration_seconds_count for
// service_name="psql", and the same in db_server_operation_duration_seconds
// for the postgres backend; the spans file carries the query summaries with
// literals replaced.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type AgentProcess, startAgentProcess } from '../../helpers/agent.js';
import { waitFor } from '../../helpers/process.js';
import { type Cluster, startCluster } from './helpers/cluster.js';
import { CLIENT, SERVER, operationCounts, prepareDoneWhen, total } from './helpers/done-when.js';
import { psql } from './helpers/run.js';

describe('waggle run (no selector) watching psql -f against PostgreSQL', () => {
  let cluster: Cluster;
  let agent: AgentProcess;
  let spansFile = '';
  let metrics = '';
  before(async () => {
    cluster = await startCluster();
    const script = await prepareDoneWhen(cluster);
    spansFile = join(cluster.dir, 'spans.jsonl');
    agent = await startAgentProcess(['--spans-file', spansFile]);
    const r = await psql(cluster.port, ['-f', script]);
    assert.equal(r.code, 0, r.stderr);
    await waitFor(async () => {
      const m = await agent.metrics();
      return total(operationCounts(m, CLIENT, 'psql', cluster)) >= 45 && total(operationCounts(m, SERVER, 'postgres', cluster)) >= 45;
    }, 15_000).catch(() => undefined);
    metrics = await agent.metrics();
  });
  after(async () => {
    await agent?.stop();
    cluster?.stop();
  });

  const series = (name: string, service: string) => operationCounts(metrics, name, service, cluster);

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
