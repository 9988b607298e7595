// Reads a BPF ring buffer from Node's event loop: the binding watches the ring
// buffer's epoll fd with libuv and hands over all available records in one
// batch per wakeup. Records the kernel could not reserve are counted by the BPF
// side in `<map>_drops` (see bpf/include/waggle/ringbuf.h) and reported here.
import { WaggleError, toWaggleError } from './errors.js';
import type { BpfMap } from './map.js';
import { type Handle, native } from './native.js';

/** One wakeup's worth of records, in the order the kernel committed them. */
export class RecordBatch {
  constructor(
    /** Each record: u32 length, 4 bytes padding, the record, padding to 8 bytes. */
    readonly buffer: Buffer,
    readonly count: number,
  ) {}

  /** Visits each record without allocating: `fn(buffer, offset, length)`. */
  forEach(fn: (buffer: Buffer, offset: number, length: number) => void): void {
    const buf = this.buffer;
    let p = 0;
    for (let i = 0; i < this.count; i++) {
      const len = buf.readUInt32LE(p);
      fn(buf, p + 8, len);
      p += 8 + ((len + 7) & ~7);
    }
  }

  /** Each record as a Buffer view (allocates one view per record). */
  *[Symbol.iterator](): IterableIterator<Buffer> {
    const buf = this.buffer;
    let p = 0;
    for (let i = 0; i < this.count; i++) {
      const len = buf.readUInt32LE(p);
      yield buf.subarray(p + 8, p + 8 + len);
      p += 8 + ((len + 7) & ~7);
    }
  }
}

export interface RingBufferOptions {
  /** Soft cap on one batch, in bytes (default 1 MiB): past it the rest waits for the next loop turn. */
  maxBatchBytes?: number;
  /** Called when onBatch throws; the reader keeps going. Default: emit a process warning. */
  onError?: (error: unknown) => void;
}

export interface RingBufferStats {
  records: number;
  batches: number;
  /** Records the BPF side could not reserve (buffer full). */
  kernelDrops: number;
  /** Records consumed while user space had no memory to copy them. */
  lostNoMemory: number;
  callbackErrors: number;
}

export class RingBufferReader {
  private handle: Handle<'ringbuf'> | undefined;
  private records = 0;
  private batches = 0;
  private callbackErrors = 0;
  private readonly onError: (error: unknown) => void;

  constructor(
    readonly mapName: string,
    mapFd: number,
    private readonly onBatch: (batch: RecordBatch) => void,
    private readonly dropsMap: BpfMap<number, number[]> | undefined,
    opts: RingBufferOptions = {},
    private readonly onClose?: (reader: RingBufferReader) => void,
  ) {
    this.onError = opts.onError ?? ((e) => process.emitWarning(`ring buffer '${mapName}' consumer threw: ${String(e)}`));
    try {
      this.handle = native().ringbufOpen(mapFd, (buf, count, error) => this.deliver(buf, count, error), opts.maxBatchBytes ?? 1 << 20);
    } catch (e) {
      throw toWaggleError(e, { action: `opening ring buffer '${mapName}'`, privilege: 'map' });
    }
  }

  private deliver(buf: Buffer | null, count: number, error?: Error): void {
    if (error || !buf) {
      this.callbackErrors++;
      this.onError(error ?? new Error('ring buffer delivered no data'));
      return;
    }
    this.records += count;
    this.batches++;
    try {
      this.onBatch(new RecordBatch(buf, count));
    } catch (e) {
      this.callbackErrors++;
      this.onError(e);
    }
  }

  /** Consumes what is available now, synchronously, through the same callback; returns records consumed. */
  consume(): number {
    if (!this.handle) throw new WaggleError('WAGGLE_ERR_CLOSED', `ring buffer '${this.mapName}' reader is closed`);
    let total = 0;
    for (;;) {
      const r = native().ringbufConsume(this.handle);
      if (!r) return total;
      total += r.count;
      this.deliver(r.batch, r.count);
      if (!r.more) return total;
    }
  }

  /** Kernel-side drops so far (sum over CPUs of `<map>_drops`), 0 when the map has no drop counter. */
  kernelDrops(): number {
    const counts = this.dropsMap?.lookup(0);
    return counts ? counts.reduce((a, b) => a + b, 0) : 0;
  }

  stats(): RingBufferStats {
    return {
      records: this.records,
      batches: this.batches,
      kernelDrops: this.kernelDrops(),
      lostNoMemory: this.handle ? native().ringbufStats(this.handle).lostNoMemory : 0,
      callbackErrors: this.callbackErrors,
    };
  }

  get closed(): boolean {
    return this.handle === undefined;
  }

  close(): void {
    const h = this.handle;
    if (!h) return;
    this.handle = undefined;
    native().ringbufClose(h);
    this.onClose?.(this);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
