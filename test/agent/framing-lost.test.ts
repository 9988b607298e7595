// A framing the kernel cannot follow is reported by name: a server that sends a
// malformed chunk size, and one that sends a response without any length on a
// connection that carries on, each count once per side in
// waggle_http_framing_lost_total{service_name, role, peer} and on the health page,
// while every exchange is still counted.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type AgentProcess, parseSeries, startAgentProcess } from '../helpers/agent.js';
import { type Child, waitFor } from '../helpers/process.js';
import { startRawClient } from '../capture/conformance/helpers/clients.js';
import { type RawServer, startRawServer } from '../capture/conformance/helpers/raw-server.js';

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
const SCRIPTS = {
  'bad-chunk-size': { writes: ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhi\r\n0\r\n\r\n'] },
  'no-length': { writes: ['HTTP/1.1 200 OK\r\nX-Framing: none\r\n\r\nhi'] },
  ok: { writes: [OK] },
};
const get = (name: string, i: number) => `GET /r/${name}/${i} HTTP/1.1\r\nHost: x\r\n\r\n`;
const STEPS = [
  { send: get('bad-chunk-size', 0), expectBytes: SCRIPTS['bad-chunk-size'].writes[0]!.length },
  { send: get('ok', 1), expectBytes: OK.length },
  { send: get('no-length', 2), expectBytes: SCRIPTS['no-length'].writes[0]!.length },
  { send: get('ok', 3), expectBytes: OK.length },
];

describe('waggle run: framing lost is counted by name', () => {
  let server: RawServer;
  let client: Child;
  let agent: AgentProcess;
  before(async () => {
    server = await startRawServer(SCRIPTS, 5, { ...process.env, OTEL_SERVICE_NAME: 'broken-framing' });
    client = startRawClient(server.port, STEPS, { ...process.env, OTEL_SERVICE_NAME: 'raw-client' });
    agent = await startAgentProcess(['--pid', `${server.pid},${client.pid}`]);
  });
  after(async () => {
    client?.kill();
    await agent?.stop();
    server?.stop();
  });

  test('one per side and framing, every exchange still counted', async () => {
    const seen = async () =>
      (await agent.value('http_server_request_duration_seconds_count', { service_name: 'broken-framing' })) +
      (await agent.value('http_client_request_duration_seconds_count', { service_name: 'raw-client' }));
    let exit;
    let metrics = '';
    let health: { latest: { counters: Record<string, number> } } | undefined;
    try {
      client.write('go\n');
      exit = await Promise.race([client.exited, new Promise((r) => setTimeout(() => r('timeout'), 10_000))]);
      await waitFor(async () => (await seen()) >= 8, 10_000).catch(() => undefined);
      metrics = await agent.metrics();
      // The health page samples every 5 s.
      health = await waitFor(async () => {
        const h = (await (await fetch(`${agent.url}/api/health`)).json()) as { latest: { counters: Record<string, number> } };
        return (h.latest.counters['exchanges.framing_lost'] ?? 0) >= 4 ? h : undefined;
      }, 12_000).catch(() => undefined);
    } finally {
      client.kill();
    }
    assert.deepEqual(exit, { code: 0, signal: null });
    const series = parseSeries(metrics).filter((s) => s.name === 'waggle_http_framing_lost_total');
    const lost = Object.fromEntries(series.map((s) => [`${s.labels.service_name} ${s.labels.role} ${s.labels.peer}`, s.value]));
    assert.deepEqual(lost, {
      'broken-framing server 127.0.0.1': 2,
      [`raw-client client 127.0.0.1:${server.port}`]: 2,
    });
    const count = (name: string, labels: Record<string, string>) =>
      parseSeries(metrics).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
    assert.equal(count('http_server_request_duration_seconds_count', { service_name: 'broken-framing' }), 4);
    assert.equal(count('http_client_request_duration_seconds_count', { service_name: 'raw-client' }), 4);
    assert.equal(count('waggle_capture_framing_lost_total', {}), 4);
    assert.equal(health?.latest.counters['exchanges.framing_lost'], 4);
  });
});
