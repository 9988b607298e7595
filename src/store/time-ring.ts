// A fixed number of consecutive time slots (e.g. 90 × 10 s), each holding the
// RED figures of what ended in it: count, errors and a latency sketch. Writing
// to a newer slot recycles the oldest; anything older than the ring is late
// and refused.
import { LogHistogram, bucketOf } from './log-histogram.js';

export interface Slot {
  /** Slot number: floor(ms / slotMs). */
  id: number;
  count: number;
  errors: number;
  hist: LogHistogram;
}

export class TimeRing {
  readonly slotMs: number;
  readonly length: number;
  private readonly slots: Array<Slot | undefined>;
  /** Highest slot id written so far, -1 when nothing was. */
  private newest = -1;

  constructor(slotMs: number, length: number) {
    this.slotMs = slotMs;
    this.length = length;
    this.slots = new Array<Slot | undefined>(length).fill(undefined);
  }

  get spanMs(): number {
    return this.slotMs * this.length;
  }

  idOf(ms: number): number {
    return Math.floor(ms / this.slotMs);
  }

  /** Records one sample; false when `ms` is older than the ring keeps. `bucket`: bucketOf(ns), when known. */
  record(ms: number, ns: number, error: boolean, bucket = bucketOf(ns > 0 && Number.isFinite(ns) ? ns : 0)): boolean {
    return this.recordIn(this.idOf(ms), ns, error, bucket);
  }

  /** record() into slot `id` (idOf(ms), computed once by callers feeding several rings). */
  recordIn(id: number, ns: number, error: boolean, bucket: number): boolean {
    if (this.newest >= 0 && id <= this.newest - this.length) return false;
    if (id > this.newest) {
      // The slot being left stops changing: shrink its sketch to what it uses.
      if (this.newest >= 0) this.slots[this.newest % this.length]?.hist.trim();
      this.newest = id;
    }
    const pos = id % this.length;
    let slot = this.slots[pos];
    if (!slot || slot.id !== id) {
      slot = { id, count: 0, errors: 0, hist: new LogHistogram() };
      this.slots[pos] = slot;
    }
    slot.count++;
    if (error) slot.errors++;
    slot.hist.recordIn(bucket, ns);
    return true;
  }

  /** The slot with this id, if the ring still holds it. */
  get(id: number): Slot | undefined {
    const s = this.slots[((id % this.length) + this.length) % this.length];
    return s && s.id === id ? s : undefined;
  }

  /** Highest slot id ever written (-1 if none). */
  get newestId(): number {
    return this.newest;
  }

  /** Bytes held by the sketches, plus a fixed cost per live slot. */
  byteEstimate(): number {
    let bytes = 64 + this.length * 8;
    for (const s of this.slots) if (s) bytes += 120 + s.hist.byteLength;
    return bytes;
  }
}
