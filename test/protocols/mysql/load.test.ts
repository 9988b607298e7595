// Under load: mysqlslap (4 connections, 20,000 SELECTs) against MariaDB,
// without and with the agent watching both, interleaved. Exact counts on both
// sides while no record is lost; past saturation the kernel's drops are counted
// and cost at most one operation each. Figures: throughput ratio, agent CPU µs
// per operation (both sides'), chunks, records lost, unparsed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { type AgentProcess, startAgentProcess } from '../../helpers/agent.js';
import { waitFor } from '../../helpers/process.js';
import { type MariaDb, runClient, startMariaDb } from './helpers/mariadb.js';

const QUERIES = 20_000;
const CONCURRENCY = 4;

let db: MariaDb;

before(async () => {
  db = await startMariaDb();
  db.admin('CREATE DATABASE slap; CREATE TABLE slap.t (id INT PRIMARY KEY, v INT); INSERT INTO slap.t VALUES (1, 1), (2, 2), (3, 3);');
});
after(async () => {
  await db?.stop();
});

/** CPU time (user + system) of a process in µs, from /proc. */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // utime + stime in clock ticks (USER_HZ 100)
}

async function slap(): Promise<number> {
  const t0 = performance.now();
  const r = await runClient('mysqlslap', db.port, [
    `--concurrency=${CONCURRENCY}`, `--number-of-queries=${QUERIES}`, '--iterations=1', '--create-schema=slap',
    '--query=SELECT v FROM t WHERE id = 2',
  ]);
  assert.equal(r.status, 0, r.stderr);
  return QUERIES / ((performance.now() - t0) / 1000);
}

test(`mysqlslap: ${QUERIES} SELECTs over ${CONCURRENCY} connections → ${QUERIES} SELECT t on each side, but for what lost records took`, async (t) => {
  const without1 = await slap();
  const agent: AgentProcess = await startAgentProcess(['--exe', '/usr/bin/mariadb-slap', '--exe', '/usr/sbin/mariadbd'], );
  try {
    const cpu0 = cpuMicros(agent.child.pid);
    const withAgent = await slap();
    const port = String(db.port);
    const count = (metric: string) => agent.value(metric, { server_port: port, db_operation_name: 'SELECT', db_collection_name: 't' });
    await waitFor(async () => (await count('db_client_operation_duration_seconds_count')) >= QUERIES && (await count('db_server_operation_duration_seconds_count')) >= QUERIES, 20_000, 200).catch(() => undefined);
    const cpu = cpuMicros(agent.child.pid) - cpu0;
    const client = await count('db_client_operation_duration_seconds_count');
    const server = await count('db_server_operation_duration_seconds_count');
    const lost = await agent.value('waggle_protocol_chunks_lost_total', { protocol: 'mysql' });
    const chunks = await agent.value('waggle_protocol_chunks_total', { protocol: 'mysql' });
    const connections = await agent.value('waggle_protocol_connections_total', { protocol: 'mysql' });
    t.diagnostic(`${connections} connections, ${chunks} chunks`);
    const dropped = await agent.value('waggle_stream_records_dropped_kernel_total');
    const unparsed = await agent.value('waggle_protocol_unparsed_total', { protocol: 'mysql' });
    await agent.stop();
    const without2 = await slap();
    const baseline = (without1 + without2) / 2;
    t.diagnostic(`without agent ${baseline.toFixed(0)} q/s, with ${withAgent.toFixed(0)} q/s: ratio ${(withAgent / baseline).toFixed(2)}`);
    t.diagnostic(`agent CPU ${(cpu / (client + server)).toFixed(1)} µs per operation (${client} client + ${server} server operations, ${(cpu / 1e6).toFixed(2)} s CPU)`);
    t.diagnostic(`chunks lost ${lost}, kernel records dropped ${dropped}, unparsed ${unparsed}`);
    // Exact while no record was lost; past saturation the kernel drops records (counted), and
    // a lost chunk costs at most the operation it belonged to.
    assert.ok(client <= QUERIES && server <= QUERIES);
    assert.ok(unparsed <= lost);
    if (lost === 0) {
      assert.equal(client, QUERIES);
      assert.equal(server, QUERIES);
    } else {
      assert.ok(client >= QUERIES - lost && server >= QUERIES - lost);
    }
  } finally {
    await agent.stop();
  }
});
