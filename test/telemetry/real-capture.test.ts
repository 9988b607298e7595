// HTTP telemetry on exchanges captured from real programs by the real kernel
// capture: Python's http.server driven by curl and ab (server side), and a Python
// client (client side). N requests → exactly N in the Prometheus count for the
// right route, method and status; spans with sane wall-clock times; the
// Authorization header sent by the clients appears in no output.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { ConsoleSpanPrinter, JsonLinesSpanWriter, PrometheusExporter } from '../../src/export/index.js';
import { HttpTelemetry, type ServiceIdentity, type Span } from '../../src/telemetry/index.js';
import { type Collected, collect } from '../capture/helpers/capture.js';
import { type Server, startPythonServer } from '../capture/helpers/servers.js';
import { python3, startChild } from '../helpers/process.js';

const SECRET = 'Bearer real-capture-S3CR3T';

describe('HTTP telemetry on real captured traffic', () => {
  let server: Server;
  let cap: Collected;
  let telemetry: HttpTelemetry;
  let prometheus: PrometheusExporter;
  const spans: Span[] = [];
  let printed = '';
  let jsonl = '';
  const identities = new Map<number, ServiceIdentity>();

  before(async () => {
    server = await startPythonServer();
    identities.set(server.child.pid, { name: 'pyserver', instanceId: `pyserver-${server.child.pid}`, pid: server.child.pid, executableName: 'python3' });
    telemetry = new HttpTelemetry({ routes: { patterns: ['/status/{code}'] } });
    prometheus = new PrometheusExporter({ metrics: telemetry.metrics });
    telemetry.onSpan((s) => spans.push(s));
    const consoleOut = new PassThrough();
    consoleOut.on('data', (d: Buffer) => (printed += d.toString()));
    telemetry.onSpan(new ConsoleSpanPrinter(consoleOut).print);
    const jsonOut = new PassThrough();
    jsonOut.on('data', (d: Buffer) => (jsonl += d.toString()));
    telemetry.onSpan(new JsonLinesSpanWriter(jsonOut).write);
    cap = await collect();
    cap.capture.watch(server.child.pid);
  });
  after(async () => {
    // close() asserts that no program stayed loaded: what else the file started stops anyway.
    try {
      await cap?.close();
    } finally {
      server?.stop();
      telemetry?.close();
    }
  });

  const feed = () => {
    for (const ex of cap.current()) {
      const id = identities.get(ex.pid);
      if (id) telemetry.handleExchange(ex, id);
    }
    cap.exchanges.length = 0;
  };

  test('curl: N requests per route and status give exactly N in the histogram counts', async () => {
    const base = `http://127.0.0.1:${server.port}`;
    const N = 20;
    const urls = [...Array(N).keys()].flatMap((i) => [`${base}/users/${1000 + i}`, `${base}/status/404`]);
    execFileSync('curl', ['-s', '-H', `Authorization: ${SECRET}`, '-H', 'Cookie: sid=S3CR3T-cookie', ...urls.flatMap((u) => ['-o', '/dev/null', u])], { timeout: 60_000 });
    execFileSync('curl', ['-s', '-o', '/dev/null', `${base}/status/503`], { timeout: 60_000 });
    await cap.waitFor(2 * N + 1);
    feed();
    const text = await prometheus.metricsText();
    const id = `service_name="pyserver",service_instance_id="pyserver-${server.child.pid}"`;
    const count = (labels: string) => text.split('\n').find((l) => l.startsWith(`http_server_request_duration_seconds_count{${id},${labels}}`))?.split(' ')[1];
    assert.equal(count('http_request_method="GET",http_response_status_code="200",network_protocol_version="1.1",http_route="/users/{id}",url_scheme="http"'), String(N));
    assert.equal(count('http_request_method="GET",http_response_status_code="404",network_protocol_version="1.1",http_route="/status/{code}",url_scheme="http"'), String(N));
    assert.equal(count('http_request_method="GET",http_response_status_code="503",error_type="503",network_protocol_version="1.1",http_route="/status/{code}",url_scheme="http"'), '1');
    assert.ok(text.includes(`http_server_response_body_size_bytes_sum{${id},http_request_method="GET",http_response_status_code="200",network_protocol_version="1.1",http_route="/users/{id}",url_scheme="http"} ${5 * N}\n`), 'body "hello" × N');

    const users = spans.filter((s) => s.name === 'GET /users/{id}');
    assert.equal(users.length, N);
    for (const s of users) {
      const ms = (s.endTimeUnixNs - s.startTimeUnixNs) / 1e6;
      assert.ok(ms > 0 && ms < 1000, `duration ${ms} ms`);
      assert.ok(Math.abs(s.startTimeUnixNs / 1e6 - Date.now()) < 30_000, 'wall-clock start near now');
      assert.equal(s.attributes['server.address'], '127.0.0.1');
      assert.equal(s.attributes['server.port'], server.port);
      assert.equal(s.attributes['user_agent.original']?.toString().startsWith('curl/'), true);
    }
    for (const out of [JSON.stringify(spans), text, printed, jsonl]) {
      assert.ok(!out.includes('S3CR3T'), 'no secret in any output');
    }
    assert.equal(printed.trim().split('\n').length, 2 * N + 1);
  });

  test('ab with keep-alive: exactly the count ab reports', async (t) => {
    if (!existsSync('/usr/bin/ab')) return t.skip('ab (apache2-utils) not installed');
    spans.length = 0;
    const out = execFileSync('ab', ['-k', '-n', '300', '-c', '4', '-H', `Authorization: ${SECRET}`, `http://127.0.0.1:${server.port}/orders/42`], { timeout: 60_000, encoding: 'utf8' });
    const complete = Number(/Complete requests:\s+(\d+)/.exec(out)![1]);
    assert.equal(complete, 300);
    await cap.waitFor(complete);
    feed();
    const text = await prometheus.metricsText();
    const line = text.split('\n').find((l) => l.startsWith('http_server_request_duration_seconds_count{') && l.includes('http_route="/orders/{id}"'));
    assert.ok(line, text);
    assert.equal(line.split(' ')[1], String(complete));
    assert.match(line, /http_request_method="GET",http_response_status_code="200",network_protocol_version="1.0"/);
    assert.ok(!text.includes('S3CR3T'));
  });

  test('a Python client: client spans and client metrics with server.address and a scrubbed url.full', async () => {
    const client = startChild(python3, [
      '-c',
      `import sys, urllib.request
sys.stdin.readline()
for i in range(5):
    req = urllib.request.Request("http://127.0.0.1:${server.port}/items/%d?token=S3CR3T-q" % i, headers={"Authorization": "${SECRET}"})
    urllib.request.urlopen(req).read()
print("done", flush=True)`,
    ]);
    identities.set(client.pid, { name: 'pyclient', instanceId: `pyclient-${client.pid}`, pid: client.pid, executableName: 'python3' });
    cap.capture.watch(client.pid);
    spans.length = 0;
    client.write('go\n');
    await client.waitForOutput('done');
    await cap.waitFor(5, (ex) => ex.role === 'client');
    feed();
    const clientSpans = spans.filter((s) => s.kind === 'client');
    assert.equal(clientSpans.length, 5);
    assert.deepEqual(
      clientSpans.map((s) => s.attributes['url.full']),
      [0, 1, 2, 3, 4].map((i) => `http://127.0.0.1:${server.port}/items/${i}?token=REDACTED`),
    );
    assert.equal(clientSpans[0]!.name, 'GET /items/{id}');
    const text = await prometheus.metricsText();
    const line = text.split('\n').find((l) => l.startsWith(`http_client_request_duration_seconds_count{service_name="pyclient"`));
    assert.equal(line, `http_client_request_duration_seconds_count{service_name="pyclient",service_instance_id="pyclient-${client.pid}",http_request_method="GET",http_response_status_code="200",network_protocol_version="1.1",server_address="127.0.0.1",server_port="${server.port}"} 5`);
    assert.ok(!JSON.stringify(spans).includes('S3CR3T'));
    client.kill();
  });
});
