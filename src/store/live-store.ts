// The embedded live store behind the UI: fed with finished requests
// (RequestRecords from telemetry's onRequest, whose Span is built only when
// kept; spans from elsewhere through RequestRecord.fromSpan), and
// security events and health snapshots, it keeps
//   - recent spans, bounded by count (errors and slow spans kept apart so a
//     flood of ordinary ones cannot push them out),
//   - RED aggregates per service, side and operation at 10 s × 15 min and
//     1 min × 1 h, with mergeable latency sketches,
//   - service-map edges,
// and answers the UI's queries. Everything is bounded by the options; what does
// not fit is counted (see metrics.ts). Services, operations and edges idle for
// longer than the history are forgotten.
import { TraceStore } from './trace-store.js';
import { RequestRecord } from '../telemetry/request-record.js';
import type { Span } from '../telemetry/span.js';
import { type Datastore, datastoreOf } from './datastore.js';
import { HealthStore } from './health.js';
import type { LogHistogram } from './log-histogram.js';
import { FINE_SLOTS, FINE_SLOT_MS, MAX_WINDOW_MS, RedSeries, Sample } from './red-series.js';
import { type OperationEntry, ServiceEntry } from './service-entry.js';
import type { SpanRing } from './span-ring.js';
import { ServiceMap } from './service-map.js';
import { SecurityEventStore } from './security-events.js';
import { type Endpoint, type Side, clientTarget, clientTargetOf, durationNs, num, peerLabel, sideOf } from './span-fields.js';
import {
  DISPLAY_BOUNDS_MS,
  DISPLAY_BOUNDS_NS,
  type MapView,
  type OperationView,
  type OverviewView,
  type RedSummary,
  type ServiceSummary,
  type ServiceView,
  type SideView,
  type SpanSummary,
  type TimelineView,
  round3,
  summarise,
} from './views.js';

export interface LiveStoreOptions {
  /** Spans kept for the traces page, across all services. Default 10,000. */
  maxSpans?: number;
  /** Ordinary spans each service keeps per second (sampled by trace, see span-sampler.ts); errors and slow spans have their own allowance. Default 50. */
  spansPerSecondPerService?: number;
  /** Distinct services. Default 200; spans of further services count as dropped. */
  maxServices?: number;
  /** Distinct operations (route/span name, and peer on the client side) per service. Default 200. */
  maxOperationsPerService?: number;
  /** Distinct operations across all services. Default 4,000. */
  maxOperations?: number;
  /** Service-map edges. Default 1,000. */
  maxEdges?: number;
  /** Security events kept. Default 2,000. */
  maxSecurityEvents?: number;
  /** Whole (linked) traces kept for the trace view. Default 2,000. */
  maxTraces?: number;
  /** Clock, ms since the epoch (tests). */
  now?: () => number;
  /** Addresses of this host, to join calls on the service map (default: os.networkInterfaces()). */
  localAddresses?: () => Iterable<string>;
}

export interface SpanQuery {
  service?: string;
  side?: Side;
  /** Substring of the span name (e.g. a route). */
  operation?: string;
  status?: 'error' | 'ok';
  minDurationMs?: number;
  traceId?: string;
  limit?: number;
}

/** Operations past a service's cap are counted under this name. */
export const OTHER_OPERATIONS = '(other operations)';
/** Shares of a service's span budget kept for errors and for slow spans. */
const ERROR_SHARE = 0.2;
const SLOW_SHARE = 0.2;
const MAX_QUERY_SPANS = 1_000;

export class LiveStore {
  readonly health = new HealthStore();
  readonly security: SecurityEventStore;
  /** Whole traces (linked spans, addLinkedSpan) for the trace view. */
  readonly traces: TraceStore;
  private readonly services = new Map<string, ServiceEntry>();
  private readonly map: ServiceMap;
  private readonly opts: Required<Omit<LiveStoreOptions, 'localAddresses' | 'maxTraces'>>;
  private operationCount = 0;
  private lastSweepMs = 0;
  /** Reused for every span (see Sample). */
  private readonly sample = new Sample();
  /** Cached sum of kept spans; undefined when it must be recounted. */
  private spanTotal: number | undefined = 0;
  /** Sampled average size of a span's attributes, for the memory estimate. */
  private spanBytesAvg = 600;
  /** Bumped on every change; the live stream only pushes when it moved. */
  version = 0;

  // Self-telemetry (exported by metrics.ts).
  spansIngested = 0;
  spansEvicted = 0;
  /** Counted in the aggregates but not kept as spans (sampling). */
  spansNotKept = 0;
  spansLate = 0;
  spansDroppedServiceCap = 0;
  operationsCollapsed = 0;

  constructor(opts: LiveStoreOptions = {}) {
    this.opts = {
      maxSpans: positive(opts.maxSpans, 10_000, 'maxSpans'),
      spansPerSecondPerService: positive(opts.spansPerSecondPerService, 50, 'spansPerSecondPerService'),
      maxServices: positive(opts.maxServices, 200, 'maxServices'),
      maxOperationsPerService: positive(opts.maxOperationsPerService, 200, 'maxOperationsPerService'),
      maxOperations: positive(opts.maxOperations, 4_000, 'maxOperations'),
      maxEdges: positive(opts.maxEdges, 1_000, 'maxEdges'),
      maxSecurityEvents: positive(opts.maxSecurityEvents, 2_000, 'maxSecurityEvents'),
      now: opts.now ?? Date.now,
    };
    this.security = new SecurityEventStore(this.opts.maxSecurityEvents);
    this.traces = new TraceStore({ maxTraces: positive(opts.maxTraces, 2_000, 'maxTraces') });
    this.map = new ServiceMap({ maxEdges: this.opts.maxEdges, maxEndpoints: 8_192, ...(opts.localAddresses ? { localAddresses: opts.localAddresses } : {}) });
  }

  now(): number {
    return this.opts.now();
  }

  addSpans(spans: Iterable<Span>): void {
    for (const s of spans) this.addSpan(s);
  }

  addSpan(span: Span): void {
    this.addRequest(RequestRecord.fromSpan(span));
  }

  /** A span as the trace linker released it (final trace id and parent): kept with its trace for the trace view. */
  addLinkedSpan(span: Span): void {
    this.traces.add(span);
    this.version++;
  }

  /**
   * One finished request (HttpTelemetry.onRequest): aggregated like a span, and
   * its Span built only when the store keeps it.
   */
  addRequest(r: RequestRecord): void {
    this.spansIngested++;
    this.version++;
    const ms = r.endTimeUnixNs / 1e6;
    const d = r.endTimeUnixNs - r.startTimeUnixNs;
    const ns = d > 0 && Number.isFinite(d) ? d : 0;
    const error = r.error;
    const svc = this.serviceFor(r.service.name || r.service.executableName || 'unknown');
    if (!svc) {
      this.spansDroppedServiceCap++;
      return;
    }
    if (ms > svc.lastMs) svc.lastMs = ms;
    svc.noteInstance(r.service, ms);

    let slow = false;
    const side = sideOf(r);
    if (side) {
      // Bucket (a logarithm) and slots worked out once for the six rings this span feeds.
      const sample = this.sample.set(ms, ns, error);
      if (!svc.side(side).add(sample)) this.spansLate++;
      // A database, cache or broker operation (undefined for HTTP).
      const datastore = datastoreOf(r);
      // A client span's destination, worked out once for its operation and its map edge.
      const target = side === 'client' ? clientTargetOf(r) : undefined;
      const peer = target && (datastore ? `${datastore.system} ${peerLabel(target)}` : peerLabel(target));
      const op = this.operationFor(svc, side, r.name, peer, target?.peer, datastore);
      op.series.add(sample);
      slow = svc.isSlow(op, ms, ns);
      if (target) this.map.onClientSpan(target, peer!, svc.name, sample, datastore);
      // serverLocal() and serverCaller() of the request, without the objects.
      else this.map.onServerSpan(r.localAddress ?? '*', r.localPort ?? r.serverPort(), r.peerAddress, svc.name, sample, datastore);
    }

    let ring: SpanRing | undefined;
    if (error) ring = svc.errorLimiter.take(ms) ? svc.errors : undefined;
    else if (slow && svc.slowLimiter.take(ms)) ring = svc.slow;
    else {
      const p = svc.sampler.threshold(ms);
      ring = p >= 1 || r.traceHash() < p ? svc.recent : undefined;
    }
    if (ring) {
      const span = r.span();
      if (ring.push(span)) this.spansEvicted++;
      this.spanTotal = undefined;
      if ((this.spansIngested & 63) === 0) this.sampleSpanSize(span);
    } else {
      this.spansNotKept++;
    }

    // Reading the clock costs as much as a sketch update: look every 16 spans.
    if ((this.spansIngested & 15) === 0) {
      const now = this.now();
      if (now - this.lastSweepMs >= FINE_SLOT_MS) this.sweep(now);
    }
  }

  addSecurityEvent(event: Parameters<SecurityEventStore['add']>[0]): void {
    this.security.add(event);
    this.version++;
  }

  get spanCount(): number {
    if (this.spanTotal === undefined) {
      let n = 0;
      for (const svc of this.services.values()) n += svc.spanCount;
      this.spanTotal = n;
    }
    return this.spanTotal;
  }

  get serviceCount(): number {
    return this.services.size;
  }

  get operationTotal(): number {
    return this.operationCount;
  }

  get edgeCount(): number {
    return this.map.edgeCount;
  }

  get edgesDropped(): number {
    return this.map.edgesDropped;
  }

  /** A rough estimate of the bytes the store holds (sketches exactly, spans by sampled size). */
  byteEstimate(): number {
    let bytes = this.spanCount * (this.spanBytesAvg + 16);
    for (const s of this.services.values()) bytes += s.byteEstimate();
    return bytes + this.map.byteEstimate();
  }

  overview(windowMs = 60_000): OverviewView {
    const nowMs = this.now();
    const w = clampWindow(windowMs);
    const services: ServiceSummary[] = [];
    for (const svc of this.services.values()) {
      const server = sideSummary(svc.sides.server, nowMs, w);
      const client = sideSummary(svc.sides.client, nowMs, w);
      const main = svc.sides.server ?? svc.sides.client;
      const spark = main ? main.timeline(nowMs, FINE_SLOT_MS * (FINE_SLOTS - 1)).points.map((p) => round3(p.count / (FINE_SLOT_MS / 1000))) : [];
      services.push({ name: svc.name, instances: [...svc.instances.values()], server, client, spark, lastSeenMs: svc.lastMs });
    }
    services.sort((a, b) => (b.server?.rate ?? b.client?.rate ?? 0) - (a.server?.rate ?? a.client?.rate ?? 0) || a.name.localeCompare(b.name));
    return { nowMs, windowMs: w, services };
  }

  /** A service's page; `operation` narrows the timeline to one operation's series. */
  service(name: string, opts: { windowMs?: number; rangeMs?: number; operation?: string } = {}): ServiceView | undefined {
    const svc = this.services.get(name);
    if (!svc) return undefined;
    const nowMs = this.now();
    const windowMs = clampWindow(opts.windowMs ?? 60_000);
    const rangeMs = clampWindow(opts.rangeMs ?? 15 * 60_000);
    const sideView = (side: Side): SideView | null => {
      const series = svc.sides[side];
      if (!series) return null;
      const w = series.window(nowMs, windowMs);
      const operations: OperationView[] = [];
      let focus: RedSeries = series;
      for (const op of svc.operations.values()) {
        if (op.side !== side) continue;
        const ow = op.series.window(nowMs, windowMs);
        if (opts.operation !== undefined && opKey(op.side, op.name, op.peer) === opts.operation) focus = op.series;
        if (ow.count === 0 && nowMs - op.series.lastMs > windowMs) continue;
        operations.push({
          name: op.name,
          kind: op.datastore?.kind ?? 'http',
          system: op.datastore?.system ?? null,
          peer: op.peer ?? null,
          peerService: this.map.resolve(op.endpoint) ?? null,
          ...summarise(ow.count, ow.errors, ow.hist, ow.seconds),
        });
      }
      operations.sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
      const fw = focus === series ? w : focus.window(nowMs, windowMs);
      return {
        side,
        summary: summarise(w.count, w.errors, w.hist, w.seconds),
        operations,
        timeline: timelineOf(focus, nowMs, rangeMs),
        histogram: fw.hist.rebin(DISPLAY_BOUNDS_NS),
      };
    };
    return {
      name,
      nowMs,
      windowMs,
      rangeMs,
      boundsMs: DISPLAY_BOUNDS_MS.map((b) => (Number.isFinite(b) ? b : null)),
      instances: [...svc.instances.values()],
      server: sideView('server'),
      client: sideView('client'),
    };
  }

  /** Services and external peers with the calls between them in the window. */
  serviceMap(windowMs = 60_000): MapView {
    const nowMs = this.now();
    const w = clampWindow(windowMs);
    const { nodes, edges } = this.map.view(nowMs, w);
    const ids = new Set(nodes.map((n) => n.id));
    // Watched services' RED is their server side; datastores' (unwatched) the calls into them.
    const withSummary = nodes.map((n) => (n.service !== undefined ? { ...n, summary: sideSummary(this.services.get(n.service)?.sides.server, nowMs, w) } : n));
    // Services with traffic but no edges still belong on the map.
    for (const svc of this.services.values()) {
      const id = `service:${svc.name}`;
      if (ids.has(id)) continue;
      const summary = sideSummary(svc.sides.server, nowMs, w) ?? sideSummary(svc.sides.client, nowMs, w);
      if (summary) withSummary.push({ id, label: svc.name, type: 'service', service: svc.name, summary });
    }
    for (const e of edges) {
      e.rate = round3(e.rate);
      e.errorRatio = round3(e.errorRatio);
      e.p50Ms = round3(e.p50Ms);
      e.p95Ms = round3(e.p95Ms);
      e.p99Ms = round3(e.p99Ms);
    }
    return { nowMs, windowMs: w, nodes: withSummary, edges };
  }

  /** Recent spans matching the query, newest first. */
  spans(q: SpanQuery = {}): { spans: SpanSummary[]; scanned: number } {
    const limit = Math.max(1, Math.min(q.limit ?? 200, MAX_QUERY_SPANS));
    const minNs = (q.minDurationMs ?? 0) * 1e6;
    const op = q.operation?.toLowerCase();
    const matched: Span[] = [];
    let scanned = 0;
    const consider = (s: Span) => {
      scanned++;
      if (q.traceId !== undefined && s.traceId !== q.traceId) return;
      if (q.side !== undefined && sideOf(s) !== q.side) return;
      if (q.status === 'error' && s.status !== 'error') return;
      if (q.status === 'ok' && s.status === 'error') return;
      if (minNs > 0 && durationNs(s) < minNs) return;
      if (op !== undefined && !s.name.toLowerCase().includes(op)) return;
      matched.push(s);
    };
    for (const svc of this.services.values()) {
      if (q.service !== undefined && svc.name !== q.service) continue;
      for (const ring of svc.rings()) ring.forEachNewest(consider);
    }
    matched.sort((a, b) => b.endTimeUnixNs - a.endTimeUnixNs);
    return { spans: matched.slice(0, limit).map((s) => spanSummary(s, this.map)), scanned };
  }

  /** A kept span by id: sampled, or of a whole trace. */
  span(spanId: string): Span | undefined {
    return this.sampledSpan(spanId) ?? this.traces.span(spanId);
  }

  private sampledSpan(spanId: string): Span | undefined {
    let found: Span | undefined;
    for (const svc of this.services.values()) {
      for (const ring of svc.rings()) {
        ring.forEachNewest((s) => {
          if (s.spanId !== spanId) return true;
          found = s;
          return false;
        });
        if (found) return found;
      }
    }
    return undefined;
  }

  /** Every kept span of one trace, oldest first. */
  trace(traceId: string): SpanSummary[] {
    return this.spans({ traceId, limit: MAX_QUERY_SPANS }).spans.sort((a, b) => a.startMs - b.startMs);
  }

  /** Drops idle services, operations and edges (called on its own every 10 s of ingest). */
  sweep(nowMs = this.now()): void {
    this.lastSweepMs = nowMs;
    for (const [name, svc] of this.services) {
      if (nowMs - svc.lastMs > MAX_WINDOW_MS) {
        for (const ring of svc.rings()) ring.drain();
        this.spanTotal = undefined;
        this.operationCount -= svc.operations.size;
        this.services.delete(name);
        this.map.forgetService(name);
        continue;
      }
      const before = svc.operations.size;
      svc.forgetIdleOperations(nowMs, MAX_WINDOW_MS);
      this.operationCount -= before - svc.operations.size;
    }
    this.map.sweep(nowMs, MAX_WINDOW_MS);
    this.rebalance();
  }

  private serviceFor(name: string): ServiceEntry | undefined {
    let svc = this.services.get(name);
    if (svc) return svc;
    if (this.services.size >= this.opts.maxServices) return undefined;
    svc = new ServiceEntry(name, this.opts.spansPerSecondPerService);
    this.services.set(name, svc);
    this.rebalance();
    return svc;
  }

  /** Shares the span budget equally between services. */
  private rebalance(): void {
    const n = Math.max(1, this.services.size);
    const per = Math.max(3, Math.floor(this.opts.maxSpans / n));
    const errors = Math.max(1, Math.floor(per * ERROR_SHARE));
    const slow = Math.max(1, Math.floor(per * SLOW_SHARE));
    const caps: Array<[SpanRing, number]> = [];
    for (const svc of this.services.values()) caps.push([svc.errors, errors], [svc.slow, slow], [svc.recent, per - errors - slow]);
    for (const [ring, cap] of caps) if (ring.capacity !== cap) this.spansEvicted += ring.resize(cap).length;
    this.spanTotal = undefined;
  }

  private operationFor(svc: ServiceEntry, side: Side, spanName: string, peer: string | undefined, endpoint: Endpoint | undefined, datastore: Datastore | undefined): OperationEntry {
    const name = spanName.length > 200 ? spanName.slice(0, 200) : spanName;
    let op = svc.operation(side, name, peer);
    if (op) return op;
    const full = svc.operations.size >= this.opts.maxOperationsPerService || this.operationCount >= this.opts.maxOperations;
    if (full) {
      this.operationsCollapsed++;
      op = svc.operation(side, OTHER_OPERATIONS, undefined);
      if (op) return op;
      // The overflow entry itself is allowed past the cap (one per side).
    }
    op = {
      side,
      name: full ? OTHER_OPERATIONS : name,
      peer: full ? undefined : peer,
      datastore: full ? undefined : datastore,
      endpoint: full ? undefined : endpoint,
      series: new RedSeries(),
      slowNs: Infinity,
      slowSlot: -1,
    };
    svc.addOperation(opKey(side, op.name, op.peer), op);
    this.operationCount++;
    return op;
  }

  private sampleSpanSize(span: Span): void {
    let bytes = 350 + span.name.length * 2;
    for (const [k, v] of Object.entries(span.attributes)) bytes += 40 + k.length * 2 + (typeof v === 'string' ? v.length * 2 + 16 : 16);
    this.spanBytesAvg = this.spanBytesAvg * 0.9 + bytes * 0.1;
  }
}

export function opKey(side: Side, name: string, peer: string | undefined): string {
  return `${side}\0${peer ?? ''}\0${name}`;
}

function sideSummary(series: RedSeries | undefined, nowMs: number, windowMs: number): RedSummary | null {
  if (!series) return null;
  const w = series.window(nowMs, windowMs);
  if (w.count === 0) return null;
  return summarise(w.count, w.errors, w.hist, w.seconds);
}

function timelineOf(series: RedSeries, nowMs: number, rangeMs: number): TimelineView {
  const { stepMs, points } = series.timeline(nowMs, rangeMs);
  const sec = stepMs / 1000;
  const q = (h: LogHistogram | undefined, p: number) => (h && h.count ? round3(h.quantileNs(p) / 1e6) : null);
  return {
    stepMs,
    t: points.map((p) => p.t),
    rate: points.map((p) => round3(p.count / sec)),
    errorRate: points.map((p) => round3(p.errors / sec)),
    p50Ms: points.map((p) => q(p.hist, 0.5)),
    p95Ms: points.map((p) => q(p.hist, 0.95)),
    p99Ms: points.map((p) => q(p.hist, 0.99)),
    heatmap: points.map((p) => (p.hist ? p.hist.rebin(DISPLAY_BOUNDS_NS) : new Array<number>(DISPLAY_BOUNDS_NS.length).fill(0))),
  };
}

function spanSummary(s: Span, map: ServiceMap): SpanSummary {
  const side = sideOf(s);
  const target = side === 'client' ? clientTarget(s) : undefined;
  return {
    spanId: s.spanId,
    traceId: s.traceId,
    parentSpanId: s.parentSpanId ?? null,
    name: s.name,
    kind: s.kind,
    service: s.service.name,
    pid: s.service.pid,
    startMs: s.startTimeUnixNs / 1e6,
    durationMs: round3(durationNs(s) / 1e6),
    status: s.status,
    statusCode: num(s.attributes['http.response.status_code']) ?? null,
    peer: target ? peerLabel(target) : null,
    peerService: target ? map.resolve(target.peer) ?? null : null,
  };
}

function clampWindow(ms: number): number {
  if (!Number.isFinite(ms) || ms <= 0) return 60_000;
  return Math.min(Math.max(ms, FINE_SLOT_MS), MAX_WINDOW_MS);
}

function positive(v: number | undefined, dflt: number, field: string): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`store ${field}: expected a positive integer, got ${String(v)}`);
  return v;
}
