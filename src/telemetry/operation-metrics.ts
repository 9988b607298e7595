// Metric aggregation of protocol operations, shared by the Prometheus and OTLP
// exporters like HttpMetrics:
//   db.client.operation.duration          client-side db operations (semconv)
//   db.server.operation.duration          server-side db operations (waggle's, not semconv:
//                                         a watched database's RED when its clients are not watched)
//   messaging.client.operation.duration   client-side messaging operations (semconv)
//   messaging.client.sent.messages        messages a producer sent (semconv; batch counts)
//   messaging.client.consumed.messages    messages delivered to a consumer (semconv)
//   rpc.server.duration / rpc.client.duration   gRPC calls (Beyla's names; semconv ≤ 1.37)
// Messaging operations seen from the broker's side (role server) make spans and
// UI records only: the semconv messaging metrics are the clients'.
//
// A series is one service instance × metric × label values, held in a
// SeriesTable like HttpMetrics': past maxSeries, new label sets of an instance go
// to its overflow series per metric, marked otel.metric.overflow (counted in
// `overflowed`); an instance idle for idleTtlMs is removed with its series.
import { type HistogramState, histogram, observe } from './histogram-state.js';
import type { SeriesAttributes } from './http-metrics.js';
import type { OperationDetail } from './operation-detail.js';
import type { RequestRecord } from './request-record.js';
import * as sc from './semconv.js';
import { OVERFLOW_ATTRIBUTE, SeriesTable, type SeriesTableOptions } from './series-table.js';
import type { ServiceIdentity } from './span.js';

export interface OperationMetricDef {
  /** The OTel metric name. */
  readonly name: string;
  readonly unit: 's' | '{message}';
  readonly description: string;
  readonly instrument: 'histogram' | 'counter';
}

export const DB_CLIENT_DURATION: OperationMetricDef = { name: sc.METRIC_DB_CLIENT_OPERATION_DURATION, unit: 's', description: 'Duration of database client operations.', instrument: 'histogram' };
export const DB_SERVER_DURATION: OperationMetricDef = { name: sc.METRIC_DB_SERVER_OPERATION_DURATION, unit: 's', description: 'Duration of database operations as the watched database server answered them (waggle, not a semantic convention).', instrument: 'histogram' };
export const MESSAGING_CLIENT_DURATION: OperationMetricDef = { name: sc.METRIC_MESSAGING_CLIENT_OPERATION_DURATION, unit: 's', description: 'Duration of messaging operations initiated by a producer or consumer client.', instrument: 'histogram' };
export const MESSAGING_SENT: OperationMetricDef = { name: sc.METRIC_MESSAGING_CLIENT_SENT_MESSAGES, unit: '{message}', description: 'Number of messages producer attempted to send to the broker.', instrument: 'counter' };
export const MESSAGING_CONSUMED: OperationMetricDef = { name: sc.METRIC_MESSAGING_CLIENT_CONSUMED_MESSAGES, unit: '{message}', description: 'Number of messages that were delivered to the application.', instrument: 'counter' };

export const RPC_SERVER_DURATION: OperationMetricDef = { name: sc.METRIC_RPC_SERVER_DURATION, unit: 's', description: 'Duration of RPC calls as the watched server answered them.', instrument: 'histogram' };
export const RPC_CLIENT_DURATION: OperationMetricDef = { name: sc.METRIC_RPC_CLIENT_DURATION, unit: 's', description: 'Duration of RPC calls the watched client made.', instrument: 'histogram' };

/** Every operation metric, in exposition order. */
export const OPERATION_METRICS: readonly OperationMetricDef[] = [DB_CLIENT_DURATION, DB_SERVER_DURATION, MESSAGING_CLIENT_DURATION, MESSAGING_SENT, MESSAGING_CONSUMED, RPC_SERVER_DURATION, RPC_CLIENT_DURATION];

export interface OperationSeries {
  readonly metric: OperationMetricDef;
  readonly service: ServiceIdentity;
  /** Semconv attributes, e.g. {'db.system.name': 'postgresql', 'db.operation.name': 'SELECT', …}. */
  readonly attributes: SeriesAttributes;
  /** Histogram metrics: the durations in seconds. */
  readonly histogram: HistogramState | undefined;
  /** Counter metrics: the running total. */
  value: number;
  /** When the series began (ms since the epoch): the start of its cumulative values. */
  readonly startTimeMs: number;
}

export type OperationMetricsOptions = SeriesTableOptions;

/** How an instance's series are found from an observation. */
interface OperationIndex {
  byKey: Map<string, OperationSeries>;
  overflow: Map<OperationMetricDef, OperationSeries>;
  /**
   * The series the previous observation went to, with its labels: operations
   * on a connection mostly repeat their labels (a pipeline of SETs), and
   * comparing the labels costs less than building the map key.
   */
  last: { metric: OperationMetricDef; labels: Array<[string, string | number]>; series: OperationSeries } | undefined;
}

function sameLabels(a: Array<[string, string | number]>, b: Array<[string, string | number]>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]![0] !== b[i]![0] || a[i]![1] !== b[i]![1]) return false;
  return true;
}

const SEND_TYPES: ReadonlySet<string> = new Set(['send', 'publish', 'create']);
const CONSUME_TYPES: ReadonlySet<string> = new Set(['receive', 'process', 'deliver']);

export class OperationMetrics extends SeriesTable<OperationSeries, OperationIndex> {
  constructor(opts: OperationMetricsOptions = {}) {
    super(opts, () => ({ byKey: new Map(), overflow: new Map(), last: undefined }));
  }

  /** One operation, with the caller's clock reading (ms since the epoch). */
  record(r: RequestRecord<OperationDetail>, nowMs: number): void {
    const d = r.detail;
    const op = d.op;
    const seconds = Math.max(0, op.endNs - op.startNs) / 1e9;
    if (op.family === 'db') {
      const metric = op.role === 'client' ? DB_CLIENT_DURATION : DB_SERVER_DURATION;
      observe(this.#series(r, metric, dbLabels(d), nowMs).histogram!, seconds);
      return;
    }
    if (op.family === 'rpc') {
      const metric = op.role === 'client' ? RPC_CLIENT_DURATION : RPC_SERVER_DURATION;
      observe(this.#series(r, metric, rpcLabels(d), nowMs).histogram!, seconds);
      return;
    }
    // 'http' operations go to HttpTelemetry, never here.
    if (op.family !== 'messaging') return;
    if (op.role !== 'client') return;
    const labels = messagingLabels(d);
    observe(this.#series(r, MESSAGING_CLIENT_DURATION, labels, nowMs).histogram!, seconds);
    const type = String(op.attributes[sc.ATTR_MESSAGING_OPERATION_TYPE] ?? '');
    const batch = op.attributes[sc.ATTR_MESSAGING_BATCH_MESSAGE_COUNT];
    const messages = typeof batch === 'number' && Number.isInteger(batch) && batch >= 0 ? batch : 1;
    if (op.spanKind === 'producer' || SEND_TYPES.has(type)) this.#series(r, MESSAGING_SENT, labels, nowMs).value += messages;
    else if (op.spanKind === 'consumer' || CONSUME_TYPES.has(type)) this.#series(r, MESSAGING_CONSUMED, labels, nowMs).value += messages;
  }

  #series(r: RequestRecord, metric: OperationMetricDef, labels: Array<[string, string | number]>, nowMs: number): OperationSeries {
    const inst = this.instance(r.service, nowMs);
    const index = inst.index;
    const last = index.last;
    if (last !== undefined && last.metric === metric && sameLabels(last.labels, labels)) return last.series;
    let key = metric.name;
    for (const [k, v] of labels) key += `\0${k}\x01${v}`;
    let s = index.byKey.get(key);
    if (s === undefined) {
      if (this.overflow()) {
        s = index.overflow.get(metric);
        if (s === undefined) {
          s = this.add(inst, newSeries(metric, r.service, { [OVERFLOW_ATTRIBUTE]: true }, nowMs));
          index.overflow.set(metric, s);
        }
        return s;
      }
      s = this.add(inst, newSeries(metric, r.service, Object.fromEntries(labels), nowMs));
      index.byKey.set(key, s);
    }
    index.last = { metric, labels, series: s };
    return s;
  }
}

function newSeries(metric: OperationMetricDef, service: ServiceIdentity, attributes: SeriesAttributes, nowMs: number): OperationSeries {
  return { metric, service, attributes, histogram: metric.instrument === 'histogram' ? histogram(sc.OPERATION_DURATION_BUCKETS) : undefined, value: 0, startTimeMs: nowMs };
}

function text(v: unknown): string | undefined {
  return v === undefined || v === '' ? undefined : String(v);
}

/** db_system_name, db_operation_name, db_collection_name?, db_response_status_code?, error_type?, server_address, server_port. */
function dbLabels(d: OperationDetail): Array<[string, string | number]> {
  const a = d.op.attributes;
  const out: Array<[string, string | number]> = [
    [sc.ATTR_DB_SYSTEM_NAME, d.system ?? d.protocol],
    [sc.ATTR_DB_OPERATION_NAME, text(a[sc.ATTR_DB_OPERATION_NAME]) ?? d.op.operation],
  ];
  const collection = text(a[sc.ATTR_DB_COLLECTION_NAME]);
  if (collection !== undefined) out.push([sc.ATTR_DB_COLLECTION_NAME, collection]);
  const status = text(a[sc.ATTR_DB_RESPONSE_STATUS_CODE]);
  if (status !== undefined) out.push([sc.ATTR_DB_RESPONSE_STATUS_CODE, status]);
  if (d.errorType !== undefined) out.push([sc.ATTR_ERROR_TYPE, d.errorType]);
  out.push([sc.ATTR_SERVER_ADDRESS, d.serverAddress()], [sc.ATTR_SERVER_PORT, d.serverPort()]);
  return out;
}

/** rpc_system, rpc_service, rpc_method, rpc_grpc_status_code?, error_type?; client side server_address, server_port. */
function rpcLabels(d: OperationDetail): Array<[string, string | number]> {
  const a = d.op.attributes;
  const out: Array<[string, string | number]> = [
    [sc.ATTR_RPC_SYSTEM, d.system ?? d.protocol],
    [sc.ATTR_RPC_SERVICE, text(a[sc.ATTR_RPC_SERVICE]) ?? ''],
    [sc.ATTR_RPC_METHOD, text(a[sc.ATTR_RPC_METHOD]) ?? d.op.operation],
  ];
  const status = a[sc.ATTR_RPC_GRPC_STATUS_CODE];
  if (typeof status === 'number') out.push([sc.ATTR_RPC_GRPC_STATUS_CODE, status]);
  if (d.errorType !== undefined) out.push([sc.ATTR_ERROR_TYPE, d.errorType]);
  if (d.op.role === 'client') out.push([sc.ATTR_SERVER_ADDRESS, d.serverAddress()], [sc.ATTR_SERVER_PORT, d.serverPort()]);
  return out;
}

/** messaging_system, messaging_operation_name, messaging_destination_name?, error_type?, server_address, server_port. */
function messagingLabels(d: OperationDetail): Array<[string, string | number]> {
  const a = d.op.attributes;
  const out: Array<[string, string | number]> = [
    [sc.ATTR_MESSAGING_SYSTEM, d.system ?? d.protocol],
    [sc.ATTR_MESSAGING_OPERATION_NAME, text(a[sc.ATTR_MESSAGING_OPERATION_NAME]) ?? d.op.operation],
  ];
  const destination = text(a[sc.ATTR_MESSAGING_DESTINATION_NAME]);
  if (destination !== undefined) out.push([sc.ATTR_MESSAGING_DESTINATION_NAME, destination]);
  if (d.errorType !== undefined) out.push([sc.ATTR_ERROR_TYPE, d.errorType]);
  out.push([sc.ATTR_SERVER_ADDRESS, d.serverAddress()], [sc.ATTR_SERVER_PORT, d.serverPort()]);
  return out;
}
