// Short-lived processes gone before the agent reads /proc: the agent is stopped
// (SIGSTOP) while psql runs its script, so psql and the PostgreSQL backend
// forked for it have both exited when the agent reads its first record. psql
// is named from its exec event, the backend (a fork that never execs) from its
// fork event and its parent, the postmaster: still exactly 40 SELECT and 5
// INSERT on each side, and no operation left unidentified.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type AgentProcess, parseSeries, startAgentProcess } from '../../helpers/agent.js';
import { waitFor } from '../../helpers/process.js';
import { type Cluster, startCluster } from './helpers/cluster.js';
import { CLIENT, SERVER, operationCounts, prepareDoneWhen, total } from './helpers/done-when.js';
import { psql } from './helpers/run.js';

describe('psql and its backend run and exit while the agent is stopped', () => {
  let cluster: Cluster;
  let agent: AgentProcess;
  let metrics = '';
  before(async () => {
    cluster = await startCluster();
    const script = await prepareDoneWhen(cluster);
    agent = await startAgentProcess([]);
    const pid = agent.child.proc.pid!;
    process.kill(pid, 'SIGSTOP');
    let r: Awaited<ReturnType<typeof psql>>;
    try {
      r = await psql(cluster.port, ['-f', script]);
      // The backend exits after psql; the postmaster reaps it.
      await new Promise((res) => setTimeout(res, 500));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    assert.equal(r.code, 0, r.stderr);
    await waitFor(async () => {
      metrics = await agent.metrics();
      return total(operationCounts(metrics, CLIENT, 'psql', cluster)) >= 45 && total(operationCounts(metrics, SERVER, 'postgres', cluster)) >= 45;
    }, 15_000).catch(() => undefined);
    metrics = await agent.metrics();
  });
  after(async () => {
    await agent?.stop();
    cluster?.stop();
  });

  const series = (name: string, service: string) => operationCounts(metrics, name, service, cluster).map(({ op, status, value }) => ({ op, status, value }));
  const expected = [
    { op: 'INSERT', status: '', value: 5 },
    { op: 'SELECT', status: '', value: 37 },
    { op: 'SELECT', status: '42P01', value: 3 },
  ];

  it('client side: psql, named from its exec event', () => {
    assert.deepEqual(series(CLIENT, 'psql'), expected);
    assert.ok(parseSeries(metrics).some((s) => s.name === 'waggle_identities_from_exec_events_total' && s.value >= 1));
  });

  it('server side: the backend, named from its fork event as its parent, the postmaster', () => {
    assert.deepEqual(series(SERVER, 'postgres'), expected);
    assert.ok(parseSeries(metrics).some((s) => s.name === 'waggle_identities_from_fork_events_total' && s.value >= 1));
  });

  it('no operation was left unidentified', () => {
    const unidentified = parseSeries(metrics).find((s) => s.name === 'waggle_exchanges_unidentified_total');
    assert.equal(unidentified?.value, 0);
  });
});
