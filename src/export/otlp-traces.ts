// OTLP/HTTP trace export with a bounded queue, after head sampling
// (OTEL_TRACES_SAMPLER, see otlp-sampler.ts). Spans are queued as they come
// (no conversion on the hot path); a batch is converted and handed to the
// official exporter every scheduleDelayMs or as soon as a full batch waits. One
// export is in flight at a time; when the queue is full new spans are dropped and
// counted. export() never throws and never blocks.
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ExportResultCode } from '@opentelemetry/core';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Span } from '../telemetry/index.js';
import type { OtlpTracesConfig } from './otlp-config.js';
import { ResourceCache } from './otlp-resource.js';
import { type Sampler, createSampler } from './otlp-sampler.js';
import { toReadableSpan } from './otlp-span.js';
import type { ExporterStats } from './self-metrics.js';

export function createSdkTraceExporter(c: OtlpTracesConfig): SpanExporter {
  const options = { url: c.url, headers: c.headers, timeoutMillis: c.timeoutMs, compression: c.compression as never };
  return c.protocol === 'http/json' ? new JsonTraceExporter(options) : new ProtoTraceExporter(options);
}

export class OtlpTraceExporter {
  readonly #exporter: SpanExporter;
  readonly #config: OtlpTracesConfig;
  readonly #resources: ResourceCache;
  readonly #sampler: Sampler;
  readonly #timer: NodeJS.Timeout;
  #queue: Span[] = [];
  #inFlight: Promise<void> | undefined;
  #flushSoon = false;
  #closed = false;
  readonly #stats: ExporterStats = { exported: 0, dropped: 0, failed: 0, exportFailures: 0 };
  /** The last export error's message, for logs. */
  lastError: string | undefined;
  /** Spans the sampler left out (not an error: OTEL_TRACES_SAMPLER asked for it). */
  sampledOut = 0;

  constructor(config: OtlpTracesConfig, opts: { exporter?: SpanExporter; maxServices?: number; resourceAttributes?: Readonly<Record<string, string>> } = {}) {
    this.#config = config;
    this.#exporter = opts.exporter ?? createSdkTraceExporter(config);
    this.#resources = new ResourceCache(opts.maxServices ?? 1000, opts.resourceAttributes);
    this.#sampler = createSampler(config.sampler ?? { name: 'parentbased_always_on', ratio: 1 });
    this.#timer = setInterval(() => this.#flushOnce(), config.scheduleDelayMs);
    this.#timer.unref();
  }

  /** Queues a span; the listener to pass to HttpTelemetry.onSpan. */
  readonly export = (span: Span): void => {
    if (!this.#sampler(span)) {
      this.sampledOut++;
      return;
    }
    if (this.#closed || this.#queue.length >= this.#config.maxQueueSize) {
      this.#stats.dropped++;
      return;
    }
    this.#queue.push(span);
    if (this.#queue.length >= this.#config.maxExportBatchSize && !this.#flushSoon && this.#inFlight === undefined) {
      this.#flushSoon = true;
      setImmediate(() => {
        this.#flushSoon = false;
        this.#flushOnce();
      });
    }
  };

  stats(): ExporterStats {
    return { ...this.#stats };
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** Exports everything queued now, batch after batch. */
  async forceFlush(): Promise<void> {
    while (this.#inFlight !== undefined || this.#queue.length > 0) {
      if (this.#inFlight === undefined) this.#flushOnce();
      await this.#inFlight;
    }
  }

  /** Flushes, then shuts the exporter down; later spans are dropped and counted. */
  async shutdown(): Promise<void> {
    if (this.#closed) return;
    clearInterval(this.#timer);
    await this.forceFlush();
    this.#closed = true;
    await this.#exporter.shutdown().catch(() => undefined);
  }

  /** Forgets a service's cached resource (the instance is gone). */
  forgetService(instanceId: string): void {
    this.#resources.delete(instanceId);
  }

  #flushOnce(): void {
    if (this.#inFlight !== undefined || this.#queue.length === 0) return;
    const batch = this.#queue.splice(0, this.#config.maxExportBatchSize);
    this.#inFlight = new Promise<void>((resolve) => {
      const done = (ok: boolean, error?: Error) => {
        if (ok) this.#stats.exported += batch.length;
        else {
          this.#stats.failed += batch.length;
          this.#stats.exportFailures++;
          this.lastError = error?.message ?? 'export failed';
        }
        this.#inFlight = undefined;
        resolve();
        // Keep draining while a full batch waits.
        if (this.#queue.length >= this.#config.maxExportBatchSize) setImmediate(() => this.#flushOnce());
      };
      try {
        const spans = batch.map((s) => toReadableSpan(s, this.#resources.get(s.service)));
        this.#exporter.export(spans, (result) => done(result.code === ExportResultCode.SUCCESS, result.error));
      } catch (e) {
        done(false, e instanceof Error ? e : new Error(String(e)));
      }
    });
  }
}
