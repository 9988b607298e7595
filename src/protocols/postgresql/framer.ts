// Frames one direction of a PostgreSQL v3 connection across chunks. Messages
// are `type(1) length(4, includes itself) body`; the frontend's first message
// (StartupMessage, SSLRequest, CancelRequest, GSSENCRequest) has no type byte,
// and the server answers SSLRequest/GSSENCRequest with one bare byte.
//
// A chunk's bytes arrive as its head, a hole (the kernel captured only head and
// tail of a long run) and its tail. Length fields carry the framer across a hole
// inside one message; a hole across message boundaries loses framing, and the
// framer resynchronises at the next chunk's start (when it parses as a message
// chain) or inside a tail (the first offset from which messages end exactly at
// the tail's end, or the whole chunk's when it had no hole: response runs end
// with CommandComplete/ReadyForQuery there).

export type Side = 'frontend' | 'backend';

/** Pseudo types for the untyped messages. */
export const STARTUP = 0;
export const BARE_BYTE = -1;

/** Startup codes (the int32 after the length). */
export const PROTOCOL_3 = 196608;
export const SSL_REQUEST = 80877103;
export const CANCEL_REQUEST = 80877102;
export const GSSENC_REQUEST = 80877104;

export interface Message {
  /** The type byte, STARTUP (then `code` is the startup code) or BARE_BYTE (then `code` is the byte). */
  type: number;
  code: number;
  /** Body length on the wire (without type and length). */
  length: number;
  /** The kept part of the body: a view, valid only during the callback (so is the Message). */
  body: Uint8Array;
  /** Whether `body` is the whole body (no hole, not capped). */
  complete: boolean;
  /** Chunk time of the message's first byte and of its last. */
  startNs: number;
  endNs: number;
}

/** Largest length a message may claim (PostgreSQL's own cap is 1 GB). */
const MAX_LENGTH = 0x40000000;
/** Resynchronising is stricter: a random length field rarely fits under this. */
const RESYNC_MAX_LENGTH = 1 << 24;

const U = (s: string): number => s.charCodeAt(0);

// Minimum (and for some exact) body+4 lengths per type; absent: not a type of that side.
const FRONTEND_MIN = new Map<number, number>([
  [U('Q'), 5], [U('P'), 8], [U('B'), 12], [U('E'), 9], [U('D'), 6], [U('C'), 6], [U('S'), 4], [U('H'), 4], [U('X'), 4],
  [U('d'), 4], [U('c'), 4], [U('f'), 5], [U('F'), 14], [U('p'), 4],
]);
const FRONTEND_EXACT = new Set([U('S'), U('H'), U('X'), U('c')]);
const BACKEND_MIN = new Map<number, number>([
  [U('R'), 8], [U('K'), 12], [U('S'), 6], [U('Z'), 5], [U('T'), 6], [U('D'), 6], [U('C'), 5], [U('E'), 5], [U('N'), 5],
  [U('1'), 4], [U('2'), 4], [U('3'), 4], [U('n'), 4], [U('s'), 4], [U('I'), 4], [U('t'), 6], [U('G'), 7], [U('H'), 7],
  [U('W'), 7], [U('d'), 4], [U('c'), 4], [U('A'), 10], [U('v'), 12], [U('V'), 8],
]);
const BACKEND_EXACT = new Set([U('Z'), U('1'), U('2'), U('3'), U('n'), U('s'), U('I'), U('c')]);

export function plausible(side: Side, type: number, length: number, max = MAX_LENGTH): boolean {
  const min = (side === 'frontend' ? FRONTEND_MIN : BACKEND_MIN).get(type);
  if (min === undefined || length < min || length > max) return false;
  if ((side === 'frontend' ? FRONTEND_EXACT : BACKEND_EXACT).has(type)) return length === min;
  if (side === 'backend' && type === U('K')) return length <= 264;
  return true;
}

export function readU32(b: Uint8Array, at: number): number {
  return ((b[at] as number) * 0x1000000 + (((b[at + 1] as number) << 16) | ((b[at + 2] as number) << 8) | (b[at + 3] as number))) >>> 0;
}

/** Whether `b[at..]` starts with an untyped startup-phase message; its code, or 0. */
export function startupCode(b: Uint8Array, at = 0): number {
  if (b.length - at < 8) return 0;
  const len = readU32(b, at);
  const code = readU32(b, at + 4);
  if (code === PROTOCOL_3) return len >= 9 && len <= 10000 ? code : 0;
  if (code === SSL_REQUEST || code === GSSENC_REQUEST) return len === 8 ? code : 0;
  if (code === CANCEL_REQUEST) return len >= 16 && len <= 264 ? code : 0;
  return 0;
}

/**
 * Whether typed messages of `side` chain from `at`: at least one plausible header,
 * every complete message plausible, and (exactEnd) the last one ending at `end`.
 */
export function chains(side: Side, b: Uint8Array, at: number, end: number, exactEnd: boolean): boolean {
  let pos = at;
  let count = 0;
  while (end - pos >= 5) {
    const len = readU32(b, pos + 1);
    if (!plausible(side, b[pos] as number, len, RESYNC_MAX_LENGTH)) return false;
    count++;
    if (pos + 1 + len > end) return !exactEnd;
    pos += 1 + len;
  }
  if (pos === end) return count > 0;
  return !exactEnd && count > 0;
}

/** Scratch for firstChainToEnd: ok[i] = 1 when messages from i end exactly at the end. */
let okScratch = new Uint8Array(4096);

/**
 * The first offset of `b` from which plausible messages end exactly at its end,
 * or -1. Right to left, each offset once (linear, whatever the bytes).
 */
export function firstChainToEnd(side: Side, b: Uint8Array): number {
  const n = b.length;
  if (okScratch.length < n + 1) okScratch = new Uint8Array(n + 1);
  const ok = okScratch;
  ok[n] = 1;
  let first = -1;
  for (let i = n - 1; i >= 0; i--) {
    ok[i] = 0;
    if (n - i < 5) continue;
    const len = readU32(b, i + 1);
    if (!plausible(side, b[i] as number, len, RESYNC_MAX_LENGTH)) continue;
    const next = i + 1 + len;
    if (next <= n && ok[next] === 1) {
      ok[i] = 1;
      first = i;
    }
  }
  return first;
}

export type Mode = 'typed' | 'startup' | 'byte';

const EMPTY = new Uint8Array(0);

export class Framer {
  mode: Mode = 'typed';
  /** Framing lost: bytes are skipped until a resynchronisation point. */
  lost = false;
  /** Runs of bytes that could not be framed. */
  unparsed = 0;

  private readonly hdr = new Uint8Array(8);
  private hdrLen = 0;
  private inBody = false;
  private type = 0;
  private code = 0;
  private length = 0;
  private remaining = 0;
  private keepCap = 0;
  private kept: Uint8Array;
  private keptLen = 0;
  private complete = true;
  private startNs = 0;
  private chunkNs = 0;

  constructor(
    readonly side: Side,
    /** How many body bytes of a type to keep (0: skip the body). */
    private readonly keep: (type: number) => number,
    private readonly onMessage: (m: Message) => void,
    maxKeep: number,
  ) {
    this.kept = new Uint8Array(maxKeep);
  }

  /** Pending bytes carried between chunks (for the boundedness check). */
  get carried(): number {
    return this.hdrLen + this.keptLen;
  }

  /** One chunk of this direction: its head, the hole, its tail. */
  chunk(head: Uint8Array, hole: number, tail: Uint8Array, timeNs: number): void {
    this.chunkNs = timeNs;
    if (this.lost) this.resyncAtStart(head);
    if (this.lost && hole === 0 && tail.length === 0) {
      // A whole chunk that starts mid-message: look for the messages it ends with.
      this.resyncInTail(head);
      return;
    }
    this.data(head, 0);
    if (hole > 0) this.gap(hole);
    if (tail.length > 0) {
      if (this.lost) this.resyncInTail(tail);
      else this.data(tail, 0);
    }
  }

  /** Forget the current message and wait for a resynchronisation point. */
  loseFraming(): void {
    if (this.inBody) this.finish(false);
    this.lost = true;
    this.hdrLen = 0;
    this.inBody = false;
    this.unparsed++;
  }

  private resyncAtStart(head: Uint8Array): void {
    if (this.mode === 'typed' && chains(this.side, head, 0, head.length, false)) this.reset();
  }

  private resyncInTail(tail: Uint8Array): void {
    if (this.mode !== 'typed') return;
    const at = firstChainToEnd(this.side, tail);
    if (at >= 0) {
      this.reset();
      this.data(tail, at);
    }
  }

  private reset(): void {
    this.lost = false;
    this.hdrLen = 0;
    this.inBody = false;
  }

  private data(b: Uint8Array, from: number): void {
    let pos = from;
    const end = b.length;
    while (pos < end && !this.lost) {
      if (!this.inBody) {
        if (this.mode === 'byte') {
          const byte = b[pos] as number;
          // An old server may answer SSLRequest with an ErrorResponse instead.
          if (byte === U('E')) this.mode = 'typed';
          else {
            pos++;
            this.mode = 'typed';
            this.deliver(BARE_BYTE, byte, 0, EMPTY, true, this.chunkNs);
            continue;
          }
        }
        const need = this.mode === 'startup' ? 8 : 5;
        let h: Uint8Array;
        let at: number;
        if (this.hdrLen === 0 && end - pos >= need) {
          h = b;
          at = pos;
          pos += need;
        } else {
          const n = Math.min(need - this.hdrLen, end - pos);
          this.hdr.set(b.subarray(pos, pos + n), this.hdrLen);
          if (this.hdrLen === 0) this.startNs = this.chunkNs;
          this.hdrLen += n;
          pos += n;
          if (this.hdrLen < need) return;
          h = this.hdr;
          at = 0;
        }
        if (this.hdrLen === 0) this.startNs = this.chunkNs;
        this.hdrLen = 0;
        if (!this.header(h, at)) {
          this.loseFraming();
          return;
        }
        if (this.remaining === 0) {
          this.finish(true, EMPTY);
          continue;
        }
        // Fast path: the whole body is in this piece and nothing was kept yet.
        if (end - pos >= this.remaining) {
          const body = this.keepCap === 0 ? EMPTY : b.subarray(pos, pos + Math.min(this.keepCap, this.remaining));
          pos += this.remaining;
          this.remaining = 0;
          this.finish(true, body);
          continue;
        }
      }
      const n = Math.min(this.remaining, end - pos);
      if (this.keptLen < this.keepCap) {
        const k = Math.min(n, this.keepCap - this.keptLen);
        this.kept.set(b.subarray(pos, pos + k), this.keptLen);
        this.keptLen += k;
      }
      pos += n;
      this.remaining -= n;
      if (this.remaining === 0) this.finish(this.complete);
    }
  }

  /** Parses a complete header; false when it is not a plausible message. */
  private header(h: Uint8Array, at: number): boolean {
    if (this.mode === 'startup') {
      const code = startupCode(h, at);
      if (code === 0) return false;
      this.type = STARTUP;
      this.code = code;
      this.length = readU32(h, at) - 8;
    } else {
      const type = h[at] as number;
      const len = readU32(h, at + 1);
      if (!plausible(this.side, type, len)) return false;
      this.type = type;
      this.code = 0;
      this.length = len - 4;
    }
    this.remaining = this.length;
    this.keepCap = Math.min(this.keep(this.type), this.length, this.kept.length);
    this.keptLen = 0;
    this.complete = this.keepCap === this.length;
    this.inBody = this.remaining > 0;
    return true;
  }

  /** A hole of n bytes in this direction. */
  private gap(n: number): void {
    if (this.lost) return;
    if (this.inBody && n < this.remaining) {
      this.remaining -= n;
      this.complete = false;
      this.keepCap = this.keptLen;
      return;
    }
    if (this.inBody && n === this.remaining) {
      this.remaining = 0;
      this.complete = false;
      this.finish(false);
      return;
    }
    this.loseFraming();
  }

  private finish(complete: boolean, body?: Uint8Array): void {
    this.inBody = false;
    const b = body ?? (this.keptLen === 0 ? EMPTY : this.kept.subarray(0, this.keptLen));
    this.keptLen = 0;
    this.deliver(this.type, this.code, this.length, b, complete && b.length === this.length, this.startNs);
  }

  /** One reused Message per framer: valid only during the callback. */
  private readonly message: Message = { type: 0, code: 0, length: 0, body: EMPTY, complete: true, startNs: 0, endNs: 0 };

  private deliver(type: number, code: number, length: number, body: Uint8Array, complete: boolean, startNs: number): void {
    const m = this.message;
    m.type = type;
    m.code = code;
    m.length = length;
    m.body = body;
    m.complete = complete;
    m.startNs = startNs;
    m.endNs = this.chunkNs;
    this.onMessage(m);
  }
}
