// Issue 9's done-when run against a live agent: the table and the script file,
// and the db operation series of one service on the cluster's port.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSeries } from '../../../helpers/agent.js';
import type { Cluster } from './cluster.js';
import { psql } from './run.js';
import { doneWhenScript } from './scripts.js';

export const CLIENT = 'db_client_operation_duration_seconds_count';
export const SERVER = 'db_server_operation_duration_seconds_count';

/** Creates the table (before any agent: not part of the count) and writes the script; returns its path. */
export async function prepareDoneWhen(cluster: Cluster): Promise<string> {
  assert.equal((await psql(cluster.port, ['-c', 'CREATE TABLE items (id int, name text)'])).code, 0);
  const script = join(cluster.dir, 'script.sql');
  writeFileSync(script, doneWhenScript());
  return script;
}

export interface OperationCount {
  op: string | undefined;
  collection: string;
  status: string;
  error: string;
  port: string | undefined;
  value: number;
}

/** `name`'s PostgreSQL series of `service` on this cluster's port only (other psql runs on the host are watched too), sorted. */
export function operationCounts(metrics: string, name: string, service: string, cluster: Cluster): OperationCount[] {
  return parseSeries(metrics)
    .filter((s) => s.name === name && s.labels.service_name === service && s.labels.db_system_name === 'postgresql' && s.labels.server_port === String(cluster.port))
    .map((s) => ({ op: s.labels.db_operation_name, collection: s.labels.db_collection_name ?? '', status: s.labels.db_response_status_code ?? '', error: s.labels.error_type ?? '', port: s.labels.server_port, value: s.value }))
    .sort((a, b) => `${a.op}${a.status}`.localeCompare(`${b.op}${b.status}`));
}

/** The operations' total. */
export const total = (counts: OperationCount[]) => counts.reduce((a, c) => a + c.value, 0);
