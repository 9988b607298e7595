// AMQP 0-9-1 framing for one direction: type (1), channel (2), size (4),
// payload, frame-end 0xCE; before the first frame the client sends the
// protocol header "AMQP\0\0\x09\x01". Each frame's first PREFIX_CAP payload
// bytes are kept (method arguments, content headers); body payloads are
// skipped, across chunk holes too. The frame-end byte checks every frame; when
// framing is lost the framer resynchronises where a chain of well-formed
// frames runs to the end of the bytes.

export const PREFIX_CAP = 1024;
/** Larger than any frame_max a broker negotiates (RabbitMQ: 128 KiB default, ≤ 512 MiB?): 16 MiB. */
export const MAX_FRAME = 16 << 20;
export const FRAME_END = 0xce;

export const FrameType = { METHOD: 1, HEADER: 2, BODY: 3, HEARTBEAT: 8 } as const;

export interface Frame {
  type: number;
  channel: number;
  size: number;
  /** The payload's first min(size, PREFIX_CAP) bytes, fewer when a hole cut them (valid during the call: the framer reuses it). */
  prefix: Uint8Array;
}

export interface FrameSink {
  frame(f: Frame): void;
  unparsed(): void;
}

const PROTOCOL_HEADER = [0x41, 0x4d, 0x51, 0x50]; // "AMQP"

function isProtocolHeader(b: Uint8Array, at: number): boolean {
  for (let i = 0; i < 4; i++) if (at + i < b.length && b[at + i] !== PROTOCOL_HEADER[i]) return false;
  return true;
}

function validType(t: number): boolean {
  return t === 1 || t === 2 || t === 3 || t === 8;
}

/**
 * Whether well-formed frames run from `at` to exactly the end of `b` (or, when
 * `openEnd`, past it).
 */
export function chainFrom(b: Uint8Array, at: number, openEnd: boolean, budget = 32): boolean {
  let q = at;
  for (let steps = 0; steps < budget; steps++) {
    if (q + 7 > b.length) return openEnd && q < b.length ? validType(b[q]!) : openEnd;
    if (isProtocolHeader(b, q) && q + 8 <= b.length) {
      q += 8;
      if (q === b.length) return true;
      continue;
    }
    const type = b[q]!;
    const size = ((b[q + 3]! << 24) >>> 0) + (b[q + 4]! << 16) + (b[q + 5]! << 8) + b[q + 6]!;
    if (!validType(type) || size > MAX_FRAME) return false;
    if (type === FrameType.HEARTBEAT && size !== 0) return false;
    if (type === FrameType.METHOD && size < 4) return false;
    if (type === FrameType.HEADER && size < 14) return false;
    const end = q + 7 + size;
    if (end >= b.length) return openEnd;
    if (b[end] !== FRAME_END) return false;
    q = end + 1;
    if (q === b.length) return true;
  }
  return false;
}

export class FrameFramer {
  private head = new Uint8Array(8);
  /** One buffer for every frame's prefix (a frame is handed on before the next starts). */
  private readonly store = new Uint8Array(PREFIX_CAP);
  private headLen = 0;
  private type = 0;
  private channel = 0;
  private size = 0;
  /** Collecting: the payload's kept bytes; null between frames. */
  private prefix: Uint8Array | null = null;
  private prefixLen = 0;
  private skip = 0;
  private seeking = false;

  constructor(private readonly sink: FrameSink) {}

  reset(): void {
    this.clear();
    this.seeking = true;
  }

  hole(n: number): void {
    if (n <= 0) return;
    if (this.prefix !== null) {
      // Inside a frame: what is left of it, its end byte included.
      const uncollected = this.prefix.length - this.prefixLen;
      const left = uncollected + this.skip + 1;
      if (uncollected > 0) {
        // Keep what was collected; the rest of the payload becomes skipped.
        this.prefix = this.prefix.subarray(0, this.prefixLen);
        this.skip += uncollected;
      }
      if (n < left) {
        this.skip -= n;
        return;
      }
      // The frame ends inside the hole: it is whole as far as we can tell.
      this.deliver();
      if (n === left) return;
    }
    this.sink.unparsed();
    this.clear();
    this.seeking = true;
  }

  feed(bytes: Uint8Array, chunkStart: boolean): void {
    let pos = 0;
    if (this.seeking) {
      const at = this.resync(bytes, chunkStart);
      if (at < 0) return;
      this.seeking = false;
      pos = at;
    }
    while (pos < bytes.length) {
      if (this.prefix === null) {
        // A frame header (7 bytes) or the protocol header (8), maybe across chunks.
        this.head[this.headLen++] = bytes[pos++]!;
        if (this.headLen === 1 && this.head[0] !== 0x41 && !validType(this.head[0]!)) {
          if (this.lose(bytes, pos - 1)) return;
          pos = this.resumeAt;
          continue;
        }
        if (this.head[0] === 0x41) {
          if (this.headLen <= 4 && this.head[this.headLen - 1] !== PROTOCOL_HEADER[this.headLen - 1]) {
            if (this.lose(bytes, pos - 1)) return;
            pos = this.resumeAt;
            continue;
          }
          if (this.headLen === 8) this.headLen = 0;
          continue;
        }
        if (this.headLen < 7) continue;
        const h = this.head;
        this.type = h[0]!;
        this.channel = (h[1]! << 8) | h[2]!;
        this.size = ((h[3]! << 24) >>> 0) + (h[4]! << 16) + (h[5]! << 8) + h[6]!;
        this.headLen = 0;
        if (this.size > MAX_FRAME || (this.type === FrameType.HEARTBEAT && this.size !== 0)) {
          if (this.lose(bytes, pos)) return;
          pos = this.resumeAt;
          continue;
        }
        const keep = this.type === FrameType.BODY ? 0 : Math.min(this.size, PREFIX_CAP);
        this.prefix = this.store.subarray(0, keep);
        this.prefixLen = 0;
        this.skip = this.size - keep;
        continue;
      }
      if (this.prefixLen < this.prefix.length) {
        const n = Math.min(this.prefix.length - this.prefixLen, bytes.length - pos);
        this.prefix.set(bytes.subarray(pos, pos + n), this.prefixLen);
        this.prefixLen += n;
        pos += n;
        continue;
      }
      if (this.skip > 0) {
        const n = Math.min(this.skip, bytes.length - pos);
        this.skip -= n;
        pos += n;
        continue;
      }
      // The frame-end byte.
      if (bytes[pos] !== FRAME_END) {
        if (this.lose(bytes, pos)) return;
        pos = this.resumeAt;
        continue;
      }
      pos++;
      this.deliver();
    }
  }

  private deliver(): void {
    const prefix = this.prefix!.subarray(0, this.prefixLen);
    const f: Frame = { type: this.type, channel: this.channel, size: this.size, prefix };
    this.clear();
    this.sink.frame(f);
  }

  private clear(): void {
    this.headLen = 0;
    this.prefix = null;
    this.prefixLen = 0;
    this.skip = 0;
  }

  private resumeAt = 0;

  /** Framing lost at `from`: count it and find where to resume in these bytes; true when nowhere (seek on). */
  private lose(bytes: Uint8Array, from: number): boolean {
    this.sink.unparsed();
    this.clear();
    const rest = bytes.subarray(from + 1);
    const at = this.resync(rest, false);
    if (at < 0) {
      this.seeking = true;
      return true;
    }
    this.resumeAt = from + 1 + at;
    return false;
  }

  private resync(b: Uint8Array, chunkStart: boolean): number {
    if (chunkStart && chainFrom(b, 0, true)) return 0;
    for (let p = chunkStart ? 1 : 0; p < b.length && p < 2048; p++) {
      if (chainFrom(b, p, false)) return p;
    }
    return -1;
  }
}
