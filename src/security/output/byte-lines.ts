// Event JSON gathered as UTF-8 bytes for a file: a shared process view or
// ancestor list is encoded once and copied as bytes into every line that
// carries it (most of an exec event's bytes), instead of being concatenated
// into a string that is then flattened and encoded again for each write. Text
// between shared parts is gathered as a string and encoded in one go.
import { type JsonSink, sharedJson } from './event-json.js';

const CHUNK = 256 << 10;
const bytesMemo = new WeakMap<object, Buffer>();

export class ByteLines implements JsonSink {
  private buf = Buffer.allocUnsafe(CHUNK);
  /** Bytes already handed out by take() (the stream may still be writing them). */
  private start = 0;
  private len = 0;
  private pending = '';

  /** Characters and bytes gathered, not yet taken. */
  get size(): number {
    return this.len - this.start + this.pending.length;
  }

  text(s: string): void {
    this.pending += s;
  }

  shared(v: object): void {
    let b = bytesMemo.get(v);
    if (b === undefined) {
      b = Buffer.from(sharedJson(v));
      bytesMemo.set(v, b);
    }
    this.encodePending();
    this.room(b.length);
    b.copy(this.buf, this.len);
    this.len += b.length;
  }

  /** Everything gathered, as one buffer of its own (undefined when empty). */
  take(): Buffer | undefined {
    this.encodePending();
    if (this.len === this.start) return undefined;
    const out = this.buf.subarray(this.start, this.len);
    this.start = this.len;
    return out;
  }

  private encodePending(): void {
    if (this.pending.length === 0) return;
    this.room(this.pending.length * 3); // UTF-8 takes at most 3 bytes per UTF-16 unit
    this.len += this.buf.write(this.pending, this.len, 'utf8');
    this.pending = '';
  }

  /** Room for n more bytes; a new chunk keeps what was gathered and not taken (taken bytes stay with their reader). */
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const kept = this.len - this.start;
    const next = Buffer.allocUnsafe(Math.max(CHUNK, 2 * (kept + n)));
    this.buf.copy(next, 0, this.start, this.len);
    this.buf = next;
    this.start = 0;
    this.len = kept;
  }
}
