// The JSON shapes the store answers queries with (served as-is by the UI's API).
import type { LogHistogram } from './log-histogram.js';

/** Which end of a request a service was on. */
export type Side = 'server' | 'client';

export interface RedSummary {
  count: number;
  errors: number;
  /** Requests per second over the window. */
  rate: number;
  errorRatio: number;
  /** Milliseconds; null when there was no traffic. */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  meanMs: number | null;
}

export interface InstanceView {
  instanceId: string;
  pid: number;
  executable: string;
  lastSeenMs: number;
}

export interface ServiceSummary {
  name: string;
  instances: InstanceView[];
  server: RedSummary | null;
  client: RedSummary | null;
  /** Requests per second per 10 s slot over the last 15 minutes (server side, else client side). */
  spark: number[];
  lastSeenMs: number;
}

export interface OverviewView {
  nowMs: number;
  windowMs: number;
  services: ServiceSummary[];
}

export interface OperationView extends RedSummary {
  /** The span name: route, or db.query.summary / command for databases, caches and brokers. */
  name: string;
  /** http, or the kind of datastore the operation talks to (or, server side, is). */
  kind: 'http' | DatastoreKind;
  /** db.system.name / messaging.system; null for HTTP. */
  system: string | null;
  /** Client side: where the calls went. */
  peer: string | null;
  /** Client side: the watched service listening there, when known. */
  peerService: string | null;
}

export interface TimelineView {
  stepMs: number;
  /** Slot starts, ms since the epoch. */
  t: number[];
  rate: number[];
  errorRate: number[];
  p50Ms: Array<number | null>;
  p95Ms: Array<number | null>;
  p99Ms: Array<number | null>;
  /** Per slot, counts per latency bucket of `boundsMs`. */
  heatmap: number[][];
}

export interface SideView {
  side: Side;
  summary: RedSummary;
  operations: OperationView[];
  timeline: TimelineView;
  /** Latency distribution over the window, counts per bucket of `boundsMs`. */
  histogram: number[];
}

export interface ServiceView {
  name: string;
  nowMs: number;
  windowMs: number;
  rangeMs: number;
  /** Upper bounds (ms) of the display latency buckets; the last is Infinity, sent as null. */
  boundsMs: Array<number | null>;
  instances: InstanceView[];
  server: SideView | null;
  client: SideView | null;
}

/** Map nodes for what services call besides services: from db.system.name / messaging.system. */
export type DatastoreKind = 'database' | 'cache' | 'broker';

export interface MapNode {
  /** `service:<name>`, `external:<peer>`, or `<kind>:<system> <address>:<port>` (e.g. `database:postgresql 127.0.0.1:5432`). */
  id: string;
  label: string;
  /** A watched service that is a datastore (its callers' operations, or its own server-side ones, say so) has the datastore's type. */
  type: 'service' | 'external' | DatastoreKind;
  /** db.system.name / messaging.system of a datastore node. */
  system?: string;
  /** The watched service behind the node, when there is one (its page). */
  service?: string;
}

export interface EdgeView {
  from: string;
  to: string;
  /** Which end measured it: the caller's client spans, or the callee's server spans. */
  side: 'client' | 'server';
  count: number;
  errors: number;
  rate: number;
  errorRatio: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

export interface MapView {
  nowMs: number;
  windowMs: number;
  nodes: Array<MapNode & { summary: RedSummary | null }>;
  edges: EdgeView[];
}

export interface SpanSummary {
  spanId: string;
  traceId: string;
  parentSpanId: string | null;
  name: string;
  kind: string;
  service: string;
  pid: number;
  startMs: number;
  durationMs: number;
  status: string;
  statusCode: number | null;
  peer: string | null;
  /** Client spans: the watched service listening at the peer, when known. */
  peerService: string | null;
}

/** Display buckets for latency (upper bounds, ms): 1-2-5 steps from 0.1 ms to 10 s, then the rest. */
export const DISPLAY_BOUNDS_MS: readonly number[] = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, Infinity];
export const DISPLAY_BOUNDS_NS: readonly number[] = DISPLAY_BOUNDS_MS.map((ms) => ms * 1e6);

export function summarise(count: number, errors: number, hist: LogHistogram, seconds: number): RedSummary {
  const q = (p: number) => (count ? round3(hist.quantileNs(p) / 1e6) : null);
  return {
    count,
    errors,
    rate: round3(count / seconds),
    errorRatio: count ? round3(errors / count) : 0,
    p50Ms: q(0.5),
    p95Ms: q(0.95),
    p99Ms: q(0.99),
    meanMs: count ? round3(hist.meanNs() / 1e6) : null,
  };
}

export function round3(n: number): number {
  if (!Number.isFinite(n)) return n;
  const a = Math.abs(n);
  const digits = a >= 100 ? 1 : a >= 1 ? 3 : 5;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export type { TraceListItem, TraceSpanView, TraceView } from './trace-store.js';
