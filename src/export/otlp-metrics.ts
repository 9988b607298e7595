// OTLP/HTTP metrics through the OpenTelemetry metrics SDK. Every service instance
// gets its own MeterProvider, because the Resource (service.name, instance id,
// pid…) belongs to the provider; all providers share one exporter, so there is
// one HTTP client, one set of counters and one shutdown. Each provider's periodic
// reader exports every OTEL_METRIC_EXPORT_INTERVAL. recordHttp() never throws.
import type { Attributes, Histogram } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { AggregationTemporalityPreference, OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import {
  type AggregationOption,
  AggregationTemporality,
  AggregationType,
  type InstrumentType,
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { HttpMetricsRecorder, HttpObservation, ServiceIdentity } from '../telemetry/index.js';
import { semconv as sc } from '../telemetry/index.js';
import type { OtlpMetricsConfig } from './otlp-config.js';
import { DISTRO_NAME, DISTRO_VERSION, serviceResource } from './otlp-resource.js';
import type { ExporterStats } from './self-metrics.js';

const TEMPORALITY = {
  cumulative: AggregationTemporalityPreference.CUMULATIVE,
  delta: AggregationTemporalityPreference.DELTA,
  lowmemory: AggregationTemporalityPreference.LOWMEMORY,
};

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

interface Instruments {
  provider: MeterProvider;
  serverDuration: Histogram;
  serverRequestBody: Histogram;
  serverResponseBody: Histogram;
  clientDuration: Histogram;
  clientRequestBody: Histogram;
  clientResponseBody: Histogram;
}

export class OtlpMetricsExporter implements HttpMetricsRecorder {
  readonly #config: OtlpMetricsConfig;
  readonly #shared: SharedExporter;
  readonly #maxServices: number;
  readonly #services = new Map<string, Instruments>();
  readonly #pending = new Set<Promise<unknown>>();
  #closed = false;
  /** Observations dropped because maxServices providers already exist. */
  servicesRejected = 0;

  constructor(config: OtlpMetricsConfig, opts: { exporter?: PushMetricExporter; maxServices?: number } = {}) {
    this.#config = config;
    this.#shared = new SharedExporter(opts.exporter ?? createSdkMetricExporter(config));
    this.#maxServices = opts.maxServices ?? 1000;
  }

  recordHttp(o: HttpObservation): void {
    if (this.#closed) return;
    const inst = this.#instruments(o.service);
    if (inst === undefined) return;
    const a: Attributes = { [sc.ATTR_HTTP_REQUEST_METHOD]: o.method };
    if (o.statusCode !== undefined) a[sc.ATTR_HTTP_RESPONSE_STATUS_CODE] = o.statusCode;
    if (o.errorType !== undefined) a[sc.ATTR_ERROR_TYPE] = o.errorType;
    if (o.protocolVersion !== undefined) a[sc.ATTR_NETWORK_PROTOCOL_VERSION] = o.protocolVersion;
    if (o.kind === 'server') {
      a[sc.ATTR_URL_SCHEME] = o.scheme;
      if (o.route !== undefined) a[sc.ATTR_HTTP_ROUTE] = o.route;
      inst.serverDuration.record(o.durationSeconds, a);
      if (o.requestBodySize !== undefined) inst.serverRequestBody.record(o.requestBodySize, a);
      if (o.responseBodySize !== undefined) inst.serverResponseBody.record(o.responseBodySize, a);
    } else {
      if (o.serverAddress !== undefined) a[sc.ATTR_SERVER_ADDRESS] = o.serverAddress;
      if (o.serverPort !== undefined) a[sc.ATTR_SERVER_PORT] = o.serverPort;
      inst.clientDuration.record(o.durationSeconds, a);
      if (o.requestBodySize !== undefined) inst.clientRequestBody.record(o.requestBodySize, a);
      if (o.responseBodySize !== undefined) inst.clientResponseBody.record(o.responseBodySize, a);
    }
  }

  /** Exports the instance's last data points, then releases its provider. */
  forgetService(service: ServiceIdentity): void {
    const inst = this.#services.get(service.instanceId);
    if (inst === undefined) return;
    this.#services.delete(service.instanceId);
    this.#track(inst.provider.shutdown());
  }

  stats(): ExporterStats {
    return this.#shared.stats();
  }

  get services(): number {
    return this.#services.size;
  }

  /** Collects and exports every provider now. */
  async forceFlush(): Promise<void> {
    await Promise.all([...this.#services.values()].map((i) => i.provider.forceFlush().catch(() => undefined)));
  }

  /** Final export of every provider, then the exporter shuts down. Never rejects. */
  async shutdown(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const providers = [...this.#services.values()].map((i) => i.provider);
    this.#services.clear();
    await Promise.all(providers.map((p) => p.shutdown().catch(() => undefined)));
    await Promise.all([...this.#pending]);
    await this.#shared.inner.shutdown().catch(() => undefined);
  }

  #track(p: Promise<unknown>): void {
    const q = p.catch(() => undefined).finally(() => this.#pending.delete(q));
    this.#pending.add(q);
  }

  #instruments(service: ServiceIdentity): Instruments | undefined {
    const known = this.#services.get(service.instanceId);
    if (known !== undefined) return known;
    if (this.#services.size >= this.#maxServices) {
      this.servicesRejected++;
      return undefined;
    }
    const provider = new MeterProvider({
      resource: serviceResource(service),
      readers: [
        new PeriodicExportingMetricReader({
          exporter: this.#shared,
          exportIntervalMillis: this.#config.exportIntervalMs,
          exportTimeoutMillis: this.#config.exportTimeoutMs,
        }),
      ],
    });
    const meter = provider.getMeter(DISTRO_NAME, DISTRO_VERSION);
    const duration = (name: string, kind: string) =>
      meter.createHistogram(name, { unit: 's', description: `Duration of HTTP ${kind} requests.`, advice: { explicitBucketBoundaries: [...sc.HTTP_DURATION_BUCKETS] } });
    const size = (name: string, what: string) =>
      meter.createHistogram(name, { unit: 'By', description: `Size of HTTP ${what} bodies.`, advice: { explicitBucketBoundaries: [...sc.HTTP_BODY_SIZE_BUCKETS] } });
    const inst: Instruments = {
      provider,
      serverDuration: duration(sc.METRIC_HTTP_SERVER_REQUEST_DURATION, 'server'),
      serverRequestBody: size(sc.METRIC_HTTP_SERVER_REQUEST_BODY_SIZE, 'server request'),
      serverResponseBody: size(sc.METRIC_HTTP_SERVER_RESPONSE_BODY_SIZE, 'server response'),
      clientDuration: duration(sc.METRIC_HTTP_CLIENT_REQUEST_DURATION, 'client'),
      clientRequestBody: size(sc.METRIC_HTTP_CLIENT_REQUEST_BODY_SIZE, 'client request'),
      clientResponseBody: size(sc.METRIC_HTTP_CLIENT_RESPONSE_BODY_SIZE, 'client response'),
    };
    this.#services.set(service.instanceId, inst);
    return inst;
  }
}

/**
 * One exporter behind many readers: counts results, and ignores the readers'
 * shutdown calls (the owner shuts the real exporter down once, at the end).
 */
class SharedExporter implements PushMetricExporter {
  readonly #stats: ExporterStats = { exported: 0, dropped: 0, failed: 0, exportFailures: 0 };
  /** The last export error's message, for logs. */
  lastError: string | undefined;

  constructor(readonly inner: PushMetricExporter) {}

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    const points = metrics.scopeMetrics.reduce((n, s) => n + s.metrics.reduce((m, d) => m + d.dataPoints.length, 0), 0);
    try {
      this.inner.export(metrics, (result) => {
        if (result.code === ExportResultCode.SUCCESS) this.#stats.exported += points;
        else {
          this.#stats.failed += points;
          this.#stats.exportFailures++;
          this.lastError = result.error?.message ?? 'export failed';
        }
        resultCallback(result);
      });
    } catch (e) {
      this.#stats.failed += points;
      this.#stats.exportFailures++;
      resultCallback({ code: ExportResultCode.FAILED, error: e instanceof Error ? e : new Error(String(e)) });
    }
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  selectAggregationTemporality(instrumentType: InstrumentType): AggregationTemporality {
    return this.inner.selectAggregationTemporality?.(instrumentType) ?? AggregationTemporality.CUMULATIVE;
  }

  selectAggregation(instrumentType: InstrumentType): AggregationOption {
    return this.inner.selectAggregation?.(instrumentType) ?? { type: AggregationType.DEFAULT };
  }

  stats(): ExporterStats {
    return { ...this.#stats };
  }
}
