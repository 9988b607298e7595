// OtlpExporter: OTLP/HTTP traces and metrics as one unit with one shutdown.
//
//   const otlp = OtlpExporter.fromEnv(process.env);   // throws OtlpConfigError naming the variable
//   if (otlp.metrics) telemetry.addMetricsRecorder(otlp.metrics);
//   if (otlp.traces) telemetry.onSpan(otlp.traces.export);
//   …
//   await otlp.shutdown();                            // final flush of both signals
//
// Either signal is absent when no endpoint is configured for it.
import type { ServiceIdentity } from '../telemetry/index.js';
import { type EnvLike, type OtlpConfig, otlpConfigFromEnv } from './otlp-config.js';
import { OtlpMetricsExporter } from './otlp-metrics.js';
import { OtlpTraceExporter } from './otlp-traces.js';

export interface OtlpExporterOptions {
  /** Cap on service instances with their own resource/provider. Default 1000. */
  maxServices?: number;
}

export class OtlpExporter {
  readonly traces: OtlpTraceExporter | undefined;
  readonly metrics: OtlpMetricsExporter | undefined;

  constructor(config: OtlpConfig, opts: OtlpExporterOptions = {}) {
    this.traces = config.traces && new OtlpTraceExporter(config.traces, opts);
    this.metrics = config.metrics && new OtlpMetricsExporter(config.metrics, opts);
  }

  static fromEnv(env: EnvLike, opts: OtlpExporterOptions = {}): OtlpExporter {
    return new OtlpExporter(otlpConfigFromEnv(env), opts);
  }

  get enabled(): boolean {
    return this.traces !== undefined || this.metrics !== undefined;
  }

  /** The service instance is gone: release its resource and metrics provider (after a last export). */
  forgetService(service: ServiceIdentity): void {
    this.traces?.forgetService(service.instanceId);
    this.metrics?.forgetService(service);
  }

  async forceFlush(): Promise<void> {
    await Promise.all([this.traces?.forceFlush(), this.metrics?.forceFlush()]);
  }

  /** Flushes and stops both signals. Never rejects. */
  async shutdown(): Promise<void> {
    await Promise.all([this.traces?.shutdown().catch(() => undefined), this.metrics?.shutdown().catch(() => undefined)]);
  }
}
