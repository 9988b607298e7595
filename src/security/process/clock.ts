// Kernel timestamps (bpf_ktime_get_ns, CLOCK_MONOTONIC) to wall-clock time.
// Node's hrtime reads the same clock, so one offset taken at start converts both.

export class KtimeClock {
  private readonly offsetNs: bigint;

  constructor() {
    const mono = process.hrtime.bigint();
    this.offsetNs = BigInt(Date.now()) * 1_000_000n - mono;
  }

  /** ISO 8601 with nanoseconds, as Tetragon prints them. */
  iso(ktime: bigint): string {
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
