// Who gets the RequestRecords of every protocol: request listeners (the UI
// store: every record, a Span only for those it keeps) and span listeners
// (OTLP, console, JSON lines: the Span of every record). HttpTelemetry and
// OperationTelemetry publish into one shared instance, so an exporter or the
// store subscribes once and sees HTTP requests and protocol operations alike.
// Listener exceptions are counted, never raised.
import type { RequestRecord } from './request-record.js';
import type { Span } from './span.js';

export type SpanListener = (span: Span) => void;
/** Gets every request as a RequestRecord (valid only during the call). */
export type RequestListener = (request: RequestRecord) => void;

function subscribe<T>(list: T[], listener: T): () => void {
  list.push(listener);
  return () => {
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
  };
}

export class RequestListeners {
  readonly #spans: SpanListener[] = [];
  readonly #requests: RequestListener[] = [];
  /** Exceptions thrown by listeners (swallowed). */
  errors = 0;

  /** Subscribes to the Span of every record; returns the unsubscribe function. */
  onSpan(listener: SpanListener): () => void {
    return subscribe(this.#spans, listener);
  }

  /** Subscribes to every record, whose Span is built only if the listener asks; returns the unsubscribe function. */
  onRequest(listener: RequestListener): () => void {
    return subscribe(this.#requests, listener);
  }

  /** Whether anyone listens (else a publisher need not even make the record). */
  get active(): boolean {
    return this.#spans.length > 0 || this.#requests.length > 0;
  }

  /** Hands the record to every request listener, then its Span (built once) to every span listener. */
  publish(record: RequestRecord): void {
    for (const l of this.#requests) {
      try {
        l(record);
      } catch {
        this.errors++;
      }
    }
    if (this.#spans.length === 0) return;
    const span = record.span();
    for (const l of this.#spans) {
      try {
        l(span);
      } catch {
        this.errors++;
      }
    }
  }
}
