// The last security events (process execs, policy matches), for the UI's
// Security page. The store does not interpret them beyond a few common
// fields, so the security room's event model can grow without changes here.

/** The fields the UI relies on; anything else is shown as-is in the event's detail. */
export interface SecurityEventRecord {
  /** ISO 8601 string or ms since the epoch. */
  time: string | number;
  /** e.g. "process_exec", "process_exit", "policy". */
  type: string;
  policy?: string;
  /** e.g. "post", "sigkill". */
  action?: string;
  process?: { pid?: number; binary?: string; arguments?: string; uid?: number; exec_id?: string; [k: string]: unknown };
  [k: string]: unknown;
}

export interface SecurityEventView extends SecurityEventRecord {
  /** Position in arrival order, for stable keys and "since" queries. */
  seq: number;
  timeMs: number;
}

export class SecurityEventStore {
  private readonly ring: Array<SecurityEventView | undefined>;
  private next = 0;
  total = 0;
  readonly byType = new Map<string, number>();

  constructor(capacity: number) {
    this.ring = new Array<SecurityEventView | undefined>(Math.max(1, capacity)).fill(undefined);
  }

  add(event: SecurityEventRecord): void {
    const timeMs = typeof event.time === 'number' ? event.time : Date.parse(event.time);
    const view: SecurityEventView = { ...event, seq: this.total, timeMs: Number.isFinite(timeMs) ? timeMs : Date.now() };
    this.ring[this.next] = view;
    this.next = (this.next + 1) % this.ring.length;
    this.total++;
    const type = typeof event.type === 'string' ? event.type.slice(0, 64) : 'unknown';
    if (this.byType.has(type) || this.byType.size < 64) this.byType.set(type, (this.byType.get(type) ?? 0) + 1);
  }

  get size(): number {
    return Math.min(this.total, this.ring.length);
  }

  /** Newest first, optionally only those after `afterSeq` and of one type. */
  list(opts: { limit?: number; afterSeq?: number; type?: string } = {}): SecurityEventView[] {
    const limit = Math.max(1, Math.min(opts.limit ?? 200, this.ring.length));
    const out: SecurityEventView[] = [];
    for (let k = 1; k <= this.size && out.length < limit; k++) {
      const e = this.ring[(this.next - k + this.ring.length) % this.ring.length]!;
      if (opts.afterSeq !== undefined && e.seq <= opts.afterSeq) break;
      if (opts.type !== undefined && e.type !== opts.type) continue;
      out.push(e);
    }
    return out;
  }
}
