// Telemetry: Exchanges → spans and metric observations, with bounded routes.
export { HttpTelemetry, HTTP_TELEMETRY_DEFAULTS, type HttpTelemetryOptions, type HttpTelemetryStats, type ParseFailureCount, type RequestListener, type SpanListener } from './http-telemetry.js';
export { RequestRecord, SpanDetail, type RecordDetail, type RequestFamily } from './request-record.js';
export { HttpFacts } from './http-facts.js';
export { FramingLossCounter, FRAMING_LOSS_OTHER_PEER, type FramingLossSeries } from './framing-loss.js';
export { HttpMetrics, OVERFLOW_ATTRIBUTE, type HttpMetricsOptions, type HttpSeries, type HistogramState, type SeriesAttributes } from './http-metrics.js';
export { RouteResolver, ROUTE_DEFAULTS, UNMATCHED_ROUTE_MODES, type RouteOptions, type RouteResult, type UnmatchedRouteMode } from './routes.js';
export { RoutePatternError, compilePattern } from './route-patterns.js';
export { WILDCARD_ROUTE, FANOUT_PLACEHOLDER } from './route-table.js';
export { ID_PLACEHOLDER, isIdSegment } from './route-heuristic.js';
export { MonotonicClock } from './clock.js';
export { traceHash } from './ids.js';
export { parseTraceparent, type TraceParent } from './traceparent.js';
export { scrubQuery, REDACTED } from './url.js';
export * as semconv from './semconv.js';
export type { Span, SpanKind, SpanStatus, ServiceIdentity, AttributeValue } from './span.js';
