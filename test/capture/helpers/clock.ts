/** CLOCK_MONOTONIC in ns, the clock of bpf_ktime_get_ns(). */
export function MonotonicNow(): number {
  return Number(process.hrtime.bigint());
}
