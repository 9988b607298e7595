// One direction of an HTTP/2 connection, bytes → frames, across chunk
// boundaries and capture holes. Frames other than DATA are handed over whole
// (their payload copied, capped); DATA payloads stream through as byte views
// without padding, so bodies are never kept. A hole inside a kept frame
// damages it (payload undefined); a hole that swallows a frame header loses
// the framing, which is found again at a later chunk by findFrameBoundary().
import {
  CONNECTION_PREFACE,
  DEFAULT_MAX_FRAME_SIZE,
  FLAG_PADDED,
  FRAME_HEADER_LENGTH,
  type FrameHeader,
  FrameType,
  findFrameBoundary,
  readFrameHeader,
} from './frames.js';

/** Payload bytes of one non-DATA frame kept at most (header blocks are capped again by the parser). */
export const MAX_KEPT_PAYLOAD = 65536;

export interface FrameSink {
  /** A whole non-DATA frame; payload undefined when a hole damaged it or it was longer than MAX_KEPT_PAYLOAD. */
  frame(h: FrameHeader, payload: Uint8Array | undefined, timeNs: number): void;
  /** A DATA frame's header was read. */
  dataStart(h: FrameHeader, timeNs: number): void;
  /** Payload bytes of the current DATA frame (padding excluded); `bytes` undefined for n bytes in a hole. */
  dataBytes(streamId: number, bytes: Uint8Array | undefined, n: number): void;
  /** The current DATA frame ended. */
  dataEnd(h: FrameHeader, timeNs: number): void;
  /** Framing was lost (a hole swallowed a frame header, or bytes were not HTTP/2). */
  lost(): void;
}

type Mode = 'preface' | 'header' | 'payload' | 'lost';

export class FrameReader {
  #mode: Mode;
  #prefaceAt = 0;
  readonly #hdr = new Uint8Array(FRAME_HEADER_LENGTH);
  #hdrLen = 0;
  readonly #cur: FrameHeader = { length: 0, type: 0, flags: 0, streamId: 0 };
  /** Payload bytes of the current frame still to come. */
  #left = 0;
  #keep: Uint8Array | undefined;
  #keepLen = 0;
  #damaged = false;
  /** DATA: the pad-length byte is still to come; data bytes before the padding. */
  #needPadLength = false;
  #dataLeft = 0;
  /** The largest frame the writer of this direction may send (the reader's SETTINGS_MAX_FRAME_SIZE). */
  maxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  /** Bytes skipped while looking for frames (not HTTP/2, or past a hole). */
  unparsedRuns = 0;

  /** 'preface': the client's direction from its start; 'frames': the server's from its start; 'lost': joined midway (find frames first). */
  constructor(readonly sink: FrameSink, start: 'preface' | 'frames' | 'lost') {
    this.#mode = start === 'preface' ? 'preface' : start === 'frames' ? 'header' : 'lost';
  }

  /** Whether the reader is between frames or inside one (not lost). */
  get framed(): boolean {
    return this.#mode !== 'lost';
  }

  /**
   * One run of the direction: `head`, then `holeBytes` bytes not captured,
   * then `tail`; `lostBefore`: whole chunks missing before it.
   */
  run(head: Uint8Array, holeBytes: number, tail: Uint8Array, timeNs: number, lostBefore: boolean): void {
    if (lostBefore) this.#loseFraming();
    if (this.#mode === 'lost') {
      const complete = holeBytes === 0 && tail.length === 0;
      const off = findFrameBoundary(head, complete, Math.max(this.maxFrameSize, DEFAULT_MAX_FRAME_SIZE));
      if (off < 0) {
        this.unparsedRuns++;
        return;
      }
      if (off > 0) this.unparsedRuns++;
      this.#mode = 'header';
      this.#hdrLen = 0;
      this.#consume(head, off, timeNs);
    } else {
      this.#consume(head, 0, timeNs);
    }
    if (holeBytes > 0) this.#skip(holeBytes, timeNs);
    if (tail.length > 0 && (this.#mode as Mode) !== 'lost') this.#consume(tail, 0, timeNs);
  }

  #consume(b: Uint8Array, at: number, timeNs: number): void {
    const n = b.length;
    while (at < n) {
      switch (this.#mode) {
        case 'lost':
          return;
        case 'preface': {
          while (at < n && this.#prefaceAt < CONNECTION_PREFACE.length) {
            if (b[at] !== CONNECTION_PREFACE[this.#prefaceAt]) {
              // Not a preface after all (a client that starts with frames: an Upgrade).
              this.#mode = 'header';
              this.#hdrLen = 0;
              if (this.#prefaceAt > 0) this.#loseFraming();
              break;
            }
            at++;
            this.#prefaceAt++;
          }
          if (this.#prefaceAt === CONNECTION_PREFACE.length) this.#mode = 'header';
          break;
        }
        case 'header': {
          const take = Math.min(FRAME_HEADER_LENGTH - this.#hdrLen, n - at);
          this.#hdr.set(b.subarray(at, at + take), this.#hdrLen);
          this.#hdrLen += take;
          at += take;
          if (this.#hdrLen === FRAME_HEADER_LENGTH) this.#startFrame(timeNs);
          break;
        }
        case 'payload': {
          const take = Math.min(this.#left, n - at);
          this.#payload(b, at, take);
          at += take;
          this.#left -= take;
          if (this.#left === 0) this.#endFrame(timeNs);
          break;
        }
      }
    }
  }

  #startFrame(timeNs: number): void {
    const h = this.#cur;
    readFrameHeader(this.#hdr, 0, h);
    this.#hdrLen = 0;
    if (h.length > frameSizeLimit(this.maxFrameSize)) {
      this.#loseFraming();
      return;
    }
    this.#left = h.length;
    this.#damaged = false;
    if (h.type === FrameType.Data) {
      this.#needPadLength = (h.flags & FLAG_PADDED) !== 0;
      this.#dataLeft = this.#needPadLength ? 0 : h.length;
      this.sink.dataStart(h, timeNs);
    } else {
      this.#keepLen = 0;
      this.#keep = h.length <= MAX_KEPT_PAYLOAD ? new Uint8Array(h.length) : undefined;
      if (this.#keep === undefined) this.#damaged = true;
    }
    this.#mode = 'payload';
    if (h.length === 0) this.#endFrame(timeNs);
  }

  #payload(b: Uint8Array, at: number, take: number): void {
    if (this.#cur.type !== FrameType.Data) {
      if (this.#keep !== undefined && !this.#damaged) this.#keep.set(b.subarray(at, at + take), this.#keepLen);
      this.#keepLen += take;
      return;
    }
    let i = at;
    if (this.#needPadLength) {
      const pad = b[i++]!;
      this.#needPadLength = false;
      this.#dataLeft = Math.max(0, this.#cur.length - 1 - pad);
    }
    // Data bytes come before the padding.
    const n = Math.min(at + take - i, this.#dataLeft);
    if (n > 0) {
      this.#dataLeft -= n;
      this.sink.dataBytes(this.#cur.streamId, b.subarray(i, i + n), n);
    }
  }

  #skip(n: number, timeNs: number): void {
    if (this.#mode !== 'payload') {
      this.#loseFraming();
      return;
    }
    const take = Math.min(n, this.#left);
    if (this.#cur.type === FrameType.Data) {
      let t = take;
      if (this.#needPadLength) {
        // The pad length is in the hole: the data/padding split is unknown; count it all as data.
        this.#needPadLength = false;
        this.#dataLeft = this.#cur.length - 1;
        t--;
      }
      const d = Math.min(t, this.#dataLeft);
      if (d > 0) {
        this.#dataLeft -= d;
        this.sink.dataBytes(this.#cur.streamId, undefined, d);
      }
    } else {
      this.#damaged = true;
      this.#keepLen += take;
    }
    this.#left -= take;
    if (this.#left === 0) this.#endFrame(timeNs);
    if (n > take) this.#loseFraming();
  }

  #endFrame(timeNs: number): void {
    const h = this.#cur;
    this.#mode = 'header';
    if (h.type === FrameType.Data) {
      this.sink.dataEnd(h, timeNs);
    } else {
      const payload = this.#damaged ? undefined : this.#keep;
      this.#keep = undefined;
      this.sink.frame(h, payload, timeNs);
    }
  }

  #loseFraming(): void {
    if (this.#mode === 'lost') return;
    if (this.#mode === 'payload' && this.#cur.type !== FrameType.Data) {
      this.#damaged = true;
      this.sink.frame(this.#cur, undefined, 0);
    } else if (this.#mode === 'payload') {
      this.sink.dataEnd({ ...this.#cur, flags: 0 }, 0);
    }
    this.#mode = 'lost';
    this.#hdrLen = 0;
    this.#keep = undefined;
    this.sink.lost();
  }
}

/** Frames longer than the announced maximum (or the protocol's limit) mean the framing is wrong. */
function frameSizeLimit(announced: number): number {
  return Math.max(announced, DEFAULT_MAX_FRAME_SIZE);
}
