// The agent's always-on profiler: every process but the agent, sampled at a
// low frequency; counts drained every few seconds into per-window profiles per
// process, kept for a bounded time. Unwind tables are built for a process the
// first time it shows up in samples (a bounded number per drain, built in a
// worker thread: a large executable's take a second), and freed when it exits.
//
//   const p = ContinuousProfiler.start({ frequency: 19, identify: (pid) => 'checkout' });
//   p.query({ from, to, service: 'checkout' })   // → Profile
import { existsSync } from 'node:fs';
import type { ProcessTable } from '../process/index.js';
import { Profile } from './profile.js';
import { ProfileSampler, type SamplerStats } from './sampler.js';
import { Symbolizer, type SymbolizerStats } from './symbolizer.js';
import { UnwindTables, type UnwindTableStats } from './unwind/unwind-tables.js';

export interface ContinuousOptions {
  frequency: number;
  /** service.name of a process (discovery's identity); undefined when unknown. */
  identify: (pid: number) => string | undefined;
  /** Drain period (default 5 s): the live view's resolution. */
  drainMs?: number;
  /** How long windows are kept (default 15 min). */
  retentionMs?: number;
  /** New processes given unwind tables per drain (default 8). */
  tablesPerDrain?: number;
  /** Build .eh_frame tables at all (default true). */
  unwindTables?: boolean;
  /** The agent's process table (mappings are read through it); default: the profiler's own. */
  processes?: ProcessTable;
  onWarning?: (message: string) => void;
}

export interface ProfileQuery {
  from: number;
  to: number;
  service?: string;
  pid?: number;
}

interface Window {
  startMs: number;
  endMs: number;
  /** One profile per (service, pid). */
  parts: Map<string, { service: string; pid: number; profile: Profile }>;
}

export interface ProfileTarget {
  service: string;
  pid: number;
  samples: number;
}

/** Distinct stacks per window and process before "[other stacks]". */
const STACKS_PER_PART = 5000;
const MAX_PARTS_PER_WINDOW = 2000;
/** Distinct stacks kept over all windows; the oldest windows go first past it. */
const MAX_KEPT_STACKS = 300_000;

function stacksOf(w: Window): number {
  let n = 0;
  for (const p of w.parts.values()) n += p.profile.stacks.size;
  return n;
}

/** The service name of a process discovery cannot name (kernel threads, processes gone before they were read). */
export function unidentifiedName(pid: number): string {
  return `pid ${pid}`;
}

export function isUnidentifiedName(service: string): boolean {
  return /^pid \d+$/.test(service);
}

export class ContinuousProfiler {
  private readonly windows: Window[] = [];
  private readonly symbolizer: Symbolizer;
  private readonly services = new Map<number, string>();
  private timer: NodeJS.Timeout | undefined;
  private droppedParts = 0;
  private keptStacks = 0;
  /** Windows dropped before their time because of the stack cap. */
  private windowsDropped = 0;
  private drains = 0;
  private drainMsTotal = 0;

  private constructor(
    private readonly sampler: ProfileSampler,
    private readonly tables: UnwindTables | undefined,
    private readonly opts: Required<Omit<ContinuousOptions, 'onWarning' | 'processes'>> & Pick<ContinuousOptions, 'onWarning' | 'processes'>,
  ) {
    this.symbolizer = new Symbolizer(opts.processes);
  }

  static start(options: ContinuousOptions): ContinuousProfiler {
    const opts = { drainMs: 5000, retentionMs: 15 * 60_000, tablesPerDrain: 8, unwindTables: true, ...options };
    const sampler = ProfileSampler.start({ frequency: opts.frequency });
    try {
      const tables = opts.unwindTables ? new UnwindTables(sampler.collection) : undefined;
      const p = new ContinuousProfiler(sampler, tables, opts);
      p.timer = setInterval(() => p.drain(), opts.drainMs);
      p.timer.unref();
      return p;
    } catch (e) {
      sampler.close();
      throw e;
    }
  }

  get frequency(): number {
    return this.opts.frequency;
  }

  /** Moves the kernel's counts into a new window now (also run by the timer). */
  drain(): void {
    const t0 = performance.now();
    const now = Date.now();
    const last = this.windows[this.windows.length - 1];
    const window: Window = { startMs: last ? last.endMs : now - this.opts.drainMs, endMs: now, parts: new Map() };
    const fresh = new Map<number, number>(); // pid → samples, for processes without tables yet
    for (const raw of this.sampler.drain()) {
      const service = this.serviceOf(raw.pid);
      const key = `${service}\0${raw.pid}`;
      let part = window.parts.get(key);
      if (!part) {
        if (window.parts.size >= MAX_PARTS_PER_WINDOW) {
          this.droppedParts += raw.count;
          continue;
        }
        part = { service, pid: raw.pid, profile: new Profile(window.startMs, window.endMs, this.opts.frequency, STACKS_PER_PART) };
        window.parts.set(key, part);
      }
      part.profile.add(this.symbolizer.symbolize(raw));
      if (this.tables && !this.tables.has(raw.pid)) fresh.set(raw.pid, (fresh.get(raw.pid) ?? 0) + raw.count);
    }
    this.windows.push(window);
    this.keptStacks += stacksOf(window);
    const keepFrom = now - this.opts.retentionMs;
    while (this.windows.length > 1 && (this.windows[0]!.endMs < keepFrom || this.keptStacks > MAX_KEPT_STACKS)) {
      if (this.windows[0]!.endMs >= keepFrom) this.windowsDropped++;
      this.keptStacks -= stacksOf(this.windows.shift()!);
    }
    this.loadTables(fresh);
    this.forgetExited();
    this.drains++;
    this.drainMsTotal += performance.now() - t0;
  }

  /** One merged profile of the windows overlapping [from, to], for one service or process or all. */
  query(q: ProfileQuery): Profile {
    const out = new Profile(q.from, q.to, this.opts.frequency);
    let first = Infinity;
    let last = -Infinity;
    for (const w of this.windows) {
      if (w.endMs <= q.from || w.startMs >= q.to) continue;
      for (const part of w.parts.values()) {
        if (q.service !== undefined && part.service !== q.service) continue;
        if (q.pid !== undefined && part.pid !== q.pid) continue;
        out.merge(part.profile);
      }
      first = Math.min(first, w.startMs);
      last = Math.max(last, w.endMs);
    }
    if (first !== Infinity) {
      out.startMs = first;
      out.endMs = last;
    }
    return out;
  }

  /** Services and processes with samples in [from, to], most samples first. */
  targets(from: number, to: number): ProfileTarget[] {
    const byKey = new Map<string, ProfileTarget>();
    for (const w of this.windows) {
      if (w.endMs <= from || w.startMs >= to) continue;
      for (const [key, part] of w.parts) {
        const t = byKey.get(key) ?? { service: part.service, pid: part.pid, samples: 0 };
        t.samples += part.profile.total;
        byKey.set(key, t);
      }
    }
    return [...byKey.values()].sort((a, b) => b.samples - a.samples);
  }

  /** The time span the kept windows cover. */
  span(): { from: number; to: number } | undefined {
    if (this.windows.length === 0) return undefined;
    return { from: this.windows[0]!.startMs, to: this.windows[this.windows.length - 1]!.endMs };
  }

  stats(): { sampler: SamplerStats; symbols: SymbolizerStats; tables: UnwindTableStats | undefined; windows: number; windowsDropped: number; droppedParts: number; drains: number; drainSeconds: number } {
    return {
      sampler: this.sampler.stats(),
      symbols: this.symbolizer.stats(),
      tables: this.tables?.stats(),
      windows: this.windows.length,
      windowsDropped: this.windowsDropped,
      droppedParts: this.droppedParts,
      drains: this.drains,
      drainSeconds: this.drainMsTotal / 1000,
    };
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.tables?.close();
    this.sampler.close();
  }

  private serviceOf(pid: number): string {
    let s = this.services.get(pid);
    if (s === undefined) {
      s = this.opts.identify(pid) ?? unidentifiedName(pid);
      if (this.services.size >= 65536) this.services.clear();
      this.services.set(pid, s);
    }
    return s;
  }

  /** The busiest processes first: their stacks matter most. */
  private loadTables(fresh: Map<number, number>): void {
    if (!this.tables) return;
    let n = 0;
    for (const [pid] of [...fresh].sort((a, b) => b[1] - a[1])) {
      if (n++ >= this.opts.tablesPerDrain) break;
      this.tables.addProcessAsync(pid, this.symbolizer.mappings(pid)).catch((e: Error) => this.opts.onWarning?.(`unwind tables for pid ${pid}: ${e.message}`));
    }
  }

  private forgetExited(): void {
    for (const pid of this.services.keys()) {
      if (existsSync(`/proc/${pid}`)) continue;
      this.services.delete(pid);
      this.symbolizer.forget(pid);
      this.tables?.removeProcess(pid);
    }
  }
}
