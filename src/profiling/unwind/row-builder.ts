// Builds packed unwind rows in one worker thread, one file at a time (bounded
// queue), so the agent's event loop never parses .eh_frame itself.
import { Worker } from 'node:worker_threads';
import type { PackedRows, RowLayout } from './row-pack.js';

const MAX_QUEUED = 256;

export class RowBuilder {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (r: PackedRows) => void; reject: (e: Error) => void }>();
  dropped = 0;

  constructor(private readonly layout: RowLayout) {}

  build(path: string, rowsLeft: number): Promise<PackedRows> {
    if (this.pending.size >= MAX_QUEUED) {
      this.dropped++;
      return Promise.reject(new Error('too many unwind tables queued'));
    }
    const w = this.ensureWorker();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage({ id, path, layout: this.layout, rowsLeft });
    });
  }

  close(): void {
    const w = this.worker;
    this.worker = undefined;
    void w?.terminate();
    for (const p of this.pending.values()) p.reject(new Error('closed'));
    this.pending.clear();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./row-worker.js', import.meta.url));
    w.unref();
    w.on('message', (m: { id: number; error?: string } & PackedRows) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error) p.reject(new Error(m.error));
      else p.resolve({ data: Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength), count: m.count, errors: m.errors, ...(m.reason ? { reason: m.reason } : {}), ...(m.overCapacity ? { overCapacity: true } : {}) });
    });
    w.on('error', (e) => {
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
      this.worker = undefined;
    });
    this.worker = w;
    return w;
  }
}
