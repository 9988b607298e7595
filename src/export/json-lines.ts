// Spans as JSON lines, one object per line, for files and log pipelines:
//
//   {"time":"2025-05-01T12:00:00.123Z","traceId":"…","spanId":"…","parentSpanId":"…",
//    "name":"GET /users/{id}","kind":"server","startTimeUnixNano":"1746100800123456768",
//    "endTimeUnixNano":"…","durationMs":2.41,"status":"unset",
//    "attributes":{"http.request.method":"GET",…},
//    "resource":{"service.name":"app","service.instance.id":"…","process.pid":4121,…}}
//
// Nanosecond timestamps are strings, as in OTLP/JSON, because they exceed the
// integers JSON readers keep exact.
import type { Writable } from 'node:stream';
import type { Span } from '../telemetry/index.js';
import { semconv as sc } from '../telemetry/index.js';
import { BoundedLineWriter } from './bounded-writer.js';
import type { ExporterStats } from './self-metrics.js';

export function spanToJson(span: Span): Record<string, unknown> {
  const s = span.service;
  const resource: Record<string, string | number> = {
    [sc.ATTR_SERVICE_NAME]: s.name,
    [sc.ATTR_SERVICE_INSTANCE_ID]: s.instanceId,
    [sc.ATTR_PROCESS_PID]: s.pid,
    [sc.ATTR_PROCESS_EXECUTABLE_NAME]: s.executableName,
  };
  if (s.namespace !== undefined) resource[sc.ATTR_SERVICE_NAMESPACE] = s.namespace;
  if (s.containerId !== undefined) resource[sc.ATTR_CONTAINER_ID] = s.containerId;
  return {
    time: new Date(Math.floor(span.startTimeUnixNs / 1e6)).toISOString(),
    traceId: span.traceId,
    spanId: span.spanId,
    ...(span.parentSpanId === undefined ? {} : { parentSpanId: span.parentSpanId }),
    name: span.name,
    kind: span.kind,
    startTimeUnixNano: BigInt(Math.round(span.startTimeUnixNs)).toString(),
    endTimeUnixNano: BigInt(Math.round(span.endTimeUnixNs)).toString(),
    durationMs: Math.round(Math.max(0, span.endTimeUnixNs - span.startTimeUnixNs) / 1e3) / 1e3,
    status: span.status,
    ...(span.statusMessage === undefined ? {} : { statusMessage: span.statusMessage }),
    attributes: span.attributes,
    resource,
  };
}

export class JsonLinesSpanWriter {
  readonly #out: BoundedLineWriter;

  constructor(stream: Writable, maxBufferedBytes?: number) {
    this.#out = new BoundedLineWriter(stream, maxBufferedBytes);
  }

  /** The listener to pass to HttpTelemetry.onSpan. */
  readonly write = (span: Span): void => {
    this.#out.writeLine(JSON.stringify(spanToJson(span)));
  };

  stats(): ExporterStats {
    return this.#out.stats();
  }
}
