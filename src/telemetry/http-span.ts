// HttpRequestFacts (HTTP/1 or HTTP/2) → Span with OpenTelemetry HTTP semantic-convention attributes
// (https://opentelemetry.io/docs/specs/semconv/http/http-spans/). Only names and
// values listed here ever leave the agent: no header other than User-Agent is
// copied, so Authorization, Cookie and Set-Cookie values cannot appear.
import type { CarriedContext } from '../capture/exchange.js';
import type { HttpRequestFacts } from './http-request-facts.js';
import { newSpanId, newTraceId } from './ids.js';
import type { RequestRecord } from './request-record.js';
import * as sc from './semconv.js';
import type { AttributeValue, Span } from './span.js';
import type { TraceParent } from './traceparent.js';
import { MAX_PATH_LENGTH, buildFullUrl, clip, scrubQuery } from './url.js';

export const MAX_USER_AGENT_LENGTH = 256;

/**
 * The span of an HTTP request: its facts, the record's name, service and
 * wall-clock times, and the request's valid incoming traceparent, if any (the
 * span continues that trace); else, for a client request, the ids the kernel
 * wrote into it (traceparent injection), which the span takes.
 */
export function buildHttpSpan(f: HttpRequestFacts, record: RequestRecord, parent: TraceParent | undefined, carried?: CarriedContext): Span {
  const route = f.route;
  const a: Record<string, AttributeValue> = {};
  a[sc.ATTR_HTTP_REQUEST_METHOD] = f.method;
  if (f.method === sc.METHOD_OTHER) a[sc.ATTR_HTTP_REQUEST_METHOD_ORIGINAL] = f.methodOriginal;
  if (f.statusCode !== undefined) a[sc.ATTR_HTTP_RESPONSE_STATUS_CODE] = f.statusCode;
  if (f.errorType !== undefined) a[sc.ATTR_ERROR_TYPE] = f.errorType;
  const serverAddress = f.serverAddress();
  const serverPort = f.serverPort();
  if (serverAddress !== undefined) a[sc.ATTR_SERVER_ADDRESS] = serverAddress;
  if (serverPort !== undefined) a[sc.ATTR_SERVER_PORT] = serverPort;
  a[sc.ATTR_NETWORK_PEER_ADDRESS] = f.peer.address;
  a[sc.ATTR_NETWORK_PEER_PORT] = f.peer.port;
  a[sc.ATTR_NETWORK_TRANSPORT] = 'tcp';
  if (f.protocolVersion !== undefined) a[sc.ATTR_NETWORK_PROTOCOL_VERSION] = f.protocolVersion;
  const userAgent = f.userAgent();
  if (userAgent !== undefined) a[sc.ATTR_USER_AGENT_ORIGINAL] = clip(userAgent, MAX_USER_AGENT_LENGTH);
  if (f.requestBodySize !== undefined) a[sc.ATTR_HTTP_REQUEST_BODY_SIZE] = f.requestBodySize;
  if (f.responseBodySize !== undefined) a[sc.ATTR_HTTP_RESPONSE_BODY_SIZE] = f.responseBodySize;

  if (f.kind === 'server') {
    a[sc.ATTR_URL_SCHEME] = f.scheme;
    if (f.target.path !== '') a[sc.ATTR_URL_PATH] = clip(f.target.path, MAX_PATH_LENGTH);
    if (f.target.query !== undefined) a[sc.ATTR_URL_QUERY] = scrubQuery(f.target.query);
    if (route !== undefined) a[sc.ATTR_HTTP_ROUTE] = route;
    a[sc.ATTR_CLIENT_ADDRESS] = f.peer.address;
    a[sc.ATTR_CLIENT_PORT] = f.peer.port;
  } else {
    if (f.target.form !== 'authority') {
      a[sc.ATTR_URL_FULL] = buildFullUrl(f.scheme, serverAddress ?? f.peer.address, serverPort, f.target.path, f.target.query);
    }
    if (route !== undefined) a[sc.ATTR_URL_TEMPLATE] = route;
  }

  // Server: the caller's span is our parent. Client: the application (or a proxy)
  // already propagates a context; our span joins that trace under the same parent.
  const sent = parent === undefined ? carried : undefined;
  const span: Span = {
    traceId: parent !== undefined ? parent.traceId : (sent?.traceId ?? newTraceId()),
    spanId: sent?.spanId ?? newSpanId(),
    name: record.name,
    kind: f.kind,
    startTimeUnixNs: record.startTimeUnixNs,
    endTimeUnixNs: record.endTimeUnixNs,
    status: f.errorType === undefined ? 'unset' : 'error',
    attributes: a,
    service: record.service,
  };
  if (parent !== undefined) {
    span.parentSpanId = parent.parentSpanId;
    span.parentSampled = parent.sampled;
  }
  if (sent !== undefined) span.contextSent = true;
  // Semconv: no description for status-code errors (it would repeat the code).
  if (f.errorType !== undefined && f.errorType !== String(f.statusCode)) span.statusMessage = f.errorType;
  return span;
}

/** `{method} {route}`, or the method alone; `HTTP` when the method is unknown (semconv). */
export function spanName(method: string, route: string | undefined): string {
  const m = method === sc.METHOD_OTHER ? 'HTTP' : method;
  return route === undefined ? m : `${m} ${route}`;
}
