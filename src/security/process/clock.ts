// Kernel timestamps (bpf_ktime_get_ns, CLOCK_MONOTONIC) to wall-clock time.
// Node's hrtime reads the same clock, so one offset taken at start converts both.

export class KtimeClock {
  private readonly offsetNs: bigint;
  /** The offset split as numbers, for kernel times below 2^53 ns (104 days of uptime). */
  private readonly offsetS: number;
  private readonly offsetSubNs: number;
  /** ISO text of the last second converted ("2026-12-04T23:31:23"): events come in bursts. */
  private lastS = -1;
  private lastPrefix = '';

  constructor() {
    const mono = process.hrtime.bigint();
    this.offsetNs = BigInt(Date.now()) * 1_000_000n - mono;
    this.offsetS = Number(this.offsetNs / 1_000_000_000n);
    this.offsetSubNs = Number(this.offsetNs % 1_000_000_000n);
  }

  /** ISO 8601 with nanoseconds, as Tetragon prints them. */
  iso(ktime: bigint): string {
    if (ktime < 0n || ktime > 9_007_199_254_740_991n || this.offsetSubNs < 0) return this.isoBig(ktime);
    const k = Number(ktime);
    let s = Math.floor(k / 1e9);
    let ns = k - s * 1e9 + this.offsetSubNs;
    s += this.offsetS;
    if (ns >= 1e9) {
      ns -= 1e9;
      s++;
    }
    if (s !== this.lastS) {
      this.lastS = s;
      this.lastPrefix = new Date(s * 1000).toISOString().slice(0, 19);
    }
    return `${this.lastPrefix}.${String(ns).padStart(9, '0')}Z`;
  }

  private isoBig(ktime: bigint): string {
    const ns = ktime + this.offsetNs;
    const ms = ns / 1_000_000n;
    const base = new Date(Number(ms)).toISOString().slice(0, 19);
    const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
    return `${base}.${frac}Z`;
  }

  nowKtime(): bigint {
    return process.hrtime.bigint();
  }
}
