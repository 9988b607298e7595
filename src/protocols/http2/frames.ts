// HTTP/2 framing (RFC 9113 §4, §6): the frame header, the types and flags
// waggle reads, and whether 9 bytes look like a frame header — used to find
// frame boundaries again after a capture hole and to recognise a connection
// joined midway.

export const FRAME_HEADER_LENGTH = 9;
/** SETTINGS_MAX_FRAME_SIZE before any SETTINGS (RFC 9113 §6.5.2). */
export const DEFAULT_MAX_FRAME_SIZE = 16384;
/** The largest frame a peer may announce (2^24 - 1). */
export const MAX_FRAME_SIZE_LIMIT = 0xffffff;

export const CONNECTION_PREFACE = new TextEncoder().encode('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export const enum FrameType {
  Data = 0,
  Headers = 1,
  Priority = 2,
  RstStream = 3,
  Settings = 4,
  PushPromise = 5,
  Ping = 6,
  Goaway = 7,
  WindowUpdate = 8,
  Continuation = 9,
}

export const FLAG_END_STREAM = 0x1;
export const FLAG_ACK = 0x1;
export const FLAG_END_HEADERS = 0x4;
export const FLAG_PADDED = 0x8;
export const FLAG_PRIORITY = 0x20;

export const SETTINGS_HEADER_TABLE_SIZE = 0x1;
export const SETTINGS_MAX_FRAME_SIZE = 0x5;

export interface FrameHeader {
  length: number;
  type: number;
  flags: number;
  streamId: number;
}

export function readFrameHeader(b: Uint8Array, off: number, out: FrameHeader): void {
  out.length = (b[off]! << 16) | (b[off + 1]! << 8) | b[off + 2]!;
  out.type = b[off + 3]!;
  out.flags = b[off + 4]!;
  out.streamId = ((b[off + 5]! & 0x7f) * 0x1000000) + ((b[off + 6]! << 16) | (b[off + 7]! << 8) | b[off + 8]!);
}

/** Flags each known type may carry; frames with others are implausible while resynchronising. */
const ALLOWED_FLAGS = [
  FLAG_END_STREAM | FLAG_PADDED,
  FLAG_END_STREAM | FLAG_END_HEADERS | FLAG_PADDED | FLAG_PRIORITY,
  0,
  0,
  FLAG_ACK,
  FLAG_END_HEADERS | FLAG_PADDED,
  FLAG_ACK,
  0,
  0,
  FLAG_END_HEADERS,
];

/**
 * Whether the 9 bytes at `off` are a believable frame header of a known type:
 * reserved bit clear, a length within `maxFrameSize` and the type's fixed size,
 * the stream id the type requires (0 or not), no unknown flags.
 */
export function plausibleHeader(b: Uint8Array, off: number, maxFrameSize: number): boolean {
  if (off + FRAME_HEADER_LENGTH > b.length) return false;
  if ((b[off + 5]! & 0x80) !== 0) return false;
  const length = (b[off]! << 16) | (b[off + 1]! << 8) | b[off + 2]!;
  const type = b[off + 3]!;
  const flags = b[off + 4]!;
  if (type > FrameType.Continuation || length > maxFrameSize) return false;
  if ((flags & ~ALLOWED_FLAGS[type]!) !== 0) return false;
  const stream = (b[off + 5]! | b[off + 6]! | b[off + 7]! | b[off + 8]!) !== 0;
  switch (type) {
    case FrameType.Settings:
      return !stream && length % 6 === 0 && (!(flags & FLAG_ACK) || length === 0);
    case FrameType.Ping:
      return !stream && length === 8;
    case FrameType.Goaway:
      return !stream && length >= 8;
    case FrameType.WindowUpdate:
      return length === 4;
    case FrameType.RstStream:
      return stream && length === 4;
    case FrameType.Priority:
      return stream && length === 5;
    default:
      return stream;
  }
}

/**
 * The first offset in `b` from which frames follow each other plausibly: a
 * header, and after its payload either the end of `b` (when `b` ends the run:
 * `complete`), another plausible header, or bytes beyond `b` (accepted only at
 * offset 0, where a run or read usually starts). -1 when none.
 */
export function findFrameBoundary(b: Uint8Array, complete: boolean, maxFrameSize: number): number {
  for (let off = 0; off + FRAME_HEADER_LENGTH <= b.length; off++) {
    if (!plausibleHeader(b, off, maxFrameSize)) continue;
    const next = off + FRAME_HEADER_LENGTH + ((b[off]! << 16) | (b[off + 1]! << 8) | b[off + 2]!);
    if (next === b.length && complete) return off;
    if (next + FRAME_HEADER_LENGTH <= b.length) {
      if (plausibleHeader(b, next, maxFrameSize)) return off;
      continue;
    }
    if (off === 0 && (next > b.length || !complete)) return off;
  }
  return -1;
}

/** Whether `b` starts with the client connection preface (or the part of it `b` holds, at least 9 bytes). */
export function startsWithPreface(b: Uint8Array): boolean {
  const n = Math.min(b.length, CONNECTION_PREFACE.length);
  if (n < 9) return false;
  for (let i = 0; i < n; i++) if (b[i] !== CONNECTION_PREFACE[i]) return false;
  return true;
}
