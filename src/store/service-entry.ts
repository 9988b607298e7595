// Everything the store keeps about one service (by service.name): its
// instances, RED series per side and per operation, and its recent spans.
import type { ServiceIdentity } from '../telemetry/span.js';
import type { Datastore } from './datastore.js';
import { FINE_SLOT_MS, RedSeries } from './red-series.js';
import type { Endpoint, Side } from './span-fields.js';
import { RateLimiter, TraceSampler } from './span-sampler.js';
import { SpanRing } from './span-ring.js';
import type { InstanceView } from './views.js';

/** Per-operation state: its series and the duration above which a span counts as slow. */
export interface OperationEntry {
  side: Side;
  name: string;
  peer: string | undefined;
  /** What the operation talks to: undefined for HTTP. */
  datastore: Datastore | undefined;
  /** Client side: the endpoint called, to name the service listening there when the view is built. */
  endpoint: Endpoint | undefined;
  series: RedSeries;
  /** p99 of the previous minute, refreshed once per 10 s slot. */
  slowNs: number;
  slowSlot: number;
}

export const MAX_INSTANCES = 64;

export class ServiceEntry {
  readonly name: string;
  readonly instances = new Map<string, InstanceView>();
  readonly sides: Record<Side, RedSeries | undefined> = { server: undefined, client: undefined };
  /** By opKey(side, name, peer) (see live-store.ts). */
  readonly operations = new Map<string, OperationEntry>();
  /** The same entries by side, then peer ('' for none), then name: found per span without building a key. */
  readonly #byPeer: Record<Side, Map<string, Map<string, OperationEntry>>> = { server: new Map(), client: new Map() };
  /** Ordinary spans, newest kept. */
  readonly recent = new SpanRing(1);
  /** Errors, and spans slower than their operation's recent p99, each kept apart so a flood of ordinary spans does not push them out. */
  readonly errors = new SpanRing(1);
  readonly slow = new SpanRing(1);
  /** Which spans are kept as spans (see span-sampler.ts). */
  readonly sampler: TraceSampler;
  readonly errorLimiter: RateLimiter;
  readonly slowLimiter: RateLimiter;
  lastMs = 0;

  constructor(name: string, spansPerSecond: number) {
    this.name = name;
    this.sampler = new TraceSampler(spansPerSecond);
    this.errorLimiter = new RateLimiter(spansPerSecond, spansPerSecond * 2);
    this.slowLimiter = new RateLimiter(spansPerSecond / 2, spansPerSecond);
  }

  get spanCount(): number {
    return this.recent.size + this.errors.size + this.slow.size;
  }

  rings(): SpanRing[] {
    return [this.errors, this.slow, this.recent];
  }

  /** The operation (side, name, peer), if the service has it. */
  operation(side: Side, name: string, peer: string | undefined): OperationEntry | undefined {
    return this.#byPeer[side].get(peer ?? '')?.get(name);
  }

  /** Adds an operation under its opKey; its name and peer are the index's. */
  addOperation(key: string, op: OperationEntry): void {
    this.operations.set(key, op);
    const byPeer = this.#byPeer[op.side];
    const peer = op.peer ?? '';
    let byName = byPeer.get(peer);
    if (byName === undefined) {
      byName = new Map();
      byPeer.set(peer, byName);
    }
    byName.set(op.name, op);
  }

  noteInstance(s: ServiceIdentity, ms: number): void {
    const id = s.instanceId || String(s.pid);
    const cur = this.instances.get(id);
    if (cur) {
      if (ms > cur.lastSeenMs) cur.lastSeenMs = ms;
      return;
    }
    if (this.instances.size >= MAX_INSTANCES) {
      // Forget the instance seen least recently.
      let oldest: string | undefined;
      let oldestMs = Infinity;
      for (const [k, v] of this.instances) if (v.lastSeenMs < oldestMs) [oldest, oldestMs] = [k, v.lastSeenMs];
      if (oldest !== undefined) this.instances.delete(oldest);
    }
    this.instances.set(id, { instanceId: id, pid: s.pid, executable: s.executableName, lastSeenMs: ms });
  }

  side(side: Side): RedSeries {
    let s = this.sides[side];
    if (!s) {
      s = new RedSeries();
      this.sides[side] = s;
    }
    return s;
  }

  /** True when the span is slower than its operation's recent p99. */
  isSlow(op: OperationEntry, ms: number, ns: number): boolean {
    const slot = Math.floor(ms / FINE_SLOT_MS);
    if (slot !== op.slowSlot) {
      op.slowSlot = slot;
      const w = op.series.window(ms - FINE_SLOT_MS, 60_000);
      // Too few samples make a p99 meaningless; then nothing is "slow".
      op.slowNs = w.count >= 100 ? w.hist.quantileNs(0.99) : Infinity;
    }
    return ns > op.slowNs;
  }

  forgetIdleOperations(nowMs: number, idleMs: number): void {
    for (const [k, op] of this.operations) {
      if (nowMs - op.series.lastMs <= idleMs) continue;
      this.operations.delete(k);
      const byName = this.#byPeer[op.side].get(op.peer ?? '');
      byName?.delete(op.name);
      if (byName?.size === 0) this.#byPeer[op.side].delete(op.peer ?? '');
    }
  }

  byteEstimate(): number {
    let bytes = 400 + this.instances.size * 150;
    for (const s of Object.values(this.sides)) if (s) bytes += s.byteEstimate();
    for (const op of this.operations.values()) bytes += 150 + op.name.length * 2 + op.series.byteEstimate();
    return bytes;
  }
}
