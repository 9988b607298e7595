// The bounded table every metric aggregation keeps its series in (HttpMetrics,
// OperationMetrics): series grouped by service instance, a cap on series across
// all instances, and instances removed after idleTtlMs without an observation
// (exited processes do not stay forever; Beyla's TTL is also 5 minutes).
// Each aggregation keeps its own per-instance index (how it finds a series from
// an observation without building a key) and its own overflow series; the
// table only holds, counts and expires them.
import type { ServiceIdentity } from './span.js';

export interface SeriesTableOptions {
  /** Series across all services before new attribute sets go to overflow series. Default 10000. */
  maxSeries?: number;
  /** Remove an instance's series after this long without observations. Default 300000 (0 = never). */
  idleTtlMs?: number;
}

/** OTel metrics SDK's mark of the series that takes what a full table refuses. */
export const OVERFLOW_ATTRIBUTE = 'otel.metric.overflow';

export interface InstanceEntry<S, I> {
  readonly service: ServiceIdentity;
  /** Every series of the instance, in creation order (exporters iterate this). */
  readonly list: S[];
  /** The aggregation's own lookup structure for this instance. */
  readonly index: I;
  lastUpdateMs: number;
}

export class SeriesTable<S, I> {
  readonly #maxSeries: number;
  readonly #idleTtlMs: number;
  readonly #instances = new Map<string, InstanceEntry<S, I>>();
  readonly #timer: NodeJS.Timeout | undefined;
  #seriesCount = 0;
  /** Observations recorded into an overflow series (the aggregation counts them with overflow()). */
  overflowed = 0;

  constructor(
    opts: SeriesTableOptions,
    private readonly newIndex: () => I,
  ) {
    this.#maxSeries = opts.maxSeries ?? 10_000;
    this.#idleTtlMs = opts.idleTtlMs ?? 300_000;
    if (this.#idleTtlMs > 0) {
      this.#timer = setInterval(() => this.sweep(), Math.min(this.#idleTtlMs / 2, 60_000));
      this.#timer.unref();
    }
  }

  /** The instance's entry, created on its first observation; marks it updated at nowMs. */
  instance(service: ServiceIdentity, nowMs: number): InstanceEntry<S, I> {
    let entry = this.#instances.get(service.instanceId);
    if (entry === undefined) {
      entry = { service, list: [], index: this.newIndex(), lastUpdateMs: nowMs };
      this.#instances.set(service.instanceId, entry);
    }
    entry.lastUpdateMs = nowMs;
    return entry;
  }

  /** Whether a new attribute set must go to an overflow series; counts the observation when so. */
  overflow(): boolean {
    if (this.#seriesCount < this.#maxSeries) return false;
    this.overflowed++;
    return true;
  }

  /** Holds a new series of the instance (overflow series too: they count against nothing but are exported). */
  add(entry: InstanceEntry<S, I>, series: S): S {
    entry.list.push(series);
    this.#seriesCount++;
    return series;
  }

  /** All series, instance by instance. */
  *series(): IterableIterator<S> {
    for (const entry of this.#instances.values()) yield* entry.list;
  }

  /** Each instance with its series (exporters that group by resource). */
  *instances(): IterableIterator<{ service: ServiceIdentity; series: Iterable<S> }> {
    for (const entry of this.#instances.values()) yield { service: entry.service, series: entry.list };
  }

  get seriesCount(): number {
    return this.#seriesCount;
  }

  /** Removes instances idle for longer than the TTL; returns how many. */
  sweep(nowMs = Date.now()): number {
    if (this.#idleTtlMs <= 0) return 0;
    let removed = 0;
    for (const [id, entry] of this.#instances) {
      if (nowMs - entry.lastUpdateMs > this.#idleTtlMs) {
        this.#instances.delete(id);
        this.#seriesCount -= entry.list.length;
        removed++;
      }
    }
    return removed;
  }

  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }
}
