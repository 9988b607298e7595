// One handled HTTP request as span consumers see it: a RequestSummary for the
// aggregating ones (cheap fields, the trace id's hash) and the Span itself, built
// on first demand and shared by every consumer of the request.
import type { MonotonicClock } from './clock.js';
import type { HttpFacts } from './http-facts.js';
import { buildHttpSpan } from './http-span.js';
import { traceHash } from './ids.js';
import type { RequestSummary } from './request-summary.js';
import type { ServiceIdentity, Span } from './span.js';
import { type TraceParent, parseTraceparent } from './traceparent.js';

export class HttpRequestRecord implements RequestSummary {
  readonly service: ServiceIdentity;
  readonly kind: 'server' | 'client';
  readonly name: string;
  readonly startTimeUnixNs: number;
  readonly endTimeUnixNs: number;
  readonly error: boolean;
  readonly statusCode: number | undefined;
  readonly peerAddress: string;
  readonly peerPort: number;
  readonly #facts: HttpFacts;
  readonly #route: string | undefined;
  readonly #clock: MonotonicClock;
  /** undefined: not looked at yet; null: none (or invalid). */
  #parent: TraceParent | null | undefined;
  #span: Span | undefined;

  constructor(facts: HttpFacts, service: ServiceIdentity, route: string | undefined, name: string, clock: MonotonicClock) {
    this.#facts = facts;
    this.#route = route;
    this.#clock = clock;
    this.service = service;
    this.kind = facts.kind;
    this.name = name;
    this.startTimeUnixNs = clock.toEpochNs(facts.startNs);
    this.endTimeUnixNs = clock.toEpochNs(facts.endNs);
    this.error = facts.errorType !== undefined;
    this.statusCode = facts.statusCode;
    this.peerAddress = facts.ex.remote.address;
    this.peerPort = facts.ex.remote.port;
  }

  serverAddress(): string | undefined {
    return this.#facts.serverAddress();
  }

  serverPort(): number | undefined {
    return this.#facts.serverPort();
  }

  traceHash(): number {
    const parent = this.#incoming();
    // A new trace's id is random and no other span has it: any uniform draw samples it alike.
    return parent === null ? Math.random() : traceHash(parent.traceId);
  }

  span(): Span {
    if (this.#span === undefined) {
      const parent = this.#incoming();
      this.#span = buildHttpSpan({
        facts: this.#facts,
        service: this.service,
        route: this.#route,
        name: this.name,
        clock: this.#clock,
        ...(parent === null ? {} : { parent }),
      });
      // Wall-clock times as the summary reported them (the clock may have been re-measured since).
      this.#span.startTimeUnixNs = this.startTimeUnixNs;
      this.#span.endTimeUnixNs = this.endTimeUnixNs;
    }
    return this.#span;
  }

  #incoming(): TraceParent | null {
    if (this.#parent === undefined) this.#parent = parseTraceparent(this.#facts.traceparent()) ?? null;
    return this.#parent;
  }
}
