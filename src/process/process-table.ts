// The agent's one process table: what /proc says about each process (pid,
// parent, start time, executable, argv, ids, cgroup, container, the OTEL_*
// inputs of its service identity) and, on demand, its executable mappings.
// Discovery, security, capture and profiling read processes through it instead
// of each reading /proc its own way.
//
// It is fed by ONE stream of kernel fork/exec/exit events: whoever owns the
// kernel hooks hands each batch to publish() (today discovery's object, see
// src/discovery/kernel-events.ts), and consumers subscribe() to it. An exec or
// an exit makes the table read the process again when next asked; a fork of a
// pid it holds means the pid was reused. Without a stream (the hooks could not
// load) facts are still right: every info() checks the start time first.
//
// Bounded: facts of at most maxProcesses processes and mappings of at most
// maxMappings, the oldest read going first, every eviction counted.
import { PROC, listPids } from './proc-fs.js';
import { type Mapping, readExecutableMappings } from './proc-maps.js';
import { type ProcStat, readProcStat } from './proc-stat.js';
import { type ProcessInfo, readExePath, readProcessInfo } from './process-info.js';

/** An executable file as the kernel names it: device (the kernel's dev_t encoding) and inode. */
export interface ExeKey {
  dev: number;
  ino: number;
}

/**
 * A kernel life-cycle event. startTicks: as /proc/PID/stat's starttime;
 * filename: the path it was executed as; exe: the file /proc/PID/exe points to.
 */
export type ProcessEvent =
  | { kind: 'exec'; pid: number; ppid: number; startTicks: number; filename: string; args: string[]; exe?: ExeKey }
  | { kind: 'fork'; pid: number; ppid: number; startTicks: number }
  | { kind: 'exit'; pid: number };

export type ProcessEventListener = (events: readonly ProcessEvent[]) => void;

/** Whoever publishes the kernel stream: flush() delivers what its ring buffer holds now. */
export interface ProcessEventSource {
  name: string;
  flush(): void;
}

export interface ProcessTableOptions {
  /** Root of the proc filesystem (default /proc). */
  proc?: string;
  /** Processes whose facts are kept (default 16384). */
  maxProcesses?: number;
  /** Processes whose executable mappings are kept (default 4096). */
  maxMappings?: number;
}

export interface ProcessTableStats {
  processes: number;
  mappings: number;
  /** Facts read from /proc (a miss, a new start time, or after an exec). */
  reads: number;
  /** Executable mappings read from /proc/PID/maps. */
  mapsReads: number;
  evicted: number;
  mapsEvicted: number;
  /** Kernel events published, and subscribers that threw on them (the others still got them). */
  events: number;
  listenerErrors: number;
  /** Name of the kernel stream's publisher, when one feeds the table. */
  source?: string;
}

interface CachedMaps {
  mappings: readonly Mapping[];
  readAt: number;
}

const EMPTY: readonly Mapping[] = Object.freeze([]);

export class ProcessTable {
  readonly proc: string;
  private readonly maxProcesses: number;
  private readonly maxMappings: number;
  /** Insertion order is read order: the first entry is the oldest read. */
  private readonly facts = new Map<number, ProcessInfo>();
  private readonly maps = new Map<number, CachedMaps>();
  private readonly listeners = new Set<ProcessEventListener>();
  private source: ProcessEventSource | undefined;
  private readonly counters = { reads: 0, mapsReads: 0, evicted: 0, mapsEvicted: 0, events: 0, listenerErrors: 0 };

  constructor(options: ProcessTableOptions = {}) {
    this.proc = options.proc ?? PROC;
    this.maxProcesses = options.maxProcesses ?? 16_384;
    this.maxMappings = options.maxMappings ?? 4096;
  }

  /**
   * Makes `source` the publisher of the kernel stream (one at a time: a second
   * is refused, so the stream stays one). Returns the function that detaches it.
   */
  attachSource(source: ProcessEventSource): () => void {
    if (this.source) throw new Error(`process table: ${this.source.name} already feeds it; ${source.name} cannot`);
    this.source = source;
    return () => {
      if (this.source === source) this.source = undefined;
    };
  }

  /** Whether a kernel stream feeds the table (without one, consumers rescan /proc). */
  get fed(): boolean {
    return this.source !== undefined;
  }

  /** Delivers the events the source's ring buffer holds now, synchronously. */
  flush(): void {
    this.source?.flush();
  }

  /** Called for every batch of kernel events, in kernel order. Returns the unsubscribe function. */
  subscribe(listener: ProcessEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The stream's entry: updates the table, then tells every subscriber (one failing does not stop the others). */
  publish(events: readonly ProcessEvent[]): void {
    this.counters.events += events.length;
    for (const e of events) {
      if (e.kind === 'exec') {
        this.facts.delete(e.pid); // a new image: exe, argv, environment changed
        this.maps.delete(e.pid);
      } else if (e.kind === 'fork') {
        this.facts.delete(e.pid); // the pid was reused
        this.maps.delete(e.pid);
      } else {
        // Facts of an exited process are not /proc's any more; its mappings are
        // kept (bounded) because its last samples are symbolized after the exit.
        this.facts.delete(e.pid);
      }
    }
    for (const l of this.listeners) {
      try {
        l(events);
      } catch (err) {
        this.counters.listenerErrors++;
        process.emitWarning(`process table subscriber failed: ${(err as Error).message}`);
      }
    }
  }

  /** /proc/PID/stat now (parent, state, start time), uncached. */
  stat(pid: number): ProcStat | undefined {
    return readProcStat(pid, this.proc);
  }

  /** The executable's path now (" (deleted)" stripped), uncached. */
  exePath(pid: number): string | undefined {
    return readExePath(pid, this.proc);
  }

  /** Pids now in /proc, unordered. */
  pids(): number[] {
    return listPids(this.proc);
  }

  /**
   * The process's facts: cached while the same process (pid and start time)
   * lives, read from /proc otherwise. Undefined for a kernel thread, a zombie
   * or a process that is gone. An exec keeps the start time: the stream's exec
   * event drops the cached facts; without a stream, refresh() after an exec.
   */
  info(pid: number): ProcessInfo | undefined {
    const stat = readProcStat(pid, this.proc);
    if (!stat) {
      this.facts.delete(pid);
      return undefined;
    }
    const cached = this.facts.get(pid);
    if (cached && cached.startTicks === stat.startTicks) return cached;
    return this.read(pid);
  }

  /** The cached facts, without touching /proc (undefined when not cached). */
  cached(pid: number): ProcessInfo | undefined {
    return this.facts.get(pid);
  }

  /** Reads the process again now, whatever is cached (its exe or argv may have changed without an event). */
  refresh(pid: number): ProcessInfo | undefined {
    return this.read(pid);
  }

  /** Every user process now running, parents before children (by start time, then pid). */
  scan(): ProcessInfo[] {
    const out: ProcessInfo[] = [];
    for (const pid of this.pids()) {
      const p = this.info(pid);
      if (p) out.push(p);
    }
    return out.sort((a, b) => a.startTicks - b.startTicks || a.pid - b.pid);
  }

  /** Parent, grandparent… (at most `max`), stopping at pid 1's parent, a cycle or a process gone. */
  ancestors(pid: number, max = 64): ProcessInfo[] {
    const out: ProcessInfo[] = [];
    const seen = new Set([pid]);
    let ppid = this.info(pid)?.ppid ?? 0;
    while (ppid > 0 && out.length < max && !seen.has(ppid)) {
      seen.add(ppid);
      const p = this.info(ppid);
      if (!p) break;
      out.push(p);
      ppid = p.ppid;
    }
    return out;
  }

  /**
   * Executable mappings, sorted by address. A cached read younger than
   * `maxAgeMs` is returned as is (so a profiler's per-frame lookups stay a map
   * read); an exec or a reused pid drops it; a process that has exited keeps
   * what was last read.
   */
  mappings(pid: number, maxAgeMs = Infinity): readonly Mapping[] {
    const c = this.maps.get(pid);
    const now = Date.now();
    // Strictly younger: maxAgeMs 0 always reads again, even within the same millisecond.
    if (c && now - c.readAt < maxAgeMs) return c.mappings;
    const read = readExecutableMappings(pid, this.proc);
    this.counters.mapsReads++;
    const mappings = read.length > 0 ? Object.freeze(read) : (c?.mappings ?? EMPTY);
    this.maps.delete(pid);
    this.maps.set(pid, { mappings, readAt: now });
    while (this.maps.size > this.maxMappings) {
      this.maps.delete(this.maps.keys().next().value!);
      this.counters.mapsEvicted++;
    }
    return mappings;
  }

  /** Drops what the table holds of `pid` (a consumer knows it is gone). */
  forget(pid: number): void {
    this.facts.delete(pid);
    this.maps.delete(pid);
  }

  stats(): ProcessTableStats {
    const s: ProcessTableStats = { processes: this.facts.size, mappings: this.maps.size, ...this.counters };
    if (this.source) s.source = this.source.name;
    return s;
  }

  private read(pid: number): ProcessInfo | undefined {
    this.counters.reads++;
    this.facts.delete(pid);
    const info = readProcessInfo(pid, this.proc);
    if (!info) return undefined;
    this.facts.set(pid, info);
    while (this.facts.size > this.maxProcesses) {
      this.facts.delete(this.facts.keys().next().value!);
      this.counters.evicted++;
    }
    return info;
  }
}
