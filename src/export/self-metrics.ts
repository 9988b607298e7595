// The agent's own metrics (prefix `waggle_`), in the same prom-client registry as
// the application metrics. Values live in the components that own them (capture,
// discovery, telemetry, exporters); this module only reads them at scrape time
// through callbacks, so no component depends on prom-client.
//
//   const self = new SelfMetrics(prometheus.registry);
//   self.counter('records_received_total', 'Exchange records read from the ring buffer.', () => capture.stats().received);
//   self.counter('records_dropped_kernel_total', 'Records the kernel could not reserve.', () => capture.stats().kernelDrops);
//   self.gauge('watched_processes', 'Processes selected by discovery.', () => discovery.size);
//   self.registerHttpTelemetry(telemetry);
//   self.registerExporter('otlp_traces', otlp.traces);
//
// Default process metrics (CPU seconds, resident memory, event loop lag…) come
// from prom-client's collectDefaultMetrics, prefixed `waggle_`.
import { Counter, Gauge, type Registry, collectDefaultMetrics } from 'prom-client';
import { type HttpTelemetry, LINK_KINDS, type OperationTelemetry, PARENT_UNKNOWN_REASONS, type TraceLinker } from '../telemetry/index.js';

export const SELF_METRICS_PREFIX = 'waggle_';

/**
 * How often the event loop lag is sampled. prom-client's default (10 ms) wakes
 * the agent 100 times a second; an idle agent measured 7–8 ms of CPU per second
 * with it and 4–5 with one sample a second (the lag histogram keeps its
 * meaning, with fewer samples).
 */
const EVENT_LOOP_SAMPLE_MS = 1000;

export type LabelValues = Record<string, string>;
export type Reading = number | Iterable<readonly [LabelValues, number]>;

/** Anything with export counters: the OTLP exporters, the console and JSON-lines writers. */
export interface ExporterStatsSource {
  stats(): ExporterStats;
}

export interface ExporterStats {
  /** Items (spans, lines, metric batches) handed over successfully. */
  exported: number;
  /** Items dropped before export because a bounded queue or buffer was full. */
  dropped: number;
  /** Items lost because their export failed. */
  failed: number;
  /** Export calls that failed. */
  exportFailures: number;
}

export interface SelfMetricsOptions {
  prefix?: string;
  /** Register prom-client's default process and Node.js metrics. Default true. */
  processMetrics?: boolean;
}

export class SelfMetrics {
  readonly #registry: Registry;
  readonly #prefix: string;
  readonly #exporterStats = new Map<string, ExporterStatsSource>();

  constructor(registry: Registry, opts: SelfMetricsOptions = {}) {
    this.#registry = registry;
    this.#prefix = opts.prefix ?? SELF_METRICS_PREFIX;
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: this.#prefix, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  }

  /**
   * A monotonic total read at scrape time. `name` is without the prefix and should
   * end in `_total`. The read function returns one number, or label sets and numbers.
   */
  counter(name: string, help: string, read: () => Reading, labelNames: readonly string[] = []): void {
    new Counter({
      name: this.#prefix + name,
      help,
      labelNames: [...labelNames],
      registers: [this.#registry],
      collect() {
        this.reset();
        set(read(), (labels, v) => this.inc(labels, v));
      },
    });
  }

  /** A value that can go up and down, read at scrape time. */
  gauge(name: string, help: string, read: () => Reading, labelNames: readonly string[] = []): void {
    new Gauge({
      name: this.#prefix + name,
      help,
      labelNames: [...labelNames],
      registers: [this.#registry],
      collect() {
        this.reset();
        set(read(), (labels, v) => this.set(labels, v));
      },
    });
  }

  /** Parse failures, collapsed routes and the rest of HttpTelemetry's counters. */
  registerHttpTelemetry(t: HttpTelemetry): void {
    this.counter('http_exchanges_total', 'HTTP/1 exchanges received from capture.', () => t.stats().exchanges);
    this.counter('http_requests_total', 'HTTP requests turned into metrics and spans.', () => t.stats().requests);
    this.counter(
      'parse_failures_total',
      'Captured messages that could not be parsed, by protocol, message and reason.',
      () => t.stats().parseFailures.map((f) => [{ protocol: 'http1', message: f.message, reason: f.reason }, f.count] as const),
      ['protocol', 'message', 'reason'],
    );
    this.counter(
      'routes_collapsed_total',
      'Requests reported under the wildcard route /** because their service reached its route cap.',
      () => [...t.stats().routesCollapsed].map(([service, n]) => [{ service_name: service }, n] as const),
      ['service_name'],
    );
    this.counter(
      'http_framing_lost_total',
      'HTTP/1 exchanges whose message length the kernel could not follow (malformed or unrecognised framing): their end was guessed, so exchanges around them may have merged or gone uncounted. peer: the client address (server side) or server address:port (client side); _OTHER past 256 series.',
      () => t.stats().framingLost.map((s) => [{ service_name: s.service, role: s.role, peer: s.peer }, s.count] as const),
      ['service_name', 'role', 'peer'],
    );
    this.counter('http_peers_collapsed_total', 'Client requests whose server.address was reported as _OTHER (per-service cap).', () => t.stats().peersCollapsed);
    this.counter('services_rejected_total', 'Exchanges dropped because the cap on tracked services was reached.', () => t.stats().servicesRejected);
    this.gauge('services', 'Service instances with HTTP telemetry.', () => t.stats().services);
    this.counter('telemetry_listener_errors_total', 'Exceptions thrown by span listeners or metric recorders (swallowed).', () => t.stats().listenerErrors);
    this.counter('telemetry_internal_errors_total', 'Unexpected exceptions while handling an exchange (swallowed).', () => t.stats().internalErrors);
  }

  /** The trace linker's links, spans left roots by reason, and its buffer. */
  registerTraceLinker(linker: TraceLinker): void {
    this.counter('trace_links_total', 'Spans given a local parent, by how: thread (its thread\'s only request), event_loop (a multiplexing thread\'s only request in flight), connection (the client span at the other end of a local connection).', () => LINK_KINDS.map((k) => [{ kind: k }, linker.stats().links[k]] as const), ['kind']);
    this.counter('trace_parent_unknown_total', 'Spans left roots because their local parent could not be told for sure, by reason (concurrent_requests: several requests in flight on the calling thread; not_indexed: a process\'s first calls, before its requests were indexed).', () => PARENT_UNKNOWN_REASONS.map((r) => [{ reason: r }, linker.stats().parentUnknown[r]] as const), ['reason']);
    this.gauge('trace_spans_held', 'Spans held waiting for their parent.', () => linker.stats().held);
    this.counter('trace_spans_evicted_total', 'Spans released before their hold ended because the linker held its maximum (their parent may be missing).', () => linker.stats().evicted);
    this.counter('trace_spans_decided_on_arrival_total', 'Server spans decided on arrival: no watched local client can be their caller (a peer that is not this host, or a connection whose client end is not watched). Those of processes that make no calls leave at once.', () => linker.stats().decidedOnArrival);
    this.counter('trace_spans_unbuilt_total', 'Lone roots (requests of processes that make no calls, with no possible local parent) for which no Span was built, because only the trace view listens and it keeps joined traces only.', () => linker.stats().loneUnbuilt);
    this.gauge('trace_quiet_callers', 'Caller addresses of a local port remembered as having no watched client (their server spans are decided on arrival).', () => linker.stats().quietCallers);
    this.counter('trace_quiet_callers_woken_total', 'Quiet callers from which a client span appeared after all (server spans decided before it may have missed it as parent).', () => linker.stats().quietCallersWoken);
    this.counter('trace_hold_exceeded_total', 'Spans released at the maximum hold with an ancestor still undecided.', () => linker.stats().holdExceeded);
    this.counter('trace_listener_errors_total', 'Exceptions thrown by listeners of linked spans (swallowed).', () => linker.stats().listenerErrors);
  }

  /** Protocol operations by protocol, the incomplete ones by reason, and the series cap's overflow. */
  registerOperationTelemetry(t: OperationTelemetry): void {
    this.counter('operations_total', 'Protocol operations (database, cache, messaging) turned into metrics and spans, by protocol.', () => t.stats().operations.map((c) => [{ protocol: c.protocol }, c.count] as const), ['protocol']);
    this.counter(
      'operations_incomplete_total',
      'Operations whose response never came (connection closed, idle, evicted, or chunks lost), by protocol and reason; reported with error.type "incomplete".',
      () => t.stats().incomplete.map((c) => [{ protocol: c.protocol, reason: c.reason }, c.count] as const),
      ['protocol', 'reason'],
    );
    this.counter('operation_series_overflow_total', 'Operation observations recorded into an overflow series (otel.metric.overflow) because the series cap was reached.', () => t.stats().seriesOverflowed);
    this.gauge('operation_series', 'Operation metric series held.', () => t.metrics.seriesCount);
    this.counter('operation_telemetry_internal_errors_total', 'Unexpected exceptions while handling an operation (swallowed).', () => t.stats().internalErrors);
  }

  /** waggle_exported_total / _dropped_total / _export_failed_total / _export_failures_total{exporter}. */
  registerExporter(exporter: string, source: ExporterStatsSource): void {
    this.#exporterStats.set(exporter, source);
    if (this.#exporterStats.size > 1) return;
    const each = (pick: (s: ExporterStats) => number) => () =>
      [...this.#exporterStats].map(([name, src]) => [{ exporter: name }, pick(src.stats())] as const);
    this.counter('exported_total', 'Items (spans, lines, metric exports) handed over by each exporter.', each((s) => s.exported), ['exporter']);
    this.counter('spans_dropped_total', 'Items dropped by each exporter because its bounded queue or buffer was full.', each((s) => s.dropped), ['exporter']);
    this.counter('export_failed_items_total', 'Items lost because their export failed.', each((s) => s.failed), ['exporter']);
    this.counter('export_failures_total', 'Export calls that failed.', each((s) => s.exportFailures), ['exporter']);
  }
}

function set(reading: Reading, apply: (labels: LabelValues, v: number) => void): void {
  if (typeof reading === 'number') {
    apply({}, reading);
    return;
  }
  for (const [labels, v] of reading) apply(labels, v);
}
