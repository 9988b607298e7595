// The security agent: loads policies, compiles them into the kernel, follows
// every process from exec to exit, and turns kernel records into events for
// its subscribers. `waggle run --policy` and `waggle events` start one.
//
//   const agent = await SecurityAgent.start({ policyPaths: ['policies/'], onEvent: (e) => … });
//   agent.stats(); agent.recent.subscribe(…); await agent.close();
import { hostname } from 'node:os';
import type { RecordBatch } from '../ebpf/index.js';
import { type CompiledPolicySet, compilePolicies, deniesAnything } from './compile/compiler.js';
import { emptyPair, pairValue } from './compile/mask.js';
import { binaryPairs } from './compile/reference.js';
import { type BuilderStats, EventBuilder } from './events/build.js';
import { RecentEvents } from './events/recent.js';
import { type SecurityEvent, isPolicyEvent } from './events/types.js';
import type { ProcEntry } from './kernel/layout.js';
import { type HookCounters, type KernelOptions, type LifeCounters, SecurityKernel } from './kernel/loader.js';
import { bpfLsmSupport } from './kernel/lsm-support.js';
import { resolveDeny } from './policy/deny.js';
import { binaryAliasWarnings } from './policy/host-check.js';
import { type LoadedPolicy, checkPolicySet, loadPolicies } from './policy/load.js';
import type { Hook } from './policy/schema.js';
import { type ProcessCacheStats, ProcessCache, execIdOf, processKey } from './process/cache.js';
import { KtimeClock } from './process/clock.js';
import { CLOCK_TICKS_PER_SECOND, ProcessTable } from '../process/index.js';

export interface SecurityAgentOptions extends KernelOptions {
  /** Policy files or directories (every *.yaml inside). */
  policyPaths?: string[];
  /** Policies already loaded (tests, embedding); added after policyPaths. */
  policies?: LoadedPolicy[];
  /** Report sigkill actions without sending the signal. */
  dryRun?: boolean;
  /** Called for every event, in kernel order. */
  onEvent?: (event: SecurityEvent) => void;
  /** Called for conditions worth a person's attention (inactive hooks…). */
  onWarning?: (message: string) => void;
  /** Events kept for late readers (default 1000). */
  recentEvents?: number;
  /** Process cache bound (default 65536 images). */
  processCacheSize?: number;
  /** How long an exited process stays in the cache once nothing refers to it (default 2000 ms). */
  processCacheGraceMs?: number;
  /** Name in exec_id and events (default: the host name). */
  nodeName?: string;
  /** Records below the wake-up threshold are read at this period (default 100 ms). */
  drainIntervalMs?: number;
  /** The agent's shared process table, which processes older than the agent are read from (default: one of its own). */
  processes?: ProcessTable;
}

export interface PolicyStats {
  name: string;
  source: string;
  hook: Hook;
  mode: 'enforce' | 'monitor';
  active: boolean;
  /** Why the policy cannot run here (hook unavailable). */
  inactiveReason?: string;
  /** Evaluated by a BPF LSM program, before the operation (the policy denies). */
  lsm: boolean;
  /** Events delivered, by action (post / sigkill / deny). */
  events: Record<string, number>;
  /** From the kernel: matches, posts, rate-limited posts, SIGKILLs sent, operations denied. */
  kernel: { matched: number; posted: number; rateLimited: number; killed: number; denied: number };
}

export interface SecurityStats {
  policies: PolicyStats[];
  hooks: Record<Hook, HookCounters & { attached: boolean }>;
  lifecycle: LifeCounters;
  ringBuffer: { records: number; batches: number; kernelDrops: number; lostNoMemory: number; callbackErrors: number };
  processCache: ProcessCacheStats;
  builder: BuilderStats;
  /** Events delivered, by type. */
  events: Record<string, number>;
  /** Processes found in /proc at start, and those that could not be added (gone meanwhile, or kernel table full). */
  seeded: number;
  seedSkipped: number;
}

export class SecurityAgent {
  readonly recent: RecentEvents;
  readonly cache: ProcessCache;
  readonly node: string;
  private readonly eventCounts = new Map<string, number>();
  private readonly policyEventCounts = new Map<string, Map<string, number>>();
  private readonly inactive = new Map<Hook, string>();
  private attachedHooks = new Set<Hook>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private drainTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private seeded = 0;
  private seedSkipped = 0;

  private constructor(
    readonly compiled: CompiledPolicySet,
    private readonly kernel: SecurityKernel,
    private readonly builder: EventBuilder,
    private readonly opts: SecurityAgentOptions,
    cache: ProcessCache,
    recent: RecentEvents,
    node: string,
  ) {
    this.cache = cache;
    this.recent = recent;
    this.node = node;
  }

  get policies(): readonly LoadedPolicy[] {
    return this.compiled.policies;
  }

  /** Loads and validates policies (PolicyError on any problem), loads the kernel side, starts following processes. */
  static async start(opts: SecurityAgentOptions = {}): Promise<SecurityAgent> {
    const loaded = [...(opts.policyPaths?.length ? loadPolicies(opts.policyPaths) : []), ...(opts.policies ?? [])];
    checkPolicySet(loaded);
    // Only a policy that denies makes the agent probe for BPF LSM (a program load).
    const { policies, fallbacks } = loaded.some((p) => deniesAnything(p.policy)) ? resolveDeny(loaded, await bpfLsmSupport()) : { policies: loaded, fallbacks: [] };
    for (const f of fallbacks) opts.onWarning?.(f);
    const compiled = compilePolicies(policies, { dryRun: opts.dryRun ?? false });
    for (const w of binaryAliasWarnings(policies)) opts.onWarning?.(w);
    const kernel = SecurityKernel.open(compiled, opts);
    const node = opts.nodeName ?? hostname();
    const cache = new ProcessCache({ maxEntries: opts.processCacheSize ?? 65536, graceMs: opts.processCacheGraceMs ?? 2000 });
    const clock = new KtimeClock();
    const builder = new EventBuilder(kernel.layout, cache, clock, compiled, node, opts.forkRecords === 'needed');
    const agent = new SecurityAgent(compiled, kernel, builder, opts, cache, new RecentEvents(opts.recentEvents ?? 1000), node);
    try {
      agent.begin(clock);
    } catch (e) {
      kernel.close();
      throw e;
    }
    return agent;
  }

  private begin(clock: KtimeClock): void {
    // Order matters: the kernel follows forks and execs before /proc is read, so
    // no process falls between the two; policy hooks come last, once every
    // running process has its binary in the kernel table.
    this.kernel.attachLifecycle();
    this.kernel.startReader(
      (batch) => this.onBatch(batch),
      (e) => this.opts.onWarning?.(`security event handling failed: ${String(e)}`),
    );
    this.seedFromProcfs(clock);
    const result = this.kernel.attachHooks();
    this.attachedHooks = new Set(result.attached);
    for (const u of result.unavailable) {
      this.inactive.set(u.hook, u.reason);
      const names = this.compiled.policies.filter((p) => p.policy.spec.hook === u.hook).map((p) => p.policy.metadata.name);
      this.opts.onWarning?.(`hook ${u.hook} is not available on this kernel, so ${names.length === 1 ? 'policy' : 'policies'} ${names.join(', ')} will not run: ${u.reason}`);
    }
    this.sweepTimer = setInterval(() => this.cache.sweep(), Math.min(1000, Math.max(50, this.opts.processCacheGraceMs ?? 1000)));
    this.sweepTimer.unref();
    this.drainTimer = setInterval(() => this.flush(), this.opts.drainIntervalMs ?? 100);
    this.drainTimer.unref();
  }

  /** Processes older than the agent, from the process table, parents before children. */
  private seedFromProcfs(clock: KtimeClock): void {
    const procs = (this.opts.processes ?? new ProcessTable()).scan();
    const byPid = new Map(procs.map((p) => [p.pid, p]));
    const startNs = (ticks: number): bigint => (BigInt(ticks) * 1_000_000_000n) / BigInt(CLOCK_TICKS_PER_SECOND);
    for (const p of procs) {
      const own = binaryPairs(this.compiled, p.exePath);
      const parentInfo = byPid.get(p.ppid);
      const parent = binaryPairs(this.compiled, parentInfo?.exePath);
      const parentStart = this.kernel.process(p.ppid)?.start_ktime ?? (parentInfo ? startNs(parentInfo.startTicks) : 0n);
      const entry: ProcEntry = {
        start_ktime: startNs(p.startTicks),
        parent_start_ktime: parentStart,
        ppid: p.ppid,
        flags: this.kernel.layout.procFlags.get('PROC_FROM_PROCFS')!,
        bin: pairValue(own.bin ?? emptyPair()),
        as_parent: pairValue(own.asParent ?? emptyPair()),
        parent: pairValue(parent.asParent ?? emptyPair()),
      };
      const inForce = this.kernel.seedProcess(p.pid, entry);
      if (!inForce) {
        this.seedSkipped++; // exited meanwhile, or the kernel table is full
        continue;
      }
      const parentEntry = this.cache.current(p.ppid);
      const containerId = p.containerId;
      const cgroup = p.cgroupPath === undefined || p.cgroupPath === '/' ? '' : p.cgroupPath.slice(p.cgroupPath.lastIndexOf('/') + 1);
      this.cache.add({
        pid: p.pid,
        ppid: p.ppid,
        startKtime: inForce.start_ktime,
        execId: execIdOf(this.node, inForce.start_ktime, p.pid),
        binary: p.exePath,
        arguments: p.cmdline.slice(1),
        cwd: p.cwd ?? '',
        uid: p.uid,
        gid: p.gid,
        startTime: clock.iso(inForce.start_ktime),
        ...(containerId ? { containerId } : {}),
        inContainer: p.pidnsLevel > 0,
        cgroup,
        flags: ['procFS'],
        ...(parentEntry ? { parentKey: parentEntry.key } : p.ppid > 0 ? { parentKey: processKey(p.ppid, inForce.parent_start_ktime) } : {}),
      });
      this.seeded++;
    }
  }

  private onBatch(batch: RecordBatch): void {
    batch.forEach((buf, off, len) => {
      for (const event of this.builder.handle(buf, off, len)) this.deliver(event);
    });
  }

  private deliver(event: SecurityEvent): void {
    this.eventCounts.set(event.type, (this.eventCounts.get(event.type) ?? 0) + 1);
    if (isPolicyEvent(event)) {
      let m = this.policyEventCounts.get(event.policy);
      if (!m) this.policyEventCounts.set(event.policy, (m = new Map()));
      m.set(event.action, (m.get(event.action) ?? 0) + 1);
    }
    this.recent.push(event);
    this.opts.onEvent?.(event);
  }

  /** Reads every record the kernel has written so far, synchronously. */
  flush(): number {
    return this.closed ? 0 : this.kernel.consume();
  }

  stats(): SecurityStats {
    const hookCounters = this.kernel.hookCounters();
    const selectors = this.kernel.selectorCounters(this.compiled.selectors.length);
    const hooks = Object.fromEntries(
      Object.entries(hookCounters).map(([h, c]) => [h, { ...c, attached: this.attachedHooks.has(h as Hook) }]),
    ) as SecurityStats['hooks'];
    const policies = this.compiled.policies.map(({ policy, source }): PolicyStats => {
      const name = policy.metadata.name;
      const kernel = { matched: 0, posted: 0, rateLimited: 0, killed: 0, denied: 0 };
      for (const s of this.compiled.selectors) {
        if (s.policyName !== name) continue;
        const c = selectors[s.bit]!;
        kernel.matched += c.matched;
        kernel.posted += c.posted;
        kernel.rateLimited += c.rateLimited;
        kernel.killed += c.killed;
        kernel.denied += c.denied;
      }
      const reason = this.inactive.get(policy.spec.hook);
      return {
        name,
        source,
        hook: policy.spec.hook,
        mode: policy.spec.mode,
        lsm: deniesAnything(policy),
        active: reason === undefined,
        ...(reason ? { inactiveReason: reason } : {}),
        events: Object.fromEntries(this.policyEventCounts.get(name) ?? []),
        kernel,
      };
    });
    const ring = this.kernel.ringStats() ?? { records: 0, batches: 0, kernelDrops: 0, lostNoMemory: 0, callbackErrors: 0 };
    return {
      policies,
      hooks,
      lifecycle: this.kernel.lifeCounters(),
      ringBuffer: ring,
      processCache: this.cache.stats(),
      builder: this.builder.stats(),
      events: Object.fromEntries(this.eventCounts),
      seeded: this.seeded,
      seedSkipped: this.seedSkipped,
    };
  }

  /** Run counts and times of the kernel programs (times need enableStats() from the eBPF library). */
  programStats(): ReturnType<SecurityKernel['programStats']> {
    return this.kernel.programStats();
  }

  /** Kernel program ids (what `bpftool prog show` lists), for checks. */
  programIds(): number[] {
    return this.kernel.programIds();
  }

  /** Drains what is left, detaches every hook and frees the kernel side. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      this.flush();
    } catch {
      // closing anyway
    }
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.drainTimer) clearInterval(this.drainTimer);
    this.kernel.close();
  }
}
