// Discovery: which processes on this host to watch, and who they are.
//
//   const d = new Discovery({ selectors: [{ openPorts: '8000-8999' }, { exePath: '*/nginx' }] });
//   d.on('added', (proc, identity, reason) => capture.watch(proc.pid));
//   d.on('removed', (pid) => capture.unwatch(pid));
//   await d.start();          // resolves once the initial scan is done (readiness)
//   …
//   d.close();
//
// With no selector every process is selected (watch-everything mode); the agent
// itself is never selected, nor (by default) anything it spawns. Selected
// processes' children are selected too. New processes are seen through a small
// BPF program on scheduler and socket-state tracepoints (kernel-events.ts) the
// moment they exec, fork from a selected process, exit or listen, and through a
// periodic /proc rescan as the safety net (and the only source when BPF is
// unavailable). Processes are read through the shared process table
// (src/process): discovery's object publishes its exec/fork/exit events into
// it and discovery hears them back as one of its subscribers. Work is
// bounded: a queue with a cap, a budget of fd reads per rescan, a cap on
// selected processes; everything dropped is counted.
import { EventEmitter } from 'node:events';
import type { ServiceIdentity } from '../telemetry/span.js';
import { DepartedNames } from './departed-names.js';
import { ExecSelection } from './exec-selection.js';
import { type KernelEvent, KernelProcessEvents, type SharedPidMaps } from './kernel-events.js';
import { ListeningPorts } from './listening-ports.js';
import { type ProcessEvent, type ProcessInfo, PROC, ProcessTable } from '../process/index.js';
import { Selector, type SelectorSpec } from './selector.js';
import { type NameHint, serviceIdentity } from './service-identity.js';

export interface DiscoveryOptions {
  /** ORed; none means every process (except the agent). */
  selectors?: readonly SelectorSpec[];
  /** A process matching any of these is never selected (names are ignored). */
  exclude?: readonly SelectorSpec[];
  /** The agent's pid (default: this process); never selected. */
  agentPid?: number;
  /** Also exclude everything the agent spawns (default true). */
  excludeAgentChildren?: boolean;
  /** Select the descendants of selected processes (default true). */
  followChildren?: boolean;
  /** Rescan period (default 2 s with kernel events, 250 ms without). */
  rescanIntervalMs?: number;
  /** 'auto' (default) uses the BPF program when it loads; 'on' requires it; 'off' polls /proc only. */
  kernelEvents?: 'auto' | 'on' | 'off';
  /** Cap on selected processes (default 8192); past it, processes are not selected and counted. */
  maxProcesses?: number;
  /** readlink calls per rescan to find who holds a new listening socket (default 20000). */
  fdBudget?: number;
  /** Queue of processes waiting to be examined (default 16384); overflow is counted and left to the next rescan. */
  maxQueue?: number;
  /** Service name/namespace for selected processes that do not name themselves (ignored with no selectors). */
  defaultService?: NameHint;
  /** Root of the proc filesystem (default /proc; ignored when `processes` is given). */
  proc?: string;
  /** The agent's shared process table (default: one of discovery's own). */
  processes?: ProcessTable;
}

export type SelectionReason = { kind: 'selector'; index: number } | { kind: 'child'; parent: number } | { kind: 'all' };

export interface WatchedProcess {
  info: ProcessInfo;
  identity: ServiceIdentity;
  reason: SelectionReason;
}

export interface DiscoveryStats {
  mode: 'all' | 'selected';
  kernelEvents: boolean;
  /** Why kernel events are off, when they are. */
  kernelEventsReason?: string;
  /** The kernel object keeps pid maps it was given (shareKernelMaps) instead of its own. */
  kernelMapsShared: boolean;
  /** Why the offered maps could not be used (the object then loaded with its own). */
  kernelMapsReason?: string;
  selected: number;
  known: number;
  excluded: number;
  rescans: number;
  lastRescanMs: number;
  /** Processes examined (read from /proc). */
  examined: number;
  kernelEventsReceived: number;
  kernelDrops: number;
  trackedMapFull: number;
  /** Selected processes the kernel's tracked map had no room for. */
  trackFailures: number;
  /** Unexpected errors (reported through 'error' listeners or as warnings). */
  errors: number;
  queueOverflow: number;
  /** Processes that matched but were not selected because maxProcesses was reached. */
  selectionOverflow: number;
  listeningSockets: number;
  fdReads: number;
  /** Reads of the kernel's socket tables (/proc/PID/net/tcp). */
  tableRefreshes: number;
  /** Identities named from the exec event alone: the process was gone before /proc was read. */
  identitiesFromExecEvents: number;
  /** Identities of forked children that never exec'd, named from their parent: gone before /proc was read. */
  identitiesFromForkEvents: number;
  /** Processes the kernel tracked at exec from their executable alone (exec-selection.ts), the executables it knows, and those it could not take (map full). */
  execTracked: number;
  execSelectedExecutables: number;
  execSelectedFull: number;
  /** Processes tracked at exec that user space then rejected (an exclusion matched): untracked. */
  execSelectionUndone: number;
}

type Status = 'selected' | 'unselected' | 'excluded';

interface Known {
  startTicks: number;
  ppid: number;
  exePath: string;
  status: Status;
  watched?: WatchedProcess;
}

type Work = 'new' | 'exec' | 'ports';

export interface DiscoveryEvents {
  added: [proc: ProcessInfo, identity: ServiceIdentity, reason: SelectionReason];
  removed: [pid: number, identity: ServiceIdentity];
  error: [error: Error];
}

const MAX_ANCESTRY = 64;
/** How long, and how many, identities of exited selected processes are remembered. */
const DEPARTED_TTL_MS = 30_000;
const MAX_DEPARTED = 4096;
/**
 * With kernel events, /proc is rescanned this often as a safety net (events
 * lost without a drop being counted; sockets passed to another process). Each
 * rescan woke the idle agent for ~1.5 ms of CPU: at 500 ms they were 3 of its
 * ~7 ms per second with no traffic.
 */
const KERNEL_EVENTS_RESCAN_MS = 2_000;
/** With kernel events, socket tables are re-read this often as a safety net. */
const TABLE_SAFETY_MS = 10_000;
const BATCH = 128;

export class Discovery extends EventEmitter<DiscoveryEvents> {
  private readonly selectors: Selector[];
  private readonly excludes: Selector[];
  private readonly agentPid: number;
  private readonly opts: Required<Omit<DiscoveryOptions, 'selectors' | 'exclude' | 'defaultService' | 'agentPid' | 'rescanIntervalMs' | 'processes'>> & {
    defaultService?: NameHint;
  };
  private readonly known = new Map<number, Known>();
  /**
   * Processes that cannot be services (kernel threads) or cannot be read
   * (zombies, an unreadable /proc/PID/exe), so that rescans skip them.
   */
  private readonly ignored = new Map<number, { startTicks: number; kernelThread: boolean }>();
  private readonly queue = new Map<number, Work>();
  private readonly ports?: ListeningPorts;
  private kernel?: KernelProcessEvents;
  private kernelReason?: string;
  private sharedMaps?: SharedPidMaps;
  private sharedMapsInUse = false;
  private sharedMapsReason?: string;
  readonly processes: ProcessTable;
  private readonly detach: (() => void)[] = [];
  private timer?: NodeJS.Timeout;
  private draining = false;
  private rescanning?: Promise<void>;
  private started = false;
  private closed = false;
  private readonly listenHints = new Set<number>();
  private lastTableRefresh = 0;
  private lastKernelDrops = 0;
  private readonly counters = { rescans: 0, lastRescanMs: 0, examined: 0, kernelEventsReceived: 0, queueOverflow: 0, selectionOverflow: 0, selected: 0, trackFailures: 0, errors: 0, tableRefreshes: 0 };
  /** Identities of unselected processes, per the table's facts (a new image is a new object). */
  private readonly identityCache = new WeakMap<ProcessInfo, ServiceIdentity>();
  /**
   * Identities of selected processes that exited, kept briefly: their last
   * exchanges can arrive after the exit event (two ring buffers, no common order),
   * and a short-lived client (curl) is often gone before its exchange is decoded.
   */
  private readonly departed = new Map<number, { at: number; identity: ServiceIdentity }>();
  /** Names from exec and fork events, for processes gone before /proc was read. */
  private readonly departedNames = new DepartedNames();
  /** Selection at exec in the kernel (selected mode with kernel events). */
  private execSelection?: ExecSelection;
  private rescanIntervalMs: number;

  constructor(options: DiscoveryOptions = {}) {
    super();
    this.selectors = (options.selectors ?? []).map((s) => new Selector(s));
    this.excludes = (options.exclude ?? []).map((s) => new Selector(s));
    this.agentPid = options.agentPid ?? process.pid;
    this.opts = {
      excludeAgentChildren: options.excludeAgentChildren ?? true,
      followChildren: options.followChildren ?? true,
      kernelEvents: options.kernelEvents ?? 'auto',
      maxProcesses: options.maxProcesses ?? 8192,
      fdBudget: options.fdBudget ?? 20_000,
      maxQueue: options.maxQueue ?? 16_384,
      proc: options.processes?.proc ?? options.proc ?? PROC,
      ...(options.defaultService && this.selectors.length > 0 ? { defaultService: options.defaultService } : {}),
    };
    this.rescanIntervalMs = options.rescanIntervalMs ?? 0;
    this.processes = options.processes ?? new ProcessTable({ proc: this.opts.proc });
    const portSets = [...this.selectors, ...this.excludes].flatMap((s) => (s.openPorts ? [s.openPorts] : []));
    if (portSets.length > 0) {
      this.ports = new ListeningPorts({ wanted: (p) => portSets.some((s) => s.has(p)), fdBudget: this.opts.fdBudget, proc: this.opts.proc });
    }
  }

  /** 'all' when no selector was given: every process but the agent's own. */
  get mode(): 'all' | 'selected' {
    return this.selectors.length === 0 ? 'all' : 'selected';
  }

  /**
   * Before start(): the kernel object keeps these existing maps (another
   * object's pid sets) instead of its own `tracked`/`excluded`, so that object
   * needs no fork/exit programs. If the object cannot load with them, it loads
   * with its own (stats().kernelMapsReason says why).
   */
  shareKernelMaps(maps: SharedPidMaps): void {
    if (this.started) throw new Error('Discovery.shareKernelMaps() must come before start()');
    this.sharedMaps = maps;
  }

  /**
   * Starts kernel events (when possible), scans /proc once and resolves when
   * every process already running has been examined.
   */
  async start(): Promise<void> {
    if (this.started) throw new Error('Discovery.start() was already called');
    this.started = true;
    this.detach.push(this.processes.subscribe((e) => this.onProcessEvents(e)));
    if (this.opts.kernelEvents !== 'off') {
      try {
        const kernel = this.startKernel();
        this.kernel = kernel;
        this.detach.push(this.processes.attachSource({ name: 'discovery', flush: () => kernel.flush() }));
        // In the kernel, exclusion is inherited by forks: only when the agent's children are excluded too.
        if (this.opts.excludeAgentChildren) this.kernel.exclude(this.agentPid);
        if (this.mode === 'selected') {
          this.execSelection = new ExecSelection(this.selectors, { selectExecutable: (exe, i) => kernel.selectExecutable(exe, i), untrack: (pid) => kernel.untrack(pid) }, this.processes.proc);
          this.execSelection.installLiteralPaths();
        }
      } catch (e) {
        this.kernel?.close();
        this.kernel = undefined;
        if (this.opts.kernelEvents === 'on') throw e;
        this.kernelReason = (e as Error).message;
      }
    } else this.kernelReason = 'disabled by configuration';
    if (this.rescanIntervalMs <= 0) this.rescanIntervalMs = this.kernel ? KERNEL_EVENTS_RESCAN_MS : 250;
    // Readiness means every running process was examined, so the first search
    // for listening sockets' owners runs to the end, whatever the budget.
    await this.rescan(Infinity);
    if (this.closed) return;
    this.timer = setInterval(() => void this.rescan().catch((e: Error) => this.report(e)), this.rescanIntervalMs);
    this.timer.unref();
  }

  private startKernel(): KernelProcessEvents {
    const base = { trackAll: this.mode === 'all', onEvents: (e: KernelEvent[]) => this.onKernelEvents(e) };
    if (this.sharedMaps) {
      try {
        const k = KernelProcessEvents.start({ ...base, shared: this.sharedMaps });
        this.sharedMapsInUse = true;
        return k;
      } catch (e) {
        this.sharedMapsReason = (e as Error).message;
      }
    }
    return KernelProcessEvents.start(base);
  }

  /** An unexpected error must never stop discovery nor crash the agent: 'error' listeners, else a warning. */
  private report(e: Error): void {
    this.counters.errors++;
    if (this.listenerCount('error') > 0) this.emit('error', e);
    else process.emitWarning(`discovery: ${e.message}`);
  }

  /** Stops everything and unloads the BPF program. Emits nothing more. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const d of this.detach.splice(0)) d();
    this.kernel?.close();
    this.kernel = undefined;
    this.queue.clear();
  }

  /** Selected processes by pid. */
  watched(): ReadonlyMap<number, WatchedProcess> {
    const out = new Map<number, WatchedProcess>();
    for (const [pid, k] of this.known) if (k.watched) out.set(pid, k.watched);
    return out;
  }

  /** Whether `pid` is the agent or (by default) something it spawned. */
  isExcluded(pid: number): boolean {
    return pid === this.agentPid || this.known.get(pid)?.status === 'excluded';
  }

  /** The agent's pid and every running process excluded with it (for watch-all-except). */
  excludedPids(): number[] {
    const out = [this.agentPid];
    for (const [pid, k] of this.known) if (k.status === 'excluded' && pid !== this.agentPid) out.push(pid);
    return out;
  }

  /**
   * The identity of any process: selected ones from discovery's state, others
   * read from /proc on demand (cached while the same process lives).
   */
  identity(pid: number): ServiceIdentity | undefined {
    return this.identityAt(pid, 0);
  }

  private identityAt(pid: number, depth: number): ServiceIdentity | undefined {
    let w = this.known.get(pid)?.watched;
    if (w) return w.identity;
    // Tracked by the kernel at exec, its traffic can come before its exec event
    // was examined: examine it now, so that it gets its selector's name.
    if (this.execSelection?.kernelPick(pid) !== undefined && this.queue.has(pid)) {
      this.queue.delete(pid);
      this.examine(pid, 'exec');
      w = this.known.get(pid)?.watched;
      if (w) return w.identity;
    }
    // A short-lived process already found gone: no /proc read per exchange.
    const gone = this.departedNames.departed(pid);
    if (gone) return gone;
    const info = this.processes.info(pid);
    if (!info) return this.departedIdentity(pid, depth);
    let identity = this.identityCache.get(info);
    if (!identity) {
      identity = serviceIdentity(info);
      this.identityCache.set(info, identity);
    }
    return identity;
  }

  private departedIdentity(pid: number, depth: number): ServiceIdentity | undefined {
    const d = this.departed.get(pid);
    if (!d) {
      // Its exec or fork event may still wait in the ring buffer (capture's
      // records come through another ring and can be read first): read what is there.
      if (!this.departedNames.has(pid)) this.processes.flush();
      // A forked child is its parent; the depth bound stops a chain made circular by pid reuse.
      return this.departedNames.identity(pid, (ppid) => (depth < MAX_ANCESTRY ? this.identityAt(ppid, depth + 1) : undefined));
    }
    if (Date.now() - d.at > DEPARTED_TTL_MS) {
      this.departed.delete(pid);
      return undefined;
    }
    return d.identity;
  }

  stats(): DiscoveryStats {
    const k = this.kernel?.stats();
    const p = this.ports?.stats();
    let excluded = 0;
    for (const v of this.known.values()) if (v.status === 'excluded') excluded++;
    const s: DiscoveryStats = {
      mode: this.mode,
      kernelEvents: this.kernel !== undefined,
      kernelMapsShared: this.kernel !== undefined && this.sharedMapsInUse,
      selected: this.counters.selected,
      known: this.known.size,
      excluded,
      rescans: this.counters.rescans,
      lastRescanMs: this.counters.lastRescanMs,
      examined: this.counters.examined,
      kernelEventsReceived: this.counters.kernelEventsReceived,
      kernelDrops: k?.kernelDrops ?? 0,
      trackedMapFull: k?.trackedMapFull ?? 0,
      trackFailures: this.counters.trackFailures,
      errors: this.counters.errors,
      queueOverflow: this.counters.queueOverflow,
      selectionOverflow: this.counters.selectionOverflow,
      listeningSockets: p?.sockets ?? 0,
      fdReads: p?.fdReads ?? 0,
      tableRefreshes: this.counters.tableRefreshes,
      identitiesFromExecEvents: this.departedNames.fromExec,
      identitiesFromForkEvents: this.departedNames.fromFork,
      execTracked: k?.execTracked ?? 0,
      execSelectedExecutables: this.execSelection?.stats().executables ?? 0,
      execSelectedFull: this.execSelection?.stats().full ?? 0,
      execSelectionUndone: this.execSelection?.stats().undone ?? 0,
    };
    if (this.kernelReason) s.kernelEventsReason = this.kernelReason;
    if (this.sharedMapsReason) s.kernelMapsReason = this.sharedMapsReason;
    return s;
  }

  /** Per-program kernel run time of the discovery BPF programs (needs bpf_stats enabled to count). */
  kernelProgramStats(): { name: string; runTimeNs: number; runCount: number }[] {
    return this.kernel?.programStats() ?? [];
  }

  /** Rescans /proc now (also runs periodically); concurrent calls share one scan. */
  rescan(fdBudget?: number): Promise<void> {
    this.rescanning ??= this.doRescan(fdBudget).finally(() => (this.rescanning = undefined));
    return this.rescanning;
  }

  private async doRescan(fdBudget?: number): Promise<void> {
    if (this.closed) return;
    const t0 = performance.now();
    this.processes.flush();
    const pids = this.processes.pids();
    const live = new Set(pids);
    for (const pid of [...this.known.keys()]) if (!live.has(pid)) this.forget(pid);
    for (const [pid, ig] of this.ignored) {
      // A reused pid is a new process; kernel threads' pids are not reused while they run.
      if (!live.has(pid) || (!ig.kernelThread && this.processes.stat(pid)?.startTicks !== ig.startTicks)) this.ignored.delete(pid);
    }
    const fresh: number[] = [];
    for (const pid of pids) if (!this.known.has(pid) && !this.ignored.has(pid) && !this.queue.has(pid)) fresh.push(pid);
    // Socket tables first, so that examining new processes (inspect) finds
    // which of the new listening sockets they hold.
    const tables = this.ports !== undefined && this.tableRefreshDue();
    if (tables) {
      this.lastTableRefresh = performance.now();
      this.counters.tableRefreshes++;
      for (const pid of this.ports!.readTables(pids)) if (this.known.has(pid)) this.enqueue(pid, 'ports');
    }
    // Parents before children, so children can inherit their parent's selection.
    const order = fresh.map((pid) => ({ pid, stat: this.processes.stat(pid) })).filter((x) => x.stat !== undefined);
    order.sort((a, b) => a.stat!.startTicks - b.stat!.startTicks || a.pid - b.pid);
    for (const { pid } of order) this.enqueue(pid, 'new');
    if (!this.kernel) this.recheckExecs();
    await this.drain();
    if (this.ports && !this.closed) {
      // Processes that announced a listen() own its socket: no search needed for them.
      for (const pid of this.listenHints) this.ports.inspect(pid);
      this.listenHints.clear();
      for (const pid of this.ports.searchOwners(pids, fdBudget)) if (this.known.has(pid)) this.enqueue(pid, 'ports');
      await this.drain();
    }
    this.counters.rescans++;
    this.counters.lastRescanMs = performance.now() - t0;
  }

  /**
   * Socket tables are read at start, at every rescan without kernel events,
   * and otherwise only every TABLE_SAFETY_MS, or at once after the kernel lost
   * events: listen events and inspect() keep ports current in between.
   */
  private tableRefreshDue(): boolean {
    if (!this.kernel || this.lastTableRefresh === 0) return true;
    const drops = this.kernel.stats().kernelDrops;
    if (drops !== this.lastKernelDrops) {
      this.lastKernelDrops = drops;
      return true;
    }
    return performance.now() - this.lastTableRefresh >= TABLE_SAFETY_MS;
  }

  /**
   * Without kernel events, an exec in a process already known (a child forked
   * and examined before it exec'd) shows only as a new executable: one
   * readlink per selected process per rescan.
   */
  private recheckExecs(): void {
    for (const [pid, k] of this.known) {
      if (k.status !== 'selected') continue;
      const exe = this.processes.exePath(pid);
      if (exe !== undefined && exe !== k.exePath) this.enqueue(pid, 'exec');
    }
  }

  /** Discovery's object: life-cycle events go to the process table (every subscriber, discovery too), listens stay here. */
  private onKernelEvents(events: KernelEvent[]): void {
    if (this.closed) return;
    this.counters.kernelEventsReceived += events.length;
    const life: ProcessEvent[] = [];
    for (const e of events) {
      if (e.kind === 'exec-selected') this.execSelection?.onKernelPick(e.pid, e.selectorIndex);
      else if (e.kind !== 'listen') life.push(e);
      else if (this.ports?.addListenEvent(e.pid, e.port)) {
        this.listenHints.add(e.pid);
        this.enqueue(e.pid, 'ports');
      }
    }
    if (life.length > 0) this.processes.publish(life);
    else void this.drain();
  }

  private onProcessEvents(events: readonly ProcessEvent[]): void {
    if (this.closed) return;
    for (const e of events) {
      switch (e.kind) {
        case 'exit':
          this.queue.delete(e.pid);
          this.execSelection?.forget(e.pid);
          this.forget(e.pid);
          break;
        case 'exec': {
          // Tracked at exec for a selector: named by it even when gone before /proc was read.
          const pick = this.execSelection?.kernelPick(e.pid);
          const sel = pick === undefined ? undefined : this.selectors[pick];
          this.departedNames.rememberExec(e.pid, e.startTicks, e.filename, e.args, sel?.nameHint());
          this.execSelection?.onExec(e.pid, e.exe);
          this.enqueue(e.pid, 'exec');
          break;
        }
        case 'fork':
          this.departedNames.rememberFork(e.pid, e.ppid, e.startTicks);
          this.enqueue(e.pid, 'new');
          break;
      }
    }
    void this.drain();
  }

  private enqueue(pid: number, work: Work): void {
    const prev = this.queue.get(pid);
    if (prev === 'exec' || prev === 'new') return;
    if (!prev && this.queue.size >= this.opts.maxQueue) {
      this.counters.queueOverflow++;
      return;
    }
    this.queue.set(pid, work);
  }

  /** Examines queued processes, a batch per event-loop turn. */
  private async drain(): Promise<void> {
    if (this.draining) {
      while (this.draining) await new Promise((r) => setImmediate(r));
      if (this.queue.size === 0) return;
    }
    this.draining = true;
    try {
      while (this.queue.size > 0 && !this.closed) {
        let n = 0;
        for (const [pid, work] of this.queue) {
          this.queue.delete(pid);
          try {
            this.examine(pid, work);
          } catch (e) {
            this.report(e as Error);
          }
          if (++n >= BATCH) break;
        }
        if (this.queue.size > 0) await new Promise((r) => setImmediate(r));
      }
    } finally {
      this.draining = false;
    }
  }

  private examine(pid: number, work: Work): void {
    if (this.closed) return;
    this.counters.examined++;
    const stat = this.processes.stat(pid);
    const prev = this.known.get(pid);
    if (!stat || stat.kernelThread) {
      if (prev) this.forget(pid);
      if (stat) this.ignored.set(pid, { startTicks: stat.startTicks, kernelThread: true });
      return;
    }
    this.ignored.delete(pid);
    if (prev && prev.startTicks !== stat.startTicks) this.forget(pid); // pid reused
    const known = this.known.get(pid);
    if (known && work === 'new') return;
    let exePath = known?.exePath;
    if (!known || work === 'exec') {
      exePath = this.processes.exePath(pid);
      if (exePath === undefined) {
        if (known) this.forget(pid);
        this.ignored.set(pid, { startTicks: stat.startTicks, kernelThread: false });
        return;
      }
      this.ports?.inspect(pid);
    }
    if (exePath === undefined) return;
    const ports = this.ports?.portsOf(pid);
    const decision = this.decide(pid, stat.ppid, exePath, ports);
    this.apply(pid, { startTicks: stat.startTicks, ppid: stat.ppid, exePath }, decision, work === 'exec');
    this.execSelection?.decided(pid, this.known.get(pid)?.status === 'selected', decision.reason?.kind === 'selector' ? decision.reason.index : undefined);
  }

  private decide(pid: number, ppid: number, exePath: string, ports: ReadonlySet<number> | undefined): { status: Status; reason?: SelectionReason; hint?: NameHint } {
    if (pid === this.agentPid) return { status: 'excluded' };
    const facts = ports ? { pid, exePath, ports } : { pid, exePath };
    let selectedAncestor: number | undefined;
    let p = ppid;
    for (let depth = 0; p > 1 && depth < MAX_ANCESTRY; depth++) {
      if (p === this.agentPid) {
        // The agent is a boundary: what it spawns never inherits its ancestors' selection.
        if (this.opts.excludeAgentChildren) return { status: 'excluded' };
        break;
      }
      const k = this.known.get(p);
      if (k?.status === 'excluded' && this.opts.excludeAgentChildren && p !== this.agentPid) return { status: 'excluded' };
      if (selectedAncestor === undefined && k?.status === 'selected' && this.opts.followChildren) selectedAncestor = p;
      p = k ? k.ppid : (this.processes.stat(p)?.ppid ?? 0);
    }
    if (this.excludes.some((s) => s.matches(facts))) return { status: 'unselected' };
    if (selectedAncestor !== undefined) {
      const parent = this.known.get(selectedAncestor)!.watched!;
      const hint: NameHint =
        parent.reason.kind === 'selector' ? this.selectors[parent.reason.index]!.nameHint() : parent.reason.kind === 'child' ? this.inheritedHint(parent.reason.parent) : {};
      return { status: 'selected', reason: { kind: 'child', parent: selectedAncestor }, hint };
    }
    if (this.selectors.length === 0) return { status: 'selected', reason: { kind: 'all' } };
    const index = this.selectors.findIndex((s) => s.matches(facts));
    if (index < 0) return { status: 'unselected' };
    const sel = this.selectors[index]!;
    return { status: 'selected', reason: { kind: 'selector', index }, hint: sel.nameHint() };
  }

  /** The selector name a chain of children ultimately inherits. */
  private inheritedHint(pid: number): NameHint {
    for (let depth = 0; depth < MAX_ANCESTRY; depth++) {
      const w = this.known.get(pid)?.watched;
      if (!w) return {};
      if (w.reason.kind === 'selector') {
        return this.selectors[w.reason.index]!.nameHint();
      }
      if (w.reason.kind !== 'child') return {};
      pid = w.reason.parent;
    }
    return {};
  }

  private apply(pid: number, base: Omit<Known, 'status' | 'watched'>, d: { status: Status; reason?: SelectionReason; hint?: NameHint }, reexamine: boolean): void {
    const prev = this.known.get(pid);
    if (prev?.status === 'selected' && d.status === 'selected' && !reexamine) return;
    if (d.status !== 'selected') {
      if (prev?.watched) this.unselect(pid, prev);
      this.known.set(pid, { ...base, status: d.status });
      if (d.status === 'excluded' && this.opts.excludeAgentChildren) this.kernel?.exclude(pid);
      return;
    }
    if (!prev?.watched && this.counters.selected >= this.opts.maxProcesses) {
      this.counters.selectionOverflow++;
      this.known.set(pid, { ...base, status: 'unselected' });
      return;
    }
    // An exec found by a rescan (no stream) keeps the start time: read afresh.
    const info = reexamine ? this.processes.refresh(pid) : this.processes.info(pid);
    if (!info) {
      if (prev) this.forget(pid);
      return;
    }
    const parentWatched = d.reason?.kind === 'child' ? this.known.get(d.reason.parent)?.watched : undefined;
    const identity = serviceIdentity(info, {
      ...(d.hint && (d.hint.name || d.hint.namespace) ? { selector: d.hint } : {}),
      ...(parentWatched ? { parent: { identity: parentWatched.identity, exePath: parentWatched.info.exePath } } : {}),
      ...(this.opts.defaultService ? { agentDefault: this.opts.defaultService } : {}),
    });
    if (prev?.watched) {
      const same = JSON.stringify(prev.watched.identity) === JSON.stringify(identity);
      if (same) {
        prev.watched = { info, identity, reason: d.reason! };
        return;
      }
      this.unselect(pid, prev);
    }
    const watched: WatchedProcess = { info, identity, reason: d.reason! };
    this.known.set(pid, { ...base, exePath: info.exePath, status: 'selected', watched });
    this.counters.selected++;
    if (this.mode === 'selected' && this.kernel) {
      try {
        this.kernel.track(pid);
      } catch {
        // The kernel map is full: forks of this process are then seen by the rescan only.
        this.counters.trackFailures++;
      }
    }
    this.emit('added', info, identity, watched.reason);
    if (this.opts.followChildren) this.adoptChildren(pid);
  }

  /** Processes already running under a newly selected one join it. */
  private adoptChildren(parent: number): void {
    for (const [pid, k] of this.known) if (k.ppid === parent && k.status === 'unselected') this.enqueue(pid, 'exec');
    void this.drain();
  }

  private unselect(pid: number, k: Known): void {
    const identity = k.watched!.identity;
    this.departed.delete(pid);
    if (this.departed.size >= MAX_DEPARTED) this.departed.delete(this.departed.keys().next().value!);
    this.departed.set(pid, { at: Date.now(), identity });
    k.watched = undefined;
    k.status = 'unselected';
    this.counters.selected--;
    if (this.mode === 'selected') {
      try {
        this.kernel?.untrack(pid);
      } catch {
        // already gone from the map (the kernel removes exited processes itself)
      }
    }
    this.emit('removed', pid, identity);
  }

  private forget(pid: number): void {
    const k = this.known.get(pid);
    this.ports?.forget(pid);
    if (!k) return;
    if (k.watched) this.unselect(pid, k);
    this.known.delete(pid);
  }
}
