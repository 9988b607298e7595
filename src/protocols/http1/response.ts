// parseResponse: the head of an HTTP/1 response from the first captured bytes.
// Total: any input gives a value or a reason, never an exception.
import { CR, LF, SP, asBuffer, isDigit, matchVersion } from './bytes.js';
import { type HeaderBlock, type HeaderOptions, parseHeaderBlock } from './headers.js';
import { type ParseResult, fail, ok } from './parse-result.js';

/** Interim (1xx) responses skipped before giving up on finding the final one. */
const MAX_INTERIM_RESPONSES = 8;

export interface HttpResponseHead extends HeaderBlock {
  /** "1.1", "1.0"… */
  version: string;
  /** The final status code (interim 1xx responses before it are skipped). */
  statusCode: number;
  /** 1xx responses (100 Continue, 103 Early Hints) seen before the final one. */
  interimResponses: number;
  /** Offset of the final response's status line (after skipped interim responses). */
  offset: number;
}

/**
 * Parses a response head. The status line is trusted once `HTTP/d.d ddd` is
 * complete; the reason phrase and headers may be cut. Interim 1xx responses
 * (except 101 Switching Protocols, which is final for HTTP/1) are skipped when
 * the final response follows in the captured bytes.
 */
export function parseResponse(bytes: Uint8Array, opts: HeaderOptions = {}): ParseResult<HttpResponseHead> {
  const b = asBuffer(bytes);
  if (b.length === 0) return fail('empty');
  let offset = 0;
  let interim = 0;
  for (;;) {
    const head = parseOne(b, offset, opts.keepHeaders);
    if (!head.ok) return head;
    const r = head.value;
    r.interimResponses = interim;
    const isInterim = r.statusCode >= 100 && r.statusCode < 200 && r.statusCode !== 101;
    if (!isInterim || !r.headersComplete || r.headLength >= b.length || interim >= MAX_INTERIM_RESPONSES) return head;
    // The final response must follow; if what follows is not one, keep the interim.
    const next = parseOne(b, r.headLength, false);
    if (!next.ok) return head;
    interim++;
    offset = r.headLength;
  }
}

function parseOne(b: Buffer, at: number, keepHeaders = false): ParseResult<HttpResponseHead> {
  const len = b.length;
  const version = matchVersion(b, at);
  if (version === undefined) return fail('not-http');
  if (version === 'partial') return fail('truncated-start-line');
  let i = at + 8;
  if (i === len) return fail('truncated-start-line');
  if (b[i] !== SP) return fail('invalid-version');
  i++;
  let code = 0;
  for (let k = 0; k < 3; k++, i++) {
    if (i === len) return fail('truncated-start-line');
    if (!isDigit(b[i])) return fail('invalid-status-code');
    code = code * 10 + (b[i]! - 0x30);
  }
  if (code < 100) return fail('invalid-status-code');
  if (i === len) return ok(head(version, code, at, len));
  if (b[i] !== SP && b[i] !== CR && b[i] !== LF) return fail('invalid-status-code');
  // The reason phrase is free text and may be cut; headers start after its LF.
  const lf = b.indexOf(LF, i);
  if (lf < 0) return ok(head(version, code, at, len));
  const r = head(version, code, at, lf + 1);
  parseHeaderBlock(b, lf + 1, r, keepHeaders);
  return ok(r);
}

// A literal with every property, as in request.ts (spreads of this size are slow).
function head(version: string, statusCode: number, offset: number, headLength: number): HttpResponseHead {
  return {
    version,
    statusCode,
    interimResponses: 0,
    offset,
    headers: [],
    host: undefined,
    contentLength: undefined,
    transferEncoding: undefined,
    chunked: false,
    userAgent: undefined,
    contentType: undefined,
    connection: undefined,
    traceparent: undefined,
    tracestate: undefined,
    headersComplete: false,
    headLength,
    droppedHeaders: 0,
    malformedHeaderLines: 0,
  };
}
