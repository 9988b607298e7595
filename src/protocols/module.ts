// The protocol module contract. A protocol is one folder, src/protocols/<name>/,
// exporting a ProtocolModule, plus one line in registry.ts. The platform
// (src/protocols/stream/) hands each connection's chunks, in order, to the
// parser of the module that detected it; the module frames messages across
// chunks, pairs requests with responses and emits one Operation per request.
// Telemetry turns Operations into spans, metrics and the UI's records.
//
// Rules every module keeps (its fuzz test checks them):
// - total: feed() and end() never throw, whatever the bytes; garbage is counted
//   (ParserStats.unparsed) and the parser resynchronises;
// - bounded: state per connection is capped (pending requests, carried bytes,
//   prepared statements), overflow counted;
// - chunk bytes are views into a reused buffer, valid only during the call: copy
//   what you keep;
// - secrets never leave the module: no passwords, AUTH arguments or message
//   payloads in attributes; query text only with literals replaced by `?`.
import type { Endpoint, Role } from '../capture/exchange.js';
import type { StreamChunk } from '../capture/stream.js';

export type { Role, StreamChunk };
export type AttributeValue = string | number | boolean;

/**
 * What a parser reads of a chunk (the platform's StreamChunk minus identity).
 * head/tail are views, valid only during the call.
 */
export type ChunkView = Pick<StreamChunk, 'direction' | 'timeNs' | 'bytes' | 'head' | 'tail' | 'lost' | 'tid'>;

/**
 * Which conventions apply: the span's attribute family and the metric it feeds.
 * 'http' operations (HTTP/2) become HTTP request records like HTTP/1's (routes,
 * http.server/client.request.duration); 'rpc' ones (gRPC) rpc.server/client.duration.
 */
export type OperationFamily = 'db' | 'messaging' | 'http' | 'rpc';

/**
 * One request (or one one-way message) of a protocol, as the module saw it.
 * Network attributes (server.address/port, network.peer.*) and service
 * identity are added by the platform; the module gives the protocol's own.
 */
export interface Operation {
  family: OperationFamily;
  /**
   * The side of the watched process: 'client' (it sent the request / published
   * / consumed) or 'server' (it answered). Usually the parser's role.
   */
  role: Role;
  /**
   * The span kind when it is not the role's (messaging: 'producer' for a
   * publish, 'consumer' for a delivery); absent: 'client'/'server' by role.
   */
  spanKind?: 'producer' | 'consumer';
  /** Kernel monotonic ns: the request's first chunk … the response's last (a one-way message: its own chunk). */
  startNs: number;
  endNs: number;
  /** Span name per semconv: "{db.query.summary}" or "{db.operation.name} {target}", "publish orders", … */
  name: string;
  /**
   * The grouping key of RED series and the UI's top list: db.operation.name for
   * db (SELECT, SET, COM_PING…), messaging.operation.name for messaging.
   */
  operation: string;
  /**
   * Semantic-convention attributes of the protocol: db.system.name,
   * db.operation.name, db.collection.name, db.query.summary, db.query.text
   * (literals as `?`), db.response.status_code, db.namespace;
   * messaging.system, messaging.operation.type, messaging.operation.name,
   * messaging.destination.name, messaging.batch.message_count, …
   */
  attributes: Record<string, AttributeValue>;
  /** error.type when the operation failed (the status code, or a protocol-specific class); absent: success. */
  errorType?: string;
  /** The response never came (the connection closed, went idle or was evicted first). */
  incomplete?: 'closed' | 'idle' | 'evicted' | 'lost';
}

export type Emit = (op: Operation) => void;

/** Per-parser counters the platform sums per protocol into /metrics. */
export interface ParserStats {
  /** Messages or bytes runs the parser could not frame (it resynchronised). */
  unparsed: number;
  /** Requests dropped because the pending queue was full. */
  pendingOverflow: number;
  /** Responses with no pending request (joined midway, or lost chunks). */
  orphanResponses: number;
  /**
   * The module's own counters (snake_case names), summed per protocol into
   * waggle_protocol_events_total{protocol,event}: e.g. http2's
   * unknown_header_fields, header_list_overflow.
   */
  readonly events?: Readonly<Record<string, number>>;
}

/** One connection's parser, from the watched process's side. */
export interface ConnectionParser {
  /** The next chunk of the connection, in order. Emits each finished operation. */
  feed(chunk: ChunkView, emit: Emit): void;
  /** The connection ended (closed, idle past the timeout, or evicted): emit what is pending as incomplete. */
  end(reason: 'closed' | 'idle' | 'evicted', emit: Emit): void;
  readonly stats: ParserStats;
}

export interface DetectInput {
  /** The first chunk the platform saw on the connection (maybe joined midway). */
  chunk: ChunkView;
  localPort: number;
  remotePort: number;
}

export interface ProtocolModule {
  /** Stable id, also the label value: 'postgresql', 'mysql', 'redis', 'memcached', 'nats', 'mqtt', 'amqp', 'http2'. */
  readonly name: string;
  /** Well-known server ports: a hint for detect() when the first bytes alone are ambiguous. */
  readonly ports: readonly number[];
  /**
   * Whether the first chunk is this protocol, and from which side: the watched
   * process's role ('client' when it writes a request or reads a server's
   * greeting; 'server' when it reads a request or writes a greeting), or
   * undefined when it is not this protocol. Pure and cheap: it runs for every
   * new connection until a module claims it.
   */
  detect(input: DetectInput): Role | undefined;
  /** A parser for one connection seen from `role`. */
  createParser(role: Role): ConnectionParser;
}

/**
 * An Operation as the stream platform hands it to telemetry: with the module
 * that parsed it and the connection it travelled on (the watched process's
 * end first). Valid only during the call (attributes may be reused).
 */
export interface LocatedOperation {
  /** ProtocolModule.name */
  protocol: string;
  op: Operation;
  /** The process whose chunk finished the operation. */
  pid: number;
  /** The thread that read or wrote that chunk (trace linking by thread). */
  tid?: number;
  connectionId: string;
  local: Endpoint;
  remote: Endpoint;
}
