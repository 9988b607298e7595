// A circular buffer of spans whose capacity can change: pushing past capacity,
// or shrinking it, evicts the oldest and hands them back.
import type { Span } from '../telemetry/span.js';

export class SpanRing {
  private items: Array<Span | undefined>;
  private head = 0; // index of the oldest
  private count = 0;
  private cap: number;

  constructor(capacity: number) {
    this.cap = Math.max(1, capacity);
    this.items = new Array<Span | undefined>(Math.min(this.cap, 64)).fill(undefined);
  }

  get size(): number {
    return this.count;
  }

  get capacity(): number {
    return this.cap;
  }

  /** Appends; returns the span evicted to make room, if any. */
  push(span: Span): Span | undefined {
    let evicted: Span | undefined;
    if (this.count === this.cap) {
      evicted = this.items[this.head];
      this.items[this.head] = span;
      this.head = (this.head + 1) % this.items.length;
      return evicted;
    }
    if (this.count === this.items.length) this.grow(Math.min(this.cap, this.items.length * 2));
    this.items[(this.head + this.count) % this.items.length] = span;
    this.count++;
    return undefined;
  }

  /** Changes the capacity; returns the spans evicted by a shrink (oldest first). */
  resize(capacity: number): Span[] {
    const cap = Math.max(1, capacity);
    const evicted: Span[] = [];
    while (this.count > cap) {
      evicted.push(this.items[this.head]!);
      this.items[this.head] = undefined;
      this.head = (this.head + 1) % this.items.length;
      this.count--;
    }
    this.cap = cap;
    // Re-pack so the backing array is never larger than the capacity.
    this.grow(Math.min(cap, Math.max(this.count, Math.min(cap, 64))));
    return evicted;
  }

  /** Empties the ring; returns what it held (oldest first). */
  drain(): Span[] {
    const out: Span[] = [];
    for (let k = 0; k < this.count; k++) out.push(this.items[(this.head + k) % this.items.length]!);
    this.items = new Array<Span | undefined>(Math.min(this.cap, 64)).fill(undefined);
    this.head = 0;
    this.count = 0;
    return out;
  }

  /** Newest first; stop by returning false. */
  forEachNewest(fn: (span: Span) => boolean | void): void {
    for (let k = this.count - 1; k >= 0; k--) {
      if (fn(this.items[(this.head + k) % this.items.length]!) === false) return;
    }
  }

  private grow(size: number): void {
    const next = new Array<Span | undefined>(size).fill(undefined);
    for (let k = 0; k < this.count; k++) next[k] = this.items[(this.head + k) % this.items.length];
    this.items = next;
    this.head = 0;
  }
}
