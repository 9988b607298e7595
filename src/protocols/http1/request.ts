// parseRequest: the head of an HTTP/1 request from the first captured bytes.
// Total: any input gives a value or a reason, never an exception.
import { CR, LF, SP, asBuffer, isTokenChar, latin1, matchVersion, utf8 } from './bytes.js';
import { type HeaderBlock, type HeaderOptions, parseHeaderBlock } from './headers.js';
import { type ParseResult, fail, ok } from './parse-result.js';

/** Longest method token accepted; longer tokens are not HTTP. */
export const MAX_METHOD_LENGTH = 24;

export interface HttpRequestHead extends HeaderBlock {
  /** The method token as sent (case preserved). */
  method: string;
  /** The request-target as sent: origin form `/p?q`, absolute form, authority form or `*`. */
  target: string;
  /** "1.1", "1.0"…; undefined when the captured bytes end before the version. */
  version?: string;
  /**
   * The captured bytes end inside the request line (a target longer than the
   * capture): method and the start of the target are known, the rest is not.
   */
  startLineTruncated: boolean;
}

/**
 * Parses a request head. The start line is trusted once the method and a space
 * have been seen and the target has begun: a URL longer than the capture must not
 * make a request invisible, so such a request is returned with
 * `startLineTruncated` set. Cut headers are normal (`headersComplete` false).
 */
export function parseRequest(bytes: Uint8Array, opts: HeaderOptions = {}): ParseResult<HttpRequestHead> {
  const b = asBuffer(bytes);
  const len = b.length;
  if (len === 0) return fail('empty');
  let i = 0;
  while (i < len && i <= MAX_METHOD_LENGTH && isTokenChar(b[i]!)) i++;
  if (i === 0 || i > MAX_METHOD_LENGTH) return fail('not-http');
  if (i === len) return fail('truncated-start-line');
  if (b[i] !== SP) return fail('not-http');
  const method = commonMethod(b, i) ?? latin1(b, 0, i);

  const targetStart = i + 1;
  let j = targetStart;
  for (; j < len; j++) {
    const c = b[j]!;
    if (c === SP || c === CR || c === LF) break;
    if (c < 0x20 || c === 0x7f) return fail('invalid-target');
  }
  if (j === targetStart) return j === len ? fail('truncated-start-line') : fail('invalid-target');
  const target = utf8(b, targetStart, j);
  if (j === len) return ok(head(method, target, undefined, true, len));
  // HTTP/0.9 ("GET /\r\n") carries no version; it is not spoken any more.
  if (b[j] !== SP) return fail('invalid-version');

  const versionStart = j + 1;
  const version = matchVersion(b, versionStart);
  if (version === undefined) return fail('invalid-version');
  if (version === 'partial') return ok(head(method, target, undefined, true, len));
  let k = versionStart + 8;
  if (b[k] === CR) k++;
  if (k === len) return ok(head(method, target, version, false, len));
  if (b[k] !== LF) return fail('invalid-version');
  const r = head(method, target, version, false, k + 1);
  parseHeaderBlock(b, k + 1, r, opts.keepHeaders);
  return ok(r);
}

// A literal with every property in a fixed order (not a spread: V8 spreads
// of objects this size cost microseconds), so every head has one shape.
function head(method: string, target: string, version: string | undefined, startLineTruncated: boolean, headLength: number): HttpRequestHead {
  return {
    method,
    target,
    version,
    startLineTruncated,
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

const GET = [0x47, 0x45, 0x54];
const POST = [0x50, 0x4f, 0x53, 0x54];
const PUT = [0x50, 0x55, 0x54];

/** The interned string for the most frequent methods, sparing an allocation per request. */
function commonMethod(b: Buffer, n: number): string | undefined {
  if (n === 3 && b[0] === GET[0] && b[1] === GET[1] && b[2] === GET[2]) return 'GET';
  if (n === 4 && b[0] === POST[0] && b[1] === POST[1] && b[2] === POST[2] && b[3] === POST[3]) return 'POST';
  if (n === 3 && b[0] === PUT[0] && b[1] === PUT[1] && b[2] === PUT[2]) return 'PUT';
  return undefined;
}
