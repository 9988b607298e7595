// Kernel accounting of BPF program run time (sysctl kernel.bpf_stats_enabled,
// scoped to the returned handle's lifetime).
import { toWaggleError } from './errors.js';
import { native } from './native.js';

/** Enables run_time_ns/run_cnt accounting until the returned function is called. */
export function enableStats(): () => void {
  let fd: number;
  try {
    fd = native().enableStats();
  } catch (e) {
    throw toWaggleError(e, { action: 'enabling BPF run-time statistics', privilege: 'load' });
  }
  let open = true;
  return () => {
    if (open) native().closeFd(fd);
    open = false;
  };
}

/** Runs `fn` with run-time accounting enabled, and disables it afterwards whatever happens. */
export async function withStats<T>(fn: () => Promise<T>): Promise<T> {
  const stop = enableStats();
  try {
    return await fn();
  } finally {
    stop();
  }
}
