// A finished span, shaped by OpenTelemetry's data model and semantic
// conventions. Produced by protocol telemetry, consumed by exporters and the UI.

export type SpanKind = 'server' | 'client' | 'internal' | 'producer' | 'consumer';
export type SpanStatus = 'unset' | 'ok' | 'error';
export type AttributeValue = string | number | boolean;

export interface ServiceIdentity {
  /** service.name */
  name: string;
  /** service.namespace, when known */
  namespace?: string;
  /** service.instance.id */
  instanceId: string;
  /** process.pid */
  pid: number;
  /** process.executable.name */
  executableName: string;
  /** process.executable.path */
  executablePath?: string;
  /** process.command_line (scrubbed) */
  commandLine?: string;
  /** container.id when the process runs in a container */
  containerId?: string;
}

export interface Span {
  /** 32 lowercase hex chars */
  traceId: string;
  /** 16 lowercase hex chars */
  spanId: string;
  parentSpanId?: string;
  /**
   * The W3C trace-flags sampled bit of the traceparent the span continues, when
   * there was one (parent-based samplers follow it); undefined for a new trace.
   */
  parentSampled?: boolean;
  /**
   * The span's ids went out on the wire: the kernel wrote them into the
   * request's traceparent, so another host's span may be its child. Its trace
   * id must not change (trace linking joins its local parent's trace to it).
   */
  contextSent?: boolean;
  name: string;
  kind: SpanKind;
  /** Wall-clock start and end, nanoseconds since the Unix epoch. */
  startTimeUnixNs: number;
  endTimeUnixNs: number;
  status: SpanStatus;
  statusMessage?: string;
  /** Semantic-convention attributes, e.g. http.request.method, http.route. */
  attributes: Record<string, AttributeValue>;
  service: ServiceIdentity;
}
