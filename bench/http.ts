// HTTP overhead of the real agent (issue 3's benchmark): nginx and a Node http
// hello-world, driven by wrk, in interleaved rounds of these modes (medians):
//   off          no agent
//   capture      bench/http-agent.ts: kernel capture + record decoding only
//   agent-noui   `waggle run --open-port P --no-ui` (parse, routes, metrics)
//   agent-nolink `waggle run --open-port P --no-trace-link` (the UI's live store, no trace linking; not run by default)
//   agent        `waggle run --open-port P`, the default config (+ the UI's live store and trace linking)
//   agent@base, agent-noui@base   the same from another checkout (BENCH_BASE_ROOT,
//                built: `git worktree add --detach /tmp/base <commit>`, then build
//                there), for before/after figures from one interleaved run
// Each run: (a) saturation, wrk -t1 -c32; (b) ~10,000 requests/s, wrk paced by a
// Lua delay() per connection, p50/p99. Per request, in each interval: the agent
// process's CPU (all threads, /proc/<pid>/task/*/schedstat), records per request,
// records lost (kernel drops + evicted exchanges), and in the paced interval the
// capture programs' kernel run time (bpf_stats, turned on by this bench for that
// interval only). Saturation runs without bpf_stats, as users run the agent: the
// accounting reads the clock twice per program run, which cost the default agent
// on Node 7 % of its saturated throughput (0.928, 6 interleaved pairs). Then zero loss above 30,000
// requests/s (saturated) with the default agent, checked against wrk's completed
// requests and the agent's exported request count.
// Prints figures; never fails.
//
//   npm run bench:http   (BENCH_ROUNDS=3, BENCH_SECONDS=5, BENCH_TARGETS=node,nginx,
//                         BENCH_MODES=off,capture,agent-noui,agent (+ agent@base,agent-noui@base
//                         with BENCH_BASE_ROOT, and capture@base: the base checkout's capture
//                         alone, for a BPF A/B of its programs; capture@syscalls, agent@syscalls: the
//                         capture on the syscall exits instead of the socket tracepoints), BENCH_SKIP_ZERO_LOSS=1,
//                         BENCH_KERNEL_READS=core (the capture modes load the CO-RE build, 5.17–6.1's, not the kfunc one),
//                         BENCH_AGENT_NODE_ARGS="--import ./dist/bench/late-cpu-profile.js")
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withStats } from '../src/ebpf/index.js';
import { type Target, sleep, startNginx, startNode } from './http-targets.js';
import { CaptureHarness, type Counters, type Cpu, type ObservedAgent, RealAgent } from './observed-agent.js';
import { Wrk, type WrkResult } from './wrk.js';

type Mode = 'off' | 'capture' | 'capture@syscalls' | 'capture@base' | 'agent-noui' | 'agent-nolink' | 'agent' | 'agent@syscalls' | 'agent-noui@base' | 'agent@base';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const TARGETS = (process.env.BENCH_TARGETS ?? 'node,nginx').split(',');
const BASE_ROOT = process.env.BENCH_BASE_ROOT;
const MODES = (process.env.BENCH_MODES ?? `off,capture,agent-noui,agent${BASE_ROOT ? ',agent-noui@base,agent@base' : ''}`).split(',') as Mode[];
const NODE_ARGS = (process.env.BENCH_AGENT_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
/** Longer than the capture's flush interval (200 ms): records below the wakeup threshold are read by then. */
const SETTLE_MS = 300;

const work = mkdtempSync(join(tmpdir(), 'waggle-bench-http-'));
chmodSync(work, 0o755);
const wrk = new Wrk(work);
const bpfStatsSysctl = () => readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim() === '1';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function startAgent(mode: Mode, target: Target): Promise<ObservedAgent | undefined> {
  switch (mode) {
    case 'off':
      return undefined;
    case 'capture':
      return CaptureHarness.start(target);
    case 'capture@syscalls':
      return CaptureHarness.start(target, { BENCH_CAPTURE_HOOKS: 'syscalls' });
    case 'capture@base':
      if (!BASE_ROOT) throw new Error(`mode ${mode} needs BENCH_BASE_ROOT`);
      return CaptureHarness.start(target, {}, BASE_ROOT);
    case 'agent-noui':
      return RealAgent.start(target, { ui: false, nodeArgs: NODE_ARGS });
    case 'agent-nolink':
      return RealAgent.start(target, { ui: true, nodeArgs: NODE_ARGS, args: ['--no-trace-link'] });
    case 'agent':
      return RealAgent.start(target, { ui: true, nodeArgs: NODE_ARGS });
    case 'agent@syscalls':
      return RealAgent.start(target, { ui: true, nodeArgs: NODE_ARGS, args: ['--capture-hooks', 'syscalls'] });
    case 'agent-noui@base':
    case 'agent@base':
      if (!BASE_ROOT) throw new Error(`mode ${mode} needs BENCH_BASE_ROOT`);
      return RealAgent.start(target, { ui: mode === 'agent@base', nodeArgs: NODE_ARGS, root: BASE_ROOT });
  }
}

interface Cost {
  requests: number;
  /** Length of the interval, ms (the load plus the settling wait). */
  ms: number;
  records: number;
  cpuNs: number;
  userTicks: number;
  systemTicks: number;
  bpfRunNs: number;
  bpfRuns: number;
  lost: number;
  /** Records minus requests counted in the exported histogram (RealAgent): 0 when exact. */
  uncounted?: number;
}

function cost(requests: number, ms: number, cpu0: Cpu, cpu1: Cpu, c0: Counters, c1: Counters): Cost {
  const out: Cost = {
    requests,
    ms,
    records: c1.records - c0.records,
    cpuNs: cpu1.ns - cpu0.ns,
    userTicks: cpu1.userTicks - cpu0.userTicks,
    systemTicks: cpu1.systemTicks - cpu0.systemTicks,
    bpfRunNs: c1.bpfRunNs - c0.bpfRunNs,
    bpfRuns: c1.bpfRuns - c0.bpfRuns,
    lost: c1.drops - c0.drops + (c1.evicted - c0.evicted),
  };
  if (c0.httpServerCount !== undefined && c1.httpServerCount !== undefined) out.uncounted = out.records - (c1.httpServerCount - c0.httpServerCount);
  return out;
}

interface Run {
  sat: WrkResult;
  paced: WrkResult;
  satCost?: Cost;
  pacedCost?: Cost;
  /** Agent CPU with no traffic (timers, discovery rescans…), ns per second. */
  idleNsPerSec?: number;
}

/** How long the agent is watched with no traffic, to tell its fixed cost from its per-request cost. */
const IDLE_MS = 2_000;
/** Warm-up traffic before measuring (the agent's JIT settles; a real agent runs for days). */
const WARMUP_SECONDS = 3;

async function measure(target: Target, mode: Mode, pacedConns: number): Promise<Run> {
  const agent = await startAgent(mode, target);
  try {
    wrk.run(target.url, 8, false, WARMUP_SECONDS);
    await sleep(SETTLE_MS);
    const idle0 = agent?.cpu();
    await sleep(IDLE_MS);
    const idle1 = agent?.cpu();
    // Counters are read outside the CPU intervals: a scrape is not request work.
    const c0 = await agent?.counters();
    const cpu0 = agent?.cpu();
    const t0 = performance.now();
    const sat = wrk.run(target.url, 32, false, SECONDS);
    await sleep(SETTLE_MS);
    const cpu1 = agent?.cpu();
    const t1 = performance.now();
    const c1 = await agent?.counters();
    // Run-time accounting for the paced interval only (its BPF µs per request).
    const { cpu1b, t1b, paced, cpu2, t2, c2 } = await withStats(async () => {
      const cpu1b = agent?.cpu();
      const t1b = performance.now();
      const paced = wrk.run(target.url, pacedConns, true, SECONDS);
      await sleep(SETTLE_MS);
      return { cpu1b, t1b, paced, cpu2: agent?.cpu(), t2: performance.now(), c2: await agent?.counters() };
    });
    if (!agent) return { sat, paced };
    const idleNsPerSec = ((idle1!.ns - idle0!.ns) * 1000) / IDLE_MS;
    return { sat, paced, satCost: cost(sat.requests, t1 - t0, cpu0!, cpu1!, c0!, c1!), pacedCost: cost(paced.requests, t2 - t1b, cpu1b!, cpu2!, c1!, c2!), idleNsPerSec };
  } finally {
    await agent?.stop();
  }
}

const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–');
const pad = (s: string, n: number) => s.padStart(n);

function report(target: Target, conns: number, runs: Map<Mode, Run[]>): void {
  const off = runs.get('off');
  const satOff = off ? median(off.map((r) => r.sat.rps)) : NaN;
  const p99Off = off ? median(off.map((r) => r.paced.p99us)) : NaN;
  const p50Off = off ? median(off.map((r) => r.paced.p50us)) : NaN;
  console.log(`\n${target.name}  (paced: ${conns} connections × 1 ms think time ≈ 10k req/s; per-request figures are medians over rounds)`);
  console.log(
    `  ${'mode'.padEnd(16)}${pad('sat req/s', 11)}${pad('ratio', 7)}${pad('paced/s', 9)}${pad('p50 µs', 8)}${pad('Δp50', 6)}${pad('p99 µs', 8)}${pad('Δp99', 6)}` +
      `${pad('agent µs/req sat|paced', 24)}${pad('idle ms/s', 10)}${pad('net paced', 10)}${pad('user%', 6)}${pad('BPF µs/req', 11)}${pad('runs/req', 9)}${pad('total µs', 9)}${pad('rec/req', 8)}${pad('lost', 6)}${pad('uncounted', 10)}`,
  );
  for (const [mode, rs] of runs) {
    const satRps = median(rs.map((r) => r.sat.rps));
    const p50 = median(rs.map((r) => r.paced.p50us));
    const p99 = median(rs.map((r) => r.paced.p99us));
    let tail = '';
    if (rs[0]!.satCost) {
      const per = (pick: (r: Run) => Cost, f: (c: Cost) => number) => median(rs.map((r) => f(pick(r))));
      const sat = (r: Run) => r.satCost!;
      const paced = (r: Run) => r.pacedCost!;
      const cpuSat = per(sat, (c) => c.cpuNs / 1000 / c.requests);
      const cpuPaced = per(paced, (c) => c.cpuNs / 1000 / c.requests);
      const idle = median(rs.map((r) => r.idleNsPerSec!));
      // Per request beyond what the agent spends with no traffic at all.
      const net = median(rs.map((r) => (r.pacedCost!.cpuNs - (r.idleNsPerSec! * r.pacedCost!.ms) / 1000) / 1000 / r.pacedCost!.requests));
      const userShare = per(paced, (c) => (100 * c.userTicks) / Math.max(1, c.userTicks + c.systemTicks));
      const bpf = per(paced, (c) => c.bpfRunNs / 1000 / c.requests);
      const runsPer = per(paced, (c) => c.bpfRuns / c.requests);
      const total = per(paced, (c) => (c.cpuNs + c.bpfRunNs) / 1000 / c.requests);
      const recs = per(paced, (c) => c.records / c.requests);
      const lost = rs.reduce((n, r) => n + r.satCost!.lost + r.pacedCost!.lost, 0);
      const uncounted = rs.some((r) => r.satCost!.uncounted !== undefined) ? String(rs.reduce((n, r) => n + (r.satCost!.uncounted ?? 0) + (r.pacedCost!.uncounted ?? 0), 0)) : '';
      tail = `${pad(`${f2(cpuSat)} | ${f2(cpuPaced)}`, 24)}${pad(f2(idle / 1e6), 10)}${pad(f2(net), 10)}${pad(f0(userShare), 6)}${pad(f2(bpf), 11)}${pad(f2(runsPer), 9)}${pad(f2(total), 9)}${pad(f2(recs), 8)}${pad(String(lost), 6)}${pad(uncounted, 10)}`;
    }
    console.log(
      `  ${mode.padEnd(16)}${pad(f0(satRps), 11)}${pad(f2(satRps / satOff), 7)}${pad(f0(median(rs.map((r) => r.paced.rps))), 9)}` +
        `${pad(f0(p50), 8)}${pad(f0(p50 - p50Off), 6)}${pad(f0(p99), 8)}${pad(f0(p99 - p99Off), 6)}${tail}`,
    );
  }
}

console.log(`waggle HTTP overhead — ${ROUNDS} interleaved rounds × modes ${MODES.join(', ')}; each run ${SECONDS}s saturated + ${SECONDS}s paced`);
console.log('provisional: 2 cores shared by the server, wrk, the agent and other work on this machine');
console.log('agent µs/req: CPU of the agent process (all threads) per request completed; idle: its CPU with no traffic; net: paced µs/req minus idle;');
console.log('total = agent + BPF per request, paced interval (idle included)');
console.log('saturation runs without bpf_stats (as users run the agent); the paced interval with them (BPF µs/req)');
if (BASE_ROOT) console.log(`@base: the agent or capture of the checkout ${BASE_ROOT}`);
if (bpfStatsSysctl()) console.log('warning: sysctl kernel.bpf_stats_enabled is 1: saturation runs pay run-time accounting on every program run (set it to 0)');
try {
  for (const name of TARGETS) {
    const target = name === 'nginx' ? await startNginx(work) : await startNode();
    try {
      const conns = wrk.pacedConnections(target.url, 10_000);
      const runs = new Map<Mode, Run[]>(MODES.map((m) => [m, []]));
      for (let i = 0; i < ROUNDS; i++) {
        // Rotate the order each round so drift does not favour one mode.
        for (let k = 0; k < MODES.length; k++) {
          const mode = MODES[(i + k) % MODES.length]!;
          runs.get(mode)!.push(await measure(target, mode, conns));
        }
      }
      report(target, conns, runs);
    } finally {
      target.stop();
    }
  }

  // Zero loss at the goal's 30,000 requests/s and beyond (Node, keep-alive, the
  // default agent): wrk's paced mode tops out near 16,000/s here, so the load is
  // saturated (32 connections, no think time), which runs faster than 30,000/s.
  // Every completed request must have its record and be counted; records may
  // exceed completions by the requests in flight when wrk stops (≤ 32).
  if (process.env.BENCH_SKIP_ZERO_LOSS !== '1') {
    const target = await startNode();
    try {
      const agent = await RealAgent.start(target, { ui: true, nodeArgs: NODE_ARGS });
      try {
        wrk.run(target.url, 8, false, 1);
        await sleep(SETTLE_MS);
        const c0 = await agent.counters();
        const r = wrk.run(target.url, 32, false, SECONDS);
        await sleep(SETTLE_MS);
        const c1 = await agent.counters();
        const records = c1.records - c0.records;
        const counted = c1.httpServerCount! - c0.httpServerCount!;
        console.log(
          `\nzero loss at ≥30k req/s (node, default agent, saturated over 32 connections, ${SECONDS}s): ${f0(r.rps)} req/s, ${f0(r.requests)} completed, ` +
            `${f0(records)} records (${records - r.requests} beyond completions: in flight at wrk's stop), ${f0(counted)} in http_server_request_duration_seconds_count, ` +
            `lost ${c1.drops - c0.drops + c1.evicted - c0.evicted} (kernel drops ${c1.drops - c0.drops}, evictions ${c1.evicted - c0.evicted})`,
        );
      } finally {
        await agent.stop();
      }
    } finally {
      target.stop();
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log('\nre-run: npm run bench:http   (BENCH_ROUNDS, BENCH_SECONDS, BENCH_TARGETS, BENCH_MODES, BENCH_AGENT_NODE_ARGS, BENCH_SKIP_ZERO_LOSS=1)');
