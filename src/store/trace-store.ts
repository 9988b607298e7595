// Whole traces for the UI's trace view: the linked spans (src/telemetry/trace-linker.ts)
// grouped by trace id. The linker releases a trace's spans with their final
// id, children first, so a trace here only grows, and a root arriving for an
// unknown trace is a lone span (not kept). Bounded: the most recently
// started traces (maxTraces), at most maxSpansPerTrace spans each; what does
// not fit is counted.
import type { Span } from '../telemetry/span.js';

export interface TraceStoreOptions {
  /** Traces kept (the oldest touched leaves first). Default 2000. */
  maxTraces?: number;
  /** Spans kept per trace. Default 256. */
  maxSpansPerTrace?: number;
}

export interface TraceQuery {
  /** Traces with a span of this service. */
  service?: string;
  /** …and a span of this one whose parent is a span of `service` (a service map edge). */
  calls?: string;
  /** Traces with a span whose name contains this (case-insensitive). */
  operation?: string;
  limit?: number;
}

export interface TraceListItem {
  traceId: string;
  /** The root span's (or the earliest span's, when the root is not here) name and service. */
  name: string;
  service: string;
  startMs: number;
  durationMs: number;
  spanCount: number;
  services: string[];
  errors: number;
}

export interface TraceSpanView {
  spanId: string;
  parentSpanId: string | null;
  /** 0 for roots; a span whose parent is not in the trace (a remote caller) is a root here. */
  depth: number;
  name: string;
  kind: string;
  service: string;
  pid: number;
  startMs: number;
  durationMs: number;
  status: string;
  statusCode: number | null;
}

export interface TraceView {
  traceId: string;
  startMs: number;
  durationMs: number;
  /** Depth-first, children by start time: the waterfall's rows. */
  spans: TraceSpanView[];
  /** Spans of this trace that did not fit. */
  dropped: number;
}

interface Trace {
  spans: Span[];
  dropped: number;
}

export class TraceStore {
  readonly #maxTraces: number;
  readonly #maxSpans: number;
  /** Insertion order = least recently touched first. */
  readonly #traces = new Map<string, Trace>();
  tracesEvicted = 0;
  spansDropped = 0;
  /** Roots of one-span traces, not kept. */
  lone = 0;

  constructor(opts: TraceStoreOptions = {}) {
    this.#maxTraces = Math.max(1, opts.maxTraces ?? 2000);
    this.#maxSpans = Math.max(1, opts.maxSpansPerTrace ?? 256);
  }

  get size(): number {
    return this.#traces.size;
  }

  /**
   * A linked span. A root whose trace is unknown is a span nothing was joined
   * to (children are released before their parents): not kept, so unlinked
   * traffic costs the store nothing. Counted in `lone`.
   */
  add(span: Span): void {
    let t = this.#traces.get(span.traceId);
    if (t === undefined && span.parentSpanId === undefined) {
      this.lone++;
      return;
    }
    if (t === undefined) {
      if (this.#traces.size >= this.#maxTraces) {
        this.#traces.delete(this.#traces.keys().next().value!);
        this.tracesEvicted++;
      }
      t = { spans: [], dropped: 0 };
    } else {
      this.#traces.delete(span.traceId); // touched: to the young end
    }
    this.#traces.set(span.traceId, t);
    if (t.spans.length >= this.#maxSpans) {
      t.dropped++;
      this.spansDropped++;
      return;
    }
    t.spans.push(span);
  }

  /** A kept span by id (a linear scan: for the UI's span page, not for ingest). */
  span(spanId: string): Span | undefined {
    for (const t of this.#traces.values()) for (const s of t.spans) if (s.spanId === spanId) return s;
    return undefined;
  }

  /** Recent traces matching the query, newest first. */
  list(q: TraceQuery = {}): TraceListItem[] {
    const limit = Math.max(1, Math.min(q.limit ?? 100, 1000));
    const op = q.operation?.toLowerCase();
    const out: TraceListItem[] = [];
    const ids = [...this.#traces.keys()];
    for (let i = ids.length - 1; i >= 0 && out.length < limit; i--) {
      const t = this.#traces.get(ids[i]!)!;
      if (q.service !== undefined && !t.spans.some((s) => s.service.name === q.service)) continue;
      if (q.calls !== undefined && !callsAcross(t.spans, q.service, q.calls)) continue;
      if (op !== undefined && !t.spans.some((s) => s.name.toLowerCase().includes(op))) continue;
      out.push(listItem(ids[i]!, t));
    }
    return out;
  }

  trace(traceId: string): TraceView | undefined {
    const t = this.#traces.get(traceId);
    if (t === undefined) return undefined;
    const byId = new Map(t.spans.map((s) => [s.spanId, s]));
    const children = new Map<string, Span[]>();
    const roots: Span[] = [];
    for (const s of t.spans) {
      if (s.parentSpanId !== undefined && byId.has(s.parentSpanId)) {
        const list = children.get(s.parentSpanId);
        if (list) list.push(s);
        else children.set(s.parentSpanId, [s]);
      } else roots.push(s);
    }
    const byStart = (a: Span, b: Span) => a.startTimeUnixNs - b.startTimeUnixNs;
    const rows: TraceSpanView[] = [];
    const visit = (s: Span, depth: number) => {
      rows.push(spanView(s, depth));
      for (const c of (children.get(s.spanId) ?? []).sort(byStart)) visit(c, depth + 1);
    };
    for (const r of roots.sort(byStart)) visit(r, 0);
    const start = Math.min(...t.spans.map((s) => s.startTimeUnixNs));
    const end = Math.max(...t.spans.map((s) => s.endTimeUnixNs));
    return { traceId, startMs: start / 1e6, durationMs: round3((end - start) / 1e6), spans: rows, dropped: t.dropped };
  }
}

function callsAcross(spans: Span[], from: string | undefined, to: string): boolean {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  return spans.some((s) => {
    if (s.service.name !== to || s.parentSpanId === undefined) return false;
    const p = byId.get(s.parentSpanId);
    return p !== undefined && p.service.name !== to && (from === undefined || p.service.name === from);
  });
}

function listItem(traceId: string, t: Trace): TraceListItem {
  const ids = new Set(t.spans.map((s) => s.spanId));
  let root = t.spans[0]!;
  for (const s of t.spans) {
    const isRoot = s.parentSpanId === undefined || !ids.has(s.parentSpanId);
    const rootIsRoot = root.parentSpanId === undefined || !ids.has(root.parentSpanId);
    if ((isRoot && !rootIsRoot) || (isRoot === rootIsRoot && s.startTimeUnixNs < root.startTimeUnixNs)) root = s;
  }
  const start = Math.min(...t.spans.map((s) => s.startTimeUnixNs));
  const end = Math.max(...t.spans.map((s) => s.endTimeUnixNs));
  return {
    traceId,
    name: root.name,
    service: root.service.name,
    startMs: start / 1e6,
    durationMs: round3((end - start) / 1e6),
    spanCount: t.spans.length + t.dropped,
    services: [...new Set(t.spans.map((s) => s.service.name))],
    errors: t.spans.filter((s) => s.status === 'error').length,
  };
}

function spanView(s: Span, depth: number): TraceSpanView {
  const code = s.attributes['http.response.status_code'];
  return {
    spanId: s.spanId,
    parentSpanId: s.parentSpanId ?? null,
    depth,
    name: s.name,
    kind: s.kind,
    service: s.service.name,
    pid: s.service.pid,
    startMs: s.startTimeUnixNs / 1e6,
    durationMs: round3((s.endTimeUnixNs - s.startTimeUnixNs) / 1e6),
    status: s.status,
    statusCode: typeof code === 'number' ? code : null,
  };
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
