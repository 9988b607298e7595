// Kernel monotonic time → wall-clock time. bpf_ktime_get_ns() and Node's
// process.hrtime.bigint() both read CLOCK_MONOTONIC, so one offset to the epoch
// converts every kernel timestamp. The offset is measured at a Date.now() tick edge
// (sub-millisecond) and re-measured periodically; a new offset is adopted only when
// the wall clock has really moved (a step or accumulated NTP slew), so consecutive
// spans do not jitter by the measurement's own noise.

/** Re-measure at most this often. */
export const CLOCK_REFRESH_MS = 60_000;
/** Adopt a new offset only if it differs by more than this. */
export const CLOCK_ADOPT_THRESHOLD_NS = 1_000_000;

/** Calls between looks at the wall clock (reading it on every span would cost more than the conversion). */
const CHECK_EVERY = 1024;

export class MonotonicClock {
  #offsetNs: number;
  #measuredAtMs: number;
  #calls = 0;

  constructor(private readonly refreshMs = CLOCK_REFRESH_MS) {
    this.#offsetNs = measureOffsetNs();
    this.#measuredAtMs = Date.now();
  }

  /** Nanoseconds to add to a CLOCK_MONOTONIC reading to get nanoseconds since the Unix epoch. */
  get offsetNs(): number {
    this.#maybeRefresh();
    return this.#offsetNs;
  }

  /** Wall-clock nanoseconds since the epoch for a kernel monotonic timestamp. */
  toEpochNs(monotonicNs: number): number {
    return monotonicNs + this.offsetNs;
  }

  /** The current CLOCK_MONOTONIC reading in nanoseconds. */
  static nowNs(): number {
    return Number(process.hrtime.bigint());
  }

  #maybeRefresh(): void {
    if (++this.#calls < CHECK_EVERY) return;
    this.#calls = 0;
    const now = Date.now();
    if (now - this.#measuredAtMs < this.refreshMs && now >= this.#measuredAtMs) return;
    this.#measuredAtMs = now;
    const fresh = measureOffsetNs();
    if (Math.abs(fresh - this.#offsetNs) > CLOCK_ADOPT_THRESHOLD_NS) this.#offsetNs = fresh;
  }
}

/**
 * epoch − monotonic, in ns. Date.now() has millisecond resolution, so it waits for
 * the millisecond to change (at most ~1 ms) and takes the monotonic reading at
 * that edge.
 */
export function measureOffsetNs(): number {
  const start = Date.now();
  let wall = start;
  let mono = process.hrtime.bigint();
  const giveUp = mono + 5_000_000n;
  while (wall === start) {
    mono = process.hrtime.bigint();
    wall = Date.now();
    if (mono > giveUp) break;
  }
  return wall * 1e6 - Number(mono);
}
