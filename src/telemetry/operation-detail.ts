// The detail behind the RequestRecord of a protocol module's Operation, and its
// span per the OpenTelemetry database and messaging conventions: kind
// client/server by role (producer/consumer when the operation says so), name
// and attributes the module's, plus what the connection tells: server.address/
// server.port (client side: the remote end; server side: the local end) and
// network.peer.address/port (the other end). error.type and status error when
// the operation failed; an incomplete one (no response: the connection closed,
// went idle, was evicted, or chunks were lost) is an error of type `incomplete`
// unless the module named its error, with the reason in waggle.incomplete.
import type { LocatedOperation, Operation } from '../protocols/module.js';
import { newSpanId, newTraceId } from './ids.js';
import type { RecordDetail, RequestFamily, RequestRecord } from './request-record.js';
import * as sc from './semconv.js';
import type { AttributeValue, Span, SpanKind } from './span.js';

/** error.type of an operation whose response never came (the module named no error). */
export const ERROR_INCOMPLETE = 'incomplete';
/** Span attribute carrying Operation.incomplete (why the response never came). */
export const ATTR_WAGGLE_INCOMPLETE = 'waggle.incomplete';

export class OperationDetail implements RecordDetail {
  readonly protocol: string;
  readonly family: RequestFamily;
  readonly system: string | undefined;
  readonly op: Operation;
  readonly located: LocatedOperation;
  readonly kind: SpanKind;
  readonly errorType: string | undefined;

  /** `located` is read during the handling of the operation only (the platform may reuse it). */
  constructor(located: LocatedOperation) {
    const op = located.op;
    this.located = located;
    this.op = op;
    this.protocol = located.protocol;
    this.family = op.family;
    const system = op.attributes[op.family === 'db' ? sc.ATTR_DB_SYSTEM_NAME : op.family === 'rpc' ? sc.ATTR_RPC_SYSTEM : sc.ATTR_MESSAGING_SYSTEM];
    this.system = system === undefined ? located.protocol : String(system);
    this.kind = op.spanKind ?? op.role;
    this.errorType = op.errorType ?? (op.incomplete !== undefined ? ERROR_INCOMPLETE : undefined);
  }

  /** The server's end: the remote one for a client, the local one for a server. */
  serverAddress(): string {
    return this.op.role === 'client' ? this.located.remote.address : this.located.local.address;
  }

  serverPort(): number {
    return this.op.role === 'client' ? this.located.remote.port : this.located.local.port;
  }

  /** No trace context travels in these protocols: every operation starts its own trace. */
  traceHash(): number {
    return Math.random();
  }

  continuesTrace(): boolean {
    return false;
  }

  buildSpan(record: RequestRecord): Span {
    const { op, located } = this;
    const a: Record<string, AttributeValue> = { ...op.attributes };
    a[sc.ATTR_SERVER_ADDRESS] = this.serverAddress();
    a[sc.ATTR_SERVER_PORT] = this.serverPort();
    a[sc.ATTR_NETWORK_PEER_ADDRESS] = located.remote.address;
    a[sc.ATTR_NETWORK_PEER_PORT] = located.remote.port;
    a[sc.ATTR_NETWORK_TRANSPORT] = 'tcp';
    if (this.errorType !== undefined) a[sc.ATTR_ERROR_TYPE] = this.errorType;
    if (op.incomplete !== undefined) a[ATTR_WAGGLE_INCOMPLETE] = op.incomplete;
    const span: Span = {
      traceId: newTraceId(),
      spanId: newSpanId(),
      name: record.name,
      kind: this.kind,
      startTimeUnixNs: record.startTimeUnixNs,
      endTimeUnixNs: record.endTimeUnixNs,
      status: this.errorType === undefined ? 'unset' : 'error',
      attributes: a,
      service: record.service,
    };
    if (op.incomplete !== undefined && op.errorType === undefined) span.statusMessage = `no response: ${op.incomplete}`;
    return span;
  }
}
