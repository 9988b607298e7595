// Prometheus metrics of the security agent, read from its stats at scrape time.
// Call registerSecurityMetrics(registry, agent) once per registry.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { SecurityStats } from './agent.js';

export interface SecurityStatsSource {
  stats(): SecurityStats;
}

/** Sets a counter from an absolute, monotonically increasing value. */
function setCounter(c: Counter<string>, labels: Record<string, string>, value: number): void {
  c.inc(labels, value);
}

export function registerSecurityMetrics(registry: Registry, source: SecurityStatsSource): void {
  let snapshot: SecurityStats | undefined;
  let takenAt = 0;
  // One stats() per scrape, shared by every metric below.
  const stats = (): SecurityStats => {
    const now = Date.now();
    if (!snapshot || now - takenAt > 250) {
      snapshot = source.stats();
      takenAt = now;
    }
    return snapshot;
  };
  const registers = [registry];

  new Counter({
    name: 'waggle_security_policy_events_total',
    help: 'Security events delivered to user space, per policy and action (post, sigkill, deny).',
    labelNames: ['policy', 'action', 'hook'],
    registers,
    collect() {
      this.reset();
      for (const p of stats().policies) for (const [action, n] of Object.entries(p.events)) setCounter(this, { policy: p.name, action, hook: p.hook }, n);
    },
  });

  new Counter({
    name: 'waggle_security_policy_kernel_total',
    help: 'Kernel-side outcomes per policy: matched (first matching selector), posted, rate_limited, killed (SIGKILL sent), denied (refused by a BPF LSM program).',
    labelNames: ['policy', 'outcome'],
    registers,
    collect() {
      this.reset();
      for (const p of stats().policies) {
        setCounter(this, { policy: p.name, outcome: 'matched' }, p.kernel.matched);
        setCounter(this, { policy: p.name, outcome: 'posted' }, p.kernel.posted);
        setCounter(this, { policy: p.name, outcome: 'rate_limited' }, p.kernel.rateLimited);
        setCounter(this, { policy: p.name, outcome: 'killed' }, p.kernel.killed);
        setCounter(this, { policy: p.name, outcome: 'denied' }, p.kernel.denied);
      }
    },
  });

  new Counter({
    name: 'waggle_security_kernel_events_total',
    help: 'Operations seen by each policy hook in the kernel, by outcome: seen = filtered (dropped in the kernel) + matched; sent records reached the ring buffer.',
    labelNames: ['hook', 'outcome'],
    registers,
    collect() {
      this.reset();
      for (const [hook, c] of Object.entries(stats().hooks)) {
        if (!c.attached) continue;
        const put = (outcome: string, n: number) => setCounter(this, { hook, outcome }, n);
        put('seen', c.runs);
        put('filtered', c.filtered);
        put('matched', c.matched);
        put('sent', c.sent);
        put('rate_limited', c.rateLimited);
        put('nopost', c.nopost);
        put('killed', c.kills);
        put('denied', c.denies);
        put('dropped', c.drops);
      }
    },
  });

  new Counter({
    name: 'waggle_security_process_events_total',
    help: 'Process life-cycle events seen in the kernel (exec, fork, exit).',
    labelNames: ['type'],
    registers,
    collect() {
      this.reset();
      const l = stats().lifecycle;
      setCounter(this, { type: 'exec' }, l.exec);
      setCounter(this, { type: 'fork' }, l.fork);
      setCounter(this, { type: 'exit' }, l.exit);
    },
  });

  new Counter({
    name: 'waggle_security_process_records_not_sent_total',
    help: 'Process life-cycle records the kernel did not send because the agent was told not to: forks without exec (fork, fork_exit), records of the agent\'s own descendants (own_process).',
    labelNames: ['reason'],
    registers,
    collect() {
      this.reset();
      const l = stats().lifecycle;
      setCounter(this, { reason: 'fork' }, l.forksCut);
      setCounter(this, { reason: 'fork_exit' }, l.forkExitsCut);
      setCounter(this, { reason: 'own_process' }, l.ownCut);
    },
  });

  new Counter({
    name: 'waggle_security_events_lost_total',
    help: 'Security records lost: ring buffer full in the kernel (ringbuf), no memory to copy in user space (memory), process table full in the kernel (process_table).',
    labelNames: ['reason'],
    registers,
    collect() {
      this.reset();
      const s = stats();
      setCounter(this, { reason: 'ringbuf' }, s.ringBuffer.kernelDrops);
      setCounter(this, { reason: 'memory' }, s.ringBuffer.lostNoMemory);
      setCounter(this, { reason: 'process_table' }, s.lifecycle.tableFull);
    },
  });

  new Gauge({
    name: 'waggle_security_process_cache_entries',
    help: 'Process images in the user-space cache (live, and dead ones still referenced by descendants or in their grace period).',
    labelNames: ['state'],
    registers,
    collect() {
      const c = stats().processCache;
      this.set({ state: 'alive' }, c.alive);
      this.set({ state: 'dead' }, c.size - c.alive);
    },
  });

  new Counter({
    name: 'waggle_security_process_cache_evictions_total',
    help: 'Dead process images removed early because the cache reached its bound.',
    registers,
    collect() {
      this.reset();
      setCounter(this, {}, stats().processCache.evicted);
    },
  });

  new Gauge({
    name: 'waggle_security_policies',
    help: 'Loaded policies: active, or inactive because their hook does not exist on this kernel.',
    labelNames: ['state'],
    registers,
    collect() {
      const ps = stats().policies;
      this.set({ state: 'active' }, ps.filter((p) => p.active).length);
      this.set({ state: 'inactive' }, ps.filter((p) => !p.active).length);
    },
  });
}
