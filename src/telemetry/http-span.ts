// HttpFacts → Span with OpenTelemetry HTTP semantic-convention attributes
// (https://opentelemetry.io/docs/specs/semconv/http/http-spans/). Only names and
// values listed here ever leave the agent: no header other than User-Agent is
// copied, so Authorization, Cookie and Set-Cookie values cannot appear.
import type { Exchange } from '../capture/exchange.js';
import type { MonotonicClock } from './clock.js';
import type { HttpFacts } from './http-facts.js';
import { newSpanId, newTraceId } from './ids.js';
import * as sc from './semconv.js';
import type { AttributeValue, ServiceIdentity, Span } from './span.js';
import { parseTraceparent } from './traceparent.js';
import { MAX_PATH_LENGTH, buildFullUrl, clip, scrubQuery } from './url.js';

export const MAX_USER_AGENT_LENGTH = 256;

export interface SpanInput {
  facts: HttpFacts;
  ex: Exchange;
  service: ServiceIdentity;
  /** http.route (server) or url.template (client). */
  route?: string;
  clock: MonotonicClock;
}

export function buildHttpSpan({ facts, ex, service, route, clock }: SpanInput): Span {
  const f = facts;
  const a: Record<string, AttributeValue> = {};
  a[sc.ATTR_HTTP_REQUEST_METHOD] = f.method;
  if (f.method === sc.METHOD_OTHER) a[sc.ATTR_HTTP_REQUEST_METHOD_ORIGINAL] = f.request.method;
  if (f.statusCode !== undefined) a[sc.ATTR_HTTP_RESPONSE_STATUS_CODE] = f.statusCode;
  if (f.errorType !== undefined) a[sc.ATTR_ERROR_TYPE] = f.errorType;
  if (f.serverAddress !== undefined) a[sc.ATTR_SERVER_ADDRESS] = f.serverAddress;
  if (f.serverPort !== undefined) a[sc.ATTR_SERVER_PORT] = f.serverPort;
  a[sc.ATTR_NETWORK_PEER_ADDRESS] = ex.remote.address;
  a[sc.ATTR_NETWORK_PEER_PORT] = ex.remote.port;
  a[sc.ATTR_NETWORK_TRANSPORT] = 'tcp';
  if (f.request.version !== undefined) a[sc.ATTR_NETWORK_PROTOCOL_VERSION] = f.request.version;
  if (f.request.userAgent !== undefined) a[sc.ATTR_USER_AGENT_ORIGINAL] = clip(f.request.userAgent, MAX_USER_AGENT_LENGTH);
  if (f.requestBodySize !== undefined) a[sc.ATTR_HTTP_REQUEST_BODY_SIZE] = f.requestBodySize;
  if (f.responseBodySize !== undefined) a[sc.ATTR_HTTP_RESPONSE_BODY_SIZE] = f.responseBodySize;

  let traceId: string;
  let parentSpanId: string | undefined;
  const incoming = parseTraceparent(f.request.traceparent);
  if (incoming !== undefined) {
    // Server: the caller's span is our parent. Client: the application (or a proxy)
    // already propagates a context; our span joins that trace under the same parent.
    traceId = incoming.traceId;
    parentSpanId = incoming.parentSpanId;
  } else {
    traceId = newTraceId();
  }

  if (f.kind === 'server') {
    a[sc.ATTR_URL_SCHEME] = f.scheme;
    if (f.target.path !== '') a[sc.ATTR_URL_PATH] = clip(f.target.path, MAX_PATH_LENGTH);
    if (f.target.query !== undefined) a[sc.ATTR_URL_QUERY] = scrubQuery(f.target.query);
    if (route !== undefined) a[sc.ATTR_HTTP_ROUTE] = route;
    a[sc.ATTR_CLIENT_ADDRESS] = ex.remote.address;
    a[sc.ATTR_CLIENT_PORT] = ex.remote.port;
  } else {
    if (f.target.form !== 'authority') {
      a[sc.ATTR_URL_FULL] = buildFullUrl(f.scheme, f.serverAddress ?? ex.remote.address, f.serverPort, f.target.path, f.target.query);
    }
    if (route !== undefined) a[sc.ATTR_URL_TEMPLATE] = route;
  }

  return {
    traceId,
    spanId: newSpanId(),
    ...(parentSpanId === undefined ? {} : { parentSpanId, parentSampled: incoming!.sampled }),
    name: spanName(f.method, route),
    kind: f.kind,
    startTimeUnixNs: clock.toEpochNs(f.startNs),
    endTimeUnixNs: clock.toEpochNs(f.endNs),
    status: f.errorType === undefined ? 'unset' : 'error',
    // Semconv: no description for status-code errors (it would repeat the code).
    ...(f.errorType === undefined || f.errorType === String(f.statusCode) ? {} : { statusMessage: f.errorType }),
    attributes: a,
    service,
  };
}

/** `{method} {route}`, or the method alone; `HTTP` when the method is unknown (semconv). */
export function spanName(method: string, route: string | undefined): string {
  const m = method === sc.METHOD_OTHER ? 'HTTP' : method;
  return route === undefined ? m : `${m} ${route}`;
}
