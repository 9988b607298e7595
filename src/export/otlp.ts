// OtlpExporter: OTLP/HTTP traces and metrics as one unit with one shutdown.
//
//   const otlp = OtlpExporter.fromEnv(process.env, { metrics: telemetry.metrics }); // throws OtlpConfigError naming the variable
//   if (otlp.traces) telemetry.onSpan(otlp.traces.export);
//   …
//   await otlp.shutdown();                            // final flush of both signals
//
// Either signal is absent when no endpoint is configured for it.
import type { HttpMetrics, OperationMetrics, ServiceIdentity } from '../telemetry/index.js';
import { type EnvLike, type OtlpConfig, otlpConfigFromEnv } from './otlp-config.js';
import { OtlpMetricsExporter } from './otlp-metrics.js';
import { OtlpTraceExporter } from './otlp-traces.js';

export interface OtlpExporterOptions {
  /** The aggregation whose histograms are exported (HttpTelemetry.metrics). */
  metrics: HttpMetrics;
  /** Protocol operations' aggregation (OperationTelemetry.metrics), when there is one. */
  operations?: OperationMetrics;
  /** Cap on cached per-instance resources. Default 1000. */
  maxServices?: number;
  /** Added to every resource (the agent's own resource attributes). */
  resourceAttributes?: Readonly<Record<string, string>>;
}

export class OtlpExporter {
  readonly traces: OtlpTraceExporter | undefined;
  readonly metrics: OtlpMetricsExporter | undefined;

  constructor(config: OtlpConfig, opts: OtlpExporterOptions) {
    this.traces = config.traces && new OtlpTraceExporter(config.traces, opts);
    this.metrics = config.metrics && new OtlpMetricsExporter(config.metrics, opts);
  }

  static fromEnv(env: EnvLike, opts: OtlpExporterOptions): OtlpExporter {
    return new OtlpExporter(otlpConfigFromEnv(env), opts);
  }

  get enabled(): boolean {
    return this.traces !== undefined || this.metrics !== undefined;
  }

  /** The service instance is gone: release its cached resources (its series expire in HttpMetrics). */
  forgetService(service: ServiceIdentity): void {
    this.traces?.forgetService(service.instanceId);
    this.metrics?.forgetService(service.instanceId);
  }

  async forceFlush(): Promise<void> {
    await Promise.all([this.traces?.forceFlush(), this.metrics?.forceFlush()]);
  }

  /** Flushes and stops both signals. Never rejects. */
  async shutdown(): Promise<void> {
    await Promise.all([this.traces?.shutdown().catch(() => undefined), this.metrics?.shutdown().catch(() => undefined)]);
  }
}
