// What one HTTP request means, worked out once: the detail behind its
// RequestRecord, read by the HTTP metrics and the span. Method per semconv,
// status, error.type, server address, body sizes, timestamps, and the route and
// metric peer telemetry resolved. What metrics need is computed at construction;
// what only spans need (Host, User-Agent, traceparent) is decoded from the scans
// when first asked for, so a request whose span is never built makes no string
// for them. The scans and the captured bytes must stay untouched while the facts
// are in use: during the handling of one exchange.
import type { CarriedContext, Endpoint, Exchange } from '../capture/exchange.js';
import { NO_HOST, type RequestScan, type RequestTarget, type ResponseScan, authorityPort, parseTarget, splitHostPort } from '../protocols/http1/index.js';
import { buildHttpSpan } from './http-span.js';
import type { HttpRequestFacts } from './http-request-facts.js';
import { traceHash } from './ids.js';
import type { RequestFamily, RequestRecord } from './request-record.js';
import { normalizeMethod } from './semconv.js';
import type { Span } from './span.js';
import { type TraceParent, parseTraceparent } from './traceparent.js';

/** error.type for a response that was captured but could not be parsed. */
export const ERROR_MALFORMED_RESPONSE = 'malformed-response';

export class HttpFacts implements HttpRequestFacts {
  readonly kind: 'server' | 'client';
  readonly ex: Exchange;
  /** The method token as sent. */
  readonly methodOriginal: string;
  /** Normalised http.request.method. */
  readonly method: string;
  readonly target: RequestTarget;
  readonly scheme: string;
  /** network.protocol.version of the request, when its line was complete. */
  readonly protocolVersion: string | undefined;
  readonly statusCode: number | undefined;
  readonly errorType: string | undefined;
  /** Kernel monotonic ns. */
  readonly startNs: number;
  readonly endNs: number;
  readonly requestBodySize: number | undefined;
  readonly responseBodySize: number | undefined;
  /** http.route (server) or url.template (client), bounded per service; set by telemetry. */
  route: string | undefined = undefined;
  /** server.address/port as the client metrics label them (bounded per service: `_OTHER` past the cap); set by telemetry. */
  metricServerAddress: string | undefined = undefined;
  metricServerPort: number | undefined = undefined;
  readonly #req: RequestScan;
  /** undefined: not looked at yet; null: none (or invalid). */
  #parent: TraceParent | null | undefined;
  readonly #pipelined: boolean;
  #serverResolved = false;
  #serverAddress: string | undefined;
  #serverPort: number | undefined;

  /**
   * `res` is undefined when no response was captured or it did not parse
   * (`responseMalformed`). `pipelined`: one of several requests sharing the
   * exchange, so the wire byte counts are not this request's.
   */
  constructor(ex: Exchange, req: RequestScan, res: ResponseScan | undefined, responseMalformed: boolean, pipelined: boolean) {
    this.kind = ex.role;
    this.ex = ex;
    this.#pipelined = pipelined;
    this.#req = req;
    this.methodOriginal = req.method();
    this.method = normalizeMethod(this.methodOriginal);
    this.target = parseTarget(req.target());
    // TLS plaintext (OpenSSL uprobes) is https whatever the target says.
    this.scheme = ex.tls || this.target.scheme === 'https' ? 'https' : 'http';
    this.protocolVersion = req.version;
    const statusCode = res?.statusCode;
    this.statusCode = statusCode;
    if (statusCode !== undefined && statusCode >= (this.kind === 'server' ? 500 : 400)) this.errorType = String(statusCode);
    else if (ex.incomplete !== undefined) this.errorType = ex.incomplete;
    else if (responseMalformed) this.errorType = ERROR_MALFORMED_RESPONSE;
    else this.errorType = undefined;
    this.startNs = ex.requestStartNs;
    this.endNs = Math.max(ex.responseEndNs, ex.responseStartNs, ex.requestEndNs, this.startNs);
    this.requestBodySize = requestBodySize(req, ex.requestBytes, pipelined);
    this.responseBodySize = res === undefined ? undefined : responseBodySize(this.methodOriginal, res, ex.responseBytes, pipelined);
  }

  get protocol(): string {
    return 'http';
  }

  get peer(): Endpoint {
    return this.ex.remote;
  }

  get family(): RequestFamily {
    return 'http';
  }

  get system(): undefined {
    return undefined;
  }

  traceHash(): number {
    const parent = this.#incoming();
    if (parent !== null) return traceHash(parent.traceId);
    const carried = this.#carried();
    // A new trace's id is random and no other span has it: any uniform draw samples it alike.
    return carried === undefined ? Math.random() : traceHash(carried.traceId);
  }

  continuesTrace(): boolean {
    return this.#incoming() !== null;
  }

  buildSpan(record: RequestRecord): Span {
    const parent = this.#incoming();
    return buildHttpSpan(this, record, parent === null ? undefined : parent, this.#carried());
  }

  /** The ids the kernel wrote into this (client) request; one of several pipelined requests takes none. */
  #carried(): CarriedContext | undefined {
    return this.#pipelined ? undefined : this.ex.carried;
  }

  #incoming(): TraceParent | null {
    if (this.#parent === undefined) this.#parent = parseTraceparent(this.traceparent()) ?? null;
    return this.#parent;
  }

  /** Server side: from Host (or the absolute target). Client side: the same, or the peer. */
  serverAddress(): string | undefined {
    if (!this.#serverResolved) this.#resolveServer();
    return this.#serverAddress;
  }

  serverPort(): number | undefined {
    if (this.#serverResolved || this.kind === 'client') {
      if (!this.#serverResolved) this.#resolveServer();
      return this.#serverPort;
    }
    // Server side without decoding Host: the same answer #resolveServer would give.
    const t = this.target;
    const req = this.#req;
    let hostPort: number | undefined;
    let hostNamed = false;
    if (req.hostStart >= 0) {
      const p = authorityPort(req.bytes, req.hostStart, req.hostEnd);
      hostNamed = p !== NO_HOST;
      if (p >= 0) hostPort = p;
    }
    const port = t.port ?? hostPort;
    return port === undefined && (t.host !== undefined || hostNamed) ? this.ex.local.port : port;
  }

  userAgent(): string | undefined {
    return this.#req.userAgent();
  }

  traceparent(): string | undefined {
    return this.#req.traceparent();
  }

  #resolveServer(): void {
    this.#serverResolved = true;
    const host = this.#req.host();
    const h = host === undefined ? undefined : splitHostPort(host);
    let address = this.target.host ?? h?.host;
    let port = this.target.port ?? h?.port;
    if (this.kind === 'client') {
      address ??= this.ex.remote.address;
      port ??= this.ex.remote.port;
    } else if (address !== undefined) {
      port ??= this.ex.local.port;
    }
    this.#serverAddress = address;
    this.#serverPort = port;
  }
}

function requestBodySize(req: RequestScan, wireBytes: number, pipelined: boolean): number | undefined {
  if (req.contentLength >= 0) return req.contentLength;
  if (!req.headersComplete || pipelined) return undefined;
  return Math.max(0, wireBytes - req.headLength);
}

function responseBodySize(method: string, res: ResponseScan, wireBytes: number, pipelined: boolean): number | undefined {
  const s = res.statusCode;
  if (method === 'HEAD' || (s >= 100 && s < 200) || s === 204 || s === 304) return 0;
  if (res.contentLength >= 0) return res.contentLength;
  if (!res.headersComplete || pipelined) return undefined;
  return Math.max(0, wireBytes - res.headLength);
}
