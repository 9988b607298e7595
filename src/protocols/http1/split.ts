// Splits a buffer that holds several pipelined HTTP/1 messages into one view per
// message, using the framing rules of RFC 9112 §6 (Content-Length, chunked,
// no body). Views share the input's memory. When a message's end cannot be found
// in the captured bytes, the rest of the buffer is its last piece.
import { indexOfLf } from './bytes.js';
import { parseRequest } from './request.js';
import { parseResponse } from './response.js';

/** A bound on pieces, so a buffer of tiny requests cannot make a huge array. */
export const MAX_SPLIT_MESSAGES = 64;

export interface SplitOptions {
  /**
   * Methods of the requests the responses answer, in order: a response to HEAD
   * has no body whatever its headers say.
   */
  requestMethods?: readonly string[];
}

export function splitMessages(b: Uint8Array, kind: 'request' | 'response', opts: SplitOptions = {}): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let at = 0;
  while (at < b.length) {
    const rest = b.subarray(at);
    const end = pieces.length + 1 >= MAX_SPLIT_MESSAGES ? -1 : messageEnd(rest, kind, opts.requestMethods?.[pieces.length]);
    if (end < 0 || end >= rest.length) {
      pieces.push(rest);
      break;
    }
    pieces.push(rest.subarray(0, end));
    at += end;
  }
  return pieces;
}

/** Length of the first message in `b`, or -1 when its end is not in the bytes. */
function messageEnd(b: Uint8Array, kind: 'request' | 'response', requestMethod: string | undefined): number {
  const parsed = kind === 'request' ? parseRequest(b) : parseResponse(b);
  if (!parsed.ok || !parsed.value.headersComplete) return -1;
  const head = parsed.value;
  let bodyless = false;
  if ('statusCode' in head) {
    const s = head.statusCode;
    bodyless = requestMethod === 'HEAD' || (s >= 100 && s < 200) || s === 204 || s === 304;
  }
  if (bodyless) return head.headLength;
  if (head.chunked) return chunkedEnd(b, head.headLength);
  if (head.contentLength !== undefined) return head.headLength + head.contentLength;
  // A request without framing headers has no body; a response without them runs to
  // the connection's close, so nothing can follow it.
  return kind === 'request' && head.transferEncoding === undefined ? head.headLength : -1;
}

/** End of a chunked body starting at `at` (after the trailer section), or -1. */
export function chunkedEnd(b: Uint8Array, at: number): number {
  let pos = at;
  for (let guard = 0; guard < 100_000; guard++) {
    const lf = indexOfLf(b, pos);
    if (lf < 0) return -1;
    let size = 0;
    let digits = 0;
    for (let i = pos; i < lf; i++) {
      const v = hexValue(b[i]!);
      if (v < 0) break;
      if (++digits > 12) return -1;
      size = size * 16 + v;
    }
    if (digits === 0) return -1;
    pos = lf + 1;
    if (size === 0) {
      // Trailer fields, then an empty line.
      for (;;) {
        const tl = indexOfLf(b, pos);
        if (tl < 0) return -1;
        const empty = tl === pos || (tl === pos + 1 && b[pos] === 0x0d);
        pos = tl + 1;
        if (empty) return pos;
      }
    }
    pos += size;
    // CRLF after the chunk data.
    if (b[pos] === 0x0d) pos++;
    if (b[pos] !== 0x0a) return -1;
    pos++;
  }
  return -1;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}
