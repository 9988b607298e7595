// NATS framing for one direction: CRLF-terminated control lines, some followed
// by a payload of a size the line gives (PUB/HPUB/MSG/HMSG). Holes in a chunk
// (bytes the kernel did not capture) are skipped when they fall inside a
// payload; otherwise framing is lost until the tail's next line start.

/** A control line longer than this is not NATS (CONNECT/INFO with JWTs fit). */
export const MAX_LINE = 8192;

export interface LineSink {
  /** One control line without its CRLF (latin1); returns the payload bytes (+2 for its CRLF) that follow, or 0. */
  line(text: string): number;
  /** Bytes that did not frame (an over-long line, a hole across framing). */
  unparsed(): void;
}

const VERBS = ['PUB ', 'HPUB ', 'SUB ', 'UNSUB ', 'MSG ', 'HMSG ', 'PING', 'PONG', '+OK', '-ERR', 'INFO ', 'CONNECT '];

/** Whether `bytes` at `at` begins with a NATS verb (case-insensitive). */
export function startsWithVerb(bytes: Uint8Array, at = 0): boolean {
  for (const v of VERBS) {
    if (at + v.length > bytes.length) continue;
    let ok = true;
    for (let i = 0; i < v.length && ok; i++) {
      const c = bytes[at + i]!;
      ok = (c >= 0x61 && c <= 0x7a ? c - 0x20 : c) === v.charCodeAt(i);
    }
    if (ok) return true;
  }
  return false;
}

export class LineFramer {
  /** The start of a line cut by a chunk boundary (a copy; ≤ MAX_LINE). */
  private carry: Uint8Array | null = null;
  /** Payload bytes (with their CRLF) still to pass over. */
  private skip = 0;
  /** After a hole lost framing: drop bytes up to the next line start. */
  private seeking = false;

  constructor(private readonly sink: LineSink) {}

  /** The stream has a gap here (lost chunks): start afresh at the next chunk. */
  reset(): void {
    this.carry = null;
    this.skip = 0;
    this.seeking = false;
  }

  /** `n` uncaptured bytes inside a chunk. */
  hole(n: number): void {
    if (n <= 0) return;
    if (this.carry === null && this.skip >= n) {
      this.skip -= n;
      return;
    }
    this.sink.unparsed();
    this.carry = null;
    this.skip = 0;
    this.seeking = true;
  }

  feed(bytes: Uint8Array): void {
    let pos = 0;
    if (this.seeking) {
      // The next line start that begins with a verb (payload lines, such as
      // HPUB headers, do not).
      let at = 0;
      while (at >= 0 && !startsWithVerb(bytes, at)) {
        const nl = bytes.indexOf(0x0a, at);
        at = nl < 0 ? -1 : nl + 1;
      }
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
      const nl = bytes.indexOf(0x0a, pos);
      if (nl < 0) {
        this.keep(bytes.subarray(pos));
        return;
      }
      let end = nl;
      if (end > pos && bytes[end - 1] === 0x0d) end--;
      let text: string;
      if (this.carry !== null) {
        const head = this.carry;
        this.carry = null;
        // A CR at the end of the carried part with LF at this chunk's start.
        const whole = Buffer.concat([head, bytes.subarray(pos, nl)]);
        const cut = whole.length > 0 && whole[whole.length - 1] === 0x0d ? whole.length - 1 : whole.length;
        if (cut > MAX_LINE) {
          this.sink.unparsed();
          pos = nl + 1;
          continue;
        }
        text = whole.subarray(0, cut).toString('latin1');
      } else {
        if (end - pos > MAX_LINE) {
          this.sink.unparsed();
          pos = nl + 1;
          continue;
        }
        text = Buffer.from(bytes.buffer, bytes.byteOffset + pos, end - pos).toString('latin1');
      }
      pos = nl + 1;
      if (text.length > 0) this.skip = Math.max(0, this.sink.line(text));
    }
  }

  private keep(rest: Uint8Array): void {
    const have = this.carry?.length ?? 0;
    if (have + rest.length > MAX_LINE) {
      this.sink.unparsed();
      this.carry = null;
      this.seeking = true;
      return;
    }
    this.carry = this.carry === null ? Uint8Array.from(rest) : Buffer.concat([this.carry, rest]);
  }
}
