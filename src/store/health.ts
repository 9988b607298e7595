// The agent's own health over time: watched processes, counters (records
// received, drops, parse failures…), CPU and memory. Snapshots are pushed by
// the agent (see health-sampler.ts); rates are derived between snapshots.

export interface WatchedProcess {
  pid: number;
  service: string;
  executable?: string;
  /** Why it is watched, e.g. "open port 8080". */
  reason?: string;
}

/** One agent feature as the health page shows it (the agent's FeatureStatus). */
export interface FeatureHealth {
  name: string;
  title: string;
  /** up: running; off: could not start (reason says why); disabled: not asked for. */
  state: 'up' | 'off' | 'disabled';
  reason?: string;
  /** Partial degradation of a feature that is up. */
  note?: string;
}

export interface HealthSnapshot {
  timeMs: number;
  /** Which features run and why the others do not. */
  features: FeatureHealth[];
  watched: WatchedProcess[];
  /**
   * Monotonic totals by name, e.g. "records.received", "records.dropped.kernel",
   * "parse.failures". Names containing "drop" or "lost" are shown as drops.
   */
  counters: Record<string, number>;
  /** Point-in-time values by name, e.g. "store.spans". */
  gauges: Record<string, number>;
  /** Agent user + system CPU seconds since start. */
  cpuSeconds: number;
  rssBytes: number;
  heapUsedBytes: number;
}

export interface HealthView {
  nowMs: number;
  latest: HealthSnapshot | null;
  /** Per counter: total and per-second rate over the last interval. */
  counters: Array<{ name: string; total: number; rate: number; drop: boolean }>;
  cpuPercent: number | null;
  history: {
    t: number[];
    cpuPercent: Array<number | null>;
    rssMb: number[];
    heapMb: number[];
    /** Per-second rates of every counter, aligned with t. */
    rates: Record<string, Array<number | null>>;
  };
}

const MAX_COUNTERS = 64;
const MAX_WATCHED = 2_000;
const MAX_FEATURES = 32;

export class HealthStore {
  private readonly ring: Array<HealthSnapshot | undefined>;
  private next = 0;
  private count = 0;

  constructor(capacity = 360) {
    this.ring = new Array<HealthSnapshot | undefined>(capacity).fill(undefined);
  }

  record(snapshot: HealthSnapshot): void {
    // Bounded whatever the caller sends.
    const s: HealthSnapshot = {
      ...snapshot,
      watched: snapshot.watched.slice(0, MAX_WATCHED),
      features: snapshot.features.slice(0, MAX_FEATURES),
      counters: Object.fromEntries(Object.entries(snapshot.counters).slice(0, MAX_COUNTERS)),
      gauges: Object.fromEntries(Object.entries(snapshot.gauges).slice(0, MAX_COUNTERS)),
    };
    this.ring[this.next] = s;
    this.next = (this.next + 1) % this.ring.length;
    if (this.count < this.ring.length) this.count++;
  }

  /** Snapshots oldest first. */
  snapshots(): HealthSnapshot[] {
    const out: HealthSnapshot[] = [];
    for (let k = this.count; k >= 1; k--) out.push(this.ring[(this.next - k + this.ring.length) % this.ring.length]!);
    return out;
  }

  view(nowMs: number): HealthView {
    const snaps = this.snapshots();
    const latest = snaps.at(-1) ?? null;
    const prev = snaps.at(-2);
    const names = latest ? Object.keys(latest.counters) : [];
    const rateBetween = (a: HealthSnapshot | undefined, b: HealthSnapshot, name: string): number | null => {
      if (!a) return null;
      const dt = (b.timeMs - a.timeMs) / 1000;
      const d = (b.counters[name] ?? 0) - (a.counters[name] ?? 0);
      return dt > 0 && d >= 0 ? d / dt : null;
    };
    const cpuBetween = (a: HealthSnapshot | undefined, b: HealthSnapshot): number | null => {
      if (!a) return null;
      const dt = (b.timeMs - a.timeMs) / 1000;
      return dt > 0 ? (100 * Math.max(0, b.cpuSeconds - a.cpuSeconds)) / dt : null;
    };
    const rates: Record<string, Array<number | null>> = {};
    for (const n of names) rates[n] = snaps.map((s, i) => rateBetween(snaps[i - 1], s, n));
    return {
      nowMs,
      latest,
      counters: names.map((name) => ({
        name,
        total: latest!.counters[name]!,
        rate: latest ? rateBetween(prev, latest, name) ?? 0 : 0,
        drop: /drop|lost/i.test(name),
      })),
      cpuPercent: latest ? cpuBetween(prev, latest) : null,
      history: {
        t: snaps.map((s) => s.timeMs),
        cpuPercent: snaps.map((s, i) => cpuBetween(snaps[i - 1], s)),
        rssMb: snaps.map((s) => s.rssBytes / 2 ** 20),
        heapMb: snaps.map((s) => s.heapUsedBytes / 2 ** 20),
        rates,
      },
    };
  }
}
