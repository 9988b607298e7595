// waggle-test: no-kernel
// Operations → RequestRecords, spans and metrics, from hand-made LocatedOperations.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { Registry } from 'prom-client';
import { OtlpMetricsExporter, PrometheusExporter, SelfMetrics, spanToJson } from '../../src/export/index.js';
import { HttpTelemetry, OperationTelemetry, type RequestRecord, type Span } from '../../src/telemetry/index.js';
import { parseSeries } from '../helpers/agent.js';
import { OK_RESPONSE, exchange, get, identity } from './helpers/exchanges.js';
import { dbOp, messagingOp } from './helpers/operations.js';

function collect(opts: ConstructorParameters<typeof OperationTelemetry>[0] = {}) {
  const t = new OperationTelemetry(opts);
  const spans: Span[] = [];
  t.onSpan((s) => spans.push(s));
  return { t, spans };
}

async function series(t: OperationTelemetry, name: string) {
  const http = new HttpTelemetry();
  const text = await new PrometheusExporter({ metrics: http.metrics, operations: t.metrics }).metricsText();
  http.close();
  return parseSeries(text).filter((s) => s.name === name);
}

const SHOP = { service_name: 'shop', service_instance_id: 'shop-4242' };

/** 37 SELECTs of users, 3 of a missing table (42P01), 5 INSERTs: the psql example. */
function psqlRun(t: OperationTelemetry): void {
  const svc = identity();
  for (let i = 0; i < 37; i++) t.handle(dbOp({ operation: 'SELECT', collection: 'users' }), svc);
  for (let i = 0; i < 3; i++) t.handle(dbOp({ operation: 'SELECT', collection: 'missing', status: '42P01' }), svc);
  for (let i = 0; i < 5; i++) t.handle(dbOp({ operation: 'INSERT', collection: 'users' }), svc);
}

describe('OperationTelemetry: db client operations', () => {
  it('45 operations → 45 semconv client spans with exact attributes', () => {
    const { t, spans } = collect();
    psqlRun(t);
    assert.equal(spans.length, 45);
    const s = spans[0]!;
    assert.equal(s.name, 'SELECT users');
    assert.equal(s.kind, 'client');
    assert.equal(s.status, 'unset');
    assert.equal(s.service.name, 'shop');
    assert.deepEqual(s.attributes, {
      'db.system.name': 'postgresql',
      'db.operation.name': 'SELECT',
      'db.collection.name': 'users',
      'db.query.summary': 'SELECT users',
      'server.address': '127.0.0.1',
      'server.port': 5432,
      'network.peer.address': '127.0.0.1',
      'network.peer.port': 5432,
      'network.transport': 'tcp',
    });
    const d = s.endTimeUnixNs - s.startTimeUnixNs;
    assert.ok(Math.abs(d - 2e6) <= 512, `duration ${d}`);
    assert.ok(Math.abs(s.startTimeUnixNs / 1e6 - Date.now()) < 1000, 'wall clock from the kernel monotonic clock');
    const errors = spans.filter((x) => x.status === 'error');
    assert.equal(errors.length, 3);
    assert.equal(errors[0]!.attributes['error.type'], '42P01');
    assert.equal(errors[0]!.attributes['db.response.status_code'], '42P01');
    assert.deepEqual(
      spans.reduce((m, x) => m.set(x.name, (m.get(x.name) ?? 0) + 1), new Map<string, number>()),
      new Map([['SELECT users', 37], ['SELECT missing', 3], ['INSERT users', 5]]),
    );
    assert.deepEqual(t.stats().operations, [{ protocol: 'postgresql', count: 45 }]);
    t.close();
  });

  it('db_client_operation_duration_seconds: exact labels and counts, semconv buckets', async () => {
    const { t } = collect();
    psqlRun(t);
    const counts = await series(t, 'db_client_operation_duration_seconds_count');
    const base = { ...SHOP, db_system_name: 'postgresql', server_address: '127.0.0.1', server_port: '5432' };
    assert.deepEqual(
      counts.map((c) => [c.labels, c.value]),
      [
        [{ ...base, db_operation_name: 'SELECT', db_collection_name: 'users' }, 37],
        [{ ...base, db_operation_name: 'SELECT', db_collection_name: 'missing', db_response_status_code: '42P01', error_type: '42P01' }, 3],
        [{ ...base, db_operation_name: 'INSERT', db_collection_name: 'users' }, 5],
      ],
    );
    const buckets = (await series(t, 'db_client_operation_duration_seconds_bucket')).filter((b) => b.labels.db_operation_name === 'INSERT');
    assert.deepEqual(
      buckets.map((b) => [b.labels.le, b.value]),
      [['0.001', 0], ['0.005', 5], ['0.01', 5], ['0.05', 5], ['0.1', 5], ['0.5', 5], ['1', 5], ['5', 5], ['10', 5], ['+Inf', 5]],
    );
    assert.deepEqual(await series(t, 'db_server_operation_duration_seconds_count'), []);
    t.close();
  });

  it('hands every listener one record, its Span built once and only on demand; HTTP and operations share listeners', () => {
    const http = new HttpTelemetry();
    const t = new OperationTelemetry({ listeners: http.listeners });
    const records: RequestRecord[] = [];
    t.onRequest((r) => records.push(r));
    t.handle(dbOp({ operation: 'GET', system: 'redis', port: 6379 }), identity());
    assert.equal(records.length, 1);
    assert.equal(records[0]!.spanBuilt, false, 'no span listener, nobody asked');
    assert.equal(records[0]!.family, 'db');
    assert.equal(records[0]!.detail.system, 'redis');

    const spans: Span[] = [];
    http.onSpan((s) => spans.push(s));
    const record = t.handle(dbOp({ operation: 'SET', system: 'redis', port: 6379 }), identity())!;
    http.handleExchange(exchange({ request: get('/'), response: OK_RESPONSE }), identity());
    assert.equal(spans.length, 2, 'one subscription sees operations and HTTP requests');
    assert.equal(spans[0], record.span(), 'the span listeners got the Span the record built');
    assert.equal(records[1], record, 'the request listener got the same record');
    assert.deepEqual(records.map((r) => r.name), ['GET', 'SET', 'GET /']);
    http.close();
    t.close();
  });

  it('server side: a server span whose server.* is the local end, counted in db_server_operation_duration_seconds', async () => {
    const { t, spans } = collect();
    for (let i = 0; i < 4; i++) t.handle(dbOp({ operation: 'SELECT', collection: 'users', role: 'server', port: 6000 }), identity('postgres'));
    assert.equal(spans.length, 4);
    assert.equal(spans[0]!.kind, 'server');
    assert.equal(spans[0]!.attributes['server.port'], 6000);
    assert.equal(spans[0]!.attributes['network.peer.port'], 40000);
    const counts = await series(t, 'db_server_operation_duration_seconds_count');
    assert.deepEqual(counts.map((c) => [c.labels.service_name, c.labels.db_operation_name, c.labels.server_port, c.value]), [['postgres', 'SELECT', '6000', 4]]);
    assert.deepEqual(await series(t, 'db_client_operation_duration_seconds_count'), []);
    t.close();
  });

  it('incomplete operations: error.type incomplete in spans and metrics, counted by protocol and reason', async () => {
    const { t, spans } = collect();
    t.handle(dbOp({ operation: 'SELECT', collection: 'users', incomplete: 'closed' }), identity());
    t.handle(dbOp({ operation: 'SELECT', collection: 'users', incomplete: 'idle' }), identity());
    t.handle(dbOp({ operation: 'SELECT', collection: 'users' }), identity());
    assert.equal(spans[0]!.status, 'error');
    assert.equal(spans[0]!.attributes['error.type'], 'incomplete');
    assert.equal(spans[0]!.attributes['waggle.incomplete'], 'closed');
    assert.deepEqual(t.stats().incomplete, [
      { protocol: 'postgresql', reason: 'closed', count: 1 },
      { protocol: 'postgresql', reason: 'idle', count: 1 },
    ]);
    const counts = await series(t, 'db_client_operation_duration_seconds_count');
    assert.deepEqual(counts.map((c) => [c.labels.error_type ?? null, c.value]), [['incomplete', 2], [null, 1]]);
    const registry = new Registry();
    new SelfMetrics(registry, { processMetrics: false }).registerOperationTelemetry(t);
    const self = parseSeries(await registry.metrics());
    assert.deepEqual(self.filter((s) => s.name === 'waggle_operations_incomplete_total').map((s) => [s.labels, s.value]), [
      [{ protocol: 'postgresql', reason: 'closed' }, 1],
      [{ protocol: 'postgresql', reason: 'idle' }, 1],
    ]);
    assert.deepEqual(self.filter((s) => s.name === 'waggle_operations_total').map((s) => [s.labels, s.value]), [[{ protocol: 'postgresql' }, 3]]);
    t.close();
  });
});

describe('OperationTelemetry: span exporters', () => {
  it('--spans-file JSON lines carry the operation spans: name, kind, status and semconv attributes', () => {
    const { t, spans } = collect();
    psqlRun(t);
    const lines = spans.map((s) => JSON.parse(JSON.stringify(spanToJson(s))) as { name: string; kind: string; status: { code: string }; attributes: Record<string, unknown> });
    assert.equal(lines.length, 45);
    assert.deepEqual(
      lines.filter((l) => l.attributes['db.response.status_code'] === '42P01').map((l) => [l.name, l.kind, l.attributes['error.type']]),
      [['SELECT missing', 'client', '42P01'], ['SELECT missing', 'client', '42P01'], ['SELECT missing', 'client', '42P01']],
    );
    assert.equal(lines.filter((l) => l.name === 'INSERT users' && l.attributes['db.operation.name'] === 'INSERT' && l.attributes['server.port'] === 5432).length, 5);
    t.close();
  });
});

describe('OperationTelemetry: messaging', () => {
  it('producer/consumer spans; duration, sent and consumed metrics with exact labels and counts', async () => {
    const { t, spans } = collect();
    t.handle(messagingOp({ operation: 'publish', destination: 'orders' }), identity());
    t.handle(messagingOp({ operation: 'publish', destination: 'orders', batch: 4 }), identity());
    t.handle(messagingOp({ operation: 'publish', destination: 'orders' }), identity());
    t.handle(messagingOp({ operation: 'deliver', destination: 'orders' }), identity());
    t.handle(messagingOp({ operation: 'deliver', destination: 'orders' }), identity());
    assert.deepEqual(spans.map((s) => s.kind), ['producer', 'producer', 'producer', 'consumer', 'consumer']);
    assert.equal(spans[0]!.name, 'publish orders');
    assert.equal(spans[0]!.attributes['messaging.destination.name'], 'orders');
    assert.equal(spans[0]!.attributes['server.port'], 4222);
    const labels = (op: string) => ({ ...SHOP, messaging_system: 'nats', messaging_operation_name: op, messaging_destination_name: 'orders', server_address: '127.0.0.1', server_port: '4222' });
    const durations = await series(t, 'messaging_client_operation_duration_seconds_count');
    assert.deepEqual(durations.map((s) => [s.labels, s.value]), [[labels('publish'), 3], [labels('deliver'), 2]]);
    assert.deepEqual((await series(t, 'messaging_client_sent_messages_total')).map((s) => [s.labels, s.value]), [[labels('publish'), 6]]);
    assert.deepEqual((await series(t, 'messaging_client_consumed_messages_total')).map((s) => [s.labels, s.value]), [[labels('deliver'), 2]]);
    t.close();
  });
});

describe('OperationMetrics: bounds and OTLP', () => {
  it('caps series (overflow series, counted) and expires idle instances', async () => {
    const { t } = collect({ metrics: { maxSeries: 3, idleTtlMs: 60_000 } });
    for (const table of ['a', 'b', 'c', 'd', 'e']) t.handle(dbOp({ operation: 'SELECT', collection: table }), identity());
    const counts = await series(t, 'db_client_operation_duration_seconds_count');
    assert.deepEqual(counts.map((c) => [c.labels.db_collection_name ?? c.labels.otel_metric_overflow, c.value]), [['a', 1], ['b', 1], ['c', 1], ['true', 2]]);
    assert.equal(t.stats().seriesOverflowed, 2);
    assert.equal(t.metrics.seriesCount, 4);
    assert.equal(t.metrics.sweep(Date.now() + 60_001), 1);
    assert.equal(t.metrics.seriesCount, 0);
    t.close();
  });

  it('OTLP: the db and messaging metrics in the instance resource, exact data points', async () => {
    const { t } = collect();
    psqlRun(t);
    t.handle(messagingOp({ operation: 'publish', destination: 'orders', batch: 3 }), identity());
    const exported: ResourceMetrics[] = [];
    const exporter: PushMetricExporter = {
      export: (rm, done) => {
        exported.push(rm);
        done({ code: 0 });
      },
      forceFlush: async () => {},
      shutdown: async () => {},
    };
    const http = new HttpTelemetry();
    const otlp = new OtlpMetricsExporter(
      { url: 'http://127.0.0.1:1/v1/metrics', protocol: 'http/json', headers: {}, timeoutMs: 1000, compression: 'none', exportIntervalMs: 3_600_000, exportTimeoutMs: 1000, temporality: 'cumulative' } as never,
      { metrics: http.metrics, operations: t.metrics, exporter },
    );
    await otlp.forceFlush();
    await otlp.shutdown();
    http.close();
    assert.equal(exported.length >= 1, true);
    const metrics = exported[0]!.scopeMetrics[0]!.metrics;
    assert.deepEqual(metrics.map((m) => m.descriptor.name), ['db.client.operation.duration', 'messaging.client.operation.duration', 'messaging.client.sent.messages']);
    const db = metrics[0]!;
    assert.deepEqual(db.dataPoints.map((p) => [p.attributes['db.collection.name'], p.attributes['db.response.status_code'] ?? null, (p.value as { count: number }).count]), [['users', null, 37], ['missing', '42P01', 3], ['users', null, 5]]);
    assert.deepEqual((db.dataPoints[0]!.value as { buckets: { boundaries: number[] } }).buckets.boundaries, [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10]);
    const sent = metrics[2]!;
    assert.equal(sent.dataPointType, 3 /* SUM */);
    assert.deepEqual(sent.dataPoints.map((p) => p.value), [3]);
    t.close();
  });
});
