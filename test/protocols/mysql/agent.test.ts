// End to end: the real agent watching the real mysql CLI, a node mysql2 client
// and the MariaDB server. A file of 37 SELECTs, 3 SELECTs of a missing table and
// 5 INSERTs gives exactly 40 SELECT (3 with db_response_status_code="1146") and
// 5 INSERT in db_client_operation_duration_seconds_count{service_name="mysql"}, and the
// same in db_server_operation_duration_seconds_count for mariadbd; mysql2's 6
// execute()s of one prepared SELECT count as 6 SELECT (plus 1 COM_STMT_PREPARE)
// and ping() as one COM_PING, on both sides, although its connection was opened
// before the agent started (joined midway, on a port that is not 3306). The
// first CLI run happens while the agent is stopped (SIGSTOP): it is watched by
// the kernel from its exec, named from its exec event.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type AgentProcess, parseSeries, startAgentProcess } from '../../helpers/agent.js';
import { type Child, startChild, waitFor } from '../../helpers/process.js';
import { type MariaDb, runClient, startMariaDb } from './helpers/mariadb.js';

const CLIENT = 'db_client_operation_duration_seconds_count';
const SERVER = 'db_server_operation_duration_seconds_count';

/** A mysql2 client that connects, then on "go" runs 6 prepared executions and a ping. */
const MYSQL2_APP = String.raw`
const mysql = require('mysql2/promise');
(async () => {
  const c = await mysql.createConnection({ host: '127.0.0.1', port: Number(process.argv[1]), user: 'root', database: 'shop' });
  console.log('connected');
  process.stdin.once('data', async () => {
    for (let i = 1; i <= 6; i++) await c.execute('SELECT name FROM items WHERE id = ?', [i]);
    await c.ping();
    await c.end();
    console.log('done');
  });
})().catch((e) => { console.error(e); process.exit(1); });
`;

let db: MariaDb;
let agent: AgentProcess;
let app: Child;

before(async () => {
  db = await startMariaDb();
  db.admin(`CREATE DATABASE shop; CREATE TABLE shop.items (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(50), price INT);
    CREATE TABLE shop.big (id INT PRIMARY KEY, pad VARCHAR(100));
    USE shop;
    INSERT INTO shop.big SELECT seq, REPEAT('p', 60) FROM seq_1_to_3000;
    DELIMITER //
    CREATE PROCEDURE shop.two_sets() BEGIN SELECT id FROM shop.big LIMIT 5; SELECT pad FROM shop.big LIMIT 7; END//
    DELIMITER ;`);
  app = startChild(process.execPath, ['-e', MYSQL2_APP, String(db.port)], {
    cwd: process.cwd(),
    env: { ...process.env, OTEL_SERVICE_NAME: 'shop-api', NODE_PATH: `${process.cwd()}/node_modules` },
  });
  await app.waitForOutput('connected', 20_000);
  // The CLI by its executable (mysql → /usr/bin/mariadb), the server and the app by pid.
  agent = await startAgentProcess(['--exe', '/usr/bin/mariadb', '--pid', `${app.pid}`, '--exe', '/usr/sbin/mariadbd']);
});

after(async () => {
  app?.kill();
  await agent?.stop();
  await db?.stop();
});

test('mysql CLI: 37 + 3 failing SELECTs and 5 INSERTs → exactly 40 SELECT (3 × 1146) and 5 INSERT, client and server side', async (t) => {
  const lines: string[] = [];
  for (let i = 0; i < 37; i++) {
    lines.push(`SELECT name, price FROM items WHERE id = ${i};`);
    if (i % 12 === 5) lines.push('SELECT * FROM missing_table;');
    if (i % 8 === 3) lines.push(`INSERT INTO items (name, price) VALUES ('n${i}', ${i});`);
  }
  // The agent is stopped while the CLI runs: the CLI has exited before user
  // space reads its exec event, so only the kernel's selection at exec (by the
  // executable's inode, for --exe /usr/bin/mariadb) can have watched it.
  const agentPid = agent.child.proc.pid!;
  process.kill(agentPid, 'SIGSTOP');
  let r: Awaited<ReturnType<typeof runClient>>;
  try {
    r = await runClient('mysql', db.port, ['--force', '-D', 'shop'], lines.join('\n') + '\n');
  } finally {
    process.kill(agentPid, 'SIGCONT');
  }
  assert.equal(r.stderr.match(/ERROR 1146/g)?.length, 3, r.stderr);

  const port = String(db.port);
  const sum = (series: ReturnType<typeof parseSeries>, name: string, labels: Record<string, string>) =>
    series.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
  let series: ReturnType<typeof parseSeries> = [];
  // The CLI is /usr/bin/mariadb started as `mysql`: its service.name is the name it was started as.
  const service = 'mysql';
  await waitFor(async () => {
    series = parseSeries(await agent.metrics());
    return sum(series, CLIENT, { service_name: service, server_port: port }) >= 45 && sum(series, SERVER, { server_port: port, db_operation_name: 'INSERT' }) >= 5;
  }, 15_000, 200).catch(() => undefined);
  for (const s of series.filter((s) => (s.name === CLIENT || s.name === SERVER) && s.labels.server_port === port)) t.diagnostic(`${s.name}${JSON.stringify(s.labels)} ${s.value}`);

  for (const [metric, base] of [
    [CLIENT, { service_name: service, server_port: port }],
    [SERVER, { service_name: 'mariadbd', server_port: port }],
  ] as const) {
    assert.equal(sum(series, metric, { ...base, db_operation_name: 'SELECT' }), 40, `${metric} SELECT`);
    assert.equal(sum(series, metric, { ...base, db_operation_name: 'SELECT', db_response_status_code: '1146', error_type: '1146' }), 3, `${metric} SELECT 1146`);
    assert.equal(sum(series, metric, { ...base, db_operation_name: 'SELECT', db_collection_name: 'items' }), 37, `${metric} SELECT items`);
    assert.equal(sum(series, metric, { ...base, db_operation_name: 'INSERT', db_collection_name: 'items' }), 5, `${metric} INSERT`);
    assert.equal(sum(series, metric, { ...base, db_system_name: 'mariadb' }), 45, `${metric} all, db_system_name="mariadb"`);
  }
});

test('mysql2 (watched from before the agent started): 6 prepared executions → 6 SELECT with the prepare text, 1 COM_STMT_PREPARE, 1 COM_PING', async (t) => {
  app.write('go\n');
  await app.waitForOutput('done', 20_000);
  const port = String(db.port);
  const count = async (labels: Record<string, string>) => agent.value(CLIENT, { service_name: 'shop-api', server_port: port, ...labels });
  await waitFor(async () => (await count({})) >= 8, 15_000, 200).catch(() => undefined);
  for (const s of parseSeries(await agent.metrics()).filter((s) => s.name === CLIENT && s.labels.service_name === 'shop-api')) t.diagnostic(`${JSON.stringify(s.labels)} ${s.value}`);
  assert.equal(await count({ db_operation_name: 'SELECT', db_collection_name: 'items' }), 6);
  assert.equal(await count({ db_operation_name: 'COM_STMT_PREPARE' }), 1);
  assert.equal(await count({ db_operation_name: 'COM_PING' }), 1);
  assert.equal(await count({}), 8);
  // mariadbd's side of the same connection, also joined midway.
  const server = async (labels: Record<string, string>) => agent.value(SERVER, { service_name: 'mariadbd', server_port: port, ...labels });
  for (const s of parseSeries(await agent.metrics()).filter((s) => s.name === SERVER && s.labels.server_port === port)) t.diagnostic(`${s.name}${JSON.stringify(s.labels)} ${s.value}`);
  assert.equal(await server({ db_operation_name: 'COM_STMT_PREPARE' }), 1);
  assert.equal(await server({ db_operation_name: 'COM_PING' }), 1);
  assert.equal(await server({ db_operation_name: 'SELECT', db_collection_name: 'items' }), 37 + 6);
  assert.equal(await agent.value('waggle_protocol_unparsed_total', { protocol: 'mysql' }), 0);
});

test('mysql CLI: 10 result sets of 200 KB (captured with holes) and 3 CALLs of two result sets → exactly 10 SELECT big and 3 CALL, both sides', async (t) => {
  const file = [...Array.from({ length: 10 }, () => 'SELECT * FROM big;'), ...Array.from({ length: 3 }, () => 'CALL two_sets();')].join('\n') + '\n';
  const r = await runClient('mysql', db.port, ['-D', 'shop'], file);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.stdout.length > 10 * 3000 * 60);
  const port = String(db.port);
  const count = async (metric: string, labels: Record<string, string>) => agent.value(metric, { server_port: port, ...labels });
  // Only this CLI run sends CALLs and reads `big`: its series are found by port (whatever service name
  // the identity race of a short-lived process gives it; the first test holds service_name="mysql").
  await waitFor(async () => (await count(CLIENT, { db_operation_name: 'CALL' })) >= 3 && (await count(SERVER, { db_operation_name: 'CALL' })) >= 3, 15_000, 200).catch(() => undefined);
  for (const s of parseSeries(await agent.metrics()).filter((s) => s.labels.server_port === port || /^waggle_(protocol|stream)/.test(s.name))) t.diagnostic(`${s.name}${JSON.stringify(s.labels)} ${s.value}`);
  for (const metric of [CLIENT, SERVER]) {
    const big = await count(metric, { db_operation_name: 'SELECT', db_collection_name: 'big' });
    const call = await count(metric, { db_operation_name: 'CALL' });
    t.diagnostic(`${metric}: SELECT big ${big}, CALL ${call}`);
    assert.equal(big, 10);
    assert.equal(call, 3);
  }
  assert.equal(await agent.value('waggle_protocol_unparsed_total', { protocol: 'mysql' }), 0);
  assert.equal(await agent.value('waggle_protocol_incomplete_total', { protocol: 'mysql' }), 0);
});
