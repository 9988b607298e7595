// Feeds the store's health history every few seconds: the agent process's CPU
// and memory, plus whatever the agent reports through `sources` (watched
// processes, pipeline counters such as records received and dropped).
import type { FeatureHealth, HealthSnapshot, WatchedProcess } from './health.js';
import type { LiveStore } from './live-store.js';

export interface HealthSources {
  /** The agent's features: up, off with the reason, or disabled. */
  features?: () => FeatureHealth[];
  watched?: () => WatchedProcess[];
  /** Monotonic totals, e.g. { 'records.received': n, 'records.dropped.kernel': m }. */
  counters?: () => Record<string, number>;
  gauges?: () => Record<string, number>;
}

export interface HealthSampler {
  /** Takes a snapshot now (also done every intervalMs). */
  sample(): HealthSnapshot;
  stop(): void;
}

export function startHealthSampler(store: LiveStore, sources: HealthSources = {}, intervalMs = 5_000): HealthSampler {
  const sample = (): HealthSnapshot => {
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    const snapshot: HealthSnapshot = {
      timeMs: Date.now(),
      features: safe(sources.features, []),
      watched: safe(sources.watched, []),
      counters: {
        ...safe(sources.counters, {}),
        'store.spans.ingested': store.spansIngested,
        'store.spans.evicted': store.spansEvicted,
      },
      gauges: {
        ...safe(sources.gauges, {}),
        'store.spans': store.spanCount,
        'store.memory.bytes': store.byteEstimate(),
      },
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
    };
    store.health.record(snapshot);
    return snapshot;
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return { sample, stop: () => clearInterval(timer) };
}

/** A failing source must not stop the sampler. */
function safe<T>(fn: (() => T) | undefined, fallback: T): T {
  if (!fn) return fallback;
  try {
    return fn();
  } catch {
    return fallback;
  }
}
