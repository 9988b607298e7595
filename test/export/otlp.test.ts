// waggle-test: no-kernel
// OTLP/HTTP export to a real local HTTP receiver: traces and metrics, JSON and
// protobuf, exact counts and attributes, failures counted, bounded queue.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OtlpExporter, OtlpMetricsExporter, OtlpTraceExporter, type OtlpMetricsConfig, type OtlpTracesConfig } from '../../src/export/index.js';
import { HttpTelemetry } from '../../src/telemetry/index.js';
import { OK_RESPONSE, exchange, get, identity, response } from '../telemetry/helpers/exchanges.js';
import * as pb from './helpers/protobuf.js';
import { type Receiver, startReceiver } from './helpers/receiver.js';

let receiver: Receiver;
before(async () => {
  receiver = await startReceiver();
});
after(async () => {
  await receiver.close();
});

function tracesConfig(over: Partial<OtlpTracesConfig> = {}): OtlpTracesConfig {
  return { url: `${receiver.url}/v1/traces`, protocol: 'http/json', headers: { 'x-api-key': 'k1' }, timeoutMs: 5000, compression: 'none', maxQueueSize: 2048, maxExportBatchSize: 512, scheduleDelayMs: 60_000, ...over };
}

function metricsConfig(over: Partial<OtlpMetricsConfig> = {}): OtlpMetricsConfig {
  return { url: `${receiver.url}/v1/metrics`, protocol: 'http/json', headers: {}, timeoutMs: 5000, compression: 'none', exportIntervalMs: 3_600_000, exportTimeoutMs: 5000, temporality: 'cumulative', ...over };
}

type JsonAttr = { key: string; value: Record<string, unknown> };
const attrs = (list: JsonAttr[]) => Object.fromEntries(list.map((a) => [a.key, Object.values(a.value)[0]]));

describe('OTLP traces', () => {
  it('http/json: exact span count, names, ids, kinds, attributes and resource', async () => {
    receiver.requests.length = 0;
    const telemetry = new HttpTelemetry();
    const traces = new OtlpTraceExporter(tracesConfig());
    telemetry.onSpan(traces.export);
    const shop = identity('shop', { pid: 11, namespace: 'prod', executablePath: '/usr/bin/python3.11' });
    const N = 25;
    for (let i = 0; i < N; i++) telemetry.handleExchange(exchange({ request: get(`/orders/${i}`), response: OK_RESPONSE }), shop);
    telemetry.handleExchange(exchange({ request: get('/pay', 'traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n'), response: response(502) }), shop);
    telemetry.handleExchange(exchange({ role: 'client', request: get('/x?token=abc', 'Host: api:81\r\n'), response: OK_RESPONSE }), identity('web', { pid: 12 }));
    await traces.shutdown();
    telemetry.close();

    assert.equal(receiver.requests.length, 1);
    const req = receiver.requests[0]!;
    assert.equal(req.path, '/v1/traces');
    assert.equal(req.headers['content-type'], 'application/json');
    assert.equal(req.headers['x-api-key'], 'k1');
    const body = JSON.parse(req.body.toString('utf8'));
    const resourceSpans = body.resourceSpans as Array<{ resource: { attributes: JsonAttr[] }; scopeSpans: Array<{ scope: { name: string }; spans: any[] }> }>;
    assert.equal(resourceSpans.length, 2, 'one resource per service instance');
    const shopRs = resourceSpans.find((r) => attrs(r.resource.attributes)['service.name'] === 'shop')!;
    const res = attrs(shopRs.resource.attributes);
    assert.equal(res['service.namespace'], 'prod');
    assert.equal(res['service.instance.id'], 'shop-11');
    assert.equal(res['process.pid'], 11);
    assert.equal(res['process.executable.name'], 'python3');
    assert.equal(res['process.executable.path'], '/usr/bin/python3.11');
    assert.equal(res['telemetry.distro.name'], 'waggle');
    assert.equal(res['telemetry.sdk.language'], 'nodejs');
    assert.equal(res['telemetry.sdk.name'], 'opentelemetry');
    const spans = shopRs.scopeSpans.flatMap((s) => s.spans);
    assert.equal(shopRs.scopeSpans[0]!.scope.name, 'waggle');
    assert.equal(spans.length, N + 1);
    assert.equal(spans.filter((s) => s.name === 'GET /orders/{id}').length, N);
    const first = spans[0];
    assert.equal(first.kind, 2, 'SPAN_KIND_SERVER');
    assert.match(first.traceId, /^[0-9a-f]{32}$/);
    assert.match(first.spanId, /^[0-9a-f]{16}$/);
    const a = attrs(first.attributes);
    assert.equal(a['http.request.method'], 'GET');
    assert.equal(a['http.route'], '/orders/{id}');
    assert.equal(a['url.path'], '/orders/0');
    assert.equal(a['http.response.status_code'], 200);
    const startNs = BigInt(first.startTimeUnixNano);
    assert.ok(Math.abs(Number(startNs / 1_000_000n) - Date.now()) < 10_000, 'wall-clock start');
    assert.equal(BigInt(first.endTimeUnixNano) - startNs > 1_900_000n && BigInt(first.endTimeUnixNano) - startNs < 2_100_000n, true);
    const pay = spans.find((s) => s.name === 'GET /pay');
    assert.equal(pay.traceId, '0af7651916cd43dd8448eb211c80319c', 'incoming traceparent honoured');
    assert.equal(pay.parentSpanId, 'b7ad6b7169203331');
    assert.equal(pay.status.code, 2, 'STATUS_CODE_ERROR');
    assert.equal(attrs(pay.attributes)['error.type'], '502');
    const web = resourceSpans.find((r) => attrs(r.resource.attributes)['service.name'] === 'web')!;
    const client = web.scopeSpans[0]!.spans[0];
    assert.equal(client.kind, 3, 'SPAN_KIND_CLIENT');
    assert.equal(attrs(client.attributes)['url.full'], 'http://api:81/x?token=REDACTED');
    assert.deepEqual(traces.stats(), { exported: N + 2, dropped: 0, failed: 0, exportFailures: 0 });
  });

  it('http/protobuf: the same spans, decoded from the wire format', async () => {
    receiver.requests.length = 0;
    const telemetry = new HttpTelemetry();
    const traces = new OtlpTraceExporter(tracesConfig({ protocol: 'http/protobuf' }));
    telemetry.onSpan(traces.export);
    const N = 10;
    for (let i = 0; i < N; i++) telemetry.handleExchange(exchange({ request: get(`/users/${i}`, 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n'), response: OK_RESPONSE }), identity());
    await traces.shutdown();
    telemetry.close();
    assert.equal(receiver.requests.length, 1);
    const req = receiver.requests[0]!;
    assert.equal(req.headers['content-type'], 'application/x-protobuf');
    // ExportTraceServiceRequest{1: ResourceSpans{1: Resource{1: attributes}, 2: ScopeSpans{1: scope, 2: Span}}}
    const resourceSpans = pb.messages(req.body, 1);
    assert.equal(resourceSpans.length, 1);
    const resource = pb.messages(resourceSpans[0]!, 1)[0]!;
    assert.equal(pb.attributes(resource, 1)['service.name'], 'shop');
    assert.equal(pb.attributes(resource, 1)['process.pid'], 4242);
    const spans = pb.messages(resourceSpans[0]!, 2).flatMap((ss) => pb.messages(ss, 2));
    assert.equal(spans.length, N);
    for (const s of spans) {
      assert.equal(pb.bytesHex(s, 1), '4bf92f3577b34da6a3ce929d0e0e4736', 'trace_id');
      assert.equal(pb.bytesHex(s, 4), '00f067aa0ba902b7', 'parent_span_id');
      assert.equal(pb.str(s, 5), 'GET /users/{id}', 'name');
      assert.equal(pb.uint(s, 6), 2n, 'kind SERVER');
      const a = pb.attributes(s, 9);
      assert.equal(a['http.response.status_code'], 200);
      assert.equal(a['http.route'], '/users/{id}');
    }
  });

  it('counts failed exports and never throws', async () => {
    receiver.status = 500;
    try {
      const traces = new OtlpTraceExporter(tracesConfig());
      for (let i = 0; i < 3; i++) traces.export((await oneSpan()));
      await traces.shutdown();
      const st = traces.stats();
      assert.equal(st.failed, 3);
      assert.equal(st.exportFailures, 1);
      assert.equal(st.exported, 0);
    } finally {
      receiver.status = 200;
    }
    const dead = new OtlpTraceExporter(tracesConfig({ url: 'http://127.0.0.1:9/v1/traces', timeoutMs: 2000 }));
    dead.export(await oneSpan());
    await dead.shutdown();
    assert.equal(dead.stats().failed, 1);
    assert.ok(dead.lastError);
  });

  it('bounds its queue and counts drops', async () => {
    const traces = new OtlpTraceExporter(tracesConfig({ maxQueueSize: 5, maxExportBatchSize: 5 }));
    const span = await oneSpan();
    // Synchronously: the queue holds 5, the rest are dropped before any export runs.
    for (let i = 0; i < 12; i++) traces.export(span);
    assert.equal(traces.stats().dropped, 7);
    await traces.shutdown();
    assert.equal(traces.stats().exported, 5);
    traces.export(span);
    assert.equal(traces.stats().dropped, 8, 'spans after shutdown are dropped and counted');
  });
});

describe('OTLP metrics', () => {
  it('http/json: one ResourceMetrics per service, exact counts and attributes', async () => {
    receiver.requests.length = 0;
    const telemetry = new HttpTelemetry();
    const metrics = new OtlpMetricsExporter(metricsConfig(), { metrics: telemetry.metrics });
    const N = 42;
    for (let i = 0; i < N; i++) telemetry.handleExchange(exchange({ request: get(`/users/${i}`), response: OK_RESPONSE, durationNs: 30_000_000 }), identity('shop', { pid: 1 }));
    for (let i = 0; i < 4; i++) telemetry.handleExchange(exchange({ role: 'client', request: get('/', 'Host: db:5984\r\n'), response: response(500) }), identity('worker', { pid: 2 }));
    await metrics.forceFlush();
    assert.equal(receiver.requests.length, 2);
    const bodies = receiver.requests.map((r) => JSON.parse(r.body.toString('utf8')));
    const byService = new Map(bodies.map((b) => [attrs(b.resourceMetrics[0].resource.attributes)['service.name'], b.resourceMetrics[0]]));
    const shop = byService.get('shop');
    const shopMetrics = shop.scopeMetrics[0].metrics as any[];
    assert.deepEqual(shopMetrics.map((m) => m.name).sort(), ['http.server.request.body.size', 'http.server.request.duration', 'http.server.response.body.size']);
    const duration = shopMetrics.find((m) => m.name === 'http.server.request.duration');
    assert.equal(duration.unit, 's');
    assert.equal(duration.histogram.aggregationTemporality, 2, 'CUMULATIVE');
    assert.equal(duration.histogram.dataPoints.length, 1);
    const dp = duration.histogram.dataPoints[0];
    assert.equal(Number(dp.count), N);
    assert.deepEqual(dp.explicitBounds, [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]);
    assert.deepEqual(dp.bucketCounts.map(Number), [0, 0, 0, N, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(attrs(dp.attributes), {
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      'network.protocol.version': '1.1',
      'http.route': '/users/{id}',
      'url.scheme': 'http',
    });
    const worker = byService.get('worker');
    const client = (worker.scopeMetrics[0].metrics as any[]).find((m) => m.name === 'http.client.request.duration');
    assert.deepEqual(attrs(client.histogram.dataPoints[0].attributes), {
      'http.request.method': 'GET',
      'http.response.status_code': 500,
      'error.type': '500',
      'network.protocol.version': '1.1',
      'server.address': 'db',
      'server.port': 5984,
    });
    assert.equal(Number(client.histogram.dataPoints[0].count), 4);

    // Cumulative: a second export repeats the totals plus what came since.
    receiver.requests.length = 0;
    telemetry.handleExchange(exchange({ request: get('/users/1'), response: OK_RESPONSE }), identity('shop', { pid: 1 }));
    await metrics.shutdown();
    telemetry.close();
    const again = receiver.requests.map((r) => JSON.parse(r.body.toString('utf8'))).find((b) => attrs(b.resourceMetrics[0].resource.attributes)['service.name'] === 'shop');
    const d2 = again.resourceMetrics[0].scopeMetrics[0].metrics.find((m: any) => m.name === 'http.server.request.duration');
    assert.equal(Number(d2.histogram.dataPoints[0].count), N + 1);
    assert.equal(metrics.stats().exportFailures, 0);
  });

  it('http/protobuf with delta temporality: counts since the last export', async () => {
    receiver.requests.length = 0;
    const telemetry = new HttpTelemetry();
    const metrics = new OtlpMetricsExporter(metricsConfig({ protocol: 'http/protobuf', temporality: 'delta' }), { metrics: telemetry.metrics });
    const send = (n: number) => {
      for (let i = 0; i < n; i++) telemetry.handleExchange(exchange({ request: get('/a'), response: OK_RESPONSE }), identity());
    };
    const durationCount = (body: Buffer): bigint | undefined => {
      // ExportMetricsServiceRequest{1: ResourceMetrics{2: ScopeMetrics{2: Metric{1: name, 9: Histogram{1: HistogramDataPoint{4: count}, 2: temporality}}}}}
      for (const rm of pb.messages(body, 1))
        for (const sm of pb.messages(rm, 2))
          for (const m of pb.messages(sm, 2)) {
            if (pb.str(m, 1) !== 'http.server.request.duration') continue;
            const h = pb.messages(m, 9)[0]!;
            assert.equal(pb.uint(h, 2), 1n, 'AGGREGATION_TEMPORALITY_DELTA');
            return pb.uint(pb.messages(h, 1)[0]!, 4);
          }
      return undefined;
    };
    send(7);
    await metrics.forceFlush();
    send(3);
    await metrics.forceFlush();
    await metrics.forceFlush(); // nothing new: nothing sent
    await metrics.shutdown();
    telemetry.close();
    assert.equal(receiver.requests[0]!.headers['content-type'], 'application/x-protobuf');
    assert.deepEqual(receiver.requests.map((r) => durationCount(r.body)), [7n, 3n]);
  });

  it('OtlpExporter.fromEnv wires both signals to the configured endpoint', async () => {
    receiver.requests.length = 0;
    const telemetry = new HttpTelemetry();
    const otlp = OtlpExporter.fromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20collector-token' }, { metrics: telemetry.metrics });
    assert.ok(otlp.traces && otlp.metrics);
    telemetry.onSpan(otlp.traces.export);
    telemetry.handleExchange(exchange({ request: get('/'), response: OK_RESPONSE }), identity());
    await otlp.shutdown();
    telemetry.close();
    assert.deepEqual(receiver.requests.map((r) => r.path).sort(), ['/v1/metrics', '/v1/traces']);
    assert.equal(receiver.requests[0]!.headers.authorization, 'Bearer collector-token', 'OTEL_EXPORTER_OTLP_HEADERS sent to the collector');
  });
});

async function oneSpan() {
  const telemetry = new HttpTelemetry();
  let span: Parameters<OtlpTraceExporter['export']>[0] | undefined;
  telemetry.onSpan((s) => (span = s));
  telemetry.handleExchange(exchange({ request: get('/'), response: OK_RESPONSE }), identity());
  telemetry.close();
  return span!;
}
