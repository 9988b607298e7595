// Prometheus /metrics: the application HTTP histograms from the shared
// HttpMetrics aggregation (src/telemetry/http-metrics.ts), followed by everything
// registered in the prom-client registry (the agent's self-metrics, process
// metrics). The request path costs no Prometheus work; the histograms are
// rendered at scrape time, here rather than through prom-client's metric objects
// because that path costs ~15 µs per line (1,000 series = 51,000 lines = 0.8 s per
// scrape); label sets are escaped once per series and reused for every line.
//
// Series: http_{server,client}_request_duration_seconds (semconv buckets) and
// http_{server,client}_{request,response}_body_size_bytes, labelled with the
// service identity — service_name, service_namespace (when set),
// service_instance_id — then the semconv metric attributes with dots turned into
// underscores (http_request_method, http_response_status_code, error_type,
// network_protocol_version, and http_route + url_scheme on server series,
// server_address + server_port on client series). target_info{service_*,
// process_pid, process_executable_name} = 1 carries the rest of each resource,
// as the OTel↔Prometheus compatibility spec describes.
//
// Protocol operations (OperationMetrics) follow the same way:
// db_client_operation_duration_seconds, db_server_operation_duration_seconds,
// messaging_client_operation_duration_seconds (histograms) and
// messaging_client_{sent,consumed}_messages_total (counters), with their
// semconv labels (db_system_name, db_operation_name, db_collection_name,
// db_response_status_code, error_type, server_address, server_port; messaging_*).
import { Registry } from 'prom-client';
import type { HistogramState, HttpMetrics, HttpSeries, OperationMetrics, OperationSeries, SeriesAttributes, ServiceIdentity } from '../telemetry/index.js';
import { OPERATION_METRICS } from '../telemetry/index.js';
import { semconv as sc } from '../telemetry/index.js';
import { prometheusLabelName as L, prometheusMetricName } from './prometheus-names.js';

export interface PrometheusExporterOptions {
  /** The aggregation to expose (HttpTelemetry.metrics). */
  metrics: HttpMetrics;
  /** Protocol operations' aggregation (OperationTelemetry.metrics), when there is one. */
  operations?: OperationMetrics;
  /** Registry whose metrics follow the HTTP histograms (share it with SelfMetrics). Default: a new one. */
  registry?: Registry;
}

interface HistogramDef {
  name: string;
  help: string;
  kind: 'server' | 'client';
  pick: (s: HttpSeries) => HistogramState;
}

const HISTOGRAMS: HistogramDef[] = [
  { name: prometheusMetricName(sc.METRIC_HTTP_SERVER_REQUEST_DURATION, 's'), help: 'Duration of HTTP server requests.', kind: 'server', pick: (s) => s.duration },
  { name: prometheusMetricName(sc.METRIC_HTTP_SERVER_REQUEST_BODY_SIZE, 'By'), help: 'Size of HTTP server request bodies.', kind: 'server', pick: (s) => s.requestBodySize },
  { name: prometheusMetricName(sc.METRIC_HTTP_SERVER_RESPONSE_BODY_SIZE, 'By'), help: 'Size of HTTP server response bodies.', kind: 'server', pick: (s) => s.responseBodySize },
  { name: prometheusMetricName(sc.METRIC_HTTP_CLIENT_REQUEST_DURATION, 's'), help: 'Duration of HTTP client requests.', kind: 'client', pick: (s) => s.duration },
  { name: prometheusMetricName(sc.METRIC_HTTP_CLIENT_REQUEST_BODY_SIZE, 'By'), help: 'Size of HTTP client request bodies.', kind: 'client', pick: (s) => s.requestBodySize },
  { name: prometheusMetricName(sc.METRIC_HTTP_CLIENT_RESPONSE_BODY_SIZE, 'By'), help: 'Size of HTTP client response bodies.', kind: 'client', pick: (s) => s.responseBodySize },
];

export class PrometheusExporter {
  readonly registry: Registry;
  readonly #metrics: HttpMetrics;
  readonly #operations: OperationMetrics | undefined;

  constructor(opts: PrometheusExporterOptions) {
    this.registry = opts.registry ?? new Registry();
    this.#metrics = opts.metrics;
    this.#operations = opts.operations;
  }

  /** The exposition format's content type, for the HTTP response. */
  get contentType(): string {
    return Registry.PROMETHEUS_CONTENT_TYPE;
  }

  /** The Prometheus text exposition: HTTP histograms, target_info, then the registry. */
  async metricsText(): Promise<string> {
    const out: string[] = [];
    for (const def of HISTOGRAMS) renderHistogram(out, def.name, def.help, httpSeriesOf(this.#metrics, def));
    if (this.#operations !== undefined) renderOperations(out, this.#operations);
    renderTargetInfo(out, this.#metrics, this.#operations);
    const rest = await this.registry.metrics();
    return out.join('') + (rest.trim() === '' ? '' : rest);
  }
}

/** What a rendered series has: its instance and its metric attributes. */
interface LabelledSeries {
  readonly service: ServiceIdentity;
  readonly attributes: SeriesAttributes;
}

const seriesLabels = new WeakMap<LabelledSeries, string>();

/** `service_name="…",…,http_route="…"`: escaped once per series. */
function labelsOf(s: LabelledSeries): string {
  let labels = seriesLabels.get(s);
  if (labels === undefined) {
    const parts = serviceLabels(s.service);
    for (const [k, v] of Object.entries(s.attributes)) parts.push(label(L(k), v));
    labels = parts.join(',');
    seriesLabels.set(s, labels);
  }
  return labels;
}

function serviceLabels(s: ServiceIdentity): string[] {
  const parts = [label(L(sc.ATTR_SERVICE_NAME), s.name)];
  if (s.namespace !== undefined) parts.push(label(L(sc.ATTR_SERVICE_NAMESPACE), s.namespace));
  parts.push(label(L(sc.ATTR_SERVICE_INSTANCE_ID), s.instanceId));
  return parts;
}

function label(name: string, value: string | number | boolean): string {
  return `${name}="${escapeLabelValue(String(value))}"`;
}

/** Text format escaping of label values: backslash, double quote, line feed. */
export function escapeLabelValue(v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

function formatValue(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return Number.isNaN(v) ? 'NaN' : String(v);
}

const boundaryLabels = new Map<readonly number[], string[]>();

/** `le="0.005"`… for a boundary list, built once. */
function leLabels(boundaries: readonly number[]): string[] {
  let les = boundaryLabels.get(boundaries);
  if (les === undefined) {
    les = [...boundaries.map((b) => `le="${formatValue(b)}"`), 'le="+Inf"'];
    boundaryLabels.set(boundaries, les);
  }
  return les;
}

function* httpSeriesOf(metrics: HttpMetrics, def: HistogramDef): IterableIterator<[LabelledSeries, HistogramState]> {
  for (const s of metrics.series()) if (s.kind === def.kind) yield [s, def.pick(s)];
}

function renderHistogram(out: string[], name: string, help: string, series: Iterable<[LabelledSeries, HistogramState]>): void {
  let header = false;
  for (const [s, h] of series) {
    if (h.count === 0) continue;
    if (!header) {
      out.push(`# HELP ${name} ${help}\n# TYPE ${name} histogram\n`);
      header = true;
    }
    const labels = labelsOf(s);
    const les = leLabels(h.boundaries);
    let cumulative = 0;
    for (let i = 0; i < h.counts.length; i++) {
      cumulative += h.counts[i]!;
      out.push(`${name}_bucket{${labels},${les[i]!}} ${cumulative}\n`);
    }
    out.push(`${name}_sum{${labels}} ${formatValue(h.sum)}\n${name}_count{${labels}} ${h.count}\n`);
  }
  if (header) out.push('\n');
}

/** The operation metrics, one family at a time (series of all instances, in order). */
function renderOperations(out: string[], metrics: OperationMetrics): void {
  const byMetric = new Map<string, OperationSeries[]>();
  for (const s of metrics.series()) {
    const list = byMetric.get(s.metric.name);
    if (list === undefined) byMetric.set(s.metric.name, [s]);
    else list.push(s);
  }
  for (const def of OPERATION_METRICS) {
    const list = byMetric.get(def.name);
    if (list === undefined) continue;
    if (def.instrument === 'histogram') {
      renderHistogram(out, prometheusMetricName(def.name, 's'), def.description, list.map((s) => [s, s.histogram!] as [LabelledSeries, HistogramState]));
      continue;
    }
    const name = `${prometheusMetricName(def.name, '1')}_total`;
    out.push(`# HELP ${name} ${def.description}\n# TYPE ${name} counter\n`);
    for (const s of list) out.push(`${name}{${labelsOf(s)}} ${s.value}\n`);
    out.push('\n');
  }
}

function renderTargetInfo(out: string[], metrics: HttpMetrics, operations: OperationMetrics | undefined): void {
  let header = false;
  const seen = new Set<string>();
  const instances = function* () {
    for (const { service } of metrics.instances()) yield service;
    if (operations !== undefined) for (const { service } of operations.instances()) yield service;
  };
  for (const s of instances()) {
    if (seen.has(s.instanceId)) continue;
    seen.add(s.instanceId);
    if (!header) {
      out.push('# HELP target_info Target metadata: the OpenTelemetry resource of each observed service instance.\n# TYPE target_info gauge\n');
      header = true;
    }
    const parts = serviceLabels(s);
    parts.push(label(L(sc.ATTR_PROCESS_PID), s.pid), label(L(sc.ATTR_PROCESS_EXECUTABLE_NAME), s.executableName));
    if (s.containerId !== undefined) parts.push(label(L(sc.ATTR_CONTAINER_ID), s.containerId));
    out.push(`target_info{${parts.join(',')}} 1\n`);
  }
  if (header) out.push('\n');
}
