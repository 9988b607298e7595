// Header block parsing shared by requests and responses. Bounded (a cap on kept
// fields and on value length), lenient (a malformed line is counted and skipped,
// as a server would), and secret-free: the values of credential headers are never
// decoded, let alone kept.
import { COLON, CR, HT, SP, indexOfLf, isDigit, isTokenChar, latin1, skipOws, trimOwsEnd } from './bytes.js';

/** A header kept in parsed output: lower-case name, Latin-1 value. */
export type HeaderField = readonly [name: string, value: string];

/** Headers whose values are credentials: never kept, never exported. */
export const SENSITIVE_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

/** At most this many fields are kept in `headers` (the well-known ones are extracted regardless). */
export const MAX_KEPT_HEADERS = 64;
/** Longer values are cut to this many characters. */
export const MAX_HEADER_VALUE_LENGTH = 512;

export interface HeaderBlock {
  /** Fields kept, in wire order, without sensitive ones (bounded by MAX_KEPT_HEADERS). */
  headers: HeaderField[];
  host?: string;
  /** Content-Length when present, a non-negative safe integer, and consistent across repeats. */
  contentLength?: number;
  /** Transfer-Encoding as sent (lower-cased). */
  transferEncoding?: string;
  /** The last transfer coding is `chunked`. */
  chunked: boolean;
  userAgent?: string;
  contentType?: string;
  connection?: string;
  traceparent?: string;
  tracestate?: string;
  /** The blank line ending the header block was seen. */
  headersComplete: boolean;
  /** Offset just past the blank line when complete, else just past the last complete line. */
  headLength: number;
  /** Fields beyond MAX_KEPT_HEADERS (not kept in `headers`). */
  droppedHeaders: number;
  /** Lines that were not `name: value` and were skipped. */
  malformedHeaderLines: number;
}

export function emptyHeaderBlock(headLength: number, headersComplete: boolean): HeaderBlock {
  return { headers: [], chunked: false, headersComplete, headLength, droppedHeaders: 0, malformedHeaderLines: 0 };
}

/**
 * Parses header lines starting at `start` (just after the start line) until the
 * blank line or the end of the bytes; a partial last line is ignored (captured
 * bytes are capped, so cut headers are normal).
 */
export function parseHeaderBlock(b: Uint8Array, start: number): HeaderBlock {
  const block = emptyHeaderBlock(start, false);
  let pos = start;
  let contentLengthConflict = false;
  // Index in block.headers of the previous field, for obsolete line folding; -1 when
  // the previous line was not kept (sensitive, dropped, malformed).
  let previous = -1;
  for (;;) {
    const lf = indexOfLf(b, pos);
    if (lf < 0) break;
    const lineEnd = lf > pos && b[lf - 1] === CR ? lf - 1 : lf;
    if (lineEnd === pos) {
      block.headersComplete = true;
      block.headLength = lf + 1;
      break;
    }
    block.headLength = lf + 1;
    const first = b[pos];
    if (first === SP || first === HT) {
      // obs-fold (RFC 9112 §5.2): a continuation of the previous value, joined by a space.
      if (previous >= 0) {
        const [name, value] = block.headers[previous]!;
        const more = latin1(b, skipOws(b, pos, lineEnd), trimOwsEnd(b, pos, lineEnd));
        block.headers[previous] = [name, clip(`${value} ${more}`)];
      }
      pos = lf + 1;
      continue;
    }
    const colon = b.indexOf(COLON, pos);
    if (colon <= pos || colon >= lineEnd || !isTokenRange(b, pos, colon)) {
      block.malformedHeaderLines++;
      previous = -1;
      pos = lf + 1;
      continue;
    }
    const name = latin1(b, pos, colon).toLowerCase();
    pos = lf + 1;
    previous = -1;
    if (SENSITIVE_HEADERS.has(name)) continue;
    const valueStart = skipOws(b, colon + 1, lineEnd);
    const valueEnd = trimOwsEnd(b, valueStart, lineEnd);
    const value = clip(latin1(b, valueStart, valueEnd));
    switch (name) {
      case 'host':
        block.host ??= value;
        break;
      case 'content-length': {
        const n = parseContentLength(b, valueStart, valueEnd);
        if (n === undefined || (block.contentLength !== undefined && block.contentLength !== n)) contentLengthConflict = true;
        else block.contentLength = n;
        break;
      }
      case 'transfer-encoding': {
        const te = value.toLowerCase();
        block.transferEncoding = block.transferEncoding === undefined ? te : `${block.transferEncoding}, ${te}`;
        block.chunked = /(?:^|,)\s*chunked\s*$/.test(block.transferEncoding);
        break;
      }
      case 'user-agent':
        block.userAgent ??= value;
        break;
      case 'content-type':
        block.contentType ??= value;
        break;
      case 'connection':
        block.connection ??= value.toLowerCase();
        break;
      case 'traceparent':
        block.traceparent ??= value;
        break;
      case 'tracestate':
        block.tracestate ??= value;
        break;
    }
    if (block.headers.length < MAX_KEPT_HEADERS) {
      previous = block.headers.length;
      block.headers.push([name, value]);
    } else {
      block.droppedHeaders++;
    }
  }
  // A message with both Transfer-Encoding and Content-Length, or conflicting lengths,
  // has no trustworthy length (RFC 9112 §6.3): report none rather than a guess.
  if (contentLengthConflict || block.transferEncoding !== undefined) delete block.contentLength;
  return block;
}

function isTokenRange(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isTokenChar(b[i]!)) return false;
  return true;
}

function parseContentLength(b: Uint8Array, start: number, end: number): number | undefined {
  if (start === end || end - start > 15) return undefined;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = b[i];
    if (!isDigit(c)) return undefined;
    n = n * 10 + (c! - 0x30);
  }
  return n;
}

function clip(s: string): string {
  return s.length > MAX_HEADER_VALUE_LENGTH ? s.slice(0, MAX_HEADER_VALUE_LENGTH) : s;
}
