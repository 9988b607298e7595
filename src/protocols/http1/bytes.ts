// Byte-level helpers shared by the HTTP/1 parsers. They work on Uint8Array views
// of captured bytes, never copy, and never throw.

export const SP = 0x20;
export const HT = 0x09;
export const CR = 0x0d;
export const LF = 0x0a;
export const COLON = 0x3a;

/** tchar from RFC 9110 §5.6.2: the characters allowed in a method or header name. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

export function isTokenChar(c: number): boolean {
  return TCHAR[c] === 1;
}

export function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

/** A Buffer view of the same memory (no copy), so decoding can use Buffer's fast paths. */
export function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Decodes bytes as Latin-1 (one char per byte): HTTP field values are opaque octets. */
export function latin1(b: Buffer, start: number, end: number): string {
  return b.toString('latin1', start, end);
}

/** Decodes bytes as UTF-8; invalid sequences become U+FFFD, it never throws. */
export function utf8(b: Buffer, start: number, end: number): string {
  return b.toString('utf8', start, end);
}

/** Index of the next LF at or after `from`, or -1. */
export function indexOfLf(b: Uint8Array, from: number): number {
  return b.indexOf(LF, from);
}

/** `from` advanced past spaces and tabs, bounded by `end`. */
export function skipOws(b: Uint8Array, from: number, end: number): number {
  let i = from;
  while (i < end && (b[i] === SP || b[i] === HT)) i++;
  return i;
}

/** `end` moved back over spaces and tabs, bounded by `start`. */
export function trimOwsEnd(b: Uint8Array, start: number, end: number): number {
  let i = end;
  while (i > start && (b[i - 1] === SP || b[i - 1] === HT)) i--;
  return i;
}

/**
 * Matches "HTTP/d.d" at `at`. Returns the version string ("1.1"), 'partial' when the
 * bytes end while still matching, or undefined on a mismatch.
 */
export function matchVersion(b: Uint8Array, at: number): string | 'partial' | undefined {
  for (let k = 0; k < 8; k++) {
    const c = b[at + k];
    if (c === undefined) return 'partial';
    if (k < 5) {
      if (c !== HTTP_SLASH[k]) return undefined;
    } else if (k === 6) {
      if (c !== 0x2e) return undefined;
    } else if (!isDigit(c)) {
      return undefined;
    }
  }
  const major = b[at + 5]!;
  const minor = b[at + 7]!;
  if (major === 0x31) {
    if (minor === 0x31) return '1.1';
    if (minor === 0x30) return '1.0';
  }
  return String.fromCharCode(major, 0x2e, minor);
}

const HTTP_SLASH = [0x48, 0x54, 0x54, 0x50, 0x2f];
