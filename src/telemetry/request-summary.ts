// What an aggregating consumer of every request (the UI's live store) reads,
// without a Span being built per request: building one (attributes, ids, names)
// costs about as much as everything else the agent does for the request. The
// consumer asks for the Span only for the requests it keeps.
import type { ServiceIdentity, Span, SpanKind } from './span.js';

export interface RequestSummary {
  readonly service: ServiceIdentity;
  readonly kind: SpanKind;
  /** The span's name ("{method} {route}"). */
  readonly name: string;
  readonly startTimeUnixNs: number;
  readonly endTimeUnixNs: number;
  /** The span's status is error. */
  readonly error: boolean;
  /** http.response.status_code, when a response was seen. */
  readonly statusCode: number | undefined;
  /** network.peer.address / network.peer.port. */
  readonly peerAddress: string | undefined;
  readonly peerPort: number | undefined;
  /** server.address as the span reports it (client side: where the call went, as the client named it). */
  serverAddress(): string | undefined;
  /** server.port as the span reports it (server side: the port callers used, when the request named a host). */
  serverPort(): number | undefined;
  /**
   * A uniform number in [0, 1) for sampling by trace: traceHash() of the incoming
   * trace id, so every span of a propagated trace gets the same one; a random draw
   * for a new trace (its id is random and no other span has it).
   */
  traceHash(): number;
  /** The full span, built on the first call. Only valid while the listener runs (it reads captured bytes). */
  span(): Span;
}
