// A mergeable latency sketch: log-spaced buckets, 8 per doubling, from 1 µs to
// about 18 minutes. Any quantile it reports is within ±4.4 % of a real sample's
// value (clamped to the exact min and max). Two sketches merge by adding
// counts, so a service's sketch is the sum of its routes' and an hour's the sum
// of its minutes'. Counts live in one Uint32Array covering only the used range
// of buckets (like DDSketch's dense store), so a typical route costs a few
// hundred bytes per time slot.

/** Sub-buckets per power of two: relative error (γ-1)/(γ+1) with γ = 2^(1/8) ≈ 4.3 %. */
const SUB = 8;
const GAMMA = 2 ** (1 / SUB);
const LOG_GAMMA = Math.log(GAMMA);
/** Bucket 0 holds everything ≤ 1 µs; the last bucket everything ≥ 2^30 µs. */
export const BUCKET_COUNT = 30 * SUB + 2;
const MIN_NS = 1_000;

/** Index of the bucket holding a duration in nanoseconds. */
export function bucketOf(ns: number): number {
  if (!(ns > MIN_NS)) return 0;
  const i = Math.ceil(Math.log(ns / MIN_NS) / LOG_GAMMA);
  return i >= BUCKET_COUNT ? BUCKET_COUNT - 1 : i;
}

/** Upper bound of bucket i, in nanoseconds. */
export function bucketUpperNs(i: number): number {
  return MIN_NS * GAMMA ** i;
}

/** The value reported for bucket i: the point with the same relative distance to both bounds. */
function bucketValueNs(i: number): number {
  if (i === 0) return MIN_NS;
  return (2 * bucketUpperNs(i)) / (GAMMA + 1);
}

export class LogHistogram {
  count = 0;
  sumNs = 0;
  minNs = Infinity;
  maxNs = 0;
  /** Bucket index of counts[0]. */
  private offset = 0;
  private counts: Uint32Array = EMPTY;

  record(ns: number, n = 1): void {
    const v = ns > 0 && Number.isFinite(ns) ? ns : 0;
    this.recordIn(bucketOf(v), v, n);
  }

  /** record() when the caller has bucketOf(ns) already (one span feeds several sketches). */
  recordIn(i: number, ns: number, n = 1): void {
    const v = ns > 0 && Number.isFinite(ns) ? ns : 0;
    this.ensure(i, i);
    this.counts[i - this.offset]! += n;
    this.count += n;
    this.sumNs += v * n;
    if (v < this.minNs) this.minNs = v;
    if (v > this.maxNs) this.maxNs = v;
  }

  merge(other: LogHistogram): void {
    if (other.count === 0) return;
    const from = other.offset;
    const to = other.offset + other.counts.length - 1;
    this.ensure(from, to);
    const shift = from - this.offset;
    for (let j = 0; j < other.counts.length; j++) this.counts[shift + j]! += other.counts[j]!;
    this.count += other.count;
    this.sumNs += other.sumNs;
    if (other.minNs < this.minNs) this.minNs = other.minNs;
    if (other.maxNs > this.maxNs) this.maxNs = other.maxNs;
  }

  /** q in [0, 1]; NaN when empty. */
  quantileNs(q: number): number {
    if (this.count === 0) return NaN;
    if (q <= 0) return this.minNs;
    if (q >= 1) return this.maxNs;
    // The rank of the q-quantile among count samples (nearest-rank, 1-based).
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let j = 0; j < this.counts.length; j++) {
      seen += this.counts[j]!;
      if (seen >= rank) return Math.min(this.maxNs, Math.max(this.minNs, bucketValueNs(j + this.offset)));
    }
    return this.maxNs;
  }

  meanNs(): number {
    return this.count === 0 ? NaN : this.sumNs / this.count;
  }

  /** Non-empty buckets as [upper bound ns, count], ascending. */
  buckets(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let j = 0; j < this.counts.length; j++) {
      const c = this.counts[j]!;
      if (c > 0) out.push([bucketUpperNs(j + this.offset), c]);
    }
    return out;
  }

  /** Counts re-binned onto coarser upper bounds (ns, ascending; values above the last go to the last). */
  rebin(boundsNs: readonly number[]): number[] {
    const out = new Array<number>(boundsNs.length).fill(0);
    let b = 0;
    for (let j = 0; j < this.counts.length; j++) {
      const c = this.counts[j]!;
      if (c === 0) continue;
      // A fine bucket goes where its representative value falls.
      const v = bucketValueNs(j + this.offset);
      while (b < boundsNs.length - 1 && v > boundsNs[b]!) b++;
      out[b]! += c;
    }
    return out;
  }

  /** Bytes held by the counts (for the store's memory estimate). */
  get byteLength(): number {
    return this.counts.byteLength;
  }

  /** Shrinks the counts to the used range; call when the sketch stops changing. */
  trim(): void {
    let lo = 0;
    let hi = this.counts.length - 1;
    while (lo <= hi && this.counts[lo] === 0) lo++;
    while (hi >= lo && this.counts[hi] === 0) hi--;
    if (lo > hi) {
      this.counts = EMPTY;
      this.offset = 0;
    } else if (lo > 0 || hi < this.counts.length - 1) {
      this.counts = this.counts.slice(lo, hi + 1);
      this.offset += lo;
    }
  }

  clone(): LogHistogram {
    const h = new LogHistogram();
    h.merge(this);
    return h;
  }

  private ensure(from: number, to: number): void {
    const len = this.counts.length;
    if (len === 0) {
      // Room for a little spread around the first value avoids regrowing at once.
      const lo = Math.max(0, from - 4);
      const hi = Math.min(BUCKET_COUNT - 1, to + 4);
      this.offset = lo;
      this.counts = new Uint32Array(hi - lo + 1);
      return;
    }
    const curTo = this.offset + len - 1;
    if (from >= this.offset && to <= curTo) return;
    const lo = Math.max(0, Math.min(from, this.offset) - (from < this.offset ? 4 : 0));
    const hi = Math.min(BUCKET_COUNT - 1, Math.max(to, curTo) + (to > curTo ? 4 : 0));
    const next = new Uint32Array(hi - lo + 1);
    next.set(this.counts, this.offset - lo);
    this.counts = next;
    this.offset = lo;
  }
}

const EMPTY = new Uint32Array(0);
