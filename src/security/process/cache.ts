// The user-space process cache: one entry per process image (exec, fork, or
// found in /proc), keyed by pid and start time so that pid reuse never mixes
// two processes. Entries are reference-counted (their own life plus their
// children's), so ancestors stay as long as a descendant lives; a dead entry
// with no live descendants is forgotten after a grace period, once the events
// that name it have been read. Bounded: past maxEntries the oldest dead entries
// go first, and every such eviction is counted.
import type { ProcessView } from '../events/types.js';

export interface ProcessInfo {
  key: string;
  pid: number;
  ppid: number;
  startKtime: bigint;
  execId: string;
  binary: string;
  filename?: string;
  arguments: string[];
  cwd: string;
  uid: number;
  gid: number;
  startTime: string;
  containerId?: string;
  inContainer: boolean;
  cgroup?: string;
  flags: string[];
  parentKey?: string;
  /** 1 while the image runs, plus one per cached child image. */
  refs: number;
  alive: boolean;
  /** Date.now() when it died (exit or replaced by an exec). */
  diedAt?: number;
  /** What events show of this image, built at its first event and shared by all of them (frozen). */
  shown?: ProcessView;
  /** Views of its parent, grandparent… (≤ MAX_ANCESTORS), built once and shared (frozen). */
  lineage?: readonly ProcessView[];
}

/** Ancestors an event carries beyond the parent. */
export const MAX_ANCESTORS = 32;
const NO_VIEWS: readonly ProcessView[] = Object.freeze([]);

export interface ProcessCacheOptions {
  maxEntries?: number;
  /** How long a dead entry stays after its last reference is gone. */
  graceMs?: number;
}

export interface ProcessCacheStats {
  size: number;
  alive: number;
  /** Entries removed after their grace period. */
  forgotten: number;
  /** Entries removed early because the cache was full. */
  evicted: number;
  /** Lookups that found no entry (events carry a minimal process then). */
  misses: number;
}

export const processKey = (pid: number, startKtime: bigint): string => `${pid}:${startKtime}`;

export function execIdOf(node: string, startKtime: bigint, pid: number): string {
  return Buffer.from(`${node}:${startKtime}:${pid}`).toString('base64');
}

export class ProcessCache {
  private readonly byKey = new Map<string, ProcessInfo>();
  private readonly byPid = new Map<number, ProcessInfo>();
  /** Dead entries with no references, oldest first (insertion order of a Map). */
  private readonly releasable = new Map<string, ProcessInfo>();
  private readonly maxEntries: number;
  private readonly graceMs: number;
  private forgotten = 0;
  private evicted = 0;
  private misses = 0;

  constructor(opts: ProcessCacheOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 65536;
    this.graceMs = opts.graceMs ?? 2000;
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Adds a live process image; an older image of the same pid dies. */
  add(info: Omit<ProcessInfo, 'refs' | 'alive' | 'key'>, now = Date.now()): ProcessInfo {
    const key = processKey(info.pid, info.startKtime);
    const existing = this.byKey.get(key);
    if (existing) return existing;
    // Every entry gets the same fields in the same order (one hidden class): the
    // cache's hot paths read them for every event.
    const entry: ProcessInfo = {
      key,
      pid: info.pid,
      ppid: info.ppid,
      startKtime: info.startKtime,
      execId: info.execId,
      binary: info.binary,
      filename: info.filename,
      arguments: info.arguments,
      cwd: info.cwd,
      uid: info.uid,
      gid: info.gid,
      startTime: info.startTime,
      containerId: info.containerId,
      inContainer: info.inContainer,
      cgroup: info.cgroup,
      flags: info.flags,
      parentKey: info.parentKey,
      refs: 1,
      alive: true,
      diedAt: undefined,
      shown: undefined,
      lineage: undefined,
    };
    const previous = this.byPid.get(info.pid);
    if (previous && previous !== entry) this.die(previous, now);
    this.byKey.set(key, entry);
    this.byPid.set(info.pid, entry);
    const parent = entry.parentKey ? this.byKey.get(entry.parentKey) : undefined;
    if (parent) this.retain(parent);
    this.enforceBound();
    return entry;
  }

  get(pid: number, startKtime: bigint): ProcessInfo | undefined {
    const exact = startKtime !== 0n ? this.byKey.get(processKey(pid, startKtime)) : undefined;
    if (exact) return exact;
    const current = startKtime === 0n ? this.byPid.get(pid) : undefined;
    if (!current) this.misses++;
    return current;
  }

  /** The entry with this exec_id (a scan: for tests and debugging). */
  find(execId: string): ProcessInfo | undefined {
    for (const p of this.byKey.values()) if (p.execId === execId) return p;
    return undefined;
  }

  /** The image now running as `pid`, if known. */
  current(pid: number): ProcessInfo | undefined {
    const p = this.byPid.get(pid);
    return p?.alive ? p : undefined;
  }

  parentOf(p: ProcessInfo): ProcessInfo | undefined {
    return p.parentKey ? this.byKey.get(p.parentKey) : undefined;
  }

  /**
   * Views of the parent's parent upwards, as events carry them: the parent's
   * lineage, computed once per image and shared by every event that names it
   * (an image's ancestry never changes once its parent is known).
   */
  ancestorViews(p: ProcessInfo): readonly ProcessView[] {
    const parent = this.parentOf(p);
    return parent ? this.lineage(parent) : NO_VIEWS;
  }

  private lineage(x: ProcessInfo): readonly ProcessView[] {
    if (x.lineage) return x.lineage;
    x.lineage = NO_VIEWS; // a cycle back to x stops here
    const parent = this.parentOf(x);
    if (!parent) return x.lineage;
    const up = this.lineage(parent);
    const out = [this.view(parent)];
    for (let i = 0; i < up.length && out.length < MAX_ANCESTORS; i++) out.push(up[i]!);
    x.lineage = Object.freeze(out);
    return x.lineage;
  }

  /** Parent's parent upwards, at most `max`, stopping at a cycle or an unknown parent. */
  ancestors(p: ProcessInfo, max = 32): ProcessInfo[] {
    const out: ProcessInfo[] = [];
    const seen = new Set([p.key]);
    let cur = this.parentOf(p);
    if (cur) seen.add(cur.key);
    cur = cur ? this.parentOf(cur) : undefined;
    while (cur && out.length < max && !seen.has(cur.key)) {
      out.push(cur);
      seen.add(cur.key);
      cur = this.parentOf(cur);
    }
    return out;
  }

  /** The process ended (exit) or its image was replaced (exec). */
  die(p: ProcessInfo, now = Date.now()): void {
    if (!p.alive) return;
    p.alive = false;
    p.diedAt = now;
    if (this.byPid.get(p.pid) === p) this.byPid.delete(p.pid);
    this.release(p);
  }

  private retain(p: ProcessInfo): void {
    p.refs++;
    this.releasable.delete(p.key);
  }

  private release(p: ProcessInfo): void {
    p.refs--;
    if (p.refs <= 0) this.releasable.set(p.key, p);
  }

  private remove(p: ProcessInfo): void {
    this.byKey.delete(p.key);
    this.releasable.delete(p.key);
    if (this.byPid.get(p.pid) === p) this.byPid.delete(p.pid);
    const parent = this.parentOf(p);
    if (parent) this.release(parent);
  }

  /** Forgets dead entries whose grace period is over (released oldest first, so it stops at the first young one). */
  sweep(now = Date.now()): void {
    for (const p of this.releasable.values()) {
      if ((p.diedAt ?? now) + this.graceMs > now) break;
      this.remove(p);
      this.forgotten++;
    }
  }

  private enforceBound(): void {
    if (this.byKey.size <= this.maxEntries) return;
    for (const p of this.releasable.values()) {
      if (this.byKey.size <= this.maxEntries) return;
      this.remove(p);
      this.evicted++;
    }
    // Still over: dead entries that descendants keep, oldest first.
    for (const p of this.byKey.values()) {
      if (this.byKey.size <= this.maxEntries) return;
      if (p.alive) continue;
      this.remove(p);
      this.evicted++;
    }
  }

  stats(): ProcessCacheStats {
    let alive = 0;
    for (const p of this.byKey.values()) if (p.alive) alive++;
    return { size: this.byKey.size, alive, forgotten: this.forgotten, evicted: this.evicted, misses: this.misses };
  }

  /** Every live image (for tests and the UI). */
  *live(): IterableIterator<ProcessInfo> {
    for (const p of this.byPid.values()) if (p.alive) yield p;
  }

  /** The image as events show it; without a distinct tid, one frozen object shared by all its events. */
  view(p: ProcessInfo, tid?: number): ProcessView {
    if (tid !== undefined && tid !== p.pid) return this.makeView(p, tid);
    return (p.shown ??= Object.freeze(this.makeView(p)));
  }

  private makeView(p: ProcessInfo, tid?: number): ProcessView {
    const parent = this.parentOf(p);
    const v: ProcessView = {
      pid: p.pid,
      exec_id: p.execId,
      binary: p.binary,
      arguments: p.arguments,
      cwd: p.cwd,
      uid: p.uid,
      gid: p.gid,
      start_time: p.startTime,
      in_container: p.inContainer,
      flags: p.flags,
    };
    if (tid !== undefined) v.tid = tid;
    if (parent) v.parent_exec_id = parent.execId;
    if (p.containerId) v.container_id = p.containerId;
    return v;
  }
}
