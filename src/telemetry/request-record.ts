// One handled request of any protocol, the unit every consumer reads: the
// metric aggregations (HTTP and operations), span exporters (through span())
// and the UI's live store. The fields are what aggregating consumers need
// cheaply; the protocol's own data stays behind `detail` (HttpFacts, an
// OperationDetail, or a finished Span for spans that come from elsewhere), and
// the Span is built from it only on the first span() call and then shared:
// building one costs about as much as everything else the agent does for a
// request, and the store keeps a few per second.
import { traceHash } from './ids.js';
import type { ServiceIdentity, Span, SpanKind } from './span.js';

/** Where capture saw a request: what trace linking (trace-linker.ts) matches on. */
export interface RecordOrigin {
  /** The thread that began the request (read it: server; wrote it: client), or finished the operation. */
  readonly tid: number;
  /** This process's end of the connection. */
  readonly localAddress: string;
  readonly localPort: number;
}

/** http, or the OTel conventions family of a protocol module's operation (rpc: gRPC). */
export type RequestFamily = 'http' | 'db' | 'messaging' | 'rpc';

/** What the protocol behind a record provides. */
export interface RecordDetail {
  /** 'http', a ProtocolModule name ('postgresql', 'redis'…), or 'span' (RequestRecord.fromSpan). */
  readonly protocol: string;
  readonly family: RequestFamily;
  /** db.system.name or messaging.system; undefined for HTTP. */
  readonly system: string | undefined;
  /** server.address as the span reports it (client side: where the call went, as the client named it). */
  serverAddress(): string | undefined;
  /** server.port as the span reports it. */
  serverPort(): number | undefined;
  /**
   * A uniform number in [0, 1) for sampling by trace: traceHash() of the trace id
   * the request continues, so every span of a propagated trace gets the same one;
   * a random draw for a new trace (its id is random and no other span has it).
   */
  traceHash(): number;
  /** Whether the request continues a trace it arrived with (a valid incoming traceparent): its span has a parent elsewhere. */
  continuesTrace(): boolean;
  /** The span of the record (called once: the record caches it). */
  buildSpan(record: RequestRecord): Span;
}

export class RequestRecord<D extends RecordDetail = RecordDetail> {
  #span: Span | undefined;

  constructor(
    readonly detail: D,
    readonly service: ServiceIdentity,
    readonly kind: SpanKind,
    /** The span's name ("GET /users/{id}", "SELECT orders", "publish orders"). */
    readonly name: string,
    /** Wall clock, ns since the epoch. */
    readonly startTimeUnixNs: number,
    readonly endTimeUnixNs: number,
    /** The span's status is error. */
    readonly error: boolean,
    /** error.type, when the request failed. */
    readonly errorType: string | undefined,
    /** network.peer.address / network.peer.port: the other end of the connection. */
    readonly peerAddress: string | undefined,
    readonly peerPort: number | undefined,
    /** This process's end of the connection, when known (HTTP telemetry does not set it). */
    readonly localAddress: string | undefined,
    readonly localPort: number | undefined,
    /** Where the request was seen (trace linking), when it came from capture. */
    readonly origin?: RecordOrigin,
  ) {}

  /** A finished Span from elsewhere (tests, replays, another agent) as a record. */
  static fromSpan(span: Span): RequestRecord<SpanDetail> {
    const a = span.attributes;
    const server = span.kind === 'server' || span.kind === 'consumer';
    const record = new RequestRecord(
      new SpanDetail(span),
      span.service,
      span.kind,
      span.name || str(a['http.route']) || 'unnamed',
      span.startTimeUnixNs,
      span.endTimeUnixNs,
      span.status === 'error',
      str(a['error.type']) ?? (span.status === 'error' ? span.statusMessage ?? 'error' : undefined),
      str(a['network.peer.address']) ?? (server ? str(a['client.address']) : undefined),
      num(a['network.peer.port']) ?? (server ? num(a['client.port']) : undefined),
      str(a['network.local.address']),
      num(a['network.local.port']),
    );
    record.#span = span;
    return record;
  }

  get family(): RequestFamily {
    return this.detail.family;
  }

  serverAddress(): string | undefined {
    return this.detail.serverAddress();
  }

  serverPort(): number | undefined {
    return this.detail.serverPort();
  }

  traceHash(): number {
    return this.detail.traceHash();
  }

  continuesTrace(): boolean {
    return this.detail.continuesTrace();
  }

  /** The full span, built on the first call and shared. Valid only while the record's listeners run (it may read captured bytes). */
  span(): Span {
    if (this.#span === undefined) this.#span = this.detail.buildSpan(this);
    return this.#span;
  }

  /** Whether span() has been built (tests: the laziness is the point). */
  get spanBuilt(): boolean {
    return this.#span !== undefined;
  }
}

/** The detail of a record made from a finished Span: everything is read from its attributes. */
export class SpanDetail implements RecordDetail {
  readonly protocol = 'span';
  readonly family: RequestFamily;
  readonly system: string | undefined;

  constructor(readonly span: Span) {
    const a = span.attributes;
    const db = str(a['db.system.name']) ?? str(a['db.system']);
    const messaging = str(a['messaging.system']);
    const rpc = str(a['rpc.system']);
    this.family = db !== undefined ? 'db' : messaging !== undefined ? 'messaging' : rpc !== undefined ? 'rpc' : 'http';
    this.system = db ?? messaging ?? rpc;
  }

  serverAddress(): string | undefined {
    return str(this.span.attributes['server.address']);
  }

  serverPort(): number | undefined {
    return num(this.span.attributes['server.port']);
  }

  traceHash(): number {
    return traceHash(this.span.traceId);
  }

  continuesTrace(): boolean {
    return this.span.parentSpanId !== undefined;
  }

  buildSpan(): Span {
    return this.span;
  }
}

function str(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  return String(v);
}

function num(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : undefined;
}
