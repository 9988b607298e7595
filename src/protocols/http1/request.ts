// parseRequest: the head of an HTTP/1 request from the first captured bytes, and
// scanRequest, the same grammar into a reusable RequestScan of offsets (what the
// agent's per-request path uses: it makes no string until one is asked for).
// Total: any input gives a value or a reason, never an exception.
import { CR, LF, SP, asBuffer, isTokenChar, latin1, matchVersion, utf8 } from './bytes.js';
import { type HeaderBlock, type HeaderField, type HeaderOptions, HeaderScan, scanHeaderBlock } from './headers.js';
import { type ParseFailureReason, type ParseResult, fail, ok } from './parse-result.js';

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

/** A request head as offsets into `bytes` (see HeaderScan); reused request after request. */
export class RequestScan extends HeaderScan {
  /** The method is bytes [0, methodEnd). */
  methodEnd = 0;
  targetStart = 0;
  targetEnd = 0;
  version: string | undefined = undefined;
  startLineTruncated = false;

  /** The method token as sent (the common ones without allocating). */
  method(): string {
    return commonMethod(this.bytes, this.methodEnd) ?? latin1(this.bytes, 0, this.methodEnd);
  }

  /** The request-target as sent (UTF-8; invalid sequences become U+FFFD). */
  target(): string {
    return utf8(this.bytes, this.targetStart, this.targetEnd);
  }
}

/**
 * Scans a request head into `scan`; returns why it is not one, or undefined. The
 * start line is trusted once the method and a space have been seen and the target
 * has begun: a URL longer than the capture must not make a request invisible, so
 * such a request is accepted with `startLineTruncated` set. Cut headers are normal
 * (`headersComplete` false). With `keep`, non-sensitive fields are collected too.
 */
export function scanRequest(bytes: Uint8Array, scan: RequestScan, keep?: HeaderField[]): ParseFailureReason | undefined {
  const b = asBuffer(bytes);
  const len = b.length;
  if (len === 0) return 'empty';
  let i = 0;
  while (i < len && i <= MAX_METHOD_LENGTH && isTokenChar(b[i]!)) i++;
  if (i === 0 || i > MAX_METHOD_LENGTH) return 'not-http';
  if (i === len) return 'truncated-start-line';
  if (b[i] !== SP) return 'not-http';

  const targetStart = i + 1;
  let j = targetStart;
  for (; j < len; j++) {
    const c = b[j]!;
    if (c === SP || c === CR || c === LF) break;
    if (c < 0x20 || c === 0x7f) return 'invalid-target';
  }
  if (j === targetStart) return j === len ? 'truncated-start-line' : 'invalid-target';
  if (j === len) return startLine(scan, b, i, targetStart, j, undefined, true, len);
  // HTTP/0.9 ("GET /\r\n") carries no version; it is not spoken any more.
  if (b[j] !== SP) return 'invalid-version';

  const versionStart = j + 1;
  const version = matchVersion(b, versionStart);
  if (version === undefined) return 'invalid-version';
  if (version === 'partial') return startLine(scan, b, i, targetStart, j, undefined, true, len);
  let k = versionStart + 8;
  if (b[k] === CR) k++;
  if (k === len) return startLine(scan, b, i, targetStart, j, version, false, len);
  if (b[k] !== LF) return 'invalid-version';
  startLine(scan, b, i, targetStart, j, version, false, k + 1);
  scanHeaderBlock(b, k + 1, scan, keep);
  return undefined;
}

function startLine(scan: RequestScan, b: Buffer, methodEnd: number, targetStart: number, targetEnd: number, version: string | undefined, truncated: boolean, headLength: number): undefined {
  scan.resetHeaders(b, headLength);
  scan.methodEnd = methodEnd;
  scan.targetStart = targetStart;
  scan.targetEnd = targetEnd;
  scan.version = version;
  scan.startLineTruncated = truncated;
  return undefined;
}

/** Parses a request head (see scanRequest), with every field decoded. */
export function parseRequest(bytes: Uint8Array, opts: HeaderOptions = {}): ParseResult<HttpRequestHead> {
  const scan = new RequestScan();
  const headers: HeaderField[] = [];
  const reason = scanRequest(bytes, scan, opts.keepHeaders ? headers : undefined);
  if (reason !== undefined) return fail(reason);
  // Fields added to the block rather than spread into a new object (spreads of this size are slow).
  const head = scan.toBlock(headers) as HttpRequestHead;
  head.method = scan.method();
  head.target = scan.target();
  head.version = scan.version;
  head.startLineTruncated = scan.startLineTruncated;
  return ok(head);
}

const COMMON_METHODS = ['GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE', 'QUERY'].map((m) => ({ text: m, bytes: Buffer.from(m, 'latin1') }));

/** The interned string for a common method, sparing an allocation per request. */
function commonMethod(b: Buffer, n: number): string | undefined {
  outer: for (const m of COMMON_METHODS) {
    if (m.bytes.length !== n) continue;
    for (let i = 0; i < n; i++) if (b[i] !== m.bytes[i]) continue outer;
    return m.text;
  }
  return undefined;
}
