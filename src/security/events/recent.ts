// The recent events, for a live view (UI, `waggle events`): a bounded ring of
// the last N events and subscribers called with each new one. A subscriber that
// throws is counted and kept; nothing here grows with the event rate.
import type { SecurityEvent } from './types.js';

export type EventListener = (event: SecurityEvent) => void;

export class RecentEvents {
  private readonly ring: (SecurityEvent | undefined)[];
  private next = 0;
  private count = 0;
  private readonly listeners = new Set<EventListener>();
  private listenerErrors = 0;
  private total = 0;

  constructor(readonly capacity = 1000) {
    this.ring = new Array<SecurityEvent | undefined>(capacity);
  }

  push(event: SecurityEvent): void {
    this.total++;
    if (this.capacity > 0) {
      this.ring[this.next] = event;
      this.next = (this.next + 1) % this.capacity;
      this.count = Math.min(this.count + 1, this.capacity);
    }
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        this.listenerErrors++;
      }
    }
  }

  /** Oldest first; at most `limit` of the newest. */
  list(limit = this.capacity): SecurityEvent[] {
    const n = Math.min(limit, this.count);
    const out: SecurityEvent[] = [];
    for (let i = this.count - n; i < this.count; i++) {
      const idx = (this.next - this.count + i + this.capacity) % this.capacity;
      out.push(this.ring[idx]!);
    }
    return out;
  }

  /** Calls `listener` for every new event; returns the unsubscribe function. */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): { buffered: number; total: number; subscribers: number; listenerErrors: number } {
    return { buffered: this.count, total: this.total, subscribers: this.listeners.size, listenerErrors: this.listenerErrors };
  }
}
