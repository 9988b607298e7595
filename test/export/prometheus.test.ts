// waggle-test: no-kernel
// Prometheus exposition of HTTP telemetry, read through real scrapes over HTTP.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { PrometheusExporter, SelfMetrics } from '../../src/export/index.js';
import { HttpTelemetry } from '../../src/telemetry/index.js';
import { OK_RESPONSE, exchange, get, identity, response } from '../telemetry/helpers/exchanges.js';
import { serveMetrics } from './helpers/receiver.js';

const closers: Array<() => unknown> = [];
after(async () => {
  for (const c of closers) await c();
});

async function scrape(exporter: PrometheusExporter): Promise<string> {
  const server = await serveMetrics(() => exporter.metricsText(), exporter.contentType);
  try {
    const res = await fetch(server.url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return await res.text();
  } finally {
    await server.close();
  }
}

function setup() {
  const telemetry = new HttpTelemetry();
  const exporter = new PrometheusExporter({ metrics: telemetry.metrics });
  closers.push(() => telemetry.close());
  return { telemetry, exporter };
}

function lines(text: string, prefix: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(prefix));
}

describe('PrometheusExporter', () => {
  it('N server exchanges → exactly N in http_server_request_duration_seconds_count with the exact labels', async () => {
    const { telemetry, exporter } = setup();
    const svc = identity('shop', { pid: 1234, namespace: 'prod' });
    const N = 137;
    for (let i = 0; i < N; i++) telemetry.handleExchange(exchange({ request: get(`/users/${i}`), response: OK_RESPONSE, durationNs: 7_000_000 }), svc);
    for (let i = 0; i < 5; i++) telemetry.handleExchange(exchange({ request: 'POST /users HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd', response: response(503, 'down') }), svc);
    const text = await scrape(exporter);
    const labels = 'service_name="shop",service_namespace="prod",service_instance_id="shop-1234",http_request_method="GET",http_response_status_code="200",network_protocol_version="1.1",http_route="/users/{id}",url_scheme="http"';
    assert.deepEqual(lines(text, 'http_server_request_duration_seconds_count'), [
      `http_server_request_duration_seconds_count{${labels}} ${N}`,
      'http_server_request_duration_seconds_count{service_name="shop",service_namespace="prod",service_instance_id="shop-1234",http_request_method="POST",http_response_status_code="503",error_type="503",network_protocol_version="1.1",http_route="/users",url_scheme="http"} 5',
    ]);
    // 7 ms lands in the 0.01 bucket (and every larger one), not in 0.005.
    assert.ok(text.includes(`http_server_request_duration_seconds_bucket{${labels},le="0.005"} 0\n`));
    assert.ok(text.includes(`http_server_request_duration_seconds_bucket{${labels},le="0.01"} ${N}\n`));
    assert.ok(text.includes(`http_server_request_duration_seconds_bucket{${labels},le="+Inf"} ${N}\n`));
    assert.deepEqual(
      lines(text, `http_server_request_duration_seconds_bucket{${labels}`).map((l) => /le="([^"]+)"/.exec(l)![1]),
      ['0.005', '0.01', '0.025', '0.05', '0.075', '0.1', '0.25', '0.5', '0.75', '1', '2.5', '5', '7.5', '10', '+Inf'],
    );
    const sum = Number(lines(text, `http_server_request_duration_seconds_sum{${labels}}`)[0]!.split(' ')[1]);
    assert.ok(Math.abs(sum - N * 0.007) < 1e-6, `sum ${sum}`);
    assert.ok(text.includes(`http_server_response_body_size_bytes_count{${labels}} ${N}\n`));
    assert.ok(text.includes(`http_server_request_body_size_bytes_sum{service_name="shop",service_namespace="prod",service_instance_id="shop-1234",http_request_method="POST",http_response_status_code="503",error_type="503",network_protocol_version="1.1",http_route="/users",url_scheme="http"} 20\n`));
    assert.ok(text.includes('# TYPE http_server_request_duration_seconds histogram'));
    assert.ok(text.includes('target_info{service_name="shop",service_namespace="prod",service_instance_id="shop-1234",process_pid="1234",process_executable_name="python3"} 1'));
    assert.equal(lines(text, 'http_client_').length, 0, 'no client series without client traffic');
  });

  it('client series carry server_address and server_port, not the route', async () => {
    const { telemetry, exporter } = setup();
    for (let i = 0; i < 3; i++) {
      telemetry.handleExchange(exchange({ role: 'client', remote: { address: '10.1.2.3', port: 9000 }, request: get(`/items/${i}`, 'Host: inventory:9000\r\n'), response: response(404) }), identity('web', { pid: 7 }));
    }
    const text = await scrape(exporter);
    assert.deepEqual(lines(text, 'http_client_request_duration_seconds_count'), [
      'http_client_request_duration_seconds_count{service_name="web",service_instance_id="web-7",http_request_method="GET",http_response_status_code="404",error_type="404",network_protocol_version="1.1",server_address="inventory",server_port="9000"} 3',
    ]);
  });

  it('10,000 distinct ids on /users/<id> make one series', async () => {
    const { telemetry, exporter } = setup();
    for (let i = 0; i < 10_000; i++) telemetry.handleExchange(exchange({ request: get(`/users/${i * 31}`), response: OK_RESPONSE }), identity());
    const text = await scrape(exporter);
    const counts = lines(text, 'http_server_request_duration_seconds_count');
    assert.equal(counts.length, 1);
    assert.match(counts[0]!, /http_route="\/users\/\{id\}".* 10000$/);
  });

  it('caps series: past maxSeries new attribute sets go to an overflow series', async () => {
    const telemetry = new HttpTelemetry({ metrics: { maxSeries: 3 }, routes: { unmatched: 'path' } });
    closers.push(() => telemetry.close());
    const exporter = new PrometheusExporter({ metrics: telemetry.metrics });
    for (let i = 0; i < 10; i++) telemetry.handleExchange(exchange({ request: get(`/p${i}`), response: OK_RESPONSE }), identity());
    const text = await scrape(exporter);
    const counts = lines(text, 'http_server_request_duration_seconds_count');
    assert.equal(counts.length, 4, '3 series, then the instance\'s overflow series');
    assert.equal(counts[3], 'http_server_request_duration_seconds_count{service_name="shop",service_instance_id="shop-4242",otel_metric_overflow="true"} 7');
    assert.equal(telemetry.metrics.overflowed, 7);
  });

  it('removes the series of instances idle past the TTL', async () => {
    const telemetry = new HttpTelemetry({ metrics: { idleTtlMs: 1000 } });
    closers.push(() => telemetry.close());
    const exporter = new PrometheusExporter({ metrics: telemetry.metrics });
    telemetry.handleExchange(exchange({ request: get('/'), response: OK_RESPONSE }), identity('gone', { pid: 1 }));
    telemetry.handleExchange(exchange({ request: get('/'), response: OK_RESPONSE }), identity('stays', { pid: 2 }));
    assert.equal(telemetry.metrics.sweep(Date.now() + 500), 0);
    assert.equal(lines(await scrape(exporter), 'target_info{').length, 2);
    assert.equal(telemetry.metrics.sweep(Date.now() + 5000), 2);
    const text = await scrape(exporter);
    assert.equal(lines(text, 'http_server_request_duration_seconds_count').length, 0);
    assert.equal(lines(text, 'target_info{').length, 0);
  });

  it('shares a registry with SelfMetrics for one /metrics', async () => {
    const registry = new Registry();
    const telemetry = new HttpTelemetry();
    closers.push(() => telemetry.close());
    const exporter = new PrometheusExporter({ metrics: telemetry.metrics, registry });
    const self = new SelfMetrics(registry);
    self.registerHttpTelemetry(telemetry);
    telemetry.handleExchange(exchange({ request: get('/'), response: OK_RESPONSE }), identity());
    telemetry.handleExchange(exchange({ request: '\x16\x03\x01', response: '' }), identity());
    const text = await scrape(exporter);
    assert.ok(text.includes('http_server_request_duration_seconds_count{'));
    assert.ok(text.includes('waggle_parse_failures_total{protocol="http1",message="request",reason="not-http"} 1\n'));
    assert.ok(text.includes('waggle_http_exchanges_total 2\n'));
    assert.ok(text.includes('waggle_http_requests_total 1\n'));
    assert.match(text, /\nwaggle_process_cpu_seconds_total \d/);
    assert.match(text, /\nwaggle_process_resident_memory_bytes \d/);
  });
});
