// OTLP exporter configuration from the standard OpenTelemetry environment
// variables (https://opentelemetry.io/docs/specs/otel/protocol/exporter/ and
// .../configuration/sdk-environment-variables/). The caller passes an env-like
// record, so values from a YAML file can be merged in under the same names.
//
// Supported: OTEL_EXPORTER_OTLP_{,TRACES_,METRICS_}{ENDPOINT,PROTOCOL,HEADERS,TIMEOUT,COMPRESSION},
// OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE, OTEL_METRIC_EXPORT_INTERVAL,
// OTEL_METRIC_EXPORT_TIMEOUT, OTEL_BSP_{MAX_QUEUE_SIZE,MAX_EXPORT_BATCH_SIZE,SCHEDULE_DELAY},
// OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER (`otlp` or `none`),
// OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (default parentbased_always_on).
// Protocols: http/protobuf (default) and http/json. grpc is NOT supported: it is
// refused with an error naming the variable (use port 4318 with http/protobuf).
// A signal is exported only when an endpoint is configured for it.

import { SAMPLER_NAMES, type SamplerConfig, type SamplerName } from './otlp-sampler.js';

export type OtlpProtocol = 'http/protobuf' | 'http/json';
export type OtlpCompression = 'gzip' | 'none';
export type TemporalityPreference = 'cumulative' | 'delta' | 'lowmemory';

export interface OtlpSignalConfig {
  /** Full URL the signal is POSTed to, e.g. http://collector:4318/v1/traces. */
  url: string;
  protocol: OtlpProtocol;
  headers: Record<string, string>;
  /** Deadline of one HTTP export request (OTEL_EXPORTER_OTLP_TIMEOUT). */
  timeoutMs: number;
  compression: OtlpCompression;
}

export interface OtlpTracesConfig extends OtlpSignalConfig {
  /** Which spans are exported (default parentbased_always_on: all). */
  sampler?: SamplerConfig;
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduleDelayMs: number;
}

export interface OtlpMetricsConfig extends OtlpSignalConfig {
  exportIntervalMs: number;
  exportTimeoutMs: number;
  temporality: TemporalityPreference;
}

export interface OtlpConfig {
  traces?: OtlpTracesConfig;
  metrics?: OtlpMetricsConfig;
}

/** Invalid configuration; `field` is the variable at fault. */
export class OtlpConfigError extends Error {
  readonly code = 'WAGGLE_ERR_CONFIG';
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
  }
}

export type EnvLike = Record<string, string | undefined>;

export function otlpConfigFromEnv(env: EnvLike): OtlpConfig {
  const config: OtlpConfig = {};
  if (exporterEnabled(env, 'OTEL_TRACES_EXPORTER')) {
    const base = signal(env, 'TRACES', 'v1/traces');
    if (base !== undefined) {
      const maxQueueSize = int(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 2048, 1);
      const maxExportBatchSize = int(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512, 1);
      if (maxExportBatchSize > maxQueueSize) throw new OtlpConfigError('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', `must not exceed OTEL_BSP_MAX_QUEUE_SIZE (${maxQueueSize})`);
      config.traces = {
        ...base,
        sampler: samplerFromEnv(env),
        maxQueueSize,
        maxExportBatchSize,
        scheduleDelayMs: int(env, 'OTEL_BSP_SCHEDULE_DELAY', 5000, 1),
      };
    }
  }
  if (exporterEnabled(env, 'OTEL_METRICS_EXPORTER')) {
    const base = signal(env, 'METRICS', 'v1/metrics');
    if (base !== undefined) {
      const exportIntervalMs = int(env, 'OTEL_METRIC_EXPORT_INTERVAL', 60_000, 1);
      config.metrics = {
        ...base,
        exportIntervalMs,
        // The reader's deadline for one collect+export; it may not exceed the interval.
        exportTimeoutMs: Math.min(int(env, 'OTEL_METRIC_EXPORT_TIMEOUT', 30_000, 1), exportIntervalMs),
        temporality: oneOf(env, 'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', ['cumulative', 'delta', 'lowmemory'], 'cumulative', true),
      };
    }
  }
  return config;
}

function samplerFromEnv(env: EnvLike): SamplerConfig {
  const name = oneOf<SamplerName>(env, 'OTEL_TRACES_SAMPLER', SAMPLER_NAMES, 'parentbased_always_on', true);
  let ratio = 1;
  const arg = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  if (name.endsWith('traceidratio') && arg) {
    ratio = Number(arg);
    if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) throw new OtlpConfigError('OTEL_TRACES_SAMPLER_ARG', `must be a probability between 0 and 1, got ${JSON.stringify(arg)}`);
  }
  return { name, ratio };
}

function exporterEnabled(env: EnvLike, name: string): boolean {
  const v = env[name]?.trim();
  if (v === undefined || v === '' || v === 'otlp') return true;
  if (v === 'none') return false;
  throw new OtlpConfigError(name, `must be "otlp" or "none" (waggle exports nothing else), got ${JSON.stringify(v)}`);
}

function signal(env: EnvLike, sig: 'TRACES' | 'METRICS', path: string): OtlpSignalConfig | undefined {
  const specificName = `OTEL_EXPORTER_OTLP_${sig}_ENDPOINT`;
  const specific = env[specificName]?.trim();
  const generic = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  let url: string;
  if (specific) url = checkUrl(specificName, specific);
  else if (generic) url = `${checkUrl('OTEL_EXPORTER_OTLP_ENDPOINT', generic).replace(/\/+$/, '')}/${path}`;
  else return undefined;

  const protocolName = env[`OTEL_EXPORTER_OTLP_${sig}_PROTOCOL`]?.trim() ? `OTEL_EXPORTER_OTLP_${sig}_PROTOCOL` : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocolValue = env[protocolName]?.trim();
  if (protocolValue === 'grpc') {
    throw new OtlpConfigError(protocolName, 'grpc is not supported by waggle; use "http/protobuf" (collector port 4318) or "http/json"');
  }
  const protocol = oneOf(env, protocolName, ['http/protobuf', 'http/json'], 'http/protobuf', false);
  const timeoutName = env[`OTEL_EXPORTER_OTLP_${sig}_TIMEOUT`]?.trim() ? `OTEL_EXPORTER_OTLP_${sig}_TIMEOUT` : 'OTEL_EXPORTER_OTLP_TIMEOUT';
  const compressionName = env[`OTEL_EXPORTER_OTLP_${sig}_COMPRESSION`]?.trim() ? `OTEL_EXPORTER_OTLP_${sig}_COMPRESSION` : 'OTEL_EXPORTER_OTLP_COMPRESSION';
  return {
    url,
    protocol,
    headers: { ...parseHeaders(env, 'OTEL_EXPORTER_OTLP_HEADERS'), ...parseHeaders(env, `OTEL_EXPORTER_OTLP_${sig}_HEADERS`) },
    timeoutMs: int(env, timeoutName, 10_000, 1),
    compression: oneOf(env, compressionName, ['gzip', 'none'], 'none', true),
  };
}

function checkUrl(field: string, value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new OtlpConfigError(field, `${JSON.stringify(value)} is not a URL (expected e.g. http://localhost:4318)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new OtlpConfigError(field, `scheme must be http or https, got ${u.protocol}`);
  return value;
}

/** `k1=v1,k2=v2`, values percent-decoded (W3C Baggage format). */
export function parseHeaders(env: EnvLike, field: string): Record<string, string> {
  const text = env[field]?.trim();
  const out: Record<string, string> = {};
  if (!text) return out;
  for (const item of text.split(',')) {
    if (!item.trim()) continue;
    const eq = item.indexOf('=');
    const key = eq > 0 ? item.slice(0, eq).trim() : '';
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) throw new OtlpConfigError(field, `expected key=value pairs separated by commas, got ${JSON.stringify(item.slice(0, 40))}`);
    try {
      out[key] = decodeURIComponent(item.slice(eq + 1).trim());
    } catch {
      throw new OtlpConfigError(field, `the value of ${JSON.stringify(key)} is not valid percent-encoding`);
    }
  }
  return out;
}

function int(env: EnvLike, field: string, dflt: number, min: number): number {
  const v = env[field]?.trim();
  if (!v) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new OtlpConfigError(field, `must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return n;
}

function oneOf<T extends string>(env: EnvLike, field: string, allowed: readonly T[], dflt: T, lowercase: boolean): T {
  const raw = env[field]?.trim();
  if (!raw) return dflt;
  const v = lowercase ? raw.toLowerCase() : raw;
  if (!(allowed as readonly string[]).includes(v)) throw new OtlpConfigError(field, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${JSON.stringify(raw)}`);
  return v as T;
}
