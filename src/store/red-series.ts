// RED figures (rate, errors, duration) of one stream of spans over time, at two
// resolutions: 10 s slots for the last 15 minutes, 1 min slots for the last hour.
import { LogHistogram, bucketOf } from './log-histogram.js';
import { type Slot, TimeRing } from './time-ring.js';

export const FINE_SLOT_MS = 10_000;
export const FINE_SLOTS = 90;
export const COARSE_SLOT_MS = 60_000;
export const COARSE_SLOTS = 60;
/** Fewest points a timeline is trimmed to. */
export const MIN_POINTS = 6;
/** The longest window a query can ask for. */
export const MAX_WINDOW_MS = COARSE_SLOT_MS * COARSE_SLOTS;

export interface Aggregate {
  count: number;
  errors: number;
  hist: LogHistogram;
  /** Seconds the window covered (for rates). */
  seconds: number;
}

export interface TimelinePoint {
  /** Slot start, ms since the epoch. */
  t: number;
  count: number;
  errors: number;
  hist: LogHistogram | undefined;
}

/** One span's figures, worked out once for every series it feeds (reused span after span). */
export class Sample {
  /** End time, ms since the epoch. */
  ms = 0;
  ns = 0;
  error = false;
  /** bucketOf(ns) */
  bucket = 0;
  fineId = 0;
  coarseId = 0;

  set(ms: number, ns: number, error: boolean): this {
    this.ms = ms;
    this.ns = ns > 0 && Number.isFinite(ns) ? ns : 0;
    this.error = error;
    this.bucket = bucketOf(this.ns);
    this.fineId = Math.floor(ms / FINE_SLOT_MS);
    this.coarseId = Math.floor(ms / COARSE_SLOT_MS);
    return this;
  }
}

export class RedSeries {
  readonly fine = new TimeRing(FINE_SLOT_MS, FINE_SLOTS);
  readonly coarse = new TimeRing(COARSE_SLOT_MS, COARSE_SLOTS);
  totalCount = 0;
  totalErrors = 0;
  /** End time (ms) of the newest span recorded. */
  lastMs = 0;
  /** End time (ms) of the first span recorded: a young series' rate is over its life, not the whole window. */
  firstMs = Infinity;

  /**
   * Records one span ending at `ms`; false when it is older than the history kept.
   * `bucket`: bucketOf(durationNs), when the caller has it (a span feeds several series).
   */
  record(ms: number, durationNs: number, error: boolean): boolean {
    return this.add(new Sample().set(ms, durationNs, error));
  }

  /** record() of a Sample. */
  add(s: Sample): boolean {
    const ms = s.ms;
    const error = s.error;
    const inFine = this.fine.recordIn(s.fineId, s.ns, error, s.bucket);
    const inCoarse = this.coarse.recordIn(s.coarseId, s.ns, error, s.bucket);
    if (!inFine && !inCoarse) return false;
    this.totalCount++;
    if (error) this.totalErrors++;
    if (ms > this.lastMs) this.lastMs = ms;
    if (ms < this.firstMs) this.firstMs = ms;
    return true;
  }

  /**
   * Everything that ended from the start of the slot `windowMs` before `nowMs`
   * until `nowMs`: the window is slot-aligned and up to one slot longer than
   * asked, and `seconds` says exactly how long it was.
   */
  window(nowMs: number, windowMs: number): Aggregate {
    const ring = windowMs <= this.fine.spanMs ? this.fine : this.coarse;
    // n complete slots before the current one, plus the current one as far as it went.
    const n = Math.max(1, Math.min(ring.length - 1, Math.round(windowMs / ring.slotMs)));
    const nowId = ring.idOf(nowMs);
    const hist = new LogHistogram();
    let count = 0;
    let errors = 0;
    for (let id = nowId - n; id <= nowId; id++) {
      const s = ring.get(id);
      if (!s) continue;
      count += s.count;
      errors += s.errors;
      hist.merge(s.hist);
    }
    const from = Math.max((nowId - n) * ring.slotMs, Math.min(this.firstMs, nowMs) - 1000);
    const seconds = Math.max(1, (nowMs - from) / 1000);
    return { count, errors, hist, seconds };
  }

  /**
   * Complete slots over the last `rangeMs` (10 s slots up to 15 min, 1 min slots
   * beyond), oldest first, one point per slot including empty ones. A series
   * younger than the range starts at its first slot (at least MIN_POINTS are
   * kept), so a new service's charts are not squeezed against the right edge.
   */
  timeline(nowMs: number, rangeMs: number): { stepMs: number; points: TimelinePoint[] } {
    const ring = rangeMs <= this.fine.spanMs ? this.fine : this.coarse;
    const points = slotsBefore(ring, nowMs, rangeMs);
    const firstSlotStart = Math.floor(this.firstMs / ring.slotMs) * ring.slotMs;
    let skip = 0;
    while (skip < points.length - MIN_POINTS && points[skip]!.t < firstSlotStart) skip++;
    return { stepMs: ring.slotMs, points: skip ? points.slice(skip) : points };
  }

  byteEstimate(): number {
    return 96 + this.fine.byteEstimate() + this.coarse.byteEstimate();
  }
}

/** The complete slots of `ring` in the `rangeMs` before the current one. */
export function slotsBefore(ring: TimeRing, nowMs: number, rangeMs: number): TimelinePoint[] {
  const n = Math.max(1, Math.min(ring.length - 1, Math.round(rangeMs / ring.slotMs)));
  const lastComplete = ring.idOf(nowMs) - 1;
  const points: TimelinePoint[] = [];
  for (let id = lastComplete - n + 1; id <= lastComplete; id++) {
    const s: Slot | undefined = ring.get(id);
    points.push({ t: id * ring.slotMs, count: s?.count ?? 0, errors: s?.errors ?? 0, hist: s?.hist });
  }
  return points;
}
