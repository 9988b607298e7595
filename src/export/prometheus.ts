// Prometheus /metrics for application HTTP telemetry, through prom-client.
//
// Series: http_{server,client}_request_duration_seconds (semconv buckets) and
// http_{server,client}_{request,response}_body_size_bytes, labelled with the
// semconv attributes (dots → underscores) plus the service identity:
// service_name, service_namespace (when set), service_instance_id. Server series
// carry http_route and url_scheme; client series carry server_address and
// server_port. target_info{service_*, process_*} = 1 holds the rest of each
// service's resource, as the OTel↔Prometheus compatibility spec describes.
//
// Series of a service instance that has recorded nothing for seriesTtlMs
// (default 5 min, like Beyla) are removed, so exited processes do not stay forever.
import { Gauge, Histogram, Registry } from 'prom-client';
import type { HttpMetricsRecorder, HttpObservation, ServiceIdentity } from '../telemetry/index.js';
import { semconv as sc } from '../telemetry/index.js';
import { prometheusLabelName as L, prometheusMetricName } from './prometheus-names.js';

export interface PrometheusExporterOptions {
  /** Registry to register into (share one with SelfMetrics for a single /metrics). Default: a new one. */
  registry?: Registry;
  /** Remove a service instance's series after this long without observations. Default 300000. */
  seriesTtlMs?: number;
  /** How often idle series are looked for. Default min(ttl / 2, 60000). */
  sweepIntervalMs?: number;
}

const SERVICE_LABELS = [L(sc.ATTR_SERVICE_NAME), L(sc.ATTR_SERVICE_NAMESPACE), L(sc.ATTR_SERVICE_INSTANCE_ID)];
const COMMON_LABELS = [...SERVICE_LABELS, L(sc.ATTR_HTTP_REQUEST_METHOD), L(sc.ATTR_HTTP_RESPONSE_STATUS_CODE), L(sc.ATTR_ERROR_TYPE), L(sc.ATTR_NETWORK_PROTOCOL_VERSION)];
export const SERVER_LABELS = [...COMMON_LABELS, L(sc.ATTR_HTTP_ROUTE), L(sc.ATTR_URL_SCHEME)];
export const CLIENT_LABELS = [...COMMON_LABELS, L(sc.ATTR_SERVER_ADDRESS), L(sc.ATTR_SERVER_PORT)];
const TARGET_INFO_LABELS = [...SERVICE_LABELS, L(sc.ATTR_PROCESS_PID), L(sc.ATTR_PROCESS_EXECUTABLE_NAME), L(sc.ATTR_CONTAINER_ID)];

type Labels = Record<string, string | number>;

interface HttpHistograms {
  duration: Histogram<string>;
  requestBody: Histogram<string>;
  responseBody: Histogram<string>;
}

export class PrometheusExporter implements HttpMetricsRecorder {
  readonly registry: Registry;
  readonly #server: HttpHistograms;
  readonly #client: HttpHistograms;
  readonly #targetInfo: Gauge<string>;
  readonly #ttlMs: number;
  /** instance id → last observation time (ms) */
  readonly #lastSeen = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;

  constructor(opts: PrometheusExporterOptions = {}) {
    this.registry = opts.registry ?? new Registry();
    this.#ttlMs = opts.seriesTtlMs ?? 300_000;
    this.#server = this.#histograms('server', SERVER_LABELS, sc.METRIC_HTTP_SERVER_REQUEST_DURATION, sc.METRIC_HTTP_SERVER_REQUEST_BODY_SIZE, sc.METRIC_HTTP_SERVER_RESPONSE_BODY_SIZE);
    this.#client = this.#histograms('client', CLIENT_LABELS, sc.METRIC_HTTP_CLIENT_REQUEST_DURATION, sc.METRIC_HTTP_CLIENT_REQUEST_BODY_SIZE, sc.METRIC_HTTP_CLIENT_RESPONSE_BODY_SIZE);
    this.#targetInfo = new Gauge({
      name: 'target_info',
      help: 'Target metadata: the OpenTelemetry resource of each observed service instance.',
      labelNames: TARGET_INFO_LABELS,
      registers: [this.registry],
    });
    this.#timer = setInterval(() => void this.sweep(), opts.sweepIntervalMs ?? Math.min(this.#ttlMs / 2, 60_000));
    this.#timer.unref();
  }

  /** The exposition format's content type, for the HTTP response. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of everything in the registry. */
  metricsText(): Promise<string> {
    return this.registry.metrics();
  }

  recordHttp(o: HttpObservation): void {
    const id = o.service.instanceId;
    if (!this.#lastSeen.has(id)) this.#targetInfo.set(targetInfoLabels(o.service), 1);
    this.#lastSeen.set(id, Date.now());
    const labels = serviceLabels(o.service);
    labels[L(sc.ATTR_HTTP_REQUEST_METHOD)] = o.method;
    if (o.statusCode !== undefined) labels[L(sc.ATTR_HTTP_RESPONSE_STATUS_CODE)] = o.statusCode;
    if (o.errorType !== undefined) labels[L(sc.ATTR_ERROR_TYPE)] = o.errorType;
    if (o.protocolVersion !== undefined) labels[L(sc.ATTR_NETWORK_PROTOCOL_VERSION)] = o.protocolVersion;
    let h: HttpHistograms;
    if (o.kind === 'server') {
      h = this.#server;
      if (o.route !== undefined) labels[L(sc.ATTR_HTTP_ROUTE)] = o.route;
      labels[L(sc.ATTR_URL_SCHEME)] = o.scheme;
    } else {
      h = this.#client;
      if (o.serverAddress !== undefined) labels[L(sc.ATTR_SERVER_ADDRESS)] = o.serverAddress;
      if (o.serverPort !== undefined) labels[L(sc.ATTR_SERVER_PORT)] = o.serverPort;
    }
    h.duration.observe(labels, o.durationSeconds);
    if (o.requestBodySize !== undefined) h.requestBody.observe(labels, o.requestBodySize);
    if (o.responseBodySize !== undefined) h.responseBody.observe(labels, o.responseBodySize);
  }

  /** Nothing to do at once: the instance's series expire after the TTL, so a last scrape still sees them. */
  forgetService(_service: ServiceIdentity): void {}

  /** Removes the series of instances idle for longer than the TTL. */
  async sweep(nowMs = Date.now()): Promise<void> {
    const expired = new Set<string>();
    for (const [id, seen] of this.#lastSeen) if (nowMs - seen > this.#ttlMs) expired.add(id);
    if (expired.size === 0) return;
    for (const id of expired) this.#lastSeen.delete(id);
    const instanceLabel = L(sc.ATTR_SERVICE_INSTANCE_ID);
    const metrics: Array<Histogram<string> | Gauge<string>> = [...Object.values(this.#server), ...Object.values(this.#client), this.#targetInfo];
    for (const m of metrics) {
      const seen = new Set<string>();
      for (const v of (await m.get()).values) {
        const id = v.labels[instanceLabel];
        if (typeof id !== 'string' || !expired.has(id)) continue;
        // A histogram reports several values (buckets, sum, count) per series: strip
        // the bucket's `le` and remove each series once.
        const { le: _le, ...labels } = v.labels;
        const key = JSON.stringify(labels);
        if (seen.has(key)) continue;
        seen.add(key);
        m.remove(labels as Labels);
      }
    }
  }

  /** Stops the sweep timer (the registry stays readable). */
  close(): void {
    clearInterval(this.#timer);
  }

  #histograms(kind: string, labelNames: string[], duration: string, requestBody: string, responseBody: string): HttpHistograms {
    const make = (otelName: string, unit: 's' | 'By', help: string, buckets: readonly number[]) =>
      new Histogram({ name: prometheusMetricName(otelName, unit), help, labelNames, buckets: [...buckets], registers: [this.registry] });
    return {
      duration: make(duration, 's', `Duration of HTTP ${kind} requests.`, sc.HTTP_DURATION_BUCKETS),
      requestBody: make(requestBody, 'By', `Size of HTTP ${kind} request bodies.`, sc.HTTP_BODY_SIZE_BUCKETS),
      responseBody: make(responseBody, 'By', `Size of HTTP ${kind} response bodies.`, sc.HTTP_BODY_SIZE_BUCKETS),
    };
  }
}

function serviceLabels(s: ServiceIdentity): Labels {
  const labels: Labels = { [L(sc.ATTR_SERVICE_NAME)]: s.name, [L(sc.ATTR_SERVICE_INSTANCE_ID)]: s.instanceId };
  if (s.namespace !== undefined) labels[L(sc.ATTR_SERVICE_NAMESPACE)] = s.namespace;
  return labels;
}

function targetInfoLabels(s: ServiceIdentity): Labels {
  const labels = serviceLabels(s);
  labels[L(sc.ATTR_PROCESS_PID)] = s.pid;
  labels[L(sc.ATTR_PROCESS_EXECUTABLE_NAME)] = s.executableName;
  if (s.containerId !== undefined) labels[L(sc.ATTR_CONTAINER_ID)] = s.containerId;
  return labels;
}
