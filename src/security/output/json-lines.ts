// --events-file: one JSON object per line, written in batches (line-batch.ts).
// Writes are asynchronous; when the disk falls behind by more than
// maxPendingBytes, events are dropped and counted rather than buffered without
// bound.
import { type WriteStream, createWriteStream } from 'node:fs';
import type { SecurityEvent } from '../events/types.js';
import { eventJson } from './event-json.js';
import { LineBatch } from './line-batch.js';

export interface JsonLinesStats {
  written: number;
  dropped: number;
  errors: number;
}

export class JsonLinesWriter {
  private readonly stream: WriteStream;
  private readonly lines: LineBatch;
  private written = 0;
  private dropped = 0;
  private errors = 0;
  private lastError: Error | undefined;

  constructor(
    readonly path: string,
    maxPendingBytes = 16 << 20,
  ) {
    this.stream = createWriteStream(path, { flags: 'a' });
    this.stream.on('error', (e) => {
      this.errors++;
      this.lastError = e;
    });
    this.lines = new LineBatch(this.stream, maxPendingBytes);
  }

  write(event: SecurityEvent): void {
    if (this.lines.push(eventJson(event))) this.written++;
    else this.dropped++;
  }

  stats(): JsonLinesStats & { lastError?: string } {
    return { written: this.written, dropped: this.dropped, errors: this.errors, ...(this.lastError ? { lastError: this.lastError.message } : {}) };
  }

  /** Flushes and closes the file. */
  close(): Promise<void> {
    this.lines.flush();
    return new Promise((resolve) => {
      if (this.stream.destroyed) return resolve();
      this.stream.end(() => resolve());
    });
  }
}
