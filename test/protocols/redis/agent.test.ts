// End to end: the real agent with no selector (every process watched) while
// redis-cli, redis-benchmark and a Python memcached client talk to real
// servers; exact counts from its /metrics, as issue 9 asks, for the clients
// (db_client_*) and for the servers, watched too (db_server_*).
import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type AgentProcess, parseSeries, startAgentProcess } from '../../helpers/agent.js';
import { python3, sleep, startChild, within } from '../../helpers/process.js';
import { type RealServer, startMemcached, startRedis } from './helpers/servers.js';

describe('agent end to end: redis and memcached', () => {
  let redisServer: RealServer;
  let mc: RealServer;
  let agent: AgentProcess;

  before(async () => {
    redisServer = await startRedis();
    mc = await startMemcached();
    agent = await startAgentProcess([]);
  });
  after(async () => {
    await agent?.stop();
    await redisServer?.stop();
    await mc?.stop();
  });

  async function drive(cmd: string, args: string[], input = ''): Promise<void> {
    const child = startChild(cmd, args);
    child.proc.stdin?.end(input);
    const st = await within(child.exited, 60_000, cmd);
    assert.equal(st.code, 0, child.errors());
  }

  /** db_{client,server}_operation_duration_seconds_count per operation (and error type) for these labels. */
  async function counts(side: 'client' | 'server', labels: Record<string, string>): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const s of parseSeries(await agent.metrics())) {
      if (s.name !== `db_${side}_operation_duration_seconds_count`) continue;
      if (!Object.entries(labels).every(([k, v]) => s.labels[k] === v)) continue;
      const k = `${s.labels.db_operation_name}${s.labels.error_type ? ':' + s.labels.error_type : ''}`;
      out[k] = (out[k] ?? 0) + s.value;
    }
    return out;
  }

  /** On a failure: the agent's series for the port and its stream counters. */
  async function diagnosis(port: string): Promise<string> {
    const text = await agent.metrics();
    return text.split('\n').filter((l) => (l.includes(`"${port}"`) && l.includes('_count')) || /^waggle_(stream|protocol)_/.test(l)).join('\n');
  }

  /** Polls until `want` holds (operations arrive on the capture's flush timer), then once more after a settle. */
  async function settle(side: 'client' | 'server', labels: Record<string, string>, done: (c: Record<string, number>) => boolean): Promise<Record<string, number>> {
    const until = Date.now() + 10_000;
    let c = await counts(side, labels);
    while (!done(c) && Date.now() < until) {
      await sleep(200);
      c = await counts(side, labels);
    }
    await sleep(500);
    return counts(side, labels);
  }

  it('redis-cli: 100 SET and 50 GET give exactly 100 and 50', async () => {
    const lines = [...Array.from({ length: 100 }, (_, i) => `SET key:${i} value-${i}`), ...Array.from({ length: 50 }, (_, i) => `GET key:${i}`)];
    await drive('redis-cli', ['-p', String(redisServer.port)], lines.join('\n') + '\n');
    const labels = { service_name: 'redis-cli', db_system_name: 'redis', server_port: String(redisServer.port) };
    const c = await settle('client', labels, (x) => (x.SET ?? 0) >= 100 && (x.GET ?? 0) >= 50);
    assert.deepEqual([c.SET, c.GET], [100, 50], await diagnosis(String(redisServer.port)));
    // The server, watched too, saw the same commands. (Its service_name is not
    // asserted: Debian's redis-server is a link to redis-check-rdb, named either way.)
    const server = await settle('server', { db_system_name: 'redis', server_port: String(redisServer.port) }, (x) => (x.GET ?? 0) >= 50);
    assert.equal(server.SET, 100, JSON.stringify(server));
    assert.equal(server.GET, 50, JSON.stringify(server));
  });

  it('redis-benchmark -n 2000 -t set gives exactly 2000 SET with -P 16 and with -P 1', async () => {
    await drive('redis-benchmark', ['-p', String(redisServer.port), '-n', '2000', '-P', '16', '-t', 'set', '-q']);
    const labels = { service_name: 'redis-benchmark', db_system_name: 'redis', server_port: String(redisServer.port) };
    const c = await settle('client', labels, (x) => (x.SET ?? 0) >= 2000);
    assert.equal(c.SET, 2000, JSON.stringify(c));
    const server = await settle('server', { db_system_name: 'redis', server_port: String(redisServer.port) }, (x) => (x.SET ?? 0) >= 2100);
    assert.equal(server.SET, 2100, JSON.stringify(server));
    // And without pipelining: 2000 more.
    await drive('redis-benchmark', ['-p', String(redisServer.port), '-n', '2000', '-P', '1', '-t', 'set', '-q']);
    const again = await settle('client', labels, (x) => (x.SET ?? 0) >= 4000);
    assert.equal(again.SET, 4000, JSON.stringify(again));
  });

  it('memcached from Python: exact set, get and error counts', async () => {
    const script = String.raw`
import socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
f = s.makefile('rb')
def until_end():
    while True:
        l = f.readline()
        if l == b'END\r\n': return
        if l.startswith(b'VALUE'): f.readline()
for i in range(100):
    s.sendall(b'set k%d 0 0 3\r\nabc\r\n' % i); assert f.readline() == b'STORED\r\n'
for i in range(60): s.sendall(b'get k%d\r\n' % i); until_end()
for i in range(25): s.sendall(b'get missing%d\r\n' % i); until_end()
for i in range(20): s.sendall(b'set q%d 0 0 1 noreply\r\nq\r\n' % i)
for i in range(5): s.sendall(b'get k1 k2 k3 nope\r\n'); until_end()
s.sendall(b'incr k1 1\r\n'); assert f.readline().startswith(b'CLIENT_ERROR')
s.close()
`;
    await drive(python3, ['-c', script, String(mc.port)]);
    const labels = { service_name: basename(realpathSync(python3)), db_system_name: 'memcached', server_port: String(mc.port) };
    const c = await settle('client', labels, (x) => (x.set ?? 0) >= 120 && (x.get ?? 0) >= 90);
    assert.deepEqual(c, { set: 120, get: 90, 'incr:CLIENT_ERROR': 1 }, await diagnosis(String(mc.port)));
    const server = await settle('server', { service_name: 'memcached', db_system_name: 'memcached', server_port: String(mc.port) }, (x) => (x.get ?? 0) >= 90);
    assert.deepEqual(server, { set: 120, get: 90, 'incr:CLIENT_ERROR': 1 });
  });
});
