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
import { Registry } from 'prom-client';
import type { HistogramState, HttpMetrics, HttpSeries, ServiceIdentity } from '../telemetry/index.js';
import { semconv as sc } from '../telemetry/index.js';
import { prometheusLabelName as L, prometheusMetricName } from './prometheus-names.js';

export interface PrometheusExporterOptions {
  /** The aggregation to expose (HttpTelemetry.metrics). */
  metrics: HttpMetrics;
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

  constructor(opts: PrometheusExporterOptions) {
    this.registry = opts.registry ?? new Registry();
    this.#metrics = opts.metrics;
  }

  /** The exposition format's content type, for the HTTP response. */
  get contentType(): string {
    return Registry.PROMETHEUS_CONTENT_TYPE;
  }

  /** The Prometheus text exposition: HTTP histograms, target_info, then the registry. */
  async metricsText(): Promise<string> {
    const out: string[] = [];
    for (const def of HISTOGRAMS) renderHistogram(out, def, this.#metrics);
    renderTargetInfo(out, this.#metrics);
    const rest = await this.registry.metrics();
    return out.join('') + (rest.trim() === '' ? '' : rest);
  }
}

const seriesLabels = new WeakMap<HttpSeries, string>();

/** `service_name="…",…,http_route="…"`: escaped once per series. */
function labelsOf(s: HttpSeries): string {
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

function renderHistogram(out: string[], def: HistogramDef, metrics: HttpMetrics): void {
  let header = false;
  for (const s of metrics.series()) {
    if (s.kind !== def.kind) continue;
    const h = def.pick(s);
    if (h.count === 0) continue;
    if (!header) {
      out.push(`# HELP ${def.name} ${def.help}\n# TYPE ${def.name} histogram\n`);
      header = true;
    }
    const labels = labelsOf(s);
    const les = leLabels(h.boundaries);
    let cumulative = 0;
    for (let i = 0; i < h.counts.length; i++) {
      cumulative += h.counts[i]!;
      out.push(`${def.name}_bucket{${labels},${les[i]!}} ${cumulative}\n`);
    }
    out.push(`${def.name}_sum{${labels}} ${formatValue(h.sum)}\n${def.name}_count{${labels}} ${h.count}\n`);
  }
  if (header) out.push('\n');
}

function renderTargetInfo(out: string[], metrics: HttpMetrics): void {
  let header = false;
  for (const { service: s } of metrics.instances()) {
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
