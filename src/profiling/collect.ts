// One-shot profiling of chosen processes for N seconds (`waggle profile`):
// sample, drain every second (the kernel maps stay small), symbolize, merge.
import { Profile } from './profile.js';
import { ProfileSampler } from './sampler.js';
import { Symbolizer } from './symbolizer.js';
import { UnwindTables } from './unwind/unwind-tables.js';

export interface CollectOptions {
  pids: readonly number[];
  seconds: number;
  frequency: number;
  /** Build .eh_frame unwind tables for the processes' executables (default true). */
  unwindTables?: boolean;
  signal?: AbortSignal;
  onWarning?: (message: string) => void;
}

export interface CollectResult {
  profile: Profile;
  stats: ReturnType<ProfileSampler['stats']>;
  tables: ReturnType<UnwindTables['stats']> | undefined;
}

const DRAIN_MS = 1000;

export async function collectProfile(opts: CollectOptions): Promise<CollectResult> {
  const symbolizer = new Symbolizer();
  let tables: UnwindTables | undefined;
  // Tables are loaded before the perf events attach, so no early sample is walked without them.
  const sampler = ProfileSampler.start({ frequency: opts.frequency, pids: opts.pids }, (s) => {
    if (opts.unwindTables === false) return;
    tables = new UnwindTables(s.collection, opts.onWarning);
    for (const pid of opts.pids) tables.addProcess(pid, symbolizer.mappings(pid));
  });
  try {
    const start = Date.now();
    const profile = new Profile(start, start, opts.frequency);
    const end = start + opts.seconds * 1000;
    while (Date.now() < end && !opts.signal?.aborted) {
      await sleep(Math.min(DRAIN_MS, end - Date.now()), opts.signal);
      for (const raw of sampler.drain()) profile.add(symbolizer.symbolize(raw));
    }
    for (const raw of sampler.drain()) profile.add(symbolizer.symbolize(raw));
    profile.endMs = Date.now();
    return { profile, stats: sampler.stats(), tables: (tables as UnwindTables | undefined)?.stats() };
  } finally {
    sampler.close();
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
