// MySQL packet framing for one direction of a connection: a 3-byte little-endian
// payload length, a sequence id, the payload. A payload of 0xffffff bytes
// continues in the next packet (messages over 16 MB). Chunks arrive as a
// captured head, an uncaptured hole and a captured tail; the length fields carry
// the reader across a hole that falls inside one packet's payload. A hole that
// crosses a packet boundary, or a lost chunk, loses the framing: the reader goes
// unsynced and the connection parser resynchronises it at a message start.

export const MAX_PAYLOAD = 0xffffff;

export interface Packet {
  seq: number;
  /** The payload's first byte (-1 when empty or not captured): what most packets are told apart by. */
  first: number;
  /** Payload length of this physical packet. */
  length: number;
  /** The payload's first captured bytes (up to the reader's keep size): a view valid only during the callback. */
  data: Uint8Array;
  /** Whether data holds the whole payload (no cap, no hole). */
  whole: boolean;
  /** This packet continues a 0xffffff-long one: the same message, not a new one. */
  continuation: boolean;
  /** Time of the chunk in which the packet began. */
  startNs: number;
  /** Time of the chunk in which the packet ended. */
  timeNs: number;
}

export type OnPacket = (p: Packet) => void;

/** The reader's one reused packet: `data` is sliced only when a consumer asks for it (rows never do). */
class PacketView implements Packet {
  seq = 0;
  first = -1;
  length = 0;
  whole = false;
  continuation = false;
  startNs = 0;
  timeNs = 0;
  keepLen = 0;
  constructor(private readonly keep: Uint8Array) {}
  get data(): Uint8Array {
    return this.keep.subarray(0, this.keepLen);
  }
}

export class PacketReader {
  /** False once framing is lost; the owner resynchronises with reset(). */
  synced = true;
  private readonly header = new Uint8Array(4);
  private headerLen = 0;
  /** Payload bytes still to come of the current packet; -1 between packets. */
  private remaining = -1;
  private length = 0;
  private seq = 0;
  private readonly keep: Uint8Array;
  private readonly view: PacketView;
  private keepLen = 0;
  private holed = false;
  private startNs = 0;
  /** The previous packet was 0xffffff long: the next one continues its message. */
  private continues = false;

  constructor(keepBytes: number) {
    this.keep = new Uint8Array(keepBytes);
    this.view = new PacketView(this.keep);
  }

  /** Between packets (a message may start at the next byte). */
  get atBoundary(): boolean {
    return this.synced && this.remaining < 0 && this.headerLen === 0;
  }

  /** Bytes of the current packet still expected (0 between packets). */
  get pending(): number {
    return this.remaining < 0 ? 0 : this.remaining;
  }

  /** Start afresh at a message boundary (the next byte is a packet header). */
  reset(): void {
    this.synced = true;
    this.headerLen = 0;
    this.remaining = -1;
    this.keepLen = 0;
    this.holed = false;
    this.continues = false;
  }

  /** Contiguous captured bytes. */
  push(bytes: Uint8Array, timeNs: number, onPacket: OnPacket): void {
    if (!this.synced) return;
    let i = 0;
    const n = bytes.length;
    while (i < n) {
      if (this.remaining < 0) {
        // Header bytes, maybe split across chunks.
        if (this.headerLen === 0) this.startNs = timeNs;
        while (this.headerLen < 4 && i < n) this.header[this.headerLen++] = bytes[i++]!;
        if (this.headerLen < 4) return;
        const h = this.header;
        this.length = h[0]! | (h[1]! << 8) | (h[2]! << 16);
        this.seq = h[3]!;
        this.headerLen = 0;
        this.remaining = this.length;
        this.keepLen = 0;
        this.holed = false;
        if (this.remaining === 0) this.finish(timeNs, onPacket);
        continue;
      }
      const take = Math.min(this.remaining, n - i);
      const room = this.keep.length - this.keepLen;
      if (room > 0 && !this.holed) {
        const k = Math.min(room, take);
        this.keep.set(bytes.subarray(i, i + k), this.keepLen);
        this.keepLen += k;
      }
      i += take;
      this.remaining -= take;
      if (this.remaining === 0) this.finish(timeNs, onPacket);
    }
  }

  /** n bytes that were not captured (a chunk's hole). */
  skip(n: number, timeNs: number, onPacket: OnPacket): void {
    if (!this.synced || n <= 0) return;
    if (this.remaining > 0 && n <= this.remaining) {
      this.remaining -= n;
      this.holed = true;
      if (this.remaining === 0) this.finish(timeNs, onPacket);
      return;
    }
    // The hole runs past this packet: it ends (cut) inside it, and the next header is not captured.
    if (this.remaining > 0) {
      this.holed = true;
      this.finish(timeNs, onPacket);
    }
    this.synced = false;
  }

  /** Framing is lost (a lost chunk, an implausible packet). */
  desync(): void {
    this.synced = false;
  }

  private finish(timeNs: number, onPacket: OnPacket): void {
    const v = this.view;
    v.continuation = this.continues;
    this.continues = this.length === MAX_PAYLOAD;
    v.seq = this.seq;
    v.length = this.length;
    v.keepLen = this.keepLen;
    v.first = this.keepLen > 0 ? this.keep[0]! : -1;
    v.whole = !this.holed && this.keepLen === this.length;
    v.startNs = this.startNs;
    v.timeNs = timeNs;
    this.remaining = -1;
    this.keepLen = 0;
    this.holed = false;
    onPacket(v);
  }
}

/** A length-encoded integer at data[i]: its value and size, or undefined when cut or invalid (0xfb NULL, 0xff). */
export function lenenc(data: Uint8Array, i: number): { value: number; size: number } | undefined {
  const b = data[i];
  if (b === undefined) return undefined;
  if (b < 0xfb) return { value: b, size: 1 };
  if (b === 0xfc) return i + 3 <= data.length ? { value: data[i + 1]! | (data[i + 2]! << 8), size: 3 } : undefined;
  if (b === 0xfd) return i + 4 <= data.length ? { value: data[i + 1]! | (data[i + 2]! << 8) | (data[i + 3]! << 16), size: 4 } : undefined;
  if (b === 0xfe) {
    if (i + 9 > data.length) return undefined;
    let v = 0;
    for (let k = 8; k >= 1; k--) v = v * 256 + data[i + k]!;
    return { value: v, size: 9 };
  }
  return undefined;
}

export function u16(data: Uint8Array, i: number): number | undefined {
  return i + 2 <= data.length ? data[i]! | (data[i + 1]! << 8) : undefined;
}

export function u32(data: Uint8Array, i: number): number | undefined {
  return i + 4 <= data.length ? (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) >>> 0 : undefined;
}
