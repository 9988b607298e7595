// MQTT framing for one direction: a fixed header (type and flags, then the
// remaining length as a 1–4 byte varint) and that many bytes. Each packet's
// first PREFIX_CAP bytes are collected (topic, packet id, properties, reason
// codes); the rest (the payload) is skipped, across chunk holes too. When a
// hole or garbage loses framing, the framer resynchronises at a position where
// a chain of well-formed packet headers runs to the end of the bytes.

/** Bytes of a packet kept for parsing: enough for its topic and properties. */
export const PREFIX_CAP = 1024;
/** MQTT's largest remaining length (4 varint bytes). */
export const MAX_REMAINING = 268_435_455;

export enum PacketType {
  CONNECT = 1,
  CONNACK = 2,
  PUBLISH = 3,
  PUBACK = 4,
  PUBREC = 5,
  PUBREL = 6,
  PUBCOMP = 7,
  SUBSCRIBE = 8,
  SUBACK = 9,
  UNSUBSCRIBE = 10,
  UNSUBACK = 11,
  PINGREQ = 12,
  PINGRESP = 13,
  DISCONNECT = 14,
  AUTH = 15,
}

export interface Packet {
  type: number;
  flags: number;
  remaining: number;
  /** The packet's first min(remaining, PREFIX_CAP) bytes, or fewer when a hole cut them (a view: valid during the call). */
  prefix: Uint8Array;
}

export interface PacketSink {
  packet(p: Packet): void;
  unparsed(): void;
}

interface Header {
  type: number;
  flags: number;
  remaining: number;
  /** Header bytes (1 + varint length). */
  size: number;
}

/** The fixed header at `at`: a Header, 'short' when the bytes end inside it, or undefined when malformed. */
export function readHeader(b: Uint8Array, at: number): Header | 'short' | undefined {
  if (at >= b.length) return 'short';
  const first = b[at]!;
  const type = first >> 4;
  const flags = first & 0x0f;
  if (type === 0) return undefined;
  if (type === PacketType.PUBLISH) {
    if ((flags & 0x06) === 0x06) return undefined; // QoS 3
  } else if (type === PacketType.PUBREL || type === PacketType.SUBSCRIBE || type === PacketType.UNSUBSCRIBE) {
    if (flags !== 0x02) return undefined;
  } else if (flags !== 0) return undefined;
  let remaining = 0;
  let mul = 1;
  for (let i = 1; i <= 4; i++) {
    if (at + i >= b.length) return 'short';
    const c = b[at + i]!;
    remaining += (c & 0x7f) * mul;
    if ((c & 0x80) === 0) {
      if (i > 1 && c === 0) return undefined; // non-minimal encoding: not a real client's
      if (!plausibleLength(type, remaining)) return undefined;
      return { type, flags, remaining, size: 1 + i };
    }
    mul *= 128;
  }
  return undefined;
}

function plausibleLength(type: number, n: number): boolean {
  switch (type) {
    case PacketType.PINGREQ:
    case PacketType.PINGRESP:
      return n === 0;
    case PacketType.PUBACK:
    case PacketType.PUBREC:
    case PacketType.PUBREL:
    case PacketType.PUBCOMP:
    case PacketType.CONNACK:
    case PacketType.UNSUBACK:
      return n >= 2 && n <= 65_536;
    case PacketType.SUBACK:
      return n >= 3;
    case PacketType.CONNECT:
      return n >= 10 && n <= 65_536 * 4;
    case PacketType.SUBSCRIBE:
    case PacketType.UNSUBSCRIBE:
      return n >= 5;
    case PacketType.PUBLISH:
      return n >= 2;
    default:
      return true;
  }
}

/**
 * Whether well-formed packets run from `at` to exactly the end of `b` (or, when
 * `openEnd`, past it: a read can stop inside a packet). A PUBLISH's topic
 * length must fit its packet.
 */
export function chainFrom(b: Uint8Array, at: number, openEnd: boolean, budget = 32): boolean {
  let q = at;
  for (let steps = 0; steps < budget; steps++) {
    const h = readHeader(b, q);
    if (h === undefined) return false;
    if (h === 'short') return openEnd;
    if (h.type === PacketType.PUBLISH && q + h.size + 2 <= b.length) {
      const topicLen = (b[q + h.size]! << 8) | b[q + h.size + 1]!;
      if (2 + topicLen > h.remaining) return false;
      // A topic name is text without wildcards or control characters (MQTT 4.7.3).
      const t0 = q + h.size + 2;
      for (let i = t0; i < Math.min(t0 + topicLen, b.length); i++) {
        const c = b[i]!;
        if (c < 0x20 || c === 0x7f || c === 0x23 || c === 0x2b) return false;
      }
    }
    q += h.size + h.remaining;
    if (q === b.length) return true;
    if (q > b.length) return openEnd;
  }
  return false;
}

export class PacketFramer {
  private head = new Uint8Array(5);
  /** One buffer for every packet's prefix (a packet is handed on before the next starts). */
  private readonly store = new Uint8Array(PREFIX_CAP);
  private headLen = 0;
  private header: Header | null = null;
  private prefix: Uint8Array | null = null;
  private prefixLen = 0;
  private skip = 0;
  private seeking = false;

  constructor(private readonly sink: PacketSink) {}

  /** Lost chunks before this one: start afresh, resynchronising at the next chunk's start. */
  reset(): void {
    this.headLen = 0;
    this.header = null;
    this.prefix = null;
    this.skip = 0;
    this.seeking = true;
  }

  /** `n` uncaptured bytes inside a chunk. */
  hole(n: number): void {
    if (n <= 0) return;
    if (this.header !== null && this.prefix !== null) {
      // Inside a packet's first bytes: parse what we have, skip the rest.
      const rest = this.header.remaining - this.prefixLen;
      this.deliver();
      this.skip = rest;
    }
    if (this.headLen === 0 && this.header === null && this.skip >= n && !this.seeking) {
      this.skip -= n;
      return;
    }
    this.sink.unparsed();
    this.headLen = 0;
    this.header = null;
    this.prefix = null;
    this.skip = 0;
    this.seeking = true;
  }

  /** `chunkStart`: `bytes` begins a chunk (a read or write), not a tail after a hole. */
  feed(bytes: Uint8Array, chunkStart: boolean): void {
    let pos = 0;
    if (this.seeking) {
      const at = this.resync(bytes, chunkStart);
      if (at < 0) return;
      this.seeking = false;
      pos = at;
    }
    while (pos < bytes.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, bytes.length - pos);
        this.skip -= n;
        pos += n;
        continue;
      }
      if (this.header === null) {
        // Collect the fixed header (≤ 5 bytes), maybe across chunks.
        while (pos < bytes.length && this.headLen < 5) {
          this.head[this.headLen++] = bytes[pos++]!;
          const h = readHeader(this.head.subarray(0, this.headLen), 0);
          if (h === 'short') continue;
          if (h === undefined) {
            this.lose();
            const at = this.resync(bytes.subarray(pos), false);
            if (at < 0) return;
            this.seeking = false;
            pos += at;
            break;
          }
          this.header = h;
          this.headLen = 0;
          this.prefix = this.store.subarray(0, Math.min(h.remaining, PREFIX_CAP));
          this.prefixLen = 0;
          break;
        }
        if (this.header === null) continue;
      }
      const prefix = this.prefix!;
      const n = Math.min(prefix.length - this.prefixLen, bytes.length - pos);
      prefix.set(bytes.subarray(pos, pos + n), this.prefixLen);
      this.prefixLen += n;
      pos += n;
      if (this.prefixLen === prefix.length) {
        const rest = this.header.remaining - prefix.length;
        this.deliver();
        this.skip = rest;
      }
    }
  }

  private deliver(): void {
    const h = this.header!;
    const prefix = this.prefix!.subarray(0, this.prefixLen);
    this.header = null;
    this.prefix = null;
    this.prefixLen = 0;
    this.sink.packet({ type: h.type, flags: h.flags, remaining: h.remaining, prefix });
  }

  private lose(): void {
    this.sink.unparsed();
    this.headLen = 0;
    this.header = null;
    this.prefix = null;
    this.skip = 0;
    this.seeking = true;
  }

  /** Where framing can start again in `b`, or -1. */
  private resync(b: Uint8Array, chunkStart: boolean): number {
    if (chunkStart && chainFrom(b, 0, true)) return 0;
    // A tail (or the rest of a garbled chunk): the first position from which
    // packets run exactly to its end (writes end on packet boundaries).
    for (let p = chunkStart ? 1 : 0; p < b.length && p < 2048; p++) {
      if (chainFrom(b, p, false)) return p;
    }
    return -1;
  }
}
