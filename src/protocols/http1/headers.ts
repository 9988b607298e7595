// Header block parsing shared by requests and responses. Bounded (a cap on kept
// fields and on value length), lenient (a malformed line is counted and skipped,
// as a server would), and secret-free: the values of credential headers are never
// decoded, let alone kept.
//
// Fast by default: well-known names are recognised by comparing bytes, and their
// values are recorded as offsets in a reusable HeaderScan (no string is made until
// a caller asks for one: decoding a value costs ~100 ns). The generic `headers`
// list (every other field, for opt-in header attributes) is built only when asked
// for with keepHeaders.
import { COLON, CR, HT, LF, SP, indexOfLf, isDigit, isTokenChar, latin1, skipOws, trimOwsEnd } from './bytes.js';

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

/**
 * Known names as lower-case bytes, found by a hash of the lower-cased name taken
 * while scanning it (so an unknown name costs no comparison), then compared.
 */
const NAME_BYTES = KNOWN_NAMES.map(([name]) => Buffer.from(name, 'latin1'));
const NAME_KINDS = KNOWN_NAMES.map(([, kind]) => kind);
const HASH_SLOTS = 128;
/** Per slot, indexes into NAME_BYTES (most slots hold none). */
const BY_HASH: number[][] = Array.from({ length: HASH_SLOTS }, () => []);

/** One step of the name hash (`c` already lower-cased). */
function hashStep(h: number, c: number): number {
  return (Math.imul(h, 31) + c) | 0;
}
KNOWN_NAMES.forEach(([name], i) => {
  let h = 0;
  for (let k = 0; k < name.length; k++) h = hashStep(h, name.charCodeAt(k));
  BY_HASH[h & (HASH_SLOTS - 1)]!.push(i);
});

/** Which well-known header the token (tchars only) `b[start, end)` of hash `h` names, compared ASCII case-insensitively. */
function classify(b: Uint8Array, start: number, end: number, h: number): Known {
  const candidates = BY_HASH[h & (HASH_SLOTS - 1)]!;
  for (let k = 0; k < candidates.length; k++) {
    const name = NAME_BYTES[candidates[k]!]!;
    if (name.length !== end - start) continue;
    let i = 0;
    // `| 0x20` folds A–Z onto a–z; the only other byte it maps onto a name byte is CR
    // (onto '-'), and a token holds no CR.
    for (; i < name.length; i++) if ((b[start + i]! | 0x20) !== name[i]) break;
    if (i === name.length) return NAME_KINDS[candidates[k]!]!;
  }
  return Known.Other;
}

/**
 * Where the well-known fields of a header block are, as offsets into `bytes`
 * (values trimmed, and clipped to MAX_HEADER_VALUE_LENGTH; -1 when absent). One
 * instance is reused message after message: read it before the next scan.
 */
export class HeaderScan {
  /** The bytes the offsets refer to. */
  bytes: Buffer = EMPTY;
  headersComplete = false;
  headLength = 0;
  droppedHeaders = 0;
  malformedHeaderLines = 0;
  /** Content-Length, or -1 when absent, malformed, conflicting or beside Transfer-Encoding. */
  contentLength = -1;
  chunked = false;
  /** Transfer-Encoding fields: [start, end) pairs, in order. */
  readonly transferEncodings: number[] = [];
  hostStart = -1;
  hostEnd = -1;
  userAgentStart = -1;
  userAgentEnd = -1;
  contentTypeStart = -1;
  contentTypeEnd = -1;
  connectionStart = -1;
  connectionEnd = -1;
  traceparentStart = -1;
  traceparentEnd = -1;
  tracestateStart = -1;
  tracestateEnd = -1;

  resetHeaders(bytes: Buffer, headLength: number): void {
    this.bytes = bytes;
    this.headersComplete = false;
    this.headLength = headLength;
    this.droppedHeaders = 0;
    this.malformedHeaderLines = 0;
    this.contentLength = -1;
    this.chunked = false;
    if (this.transferEncodings.length !== 0) this.transferEncodings.length = 0;
    this.hostStart = this.hostEnd = -1;
    this.userAgentStart = this.userAgentEnd = -1;
    this.contentTypeStart = this.contentTypeEnd = -1;
    this.connectionStart = this.connectionEnd = -1;
    this.traceparentStart = this.traceparentEnd = -1;
    this.tracestateStart = this.tracestateEnd = -1;
  }

  host(): string | undefined {
    return this.hostStart < 0 ? undefined : latin1(this.bytes, this.hostStart, this.hostEnd);
  }

  userAgent(): string | undefined {
    return this.userAgentStart < 0 ? undefined : latin1(this.bytes, this.userAgentStart, this.userAgentEnd);
  }

  traceparent(): string | undefined {
    return this.traceparentStart < 0 ? undefined : latin1(this.bytes, this.traceparentStart, this.traceparentEnd);
  }

  /** The fields as strings, the shape parseRequest and parseResponse return. */
  toBlock(headers: HeaderField[]): HeaderBlock {
    const te = this.transferEncodings;
    let transferEncoding: string | undefined;
    for (let i = 0; i < te.length; i += 2) {
      const v = latin1(this.bytes, te[i]!, te[i + 1]!).toLowerCase();
      transferEncoding = transferEncoding === undefined ? v : `${transferEncoding}, ${v}`;
    }
    return {
      headers,
      host: this.host(),
      contentLength: this.contentLength < 0 ? undefined : this.contentLength,
      transferEncoding,
      chunked: this.chunked,
      userAgent: this.userAgent(),
      contentType: this.contentTypeStart < 0 ? undefined : latin1(this.bytes, this.contentTypeStart, this.contentTypeEnd),
      connection: this.connectionStart < 0 ? undefined : latin1(this.bytes, this.connectionStart, this.connectionEnd).toLowerCase(),
      traceparent: this.traceparent(),
      tracestate: this.tracestateStart < 0 ? undefined : latin1(this.bytes, this.tracestateStart, this.tracestateEnd),
      headersComplete: this.headersComplete,
      headLength: this.headLength,
      droppedHeaders: this.droppedHeaders,
      malformedHeaderLines: this.malformedHeaderLines,
    };
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * Scans header lines starting at `start` (just after the start line) into `scan`
 * (already reset), until the blank line or the end of the bytes; a partial last
 * line is ignored (captured bytes are capped, so cut headers are normal). With
 * `keep`, every non-sensitive field is also decoded into it (bounded).
 */
export function scanHeaderBlock(b: Buffer, start: number, scan: HeaderScan, keep?: HeaderField[]): void {
  scan.headLength = start;
  let pos = start;
  let contentLengthConflict = false;
  // Index in keep of the previous field, for obsolete line folding; -1 when the
  // previous line was not kept (sensitive, dropped, malformed, not collected).
  let previous = -1;
  for (;;) {
    const first = b[pos];
    // The blank line ending the block.
    if (first === LF || (first === CR && b[pos + 1] === LF)) {
      scan.headersComplete = true;
      scan.headLength = pos + (first === LF ? 1 : 2);
      break;
    }
    if (first === SP || first === HT) {
      // obs-fold (RFC 9112 §5.2): a continuation of the previous value, joined by a space.
      const lf = indexOfLf(b, pos);
      if (lf < 0) break;
      scan.headLength = lf + 1;
      if (keep !== undefined && previous >= 0) {
        const lineEnd = b[lf - 1] === CR ? lf - 1 : lf;
        const [name, value] = keep[previous]!;
        const more = latin1(b, skipOws(b, pos, lineEnd), trimOwsEnd(b, pos, lineEnd));
        keep[previous] = [name, clip(`${value} ${more}`)];
      }
      pos = lf + 1;
      continue;
    }
    // The name: tchars up to the first colon (a colon is not a tchar, so no earlier
    // one hides), hashed on the way for classify().
    let colon = pos;
    let h = 0;
    for (let c = first!; isTokenChar(c); c = b[++colon]!) h = hashStep(h, c | 0x20);
    // A line is only read once it is complete: a partial last line is ignored.
    const lf = indexOfLf(b, colon);
    if (lf < 0) break;
    scan.headLength = lf + 1;
    if (colon === pos || b[colon] !== COLON) {
      scan.malformedHeaderLines++;
      previous = -1;
      pos = lf + 1;
      continue;
    }
    const nameStart = pos;
    pos = lf + 1;
    previous = -1;
    const kind = classify(b, nameStart, colon, h);
    if (kind === Known.Sensitive || (kind === Known.Other && keep === undefined)) continue;
    const lineEnd = b[lf - 1] === CR ? lf - 1 : lf;
    const valueStart = skipOws(b, colon + 1, lineEnd);
    const valueEnd = trimOwsEnd(b, valueStart, lineEnd);
    const clipEnd = Math.min(valueEnd, valueStart + MAX_HEADER_VALUE_LENGTH);
    switch (kind) {
      case Known.Host:
        if (scan.hostStart < 0) {
          scan.hostStart = valueStart;
          scan.hostEnd = clipEnd;
        }
        break;
      case Known.ContentLength: {
        const n = parseContentLength(b, valueStart, valueEnd);
        if (n < 0 || (scan.contentLength >= 0 && scan.contentLength !== n)) contentLengthConflict = true;
        else scan.contentLength = n;
        break;
      }
      case Known.TransferEncoding:
        scan.transferEncodings.push(valueStart, clipEnd);
        scan.chunked = endsWithChunked(b, valueStart, clipEnd);
        break;
      case Known.UserAgent:
        if (scan.userAgentStart < 0) {
          scan.userAgentStart = valueStart;
          scan.userAgentEnd = clipEnd;
        }
        break;
      case Known.ContentType:
        if (scan.contentTypeStart < 0) {
          scan.contentTypeStart = valueStart;
          scan.contentTypeEnd = clipEnd;
        }
        break;
      case Known.Connection:
        if (scan.connectionStart < 0) {
          scan.connectionStart = valueStart;
          scan.connectionEnd = clipEnd;
        }
        break;
      case Known.Traceparent:
        if (scan.traceparentStart < 0) {
          scan.traceparentStart = valueStart;
          scan.traceparentEnd = clipEnd;
        }
        break;
      case Known.Tracestate:
        if (scan.tracestateStart < 0) {
          scan.tracestateStart = valueStart;
          scan.tracestateEnd = clipEnd;
        }
        break;
    }
    if (keep === undefined) continue;
    if (keep.length < MAX_KEPT_HEADERS) {
      previous = keep.length;
      keep.push([latin1(b, nameStart, colon).toLowerCase(), latin1(b, valueStart, clipEnd)]);
    } else {
      scan.droppedHeaders++;
    }
  }
  // A message with both Transfer-Encoding and Content-Length, or conflicting lengths,
  // has no trustworthy length (RFC 9112 §6.3): report none rather than a guess.
  if (contentLengthConflict || scan.transferEncodings.length > 0) scan.contentLength = -1;
}

/** -1 when not a Content-Length value. */
function parseContentLength(b: Uint8Array, start: number, end: number): number {
  if (start === end || end - start > 15) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = b[i];
    if (!isDigit(c)) return -1;
    n = n * 10 + (c! - 0x30);
  }
  return n;
}

/** JavaScript's \s within Latin-1. */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0;
}

const CHUNKED = [0x63, 0x68, 0x75, 0x6e, 0x6b, 0x65, 0x64];

/**
 * The transfer codings joined so far end in `chunked` (the value lower-cased):
 * what `/(?:^|,)\s*chunked\s*$/` says of the joined list, decided on this last
 * field's bytes (the join puts ", " before it, so its start counts as a comma).
 */
function endsWithChunked(b: Uint8Array, start: number, end: number): boolean {
  let e = end;
  while (e > start && isSpace(b[e - 1]!)) e--;
  const s = e - CHUNKED.length;
  if (s < start) return false;
  for (let i = 0; i < CHUNKED.length; i++) {
    let c = b[s + i]!;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== CHUNKED[i]) return false;
  }
  let p = s;
  while (p > start && isSpace(b[p - 1]!)) p--;
  return p === start || b[p - 1] === 0x2c;
}

function clip(s: string): string {
  return s.length > MAX_HEADER_VALUE_LENGTH ? s.slice(0, MAX_HEADER_VALUE_LENGTH) : s;
}
