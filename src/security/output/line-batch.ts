// Lines for a stream, gathered and written once per turn of the event loop: a
// ring buffer batch delivers hundreds of events at once, and a write per event
// (a system call each on a terminal or file stdout) cost more than formatting
// them. Bounded: past maxPending unwritten characters a line is refused, and
// the caller counts it.
import type { Writable } from 'node:stream';

/** Past this many gathered characters the batch is written at once. */
const BATCH_CHARS = 256 << 10;

export class LineBatch {
  private batch = '';
  private scheduled = false;
  private readonly flushLater = () => {
    this.scheduled = false;
    this.flush();
  };

  constructor(
    private readonly out: Writable,
    private readonly maxPending: number,
  ) {}

  /** Queues one line (newline added); false when the stream is too far behind. */
  push(line: string): boolean {
    if (this.out.writableLength + this.batch.length > this.maxPending || this.out.destroyed) return false;
    this.batch += `${line}\n`;
    if (this.batch.length >= BATCH_CHARS) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushLater);
    }
    return true;
  }

  flush(): void {
    if (this.batch.length === 0 || this.out.destroyed) return;
    this.out.write(this.batch);
    this.batch = '';
  }
}
