// HTTP metric aggregation: explicit-bucket histograms per series, shared by every
// metrics exporter (Prometheus renders them at scrape time, OTLP exports them
// on its interval). Aggregating once here, instead of once per exporter SDK,
// keeps the per-request cost to a key lookup and three bucket increments.
//
// A series is one service instance × kind × the semconv metric attributes, held
// in a SeriesTable (bounded, idle instances expire): past maxSeries, new
// attribute sets of an instance go to that instance's overflow series per kind,
// marked `otel.metric.overflow: true` as the OTel metrics SDK does (instances
// are capped by HttpTelemetry's maxServices).
import { type HistogramState, histogram, observe } from './histogram-state.js';
import type { HttpRequestFacts } from './http-request-facts.js';
import type { RequestRecord } from './request-record.js';
import * as sc from './semconv.js';
import { OVERFLOW_ATTRIBUTE, SeriesTable, type SeriesTableOptions } from './series-table.js';
import type { ServiceIdentity } from './span.js';

export type { HistogramState };
export { OVERFLOW_ATTRIBUTE };

export type SeriesAttributes = Readonly<Record<string, string | number | boolean>>;

export interface HttpSeries {
  readonly kind: 'server' | 'client';
  readonly service: ServiceIdentity;
  /** Semconv metric attributes, e.g. {'http.request.method': 'GET', 'http.route': '/users/{id}'}. */
  readonly attributes: SeriesAttributes;
  readonly duration: HistogramState;
  readonly requestBodySize: HistogramState;
  readonly responseBodySize: HistogramState;
  /** When the series began (ms since the epoch): the start of its cumulative values. */
  readonly startTimeMs: number;
}

export type HttpMetricsOptions = SeriesTableOptions;

/** How an instance's series are found from an observation. */
interface HttpIndex {
  /**
   * Lookup by (route on the server side, or server address:port on the client
   * side) then seriesCode(): no key string is built per observation.
   */
  byCode: Map<string, Map<number, HttpSeries>>;
  /** Series whose attribute values seriesCode() does not cover, by full key. */
  other: Map<string, HttpSeries>;
  overflow: { server?: HttpSeries; client?: HttpSeries };
}

export class HttpMetrics extends SeriesTable<HttpSeries, HttpIndex> {
  constructor(opts: HttpMetricsOptions = {}) {
    super(opts, () => ({ byCode: new Map(), other: new Map(), overflow: {} }));
  }

  /**
   * One HTTP request, with the caller's clock reading (ms since the epoch): its
   * facts give the attributes (route and metric peer as telemetry bounded them).
   */
  record(r: RequestRecord<HttpRequestFacts>, nowMs: number): void {
    const o = r.detail;
    const inst = this.instance(r.service, nowMs);
    const index = inst.index;
    const code = seriesCode(o);
    let byCode: Map<number, HttpSeries> | undefined;
    let key: string | undefined;
    let s: HttpSeries | undefined;
    if (code >= 0) {
      const first = o.kind === 'server' ? o.route ?? NO_VALUE : `${o.metricServerAddress ?? NO_VALUE}:${o.metricServerPort ?? ''}`;
      byCode = index.byCode.get(first);
      if (byCode === undefined) {
        byCode = new Map();
        index.byCode.set(first, byCode);
      }
      s = byCode.get(code);
    } else {
      key = `${o.kind}\0${o.method}\0${o.statusCode ?? ''}\0${o.kind === 'server' ? o.route ?? '' : ''}\0${o.errorType ?? ''}\0${o.metricServerAddress ?? ''}\0${o.metricServerPort ?? ''}\0${o.protocolVersion ?? ''}\0${o.scheme}`;
      s = index.other.get(key);
    }
    if (s === undefined) {
      if (this.overflow()) {
        s = index.overflow[o.kind] ??= this.add(inst, newSeries(o.kind, r.service, { [OVERFLOW_ATTRIBUTE]: true }, nowMs));
      } else {
        s = this.add(inst, newSeries(o.kind, r.service, seriesAttributes(o), nowMs));
        if (byCode !== undefined) byCode.set(code, s);
        else index.other.set(key!, s);
      }
    }
    observe(s.duration, (o.endNs - o.startNs) / 1e9);
    if (o.requestBodySize !== undefined) observe(s.requestBodySize, o.requestBodySize);
    if (o.responseBodySize !== undefined) observe(s.responseBodySize, o.responseBodySize);
  }
}

/** Stands for an absent route or address in index keys (no path or host holds a NUL). */
const NO_VALUE = '\0';

const METHOD_CODES = new Map(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE', 'QUERY', sc.METHOD_OTHER].map((m, i) => [m, i]));
const VERSION_CODES = new Map(['1.1', '1.0', '0.9', '2.0', '3.0', '1.2', '2'].map((v, i) => [v, i + 1]));
/** error.type values telemetry reports: a status code, an incomplete exchange, a malformed response. */
const ERROR_CODES = new Map<string, number>(['closed-before-response', 'closed-mid-response', 'evicted', 'timeout', 'malformed-response'].map((e, i) => [e, i + 1]));
for (let status = 100; status < 600; status++) ERROR_CODES.set(String(status), 6 + status - 100);
// HTTP/2: an operation that got no response, and reset streams (RFC 9113 §7 codes).
['incomplete', 'CANCEL', 'REFUSED_STREAM', 'INTERNAL_ERROR', 'PROTOCOL_ERROR', 'NO_ERROR'].forEach((e, i) => ERROR_CODES.set(e, 506 + i));

/**
 * The observation's attributes besides the route (server) or server address and
 * port (client), as one small integer: kind (1 bit), method (4), status code (10),
 * error.type (9), protocol version (3), scheme (1). -1 when a value is outside
 * these tables (the series is then looked up by a full key).
 */
function seriesCode(o: HttpRequestFacts): number {
  const method = METHOD_CODES.get(o.method);
  if (method === undefined) return -1;
  const status = o.statusCode ?? 0;
  if (!Number.isInteger(status) || status < 0 || status > 1023) return -1;
  const error = o.errorType === undefined ? 0 : ERROR_CODES.get(o.errorType);
  if (error === undefined) return -1;
  const version = o.protocolVersion === undefined ? 0 : VERSION_CODES.get(o.protocolVersion);
  if (version === undefined) return -1;
  const scheme = o.scheme === 'http' ? 0 : o.scheme === 'https' ? 1 : -1;
  if (scheme < 0) return -1;
  if (o.kind === 'client' && o.metricServerPort !== undefined && !Number.isInteger(o.metricServerPort)) return -1;
  return (((((o.kind === 'server' ? 0 : 1) * 16 + method) * 1024 + status) * 512 + error) * 8 + version) * 2 + scheme;
}

function newSeries(kind: 'server' | 'client', service: ServiceIdentity, attributes: SeriesAttributes, now: number): HttpSeries {
  return {
    kind,
    service,
    attributes,
    duration: histogram(sc.HTTP_DURATION_BUCKETS),
    requestBodySize: histogram(sc.HTTP_BODY_SIZE_BUCKETS),
    responseBodySize: histogram(sc.HTTP_BODY_SIZE_BUCKETS),
    startTimeMs: now,
  };
}

/** The semconv attributes of a series, in a stable order. */
function seriesAttributes(o: HttpRequestFacts): SeriesAttributes {
  const a: Record<string, string | number> = { [sc.ATTR_HTTP_REQUEST_METHOD]: o.method };
  if (o.statusCode !== undefined) a[sc.ATTR_HTTP_RESPONSE_STATUS_CODE] = o.statusCode;
  if (o.errorType !== undefined) a[sc.ATTR_ERROR_TYPE] = o.errorType;
  if (o.protocolVersion !== undefined) a[sc.ATTR_NETWORK_PROTOCOL_VERSION] = o.protocolVersion;
  if (o.kind === 'server') {
    if (o.route !== undefined) a[sc.ATTR_HTTP_ROUTE] = o.route;
    a[sc.ATTR_URL_SCHEME] = o.scheme;
  } else {
    if (o.metricServerAddress !== undefined) a[sc.ATTR_SERVER_ADDRESS] = o.metricServerAddress;
    if (o.metricServerPort !== undefined) a[sc.ATTR_SERVER_PORT] = o.metricServerPort;
  }
  return a;
}
