// Exporters: everything that takes telemetry out of the agent.
export { PrometheusExporter, type PrometheusExporterOptions } from './prometheus.js';
export { prometheusMetricName, prometheusLabelName } from './prometheus-names.js';
export { SelfMetrics, SELF_METRICS_PREFIX, type ExporterStats, type ExporterStatsSource, type Reading, type SelfMetricsOptions } from './self-metrics.js';
export { OtlpExporter, type OtlpExporterOptions } from './otlp.js';
export { OtlpTraceExporter } from './otlp-traces.js';
export { OtlpMetricsExporter, type OtlpMetricsExporterOptions } from './otlp-metrics.js';
export { otlpConfigFromEnv, OtlpConfigError, type OtlpConfig, type OtlpTracesConfig, type OtlpMetricsConfig, type OtlpProtocol, type EnvLike } from './otlp-config.js';
export { serviceResource, DISTRO_NAME, DISTRO_VERSION } from './otlp-resource.js';
export { createSampler, SAMPLER_NAMES, type Sampler, type SamplerConfig, type SamplerName } from './otlp-sampler.js';
export { ConsoleSpanPrinter, formatSpanLine } from './console-printer.js';
export { JsonLinesSpanWriter, spanToJson } from './json-lines.js';
export { BoundedLineWriter } from './bounded-writer.js';
