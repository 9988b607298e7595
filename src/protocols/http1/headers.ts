// Header block parsing shared by requests and responses. Bounded (a cap on kept
// fields and on value length), lenient (a malformed line is counted and skipped,
// as a server would), and secret-free: the values of credential headers are never
// decoded, let alone kept.
//
// Fast by default: well-known names are recognised by comparing bytes, and only
// their values are decoded. The generic `headers` list (every other field, for
// opt-in header attributes) is built only when asked for with keepHeaders.
import { COLON, CR, HT, SP, indexOfLf, isDigit, isTokenChar, latin1, skipOws, trimOwsEnd } from './bytes.js';

/** A header kept in parsed output: lower-case name, Latin-1 value. */
export type HeaderField = readonly [name: string, value: string];

/** Headers whose values are credentials: never kept, never exported. */
export const SENSITIVE_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

/** At most this many fields are kept in `headers` (the well-known ones are extracted regardless). */
export const MAX_KEPT_HEADERS = 64;
/** Longer values are cut to this many characters. */
export const MAX_HEADER_VALUE_LENGTH = 512;

export interface HeaderOptions {
  /** Also collect every non-sensitive field in `headers` (bounded). Default false. */
  keepHeaders?: boolean;
}

export interface HeaderBlock {
  /** With keepHeaders: fields in wire order, without sensitive ones (bounded by MAX_KEPT_HEADERS). Else empty. */
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
  /** With keepHeaders: fields beyond MAX_KEPT_HEADERS (not kept in `headers`). */
  droppedHeaders: number;
  /** Lines that were not `name: value` and were skipped. */
  malformedHeaderLines: number;
}

const enum Known {
  Other,
  Host,
  ContentLength,
  TransferEncoding,
  UserAgent,
  ContentType,
  Connection,
  Traceparent,
  Tracestate,
  Sensitive,
}

const KNOWN_NAMES: Array<[string, Known]> = [
  ['host', Known.Host],
  ['content-length', Known.ContentLength],
  ['transfer-encoding', Known.TransferEncoding],
  ['user-agent', Known.UserAgent],
  ['content-type', Known.ContentType],
  ['connection', Known.Connection],
  ['traceparent', Known.Traceparent],
  ['tracestate', Known.Tracestate],
  ...[...SENSITIVE_HEADERS].map((n): [string, Known] => [n, Known.Sensitive]),
];

/** Known names grouped by length, as byte arrays, for allocation-free matching. */
const BY_LENGTH = new Map<number, Array<[Uint8Array, Known]>>();
for (const [name, kind] of KNOWN_NAMES) {
  const list = BY_LENGTH.get(name.length) ?? [];
  list.push([Buffer.from(name, 'latin1'), kind]);
  BY_LENGTH.set(name.length, list);
}

/** Which well-known header `b[start, end)` names, compared ASCII case-insensitively. */
function classify(b: Buffer, start: number, end: number): Known {
  const candidates = BY_LENGTH.get(end - start);
  if (candidates === undefined) return Known.Other;
  outer: for (const [name, kind] of candidates) {
    for (let i = 0; i < name.length; i++) {
      let c = b[start + i]!;
      if (c >= 0x41 && c <= 0x5a) c |= 0x20;
      if (c !== name[i]) continue outer;
    }
    return kind;
  }
  return Known.Other;
}

/**
 * Parses header lines starting at `start` (just after the start line) into
 * `block`, until the blank line or the end of the bytes; a partial last line is
 * ignored (captured bytes are capped, so cut headers are normal).
 */
export function parseHeaderBlock(b: Buffer, start: number, block: HeaderBlock, keepHeaders = false): void {
  block.headLength = start;
  let pos = start;
  let contentLengthConflict = false;
  // Index in block.headers of the previous field, for obsolete line folding; -1 when
  // the previous line was not kept (sensitive, dropped, malformed, not collected).
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
    const nameStart = pos;
    pos = lf + 1;
    previous = -1;
    const kind = classify(b, nameStart, colon);
    if (kind === Known.Sensitive) continue;
    const valueStart = skipOws(b, colon + 1, lineEnd);
    const valueEnd = trimOwsEnd(b, valueStart, lineEnd);
    let value: string | undefined;
    switch (kind) {
      case Known.Host:
        block.host ??= value = clipped(b, valueStart, valueEnd);
        break;
      case Known.ContentLength: {
        const n = parseContentLength(b, valueStart, valueEnd);
        if (n === undefined || (block.contentLength !== undefined && block.contentLength !== n)) contentLengthConflict = true;
        else block.contentLength = n;
        break;
      }
      case Known.TransferEncoding: {
        const te = (value = clipped(b, valueStart, valueEnd)).toLowerCase();
        block.transferEncoding = block.transferEncoding === undefined ? te : `${block.transferEncoding}, ${te}`;
        block.chunked = /(?:^|,)\s*chunked\s*$/.test(block.transferEncoding);
        break;
      }
      case Known.UserAgent:
        block.userAgent ??= value = clipped(b, valueStart, valueEnd);
        break;
      case Known.ContentType:
        block.contentType ??= value = clipped(b, valueStart, valueEnd);
        break;
      case Known.Connection:
        block.connection ??= (value = clipped(b, valueStart, valueEnd)).toLowerCase();
        break;
      case Known.Traceparent:
        block.traceparent ??= value = clipped(b, valueStart, valueEnd);
        break;
      case Known.Tracestate:
        block.tracestate ??= value = clipped(b, valueStart, valueEnd);
        break;
    }
    if (!keepHeaders) continue;
    if (block.headers.length < MAX_KEPT_HEADERS) {
      previous = block.headers.length;
      block.headers.push([latin1(b, nameStart, colon).toLowerCase(), value ?? clipped(b, valueStart, valueEnd)]);
    } else {
      block.droppedHeaders++;
    }
  }
  // A message with both Transfer-Encoding and Content-Length, or conflicting lengths,
  // has no trustworthy length (RFC 9112 §6.3): report none rather than a guess.
  if (contentLengthConflict || block.transferEncoding !== undefined) block.contentLength = undefined;
}

function isTokenRange(b: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isTokenChar(b[i]!)) return false;
  return true;
}

function parseContentLength(b: Buffer, start: number, end: number): number | undefined {
  if (start === end || end - start > 15) return undefined;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = b[i];
    if (!isDigit(c)) return undefined;
    n = n * 10 + (c! - 0x30);
  }
  return n;
}

function clipped(b: Buffer, start: number, end: number): string {
  return latin1(b, start, Math.min(end, start + MAX_HEADER_VALUE_LENGTH));
}

function clip(s: string): string {
  return s.length > MAX_HEADER_VALUE_LENGTH ? s.slice(0, MAX_HEADER_VALUE_LENGTH) : s;
}
