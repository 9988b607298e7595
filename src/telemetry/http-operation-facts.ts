// The HttpRequestFacts of an 'http' Operation (HTTP/2 from the stream
// platform), read from the attributes the module set: http.request.method,
// url.path/query/scheme, the request's authority (http.request.header.host),
// http.response.status_code, body sizes, user_agent.original and the incoming
// traceparent. error.type as for HTTP/1: the status code (≥ 500 server side,
// ≥ 400 client side), else the module's (a reset stream), else `incomplete`.
import type { Endpoint } from '../capture/exchange.js';
import { type RequestTarget, splitHostPort } from '../protocols/http1/index.js';
import type { LocatedOperation, Operation } from '../protocols/module.js';
import { buildHttpSpan } from './http-span.js';
import type { HttpRequestFacts } from './http-request-facts.js';
import { traceHash } from './ids.js';
import { ERROR_INCOMPLETE } from './operation-detail.js';
import type { RequestFamily, RequestRecord } from './request-record.js';
import { normalizeMethod } from './semconv.js';
import type { Span } from './span.js';
import { type TraceParent, parseTraceparent } from './traceparent.js';

export class HttpOperationFacts implements HttpRequestFacts {
  readonly protocol: string;
  readonly kind: 'server' | 'client';
  readonly methodOriginal: string;
  readonly method: string;
  readonly target: RequestTarget;
  readonly scheme: string;
  readonly protocolVersion: string | undefined;
  readonly statusCode: number | undefined;
  readonly errorType: string | undefined;
  readonly startNs: number;
  readonly endNs: number;
  readonly requestBodySize: number | undefined;
  readonly responseBodySize: number | undefined;
  readonly peer: Endpoint;
  route: string | undefined = undefined;
  metricServerAddress: string | undefined = undefined;
  metricServerPort: number | undefined = undefined;
  readonly #op: Operation;
  readonly #local: Endpoint;
  readonly #authority: { host?: string; port?: number } | undefined;
  #parent: TraceParent | null | undefined;

  /** `located` is read during the handling of the operation only (the platform reuses it). */
  constructor(located: LocatedOperation) {
    const op = located.op;
    const a = op.attributes;
    this.#op = op;
    this.protocol = located.protocol;
    this.kind = op.role;
    this.methodOriginal = str(a['http.request.method']) ?? op.operation;
    this.method = normalizeMethod(this.methodOriginal);
    const path = str(a['url.path']);
    this.target = { form: path === undefined ? 'other' : 'origin', path: path ?? '', query: str(a['url.query']) };
    this.scheme = str(a['url.scheme']) === 'https' ? 'https' : 'http';
    this.protocolVersion = str(a['network.protocol.version']);
    const status = a['http.response.status_code'];
    this.statusCode = typeof status === 'number' ? status : undefined;
    const s = this.statusCode;
    if (s !== undefined && s >= (this.kind === 'server' ? 500 : 400)) this.errorType = String(s);
    else this.errorType = op.errorType ?? (op.incomplete !== undefined ? ERROR_INCOMPLETE : undefined);
    this.startNs = op.startNs;
    this.endNs = Math.max(op.endNs, op.startNs);
    this.requestBodySize = num(a['http.request.body.size']);
    this.responseBodySize = num(a['http.response.body.size']);
    this.peer = located.remote;
    this.#local = located.local;
    const host = str(a['http.request.header.host']);
    this.#authority = host === undefined ? undefined : splitHostPort(host);
  }

  get family(): RequestFamily {
    return 'http';
  }

  get system(): undefined {
    return undefined;
  }

  serverAddress(): string | undefined {
    return this.#authority?.host ?? (this.kind === 'client' ? this.peer.address : undefined);
  }

  serverPort(): number | undefined {
    if (this.#authority?.host !== undefined) return this.#authority.port ?? (this.kind === 'client' ? this.peer.port : this.#local.port);
    return this.kind === 'client' ? this.peer.port : undefined;
  }

  userAgent(): string | undefined {
    return str(this.#op.attributes['user_agent.original']);
  }

  traceHash(): number {
    const parent = this.#incoming();
    return parent === null ? Math.random() : traceHash(parent.traceId);
  }

  continuesTrace(): boolean {
    return this.#incoming() !== null;
  }

  buildSpan(record: RequestRecord): Span {
    const parent = this.#incoming();
    return buildHttpSpan(this, record, parent === null ? undefined : parent);
  }

  #incoming(): TraceParent | null {
    if (this.#parent === undefined) this.#parent = parseTraceparent(str(this.#op.attributes['http.request.header.traceparent'])) ?? null;
    return this.#parent;
  }
}

function str(v: unknown): string | undefined {
  return v === undefined || v === '' ? undefined : String(v);
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
