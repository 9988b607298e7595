// --events-file: one JSON object per line, gathered as bytes (byte-lines.ts) and
// handed to the file once per turn of the event loop (a ring buffer batch is
// hundreds of events). Writes are asynchronous; when the disk falls behind by
// more than maxPendingBytes, events are dropped and counted rather than
// buffered without bound.
import { type WriteStream, createWriteStream } from 'node:fs';
import type { SecurityEvent } from '../events/types.js';
import { ByteLines } from './byte-lines.js';
import { writeEventJson } from './event-json.js';

export interface JsonLinesStats {
  written: number;
  dropped: number;
  errors: number;
}

/** Past this many gathered bytes the batch is handed over at once. */
const BATCH_BYTES = 256 << 10;

export class JsonLinesWriter {
  private readonly stream: WriteStream;
  private readonly lines = new ByteLines();
  private written = 0;
  private dropped = 0;
  private errors = 0;
  private lastError: Error | undefined;
  private scheduled = false;
  private readonly flushLater = () => {
    this.scheduled = false;
    this.flush();
  };

  constructor(
    readonly path: string,
    private readonly maxPendingBytes = 16 << 20,
  ) {
    this.stream = createWriteStream(path, { flags: 'a' });
    this.stream.on('error', (e) => {
      this.errors++;
      this.lastError = e;
    });
  }

  write(event: SecurityEvent): void {
    if (this.stream.writableLength + this.lines.size > this.maxPendingBytes || this.stream.destroyed) {
      this.dropped++;
      return;
    }
    writeEventJson(event, this.lines);
    this.lines.text('\n');
    this.written++;
    if (this.lines.size >= BATCH_BYTES) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushLater);
    }
  }

  private flush(): void {
    const b = this.lines.take();
    if (b && !this.stream.destroyed) this.stream.write(b);
  }

  stats(): JsonLinesStats & { lastError?: string } {
    return { written: this.written, dropped: this.dropped, errors: this.errors, ...(this.lastError ? { lastError: this.lastError.message } : {}) };
  }

  /** Flushes and closes the file. */
  close(): Promise<void> {
    this.flush();
    return new Promise((resolve) => {
      if (this.stream.destroyed) return resolve();
      this.stream.end(() => resolve());
    });
  }
}
