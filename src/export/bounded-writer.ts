// Line output that can never grow memory without bound: when the destination
// stream is slow (a pipe nobody reads, a full disk), lines beyond maxBufferedBytes
// are dropped and counted instead of queued. Write errors are counted, not thrown.
import type { Writable } from 'node:stream';
import type { ExporterStats } from './self-metrics.js';

export const DEFAULT_MAX_BUFFERED_BYTES = 1 << 20;

export class BoundedLineWriter {
  readonly #stats: ExporterStats = { exported: 0, dropped: 0, failed: 0, exportFailures: 0 };
  #broken = false;

  constructor(
    private readonly stream: Writable,
    private readonly maxBufferedBytes = DEFAULT_MAX_BUFFERED_BYTES,
  ) {
    stream.on('error', () => {
      this.#broken = true;
      this.#stats.exportFailures++;
    });
  }

  /** Writes `line` plus a newline, or drops it (counted). */
  writeLine(line: string): void {
    if (this.#broken || this.stream.destroyed || this.stream.writableLength > this.maxBufferedBytes) {
      this.#stats.dropped++;
      return;
    }
    try {
      this.stream.write(`${line}\n`);
      this.#stats.exported++;
    } catch {
      this.#stats.failed++;
      this.#stats.exportFailures++;
    }
  }

  stats(): ExporterStats {
    return { ...this.#stats };
  }
}
