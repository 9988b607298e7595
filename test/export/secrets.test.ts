// waggle-test: no-kernel
// Authorization, Proxy-Authorization, Cookie and Set-Cookie values, and query
// values, never appear in any output: spans, Prometheus text, console lines, JSON
// lines, OTLP payloads (JSON and protobuf, traces and metrics).
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { ConsoleSpanPrinter, JsonLinesSpanWriter, OtlpMetricsExporter, OtlpTraceExporter, PrometheusExporter, SelfMetrics } from '../../src/export/index.js';
import { HttpTelemetry, type Span } from '../../src/telemetry/index.js';
import { exchange, identity } from '../telemetry/helpers/exchanges.js';
import { type Receiver, startReceiver } from './helpers/receiver.js';

const SECRETS = ['S3CR3T-AUTH', 'S3CR3T-PROXY', 'S3CR3T-COOKIE', 'S3CR3T-SETCOOKIE', 'S3CR3T-QUERY', 'S3CR3T-FOLDED'];

const REQUEST =
  'GET /account?api_key=S3CR3T-QUERY&page=1 HTTP/1.1\r\n' +
  'Host: bank.local\r\n' +
  'Authorization: Bearer S3CR3T-AUTH\r\n' +
  'authorization: Basic S3CR3T-AUTH\r\n' +
  'Proxy-Authorization: Basic S3CR3T-PROXY\r\n' +
  'Cookie: session=S3CR3T-COOKIE\r\n' +
  '  S3CR3T-FOLDED\r\n' +
  'User-Agent: curl/8\r\n\r\n';
const RESPONSE = 'HTTP/1.1 200 OK\r\nSet-Cookie: id=S3CR3T-SETCOOKIE; HttpOnly\r\nContent-Length: 2\r\n\r\nok';

let receiver: Receiver;
before(async () => {
  receiver = await startReceiver();
});
after(async () => {
  await receiver.close();
});

function assertClean(what: string, text: string): void {
  for (const s of SECRETS) assert.ok(!text.includes(s), `${what} leaks ${s}`);
  assert.ok(text.length > 0, `${what} is empty`);
}

describe('secrets never leave the agent', () => {
  for (const protocol of ['http/json', 'http/protobuf'] as const) {
    it(`in spans, Prometheus, console, JSON lines and OTLP ${protocol}`, async () => {
      receiver.requests.length = 0;
      const telemetry = new HttpTelemetry();
      const registry = new Registry();
      const prometheus = new PrometheusExporter({ metrics: telemetry.metrics, registry });
      new SelfMetrics(registry, { processMetrics: false }).registerHttpTelemetry(telemetry);
      const common = { headers: {}, timeoutMs: 5000, compression: 'none' as const, protocol };
      const traces = new OtlpTraceExporter({ ...common, url: `${receiver.url}/v1/traces`, maxQueueSize: 100, maxExportBatchSize: 100, scheduleDelayMs: 60_000 });
      const metrics = new OtlpMetricsExporter({ ...common, url: `${receiver.url}/v1/metrics`, exportIntervalMs: 3_600_000, exportTimeoutMs: 5000, temporality: 'cumulative' }, { metrics: telemetry.metrics });
      const consoleOut = new PassThrough();
      const jsonOut = new PassThrough();
      let consoleText = '';
      let jsonText = '';
      consoleOut.on('data', (d: Buffer) => (consoleText += d.toString()));
      jsonOut.on('data', (d: Buffer) => (jsonText += d.toString()));
      const spans: Span[] = [];
      telemetry.onSpan((s) => spans.push(s));
      telemetry.onSpan(traces.export);
      telemetry.onSpan(new ConsoleSpanPrinter(consoleOut).print);
      telemetry.onSpan(new JsonLinesSpanWriter(jsonOut).write);

      telemetry.handleExchange(exchange({ request: REQUEST, response: RESPONSE }), identity());
      telemetry.handleExchange(exchange({ role: 'client', remote: { address: '10.0.0.1', port: 80 }, request: REQUEST, response: RESPONSE }), identity());
      await traces.shutdown();
      await metrics.shutdown();
      await new Promise((r) => setImmediate(r));

      assert.equal(spans.length, 2);
      assertClean('spans', JSON.stringify(spans));
      assert.equal(spans[0]!.attributes['url.query'], 'api_key=REDACTED&page=REDACTED');
      assert.equal(spans[1]!.attributes['url.full'], 'http://bank.local/account?api_key=REDACTED&page=REDACTED');
      assertClean('Prometheus', await prometheus.metricsText());
      assertClean('console', consoleText);
      assertClean('JSON lines', jsonText);
      assert.equal(receiver.requests.length, 2);
      for (const r of receiver.requests) assertClean(`OTLP ${r.path}`, r.body.toString('latin1'));
      telemetry.close();
    });
  }
});
