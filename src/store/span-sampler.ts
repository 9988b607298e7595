// Which spans the store keeps as spans (every span is counted in the
// aggregates regardless). Keeping all of them at 20,000 spans/s would promote
// every span to V8's old generation and spend the CPU on garbage collection,
// for a traces page that shows a few hundred. So:
// - ordinary spans: each service keeps about `perSecond` spans/s, chosen by a
//   hash of the trace id against the service's keep probability. Busier services
//   have lower probabilities, and a trace kept by the busiest service it passes
//   through is kept by every quieter one too, so kept traces stay whole;
// - errors and slow spans: kept while under a per-service rate limit.

import { traceHash } from '../telemetry/ids.js';

/** A uniform number in [0, 1) from a trace id (random hex), well mixed even for sequential ids. */
export { traceHash };

/** Keep probability adapted once a second to hold a service's kept spans near `perSecond`. */
export class TraceSampler {
  private readonly perSecond: number;
  private periodStartMs = 0;
  private seen = 0;
  private p = 1;

  constructor(perSecond: number) {
    this.perSecond = perSecond;
  }

  get probability(): number {
    return this.p;
  }

  /** `nowMs`: the span's end time. Spans arrive a little out of order; that is fine. */
  admit(traceId: string, nowMs: number): boolean {
    const p = this.threshold(nowMs);
    return p >= 1 || traceHash(traceId) < p;
  }

  /**
   * Counts one span ending at `nowMs` and returns the keep probability for it: keep
   * it when p ≥ 1 or traceHash(its trace id) < p (admit(), for callers that can
   * hash the id without making it).
   */
  threshold(nowMs: number): number {
    this.seen++;
    const elapsed = nowMs - this.periodStartMs;
    if (elapsed >= 1000) {
      // After a long silence the last period says nothing about the rate: start afresh.
      const rate = elapsed < 10_000 ? (this.seen * 1000) / elapsed : 0;
      this.p = rate > this.perSecond ? this.perSecond / rate : 1;
      this.periodStartMs = nowMs;
      this.seen = 0;
    } else if (elapsed < -10_000) {
      // The clock went back: restart the period, keep the probability.
      this.periodStartMs = nowMs;
      this.seen = 0;
    } else if (this.p >= 1 && this.seen > this.perSecond * 2) {
      // A burst within the first period: sample at once rather than keep everything for a second.
      this.p = this.perSecond / ((this.seen * 1000) / Math.max(elapsed, 1));
    }
    return this.p;
  }
}

/** A token bucket: `perSecond` on average, bursts up to `burst`. */
export class RateLimiter {
  private readonly perSecond: number;
  private readonly burst: number;
  private tokens: number;
  private lastMs = 0;

  constructor(perSecond: number, burst = perSecond) {
    this.perSecond = perSecond;
    this.burst = burst;
    this.tokens = burst;
  }

  take(nowMs: number): boolean {
    if (nowMs > this.lastMs) {
      this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) * this.perSecond) / 1000);
      this.lastMs = nowMs;
    }
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}
