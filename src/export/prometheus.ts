// Prometheus /metrics for application HTTP telemetry, rendered by prom-client
// from the shared HttpMetrics aggregation (src/telemetry/http-metrics.ts) at
// scrape time: the request path costs no prom-client work.
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
import { type Metric, Registry } from 'prom-client';
import type { HistogramState, HttpMetrics, HttpSeries, ServiceIdentity } from '../telemetry/index.js';
import { semconv as sc } from '../telemetry/index.js';
import { prometheusLabelName as L, prometheusMetricName } from './prometheus-names.js';

export interface PrometheusExporterOptions {
  /** The aggregation to expose (HttpTelemetry.metrics). */
  metrics: HttpMetrics;
  /** Registry to register into (share one with SelfMetrics for a single /metrics). Default: a new one. */
  registry?: Registry;
}

type Labels = Record<string, string | number | boolean>;
interface Value {
  metricName?: string;
  labels: Labels;
  value: number;
}

export class PrometheusExporter {
  readonly registry: Registry;

  constructor(opts: PrometheusExporterOptions) {
    this.registry = opts.registry ?? new Registry();
    const m = opts.metrics;
    const views = [
      new HistogramView(m, 'server', (s) => s.duration, prometheusMetricName(sc.METRIC_HTTP_SERVER_REQUEST_DURATION, 's'), 'Duration of HTTP server requests.'),
      new HistogramView(m, 'server', (s) => s.requestBodySize, prometheusMetricName(sc.METRIC_HTTP_SERVER_REQUEST_BODY_SIZE, 'By'), 'Size of HTTP server request bodies.'),
      new HistogramView(m, 'server', (s) => s.responseBodySize, prometheusMetricName(sc.METRIC_HTTP_SERVER_RESPONSE_BODY_SIZE, 'By'), 'Size of HTTP server response bodies.'),
      new HistogramView(m, 'client', (s) => s.duration, prometheusMetricName(sc.METRIC_HTTP_CLIENT_REQUEST_DURATION, 's'), 'Duration of HTTP client requests.'),
      new HistogramView(m, 'client', (s) => s.requestBodySize, prometheusMetricName(sc.METRIC_HTTP_CLIENT_REQUEST_BODY_SIZE, 'By'), 'Size of HTTP client request bodies.'),
      new HistogramView(m, 'client', (s) => s.responseBodySize, prometheusMetricName(sc.METRIC_HTTP_CLIENT_RESPONSE_BODY_SIZE, 'By'), 'Size of HTTP client response bodies.'),
      new TargetInfoView(m),
    ];
    // prom-client renders any object with name/help/type/get(); its typings only
    // list its own classes.
    for (const v of views) this.registry.registerMetric(v as unknown as Metric);
  }

  /** The exposition format's content type, for the HTTP response. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of everything in the registry. */
  metricsText(): Promise<string> {
    return this.registry.metrics();
  }
}

const seriesLabels = new WeakMap<HttpSeries, Labels>();

/** service_* labels then the semconv attributes, computed once per series. */
function labelsOf(s: HttpSeries): Labels {
  let labels = seriesLabels.get(s);
  if (labels === undefined) {
    labels = serviceLabels(s.service);
    for (const [k, v] of Object.entries(s.attributes)) labels[L(k)] = v;
    seriesLabels.set(s, labels);
  }
  return labels;
}

function serviceLabels(s: ServiceIdentity): Labels {
  const labels: Labels = { [L(sc.ATTR_SERVICE_NAME)]: s.name };
  if (s.namespace !== undefined) labels[L(sc.ATTR_SERVICE_NAMESPACE)] = s.namespace;
  labels[L(sc.ATTR_SERVICE_INSTANCE_ID)] = s.instanceId;
  return labels;
}

/** One OTel histogram of every series of one kind, in prom-client's metric shape. */
class HistogramView {
  readonly type = 'histogram';
  readonly aggregator = 'sum';

  constructor(
    private readonly metrics: HttpMetrics,
    private readonly kind: 'server' | 'client',
    private readonly pick: (s: HttpSeries) => HistogramState,
    readonly name: string,
    readonly help: string,
  ) {}

  get(): { name: string; help: string; type: string; aggregator: string; values: Value[] } {
    const values: Value[] = [];
    for (const s of this.metrics.series()) {
      if (s.kind !== this.kind) continue;
      const h = this.pick(s);
      if (h.count === 0) continue;
      const labels = labelsOf(s);
      let cumulative = 0;
      for (let i = 0; i < h.boundaries.length; i++) {
        cumulative += h.counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: h.boundaries[i]! }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count });
      values.push({ metricName: `${this.name}_sum`, labels, value: h.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: h.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Registry.resetMetrics() calls this; the aggregation is not ours to reset. */
  reset(): void {}
}

class TargetInfoView {
  readonly name = 'target_info';
  readonly help = 'Target metadata: the OpenTelemetry resource of each observed service instance.';
  readonly type = 'gauge';
  readonly aggregator = 'first';

  constructor(private readonly metrics: HttpMetrics) {}

  get(): { name: string; help: string; type: string; aggregator: string; values: Value[] } {
    const values: Value[] = [];
    for (const { service: s } of this.metrics.instances()) {
      const labels = serviceLabels(s);
      labels[L(sc.ATTR_PROCESS_PID)] = s.pid;
      labels[L(sc.ATTR_PROCESS_EXECUTABLE_NAME)] = s.executableName;
      if (s.containerId !== undefined) labels[L(sc.ATTR_CONTAINER_ID)] = s.containerId;
      values.push({ labels, value: 1 });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {}
}
