// What one HTTP exchange means, worked out once and shared by the metric
// observation and the span: method per semconv, status, error.type, server
// address, body sizes, timestamps.
import type { Exchange } from '../capture/exchange.js';
import { type HttpRequestHead, type HttpResponseHead, type RequestTarget, parseTarget, splitHostPort } from '../protocols/http1/index.js';
import { normalizeMethod } from './semconv.js';

export interface HttpFacts {
  kind: 'server' | 'client';
  request: HttpRequestHead;
  response?: HttpResponseHead;
  target: RequestTarget;
  /** Normalised http.request.method. */
  method: string;
  scheme: string;
  statusCode?: number;
  errorType?: string;
  /** Server side: from Host. Client side: from Host, the absolute target, or the peer. */
  serverAddress?: string;
  serverPort?: number;
  /** Kernel monotonic ns. */
  startNs: number;
  endNs: number;
  requestBodySize?: number;
  responseBodySize?: number;
}

export interface FactsInput {
  ex: Exchange;
  request: HttpRequestHead;
  response?: HttpResponseHead;
  /** The response bytes were present but not a response. */
  responseMalformed: boolean;
  /** One of several pipelined messages sharing the exchange: wire byte counts are not per message. */
  pipelined: boolean;
}

/** error.type for a response that was captured but could not be parsed. */
export const ERROR_MALFORMED_RESPONSE = 'malformed-response';

export function describeExchange({ ex, request, response, responseMalformed, pipelined }: FactsInput): HttpFacts {
  const kind = ex.role;
  const target = parseTarget(request.target);
  const scheme = target.scheme === 'https' ? 'https' : 'http';
  const statusCode = response?.statusCode;
  let errorType: string | undefined;
  if (statusCode !== undefined && statusCode >= (kind === 'server' ? 500 : 400)) errorType = String(statusCode);
  else if (ex.incomplete !== undefined) errorType = ex.incomplete;
  else if (responseMalformed) errorType = ERROR_MALFORMED_RESPONSE;

  const host = request.host === undefined ? {} : splitHostPort(request.host);
  let serverAddress = target.host ?? host.host;
  let serverPort = target.port ?? host.port;
  if (kind === 'client') {
    serverAddress ??= ex.remote.address;
    serverPort ??= ex.remote.port;
  } else if (serverAddress !== undefined) {
    serverPort ??= ex.local.port;
  }

  const startNs = ex.requestStartNs;
  const endNs = Math.max(ex.responseEndNs, ex.responseStartNs, ex.requestEndNs, startNs);
  return {
    kind,
    request,
    response,
    target,
    method: normalizeMethod(request.method),
    scheme,
    statusCode,
    errorType,
    serverAddress,
    serverPort,
    startNs,
    endNs,
    requestBodySize: requestBodySize(request, ex.requestBytes, pipelined),
    responseBodySize: response === undefined ? undefined : responseBodySize(request, response, ex.responseBytes, pipelined),
  };
}

function requestBodySize(req: HttpRequestHead, wireBytes: number, pipelined: boolean): number | undefined {
  if (req.contentLength !== undefined) return req.contentLength;
  if (!req.headersComplete || pipelined) return undefined;
  return Math.max(0, wireBytes - req.headLength);
}

function responseBodySize(req: HttpRequestHead, res: HttpResponseHead, wireBytes: number, pipelined: boolean): number | undefined {
  const s = res.statusCode;
  if (req.method === 'HEAD' || (s >= 100 && s < 200) || s === 204 || s === 304) return 0;
  if (res.contentLength !== undefined) return res.contentLength;
  if (!res.headersComplete || pipelined) return undefined;
  return Math.max(0, wireBytes - res.headLength);
}
