// waggle Span → the SDK's ReadableSpan, the shape the official OTLP trace
// exporters serialise. Spans are already finished, so this is a plain object.
import { type HrTime, SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Span, SpanKind as WaggleSpanKind } from '../telemetry/index.js';
import { DISTRO_NAME, DISTRO_VERSION } from './otlp-resource.js';

const KINDS: Record<WaggleSpanKind, SpanKind> = {
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  internal: SpanKind.INTERNAL,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
};

const SCOPE = { name: DISTRO_NAME, version: DISTRO_VERSION };

export function toReadableSpan(span: Span, resource: Resource): ReadableSpan {
  const ctx = { traceId: span.traceId, spanId: span.spanId, traceFlags: TraceFlags.SAMPLED };
  const durationNs = Math.max(0, span.endTimeUnixNs - span.startTimeUnixNs);
  return {
    name: span.name,
    kind: KINDS[span.kind],
    spanContext: () => ctx,
    ...(span.parentSpanId === undefined
      ? {}
      : {
          parentSpanContext: {
            traceId: span.traceId,
            spanId: span.parentSpanId,
            traceFlags: span.parentSampled === false ? TraceFlags.NONE : TraceFlags.SAMPLED,
            isRemote: true,
          },
        }),
    startTime: toHrTime(span.startTimeUnixNs),
    endTime: toHrTime(span.endTimeUnixNs),
    duration: toHrTime(durationNs),
    status:
      span.status === 'error'
        ? { code: SpanStatusCode.ERROR, ...(span.statusMessage === undefined ? {} : { message: span.statusMessage }) }
        : { code: span.status === 'ok' ? SpanStatusCode.OK : SpanStatusCode.UNSET },
    attributes: span.attributes,
    links: [],
    events: [],
    ended: true,
    resource,
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

/** [seconds, nanoseconds] from nanoseconds since the epoch. */
export function toHrTime(ns: number): HrTime {
  const seconds = Math.floor(ns / 1e9);
  return [seconds, Math.max(0, Math.min(999_999_999, Math.round(ns - seconds * 1e9)))];
}
