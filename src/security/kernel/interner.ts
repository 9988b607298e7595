// NUL-terminated strings of kernel records, interned: a build server runs the
// same few binaries from the same few directories thousands of times a second,
// so most paths are one already seen. A small table indexed by a hash of the
// bytes returns the string made last time for equal bytes (no new string, one
// copy shared by every cache entry); a collision simply replaces the slot.
export class StringInterner {
  private readonly bytes: (Buffer | undefined)[];
  private readonly strings: string[];
  private readonly mask: number;
  hits = 0;
  misses = 0;

  /** `slots`: a power of two. */
  constructor(slots: number) {
    this.mask = slots - 1;
    this.bytes = new Array<Buffer | undefined>(slots).fill(undefined);
    this.strings = new Array<string>(slots).fill('');
  }

  /** The UTF-8 string at buf[start…], up to its NUL or `max` bytes. */
  read(buf: Buffer, start: number, max: number): string {
    let end = buf.indexOf(0, start);
    if (end < 0 || end > start + max) end = Math.min(start + max, buf.length);
    const len = end - start;
    if (len === 0) return '';
    // FNV-1a over at most the last 32 bytes (paths differ at their ends), plus the length.
    let h = 0x811c9dc5 ^ len;
    for (let i = Math.max(start, end - 32); i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    const slot = (h ^ (h >>> 16)) & this.mask;
    const known = this.bytes[slot];
    if (known !== undefined && known.length === len && known.compare(buf, start, end) === 0) {
      this.hits++;
      return this.strings[slot]!;
    }
    this.misses++;
    const s = buf.toString('utf8', start, end);
    this.bytes[slot] = Buffer.from(buf.subarray(start, end));
    this.strings[slot] = s;
    return s;
  }
}
