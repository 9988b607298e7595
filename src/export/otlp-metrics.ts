// OTLP/HTTP metrics from the shared HttpMetrics aggregation. Every
// OTEL_METRIC_EXPORT_INTERVAL, each service instance becomes one ResourceMetrics
// (its own Resource: service.name, service.instance.id, process.pid…) with the
// six semconv HTTP histograms, handed to the official OTLP exporter
// (http/protobuf or http/json). Data is built with the metrics SDK's types, so the
// official transformer encodes it exactly as it encodes SDK output.
// Temporality: cumulative (default), or delta for `delta`/`lowmemory` (the
// difference since the previous successful collection). Failures are counted;
// nothing here throws into the pipeline.
import { ValueType } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { AggregationTemporalityPreference, OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import {
  AggregationTemporality,
  type DataPoint,
  DataPointType,
  type Histogram,
  type HistogramMetricData,
  type PushMetricExporter,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { HistogramState, HttpMetrics, HttpSeries, OperationMetrics, OperationSeries, ServiceIdentity } from '../telemetry/index.js';
import { OPERATION_METRICS } from '../telemetry/index.js';
import { semconv as sc } from '../telemetry/index.js';
import type { OtlpMetricsConfig } from './otlp-config.js';
import { DISTRO_NAME, DISTRO_VERSION, ResourceCache } from './otlp-resource.js';
import { toHrTime } from './otlp-span.js';
import type { ExporterStats } from './self-metrics.js';

const TEMPORALITY = {
  cumulative: AggregationTemporalityPreference.CUMULATIVE,
  delta: AggregationTemporalityPreference.DELTA,
  lowmemory: AggregationTemporalityPreference.LOWMEMORY,
};

/** Instances exported at once (the OTLP exporter refuses more than its concurrency limit). */
const EXPORT_CONCURRENCY = 8;

export function createSdkMetricExporter(c: OtlpMetricsConfig): PushMetricExporter {
  const options = {
    url: c.url,
    headers: c.headers,
    timeoutMillis: c.timeoutMs,
    compression: c.compression as never,
    temporalityPreference: TEMPORALITY[c.temporality],
  };
  return c.protocol === 'http/json' ? new JsonMetricExporter(options) : new ProtoMetricExporter(options);
}

interface MetricDef {
  name: string;
  unit: string;
  description: string;
  kind: 'server' | 'client';
  pick: (s: HttpSeries) => HistogramState;
}

const METRICS: MetricDef[] = [
  { name: sc.METRIC_HTTP_SERVER_REQUEST_DURATION, unit: 's', description: 'Duration of HTTP server requests.', kind: 'server', pick: (s) => s.duration },
  { name: sc.METRIC_HTTP_SERVER_REQUEST_BODY_SIZE, unit: 'By', description: 'Size of HTTP server request bodies.', kind: 'server', pick: (s) => s.requestBodySize },
  { name: sc.METRIC_HTTP_SERVER_RESPONSE_BODY_SIZE, unit: 'By', description: 'Size of HTTP server response bodies.', kind: 'server', pick: (s) => s.responseBodySize },
  { name: sc.METRIC_HTTP_CLIENT_REQUEST_DURATION, unit: 's', description: 'Duration of HTTP client requests.', kind: 'client', pick: (s) => s.duration },
  { name: sc.METRIC_HTTP_CLIENT_REQUEST_BODY_SIZE, unit: 'By', description: 'Size of HTTP client request bodies.', kind: 'client', pick: (s) => s.requestBodySize },
  { name: sc.METRIC_HTTP_CLIENT_RESPONSE_BODY_SIZE, unit: 'By', description: 'Size of HTTP client response bodies.', kind: 'client', pick: (s) => s.responseBodySize },
];

const SCOPE = { name: DISTRO_NAME, version: DISTRO_VERSION };

interface Snapshot {
  counts: number[];
  sum: number;
  count: number;
  timeMs: number;
}

export interface OtlpMetricsExporterOptions {
  /** The aggregation to export (HttpTelemetry.metrics). */
  metrics: HttpMetrics;
  /** Protocol operations' aggregation (OperationTelemetry.metrics), when there is one. */
  operations?: OperationMetrics;
  /** Replaces the official exporter (tests). */
  exporter?: PushMetricExporter;
  /** Cached resources. Default 1000. */
  maxServices?: number;
  /** Added to every resource (the agent's own resource attributes). */
  resourceAttributes?: Readonly<Record<string, string>>;
}

export class OtlpMetricsExporter {
  readonly #config: OtlpMetricsConfig;
  readonly #metrics: HttpMetrics;
  readonly #operations: OperationMetrics | undefined;
  /** Last exported counter values (delta temporality only). */
  readonly #previousValues = new WeakMap<OperationSeries, { value: number; timeMs: number }>();
  readonly #exporter: PushMetricExporter;
  readonly #resources: ResourceCache;
  readonly #delta: boolean;
  /** Last exported values per histogram (delta temporality only). */
  readonly #previous = new WeakMap<HistogramState, Snapshot>();
  readonly #timer: NodeJS.Timeout;
  readonly #stats: ExporterStats = { exported: 0, dropped: 0, failed: 0, exportFailures: 0 };
  #running: Promise<void> | undefined;
  #closed = false;
  /** The last export error's message, for logs. */
  lastError: string | undefined;

  constructor(config: OtlpMetricsConfig, opts: OtlpMetricsExporterOptions) {
    this.#config = config;
    this.#metrics = opts.metrics;
    this.#operations = opts.operations;
    this.#exporter = opts.exporter ?? createSdkMetricExporter(config);
    this.#resources = new ResourceCache(opts.maxServices ?? 1000, opts.resourceAttributes);
    this.#delta = config.temporality !== 'cumulative';
    this.#timer = setInterval(() => {
      // An export still running when the next interval comes is not doubled up.
      if (this.#running === undefined) void this.forceFlush();
    }, config.exportIntervalMs);
    this.#timer.unref();
  }

  /** Data points exported, failed; export calls failed. */
  stats(): ExporterStats {
    return { ...this.#stats };
  }

  /** Collects and exports every service instance now. Never rejects. */
  forceFlush(): Promise<void> {
    if (this.#running === undefined) {
      this.#running = this.#exportAll().finally(() => (this.#running = undefined));
    }
    return this.#running;
  }

  /** A final export, then the exporter shuts down. Never rejects. */
  async shutdown(): Promise<void> {
    if (this.#closed) return;
    clearInterval(this.#timer);
    await this.#running;
    await this.forceFlush();
    this.#closed = true;
    await this.#exporter.shutdown().catch(() => undefined);
  }

  /** The instance is gone: drop its cached resource (its series expire in HttpMetrics). */
  forgetService(instanceId: string): void {
    this.#resources.delete(instanceId);
  }

  async #exportAll(): Promise<void> {
    if (this.#closed) return;
    const nowMs = Date.now();
    const batches: ResourceMetrics[] = [];
    // One ResourceMetrics per instance, HTTP and operation series together.
    const byInstance = new Map<string, { service: ServiceIdentity; http: HttpSeries[]; operations: OperationSeries[] }>();
    const entry = (service: ServiceIdentity) => {
      let e = byInstance.get(service.instanceId);
      if (e === undefined) {
        e = { service, http: [], operations: [] };
        byInstance.set(service.instanceId, e);
      }
      return e;
    };
    for (const inst of this.#metrics.instances()) entry(inst.service).http.push(...inst.series);
    if (this.#operations !== undefined) for (const inst of this.#operations.instances()) entry(inst.service).operations.push(...inst.series);
    for (const e of byInstance.values()) {
      const rm = this.#collect(e.service, e.http, e.operations, nowMs);
      if (rm !== undefined) batches.push(rm);
    }
    for (let i = 0; i < batches.length; i += EXPORT_CONCURRENCY) {
      await Promise.all(batches.slice(i, i + EXPORT_CONCURRENCY).map((rm) => this.#exportOne(rm)));
    }
  }

  #collect(service: ServiceIdentity, series: HttpSeries[], operations: OperationSeries[], nowMs: number): ResourceMetrics | undefined {
    const metrics: MetricData[] = [];
    for (const def of METRICS) {
      const dataPoints: DataPoint<Histogram>[] = [];
      for (const s of series) {
        if (s.kind !== def.kind) continue;
        const point = this.#point(s, def.pick(s), nowMs);
        if (point !== undefined) dataPoints.push(point);
      }
      if (dataPoints.length === 0) continue;
      metrics.push({
        descriptor: { name: def.name, unit: def.unit, description: def.description, valueType: ValueType.DOUBLE },
        aggregationTemporality: this.#delta ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints,
      });
    }
    for (const def of OPERATION_METRICS) {
      const list = operations.filter((s) => s.metric === def);
      if (list.length === 0) continue;
      const descriptor = { name: def.name, unit: def.unit, description: def.description, valueType: def.instrument === 'histogram' ? ValueType.DOUBLE : ValueType.INT };
      const aggregationTemporality = this.#delta ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE;
      if (def.instrument === 'histogram') {
        const dataPoints: DataPoint<Histogram>[] = [];
        for (const s of list) {
          const point = this.#point(s, s.histogram!, nowMs);
          if (point !== undefined) dataPoints.push(point);
        }
        if (dataPoints.length > 0) metrics.push({ descriptor, aggregationTemporality, dataPointType: DataPointType.HISTOGRAM, dataPoints } satisfies HistogramMetricData);
        continue;
      }
      const dataPoints: DataPoint<number>[] = [];
      for (const s of list) {
        const point = this.#sumPoint(s, nowMs);
        if (point !== undefined) dataPoints.push(point);
      }
      if (dataPoints.length > 0) metrics.push({ descriptor, aggregationTemporality, dataPointType: DataPointType.SUM, isMonotonic: true, dataPoints });
    }
    if (metrics.length === 0) return undefined;
    return { resource: this.#resources.get(service), scopeMetrics: [{ scope: SCOPE, metrics }] };
  }

  #sumPoint(s: OperationSeries, nowMs: number): DataPoint<number> | undefined {
    const attributes = { ...s.attributes };
    if (!this.#delta) return { startTime: toHrTime(s.startTimeMs * 1e6), endTime: toHrTime(nowMs * 1e6), attributes, value: s.value };
    const prev = this.#previousValues.get(s);
    const value = s.value - (prev?.value ?? 0);
    this.#previousValues.set(s, { value: s.value, timeMs: nowMs });
    if (value === 0) return undefined;
    return { startTime: toHrTime((prev?.timeMs ?? s.startTimeMs) * 1e6), endTime: toHrTime(nowMs * 1e6), attributes, value };
  }

  #point(s: { attributes: HttpSeries['attributes']; startTimeMs: number }, h: HistogramState, nowMs: number): DataPoint<Histogram> | undefined {
    if (h.count === 0) return undefined;
    const attributes = { ...s.attributes };
    if (!this.#delta) {
      return {
        startTime: toHrTime(s.startTimeMs * 1e6),
        endTime: toHrTime(nowMs * 1e6),
        attributes,
        value: { buckets: { boundaries: [...h.boundaries], counts: [...h.counts] }, sum: h.sum, count: h.count, min: h.min, max: h.max },
      };
    }
    const prev = this.#previous.get(h);
    const count = h.count - (prev?.count ?? 0);
    this.#previous.set(h, { counts: [...h.counts], sum: h.sum, count: h.count, timeMs: nowMs });
    if (count === 0) return undefined;
    return {
      startTime: toHrTime((prev?.timeMs ?? s.startTimeMs) * 1e6),
      endTime: toHrTime(nowMs * 1e6),
      attributes,
      // min/max are lifetime values, not per interval, so they are left out of deltas.
      value: { buckets: { boundaries: [...h.boundaries], counts: h.counts.map((c, i) => c - (prev?.counts[i] ?? 0)) }, sum: h.sum - (prev?.sum ?? 0), count },
    };
  }

  #exportOne(rm: ResourceMetrics): Promise<void> {
    const points = rm.scopeMetrics.reduce((n, sm) => n + sm.metrics.reduce((m, d) => m + d.dataPoints.length, 0), 0);
    return new Promise<void>((resolve) => {
      const done = (result: ExportResult) => {
        if (result.code === ExportResultCode.SUCCESS) this.#stats.exported += points;
        else {
          this.#stats.failed += points;
          this.#stats.exportFailures++;
          this.lastError = result.error?.message ?? 'export failed';
        }
        resolve();
      };
      try {
        this.#exporter.export(rm, done);
      } catch (e) {
        done({ code: ExportResultCode.FAILED, error: e instanceof Error ? e : new Error(String(e)) });
      }
    });
  }
}
