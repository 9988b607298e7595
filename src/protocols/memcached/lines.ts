// Frames a memcached text stream (one direction) into lines, each optionally
// followed by a data block of a length the line declares ("set k 0 0 5",
// "VALUE k 0 5", "ms k 5", "VA 5"). Data blocks are skipped by length, across
// capture holes too; a hole that swallows a line loses framing until the
// caller resynchronises at a chunk that starts a line it recognises.

/** Longest line carried across chunks (a multi-get of many keys; memcached itself allows 2048+ key lines). */
export const MAX_LINE = 4096;

const LF = 10;
const CR = 13;

export interface LineSink {
  /**
   * One line [s, e) without its CRLF (valid only during the call), the time of
   * its last chunk. Returns the bytes of the data block that follows it, its
   * CRLF included (0: none), or -1 when the line is garbage (framing is lost).
   */
  line(buf: Uint8Array, s: number, e: number, timeNs: number): number;
  /** The data block declared by the last line has been skipped. */
  blockDone(timeNs: number): void;
  /** Framing lost; `midLine` when a line or block was in progress. */
  lost(midLine: boolean): void;
}

export class LineFramer {
  lost = false;
  unparsed = 0;
  /** Time the first byte of the current line arrived (0: between lines). */
  startNs = 0;
  private readonly carry = Buffer.alloc(MAX_LINE);
  private carryLen = 0;
  private skip = 0;

  constructor(private readonly sink: LineSink) {}

  feed(data: Uint8Array, timeNs: number): void {
    const n = data.length;
    let i = 0;
    while (i < n && !this.lost) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, n - i);
        this.skip -= take;
        i += take;
        if (this.skip === 0) this.sink.blockDone(timeNs);
        continue;
      }
      if (this.startNs === 0) this.startNs = timeNs;
      const nl = data.indexOf(LF, i);
      if (nl < 0) {
        this.append(data, i, n);
        return;
      }
      let end: number;
      let buf: Uint8Array;
      if (this.carryLen > 0) {
        if (!this.append(data, i, nl)) return;
        buf = this.carry;
        end = this.carryLen;
        this.carryLen = 0;
      } else {
        buf = data;
        end = nl;
      }
      const s = buf === data ? i : 0;
      i = nl + 1;
      if (end > s && buf[end - 1] === CR) end--;
      const block = this.sink.line(buf, s, end, timeNs);
      this.startNs = 0;
      if (block < 0) {
        this.lose(false);
        return;
      }
      if (block > 0) this.skip = block;
    }
  }

  /** `n` uncaptured bytes: skipped inside a data block, else framing is lost. */
  hole(n: number, timeNs: number): void {
    if (this.lost || n <= 0) return;
    if (this.skip >= n) {
      this.skip -= n;
      if (this.skip === 0) this.sink.blockDone(timeNs);
      return;
    }
    this.lose(this.carryLen > 0 || this.skip > 0);
  }

  /** Framing is lost; `counted` false when chunks went missing (the platform counts those). */
  lose(midLine = this.carryLen > 0 || this.skip > 0, counted = true): void {
    if (this.lost) return;
    this.lost = true;
    if (counted) this.unparsed++;
    this.carryLen = 0;
    this.skip = 0;
    this.startNs = 0;
    this.sink.lost(midLine);
  }

  /** At a chunk start while lost: resume when `ok` says the chunk starts a line we know. */
  resync(ok: boolean): boolean {
    if (!this.lost) return true;
    if (ok) this.lost = false;
    return ok;
  }

  private append(data: Uint8Array, s: number, e: number): boolean {
    if (this.carryLen + (e - s) > MAX_LINE) {
      this.lose(true);
      return false;
    }
    this.carry.set(data.subarray(s, e), this.carryLen);
    this.carryLen += e - s;
    return true;
  }
}
