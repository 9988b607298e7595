// waggle-test: no-kernel
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OtlpConfigError, otlpConfigFromEnv } from '../../src/export/index.js';

describe('otlpConfigFromEnv', () => {
  it('exports nothing without an endpoint', () => {
    assert.deepEqual(otlpConfigFromEnv({}), {});
  });

  it('derives per-signal URLs from OTEL_EXPORTER_OTLP_ENDPOINT, with the spec defaults', () => {
    const c = otlpConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' });
    assert.deepEqual(c.traces, {
      url: 'http://collector:4318/v1/traces',
      protocol: 'http/protobuf',
      headers: {},
      timeoutMs: 10_000,
      compression: 'none',
      sampler: { name: 'parentbased_always_on', ratio: 1 },
      maxQueueSize: 2048,
      maxExportBatchSize: 512,
      scheduleDelayMs: 5000,
    });
    assert.equal(c.metrics?.url, 'http://collector:4318/v1/metrics');
    assert.equal(c.metrics?.exportIntervalMs, 60_000);
    assert.equal(c.metrics?.exportTimeoutMs, 30_000);
    assert.equal(c.metrics?.temporality, 'cumulative');
  });

  it('uses signal-specific endpoints as they are, and per-signal protocol, headers, timeout', () => {
    const c = otlpConfigFromEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://base:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/custom/path',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_HEADERS: 'api-key=abc%20def,x-team=obs',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-team=traces',
      OTEL_EXPORTER_OTLP_TIMEOUT: '2500',
      OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'gzip',
      OTEL_METRIC_EXPORT_INTERVAL: '1000',
      OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'Delta',
      OTEL_BSP_SCHEDULE_DELAY: '200',
    });
    assert.equal(c.traces?.url, 'https://traces.example/custom/path');
    assert.equal(c.traces?.protocol, 'http/json');
    assert.deepEqual(c.traces?.headers, { 'api-key': 'abc def', 'x-team': 'traces' });
    assert.equal(c.traces?.timeoutMs, 2500);
    assert.equal(c.traces?.scheduleDelayMs, 200);
    assert.equal(c.metrics?.url, 'http://base:4318/v1/metrics');
    assert.equal(c.metrics?.protocol, 'http/protobuf');
    assert.deepEqual(c.metrics?.headers, { 'api-key': 'abc def', 'x-team': 'obs' });
    assert.equal(c.metrics?.compression, 'gzip');
    assert.equal(c.metrics?.exportIntervalMs, 1000);
    assert.equal(c.metrics?.exportTimeoutMs, 1000, 'the export deadline never exceeds the interval');
    assert.equal(c.metrics?.temporality, 'delta');
  });

  it('reads OTEL_TRACES_SAMPLER and its ratio', () => {
    const c = otlpConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' });
    assert.deepEqual(c.traces?.sampler, { name: 'parentbased_traceidratio', ratio: 0.1 });
  });

  it('OTEL_TRACES_EXPORTER=none / OTEL_METRICS_EXPORTER=none turn a signal off', () => {
    const c = otlpConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' });
    assert.equal(c.traces, undefined);
    assert.ok(c.metrics);
    assert.equal(otlpConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_METRICS_EXPORTER: 'none' }).metrics, undefined);
  });

  const bad: Array<[Record<string, string>, string, RegExp]> = [
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'OTEL_EXPORTER_OTLP_PROTOCOL', /grpc is not supported/],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'thrift' }, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', /must be one of/],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT', /scheme must be http or https/],
    [{ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'not a url' }, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', /not a URL/],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_EXPORTER_OTLP_HEADERS: 'novalue' }, 'OTEL_EXPORTER_OTLP_HEADERS', /key=value/],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_EXPORTER_OTLP_HEADERS: 'k=%zz' }, 'OTEL_EXPORTER_OTLP_HEADERS', /percent-encoding/],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_METRIC_EXPORT_INTERVAL: 'soon' }, 'OTEL_METRIC_EXPORT_INTERVAL', /integer/],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_BSP_MAX_QUEUE_SIZE: '10', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '20' }, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', /must not exceed/],
    [{ OTEL_TRACES_EXPORTER: 'jaeger' }, 'OTEL_TRACES_EXPORTER', /"otlp" or "none"/],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_TRACES_SAMPLER: 'sometimes' }, 'OTEL_TRACES_SAMPLER', /must be one of/],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' }, 'OTEL_TRACES_SAMPLER_ARG', /probability/],
  ];
  for (const [env, field, message] of bad) {
    it(`names ${field} when it is invalid`, () => {
      assert.throws(
        () => otlpConfigFromEnv(env),
        (e: unknown) => e instanceof OtlpConfigError && e.field === field && message.test(e.message) && e.message.startsWith(`${field}:`),
      );
    });
  }
});
