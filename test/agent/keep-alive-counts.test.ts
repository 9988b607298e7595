// Issue 14, end to end through /metrics: a Node server answering with its default
// framing (res.writeHead(200); res.end('hi') is chunked) and with Content-Length,
// driven by keep-alive clients. Every row: requests sent = requests counted, and no
// framing lost or pipeline overflow (before f0e755e, curl -K with 20 URLs counted 8).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { type ClientRun, startClient, runClient } from '../capture/conformance/helpers/clients.js';
import { type AgentProcess, startAgentProcess } from '../helpers/agent.js';
import { type Child, startChild, waitFor } from '../helpers/process.js';

const SERVER = String.raw`
const http = require('http');
const server = http.createServer((req, res) => {
  const path = req.url.split('?')[0];
  if (path === '/content-length') { res.setHeader('Content-Length', 2); res.end('hi'); return; }
  res.writeHead(path === '/missing' ? 404 : 200);
  res.end('hi');
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log('port', server.address().port));
`;
const SERVER_COUNT = 'http_server_request_duration_seconds_count';
const CLIENT_COUNT = 'http_client_request_duration_seconds_count';
const times = (n: number, path: string) => Array.from({ length: n }, () => ({ path }));

describe('waggle run: issue 14 — keep-alive clients against a chunked Node server', () => {
  let server: Child;
  let port: number;
  let fetcher: { child: Child; go(): void };
  let agent: AgentProcess;
  before(async () => {
    server = startChild(process.execPath, ['-e', SERVER], { env: { ...process.env, OTEL_SERVICE_NAME: 'chunked-node' } });
    await server.waitForOutput(/port (\d+)/);
    port = Number(/port (\d+)/.exec(server.output())![1]);
    // Watched from its start, so its client side is counted too.
    fetcher = startClient('undici-fetch', port, [...times(100, '/fetch'), ...times(30, '/missing')], { ...process.env, OTEL_SERVICE_NAME: 'fetcher' });
    agent = await startAgentProcess(['--pid', `${server.pid},${fetcher.child.pid}`]);
  });
  after(async () => {
    fetcher?.child.kill();
    await agent?.stop();
    server?.kill();
  });

  test('sent = counted in every row', async (t) => {
    const runs: Record<string, ClientRun | { statuses: number[] }> = {};
    const none = () => undefined;
    try {
      runs.curlK = await runClient('curl', port, times(20, '/curl-k'), none);
      runs.httpClient = await runClient('python-http.client', port, times(20, '/http-client'), none);
      fetcher.go();
      await Promise.race([fetcher.child.exited, new Promise((r) => setTimeout(r, 20_000))]);
      runs.fetch = { statuses: fetcher.child.output().split('\n').filter(Boolean).map(Number) };
      runs.contentLength = await runClient('curl', port, times(20, '/content-length'), none);
      const separate: number[] = [];
      for (let i = 0; i < 20; i++) {
        separate.push(Number(execFileSync('curl', ['-s', '--max-time', '5', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}/curls`], { encoding: 'utf8' })));
      }
      runs.separate = { statuses: separate };
    } finally {
      fetcher.child.kill();
    }
    const rows: { row: string; sent: number; labels: Record<string, string>; metric?: string }[] = [
      { row: 'chunked × curl -K, 20 URLs', sent: runs.curlK!.statuses.length, labels: { http_route: '/curl-k' } },
      { row: 'chunked × Python http.client, 20 on one connection', sent: runs.httpClient!.statuses.length, labels: { http_route: '/http-client' } },
      { row: 'chunked × undici fetch, 100 × 200 (server)', sent: runs.fetch!.statuses.filter((s) => s === 200).length, labels: { http_route: '/fetch' } },
      { row: 'chunked × undici fetch, 30 × 404 (server)', sent: runs.fetch!.statuses.filter((s) => s === 404).length, labels: { http_response_status_code: '404' } },
      { row: 'chunked × undici fetch, 100 × 200 (client)', sent: runs.fetch!.statuses.filter((s) => s === 200).length, labels: { http_response_status_code: '200' }, metric: CLIENT_COUNT },
      { row: 'chunked × undici fetch, 30 × 404 (client)', sent: runs.fetch!.statuses.filter((s) => s === 404).length, labels: { http_response_status_code: '404' }, metric: CLIENT_COUNT },
      { row: 'Content-Length × curl -K, 20 URLs', sent: runs.contentLength!.statuses.length, labels: { http_route: '/content-length' } },
      { row: 'chunked × 20 separate curls', sent: runs.separate!.statuses.length, labels: { http_route: '/curls' } },
    ];
    const counted = (r: (typeof rows)[number]) =>
      agent.value(r.metric ?? SERVER_COUNT, { service_name: r.metric === CLIENT_COUNT ? 'fetcher' : 'chunked-node', ...r.labels });
    const total = async () => (await Promise.all(rows.map(counted))).reduce((a, b) => a + b, 0);
    const sentTotal = rows.reduce((a, r) => a + r.sent, 0);
    await waitFor(async () => (await total()) >= sentTotal, 10_000).catch(() => undefined);
    const figures = await Promise.all(rows.map(async (r) => ({ row: r.row, sent: r.sent, counted: await counted(r) })));
    for (const f of figures) t.diagnostic(`${f.row}: sent ${f.sent}, counted ${f.counted}`);
    assert.deepEqual(
      rows.map((r) => r.sent),
      [20, 20, 100, 30, 100, 30, 20, 20],
      'every client completed its requests',
    );
    assert.deepEqual(figures.map((f) => f.counted), figures.map((f) => f.sent));
    const text = await agent.metrics();
    for (const name of ['waggle_http_framing_lost_total', 'waggle_capture_framing_lost_total', 'waggle_capture_pipeline_overflow_total', 'waggle_capture_incomplete_total']) {
      assert.match(text, new RegExp(`^# TYPE ${name} counter$`, 'm'));
    }
    assert.equal(await agent.value('waggle_http_framing_lost_total'), 0);
    assert.equal(await agent.value('waggle_capture_framing_lost_total'), 0);
    assert.equal(await agent.value('waggle_capture_pipeline_overflow_total'), 0);
    assert.equal(await agent.value('waggle_capture_incomplete_total'), 0);
  });
});
