// parseResponse: the head of an HTTP/1 response from the first captured bytes, and
// scanResponse, the same grammar into a reusable ResponseScan of offsets.
// Total: any input gives a value or a reason, never an exception.
import { CR, LF, SP, asBuffer, isDigit, matchVersion } from './bytes.js';
import { type HeaderBlock, type HeaderField, type HeaderOptions, HeaderScan, scanHeaderBlock } from './headers.js';
import { type ParseFailureReason, type ParseResult, fail, ok } from './parse-result.js';

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

/** A response head as offsets into `bytes` (see HeaderScan); reused response after response. */
export class ResponseScan extends HeaderScan {
  version = '';
  statusCode = 0;
  interimResponses = 0;
  /** Offset of the final response's status line. */
  offset = 0;
}

/**
 * Scans a response head into `scan`; returns why it is not one, or undefined.
 * The status line is trusted once `HTTP/d.d ddd` is complete; the reason phrase
 * and headers may be cut. Interim 1xx responses (except 101 Switching Protocols,
 * which is final for HTTP/1) are skipped when the final response follows in the
 * captured bytes.
 */
export function scanResponse(bytes: Uint8Array, scan: ResponseScan, keep?: HeaderField[]): ParseFailureReason | undefined {
  const b = asBuffer(bytes);
  if (b.length === 0) return 'empty';
  let offset = 0;
  let interim = 0;
  let probe: ResponseScan | undefined;
  for (;;) {
    if (keep !== undefined) keep.length = 0;
    const reason = scanOne(b, offset, scan, keep);
    if (reason !== undefined) return reason;
    scan.interimResponses = interim;
    const code = scan.statusCode;
    const isInterim = code >= 100 && code < 200 && code !== 101;
    if (!isInterim || !scan.headersComplete || scan.headLength >= b.length || interim >= MAX_INTERIM_RESPONSES) return undefined;
    // The final response must follow; if what follows is not one, keep the interim.
    probe ??= new ResponseScan();
    if (scanOne(b, scan.headLength, probe, undefined) !== undefined) return undefined;
    interim++;
    offset = scan.headLength;
  }
}

function scanOne(b: Buffer, at: number, scan: ResponseScan, keep: HeaderField[] | undefined): ParseFailureReason | undefined {
  const len = b.length;
  const version = matchVersion(b, at);
  if (version === undefined) return 'not-http';
  if (version === 'partial') return 'truncated-start-line';
  let i = at + 8;
  if (i === len) return 'truncated-start-line';
  if (b[i] !== SP) return 'invalid-version';
  i++;
  let code = 0;
  for (let k = 0; k < 3; k++, i++) {
    if (i === len) return 'truncated-start-line';
    if (!isDigit(b[i])) return 'invalid-status-code';
    code = code * 10 + (b[i]! - 0x30);
  }
  if (code < 100) return 'invalid-status-code';
  if (i === len) return statusLine(scan, b, version, code, at, len);
  if (b[i] !== SP && b[i] !== CR && b[i] !== LF) return 'invalid-status-code';
  // The reason phrase is free text and may be cut; headers start after its LF.
  const lf = b.indexOf(LF, i);
  if (lf < 0) return statusLine(scan, b, version, code, at, len);
  statusLine(scan, b, version, code, at, lf + 1);
  scanHeaderBlock(b, lf + 1, scan, keep);
  return undefined;
}

function statusLine(scan: ResponseScan, b: Buffer, version: string, code: number, offset: number, headLength: number): undefined {
  scan.resetHeaders(b, headLength);
  scan.version = version;
  scan.statusCode = code;
  scan.interimResponses = 0;
  scan.offset = offset;
  return undefined;
}

/** Parses a response head (see scanResponse), with every field decoded. */
export function parseResponse(bytes: Uint8Array, opts: HeaderOptions = {}): ParseResult<HttpResponseHead> {
  const scan = new ResponseScan();
  const headers: HeaderField[] = [];
  const reason = scanResponse(bytes, scan, opts.keepHeaders ? headers : undefined);
  if (reason !== undefined) return fail(reason);
  // Fields added to the block rather than spread into a new object (spreads of this size are slow).
  const head = scan.toBlock(headers) as HttpResponseHead;
  head.version = scan.version;
  head.statusCode = scan.statusCode;
  head.interimResponses = scan.interimResponses;
  head.offset = scan.offset;
  return ok(head);
}
