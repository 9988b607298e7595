/**
 * OperationTelemetry: protocol modules' Operations (LocatedOperation, from the
 * stream platform in src/protocols/stream/) → one RequestRecord each, its
 * metrics (OperationMetrics) and the shared request/span listeners.
 *
 *   const ops = new OperationTelemetry({ listeners: http.listeners });   // same subscribers as HTTP
 *   const prometheus = new PrometheusExporter({ metrics: http.metrics, operations: ops.metrics, registry });
 *   platform.onOperation((located) => { const id = discovery.identity(located.pid); if (id) ops.handle(located, id); });
 *
 * handle() is synchronous and never throws. Incomplete operations (the response
 * never came) are counted by protocol and reason, and still reported: as errors
 * of type `incomplete` in spans, metrics and the UI, since a call that got no
 * answer failed for its caller; their duration runs to when the connection
 * ended or was given up.
 */
import type { LocatedOperation } from '../protocols/module.js';
import { MonotonicClock } from './clock.js';
import { OperationDetail } from './operation-detail.js';
import { OperationMetrics, type OperationMetricsOptions } from './operation-metrics.js';
import { type RequestListener, RequestListeners, type SpanListener } from './request-listeners.js';
import { RequestRecord } from './request-record.js';
import type { ServiceIdentity } from './span.js';

export interface OperationTelemetryOptions {
  metrics?: OperationMetricsOptions;
  /** Share HttpTelemetry's so subscribers see every protocol. Default: its own. */
  listeners?: RequestListeners;
  clock?: MonotonicClock;
}

export interface OperationCount {
  protocol: string;
  count: number;
}

export interface IncompleteCount {
  protocol: string;
  reason: string;
  count: number;
}

export interface OperationTelemetryStats {
  /** Operations handled, by protocol. */
  operations: OperationCount[];
  /** Of them, those whose response never came, by protocol and reason. */
  incomplete: IncompleteCount[];
  /** Observations that went to an overflow series (the series cap). */
  seriesOverflowed: number;
  /** Unexpected internal exceptions (swallowed, the operation is lost). */
  internalErrors: number;
}

export class OperationTelemetry {
  readonly metrics: OperationMetrics;
  readonly listeners: RequestListeners;
  readonly #clock: MonotonicClock;
  readonly #operations = new Map<string, OperationCount>();
  readonly #incomplete = new Map<string, IncompleteCount>();
  #internalErrors = 0;

  constructor(opts: OperationTelemetryOptions = {}) {
    this.metrics = new OperationMetrics(opts.metrics);
    this.listeners = opts.listeners ?? new RequestListeners();
    this.#clock = opts.clock ?? new MonotonicClock();
  }

  onSpan(listener: SpanListener): () => void {
    return this.listeners.onSpan(listener);
  }

  onRequest(listener: RequestListener): () => void {
    return this.listeners.onRequest(listener);
  }

  /** One operation of `identity`'s process: metrics, then listeners. Returns its record (undefined only on an internal error). */
  handle(located: LocatedOperation, identity: ServiceIdentity): RequestRecord<OperationDetail> | undefined {
    try {
      return this.#handle(located, identity);
    } catch {
      this.#internalErrors++;
      return undefined;
    }
  }

  #handle(located: LocatedOperation, identity: ServiceIdentity): RequestRecord<OperationDetail> {
    const op = located.op;
    this.#count(located.protocol);
    if (op.incomplete !== undefined) this.#countIncomplete(located.protocol, op.incomplete);
    const detail = new OperationDetail(located);
    const clock = this.#clock;
    const record = new RequestRecord(
      detail,
      identity,
      detail.kind,
      op.name,
      clock.toEpochNs(op.startNs),
      clock.toEpochNs(Math.max(op.endNs, op.startNs)),
      detail.errorType !== undefined,
      detail.errorType,
      located.remote.address,
      located.remote.port,
      located.local.address,
      located.local.port,
      located.tid === undefined ? undefined : { tid: located.tid, localAddress: located.local.address, localPort: located.local.port },
    );
    this.metrics.record(record, Date.now());
    this.listeners.publish(record);
    return record;
  }

  stats(): OperationTelemetryStats {
    return {
      operations: [...this.#operations.values()].map((c) => ({ ...c })),
      incomplete: [...this.#incomplete.values()].map((c) => ({ ...c })),
      seriesOverflowed: this.metrics.overflowed,
      internalErrors: this.#internalErrors,
    };
  }

  close(): void {
    this.metrics.close();
  }

  #count(protocol: string): void {
    const c = this.#operations.get(protocol);
    if (c === undefined) this.#operations.set(protocol, { protocol, count: 1 });
    else c.count++;
  }

  #countIncomplete(protocol: string, reason: string): void {
    const k = `${protocol}\0${reason}`;
    const c = this.#incomplete.get(k);
    if (c === undefined) this.#incomplete.set(k, { protocol, reason, count: 1 });
    else c.count++;
  }
}
