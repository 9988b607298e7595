// CPU profiling's cost on a busy 2-core machine.
//   npm run bench:profiling   (BENCH_SECONDS=10 BENCH_ROUNDS=3 by default)
// Runs a CPU-bound workload (one spinning process per CPU) for BENCH_SECONDS,
// interleaving rounds of: no agent; `waggle run` without profiling; with
// --profile at 19 Hz; at 99 Hz; at 19 Hz pushing to Pyroscope's /ingest (a
// receiver in this process on loopback, every 5 s). BENCH_MODES=a,b runs a
// subset. Prints, as medians over the rounds:
//   - the agent's CPU (user+system from /proc, over the workload's window) as a
//     share of the whole machine;
//   - the workload's throughput relative to the no-agent rounds;
//   - the BPF sampler's kernel time per sample (bpf_stats, charged to the
//     interrupted task, not to the agent).
// Figures only; never fails. Other work on a shared machine makes them provisional.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/paths.js';
import { enableStats } from '../src/ebpf/index.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/** Seconds the agent runs before the workload: its start (tables for every running executable) is reported apart. */
const SETTLE = Number(process.env.BENCH_SETTLE_SECONDS ?? 30);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CPUS = availableParallelism();
const TICKS = 100; // USER_HZ
const dir = mkdtempSync(join(tmpdir(), 'waggle-bench-prof-'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Mode = 'none' | 'agent' | 'agent+19Hz' | 'agent+99Hz' | 'agent+19Hz+push';
const ALL_MODES: Mode[] = ['none', 'agent', 'agent+19Hz', 'agent+99Hz', 'agent+19Hz+push'];
const MODES: Mode[] = process.env.BENCH_MODES ? ALL_MODES.filter((m) => process.env.BENCH_MODES!.split(',').includes(m)) : ALL_MODES;

/** A Pyroscope stand-in: accepts every push, counts them and their bytes. */
const received = { pushes: 0, bytes: 0 };
const receiver = createServer((req, res) => {
  req.on('data', (d: Buffer) => (received.bytes += d.length));
  req.on('end', () => {
    received.pushes++;
    res.writeHead(200).end();
  });
});

function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime
  } catch {
    return NaN;
  }
}

async function startAgent(mode: Mode, port: number): Promise<ChildProcess | undefined> {
  if (mode === 'none') return undefined;
  const args = [join(packageRoot, 'bin', 'waggle.js'), 'run', '--listen', `127.0.0.1:${port}`, '--log-level', 'warn'];
  if (mode !== 'agent') args.push('--profile', '--profile-frequency', mode === 'agent+99Hz' ? '99' : '19');
  if (mode === 'agent+19Hz+push') args.push('--pyroscope-url', `http://127.0.0.1:${(receiver.address() as { port: number }).port}`);
  const agent = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, WAGGLE_PYROSCOPE_PUSH_INTERVAL_MS: '5000' } });
  for (let i = 0; i < 300; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1000) });
      if (r.status === 200) break;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  return agent;
}

function runWorkload(): Promise<number> {
  const procs = Array.from({ length: CPUS }, () => spawn(join(dir, 'workload'), [String(SECONDS)], { stdio: ['ignore', 'pipe', 'inherit'] }));
  return Promise.all(
    procs.map(
      (p) =>
        new Promise<number>((resolve) => {
          let out = '';
          p.stdout!.on('data', (d: Buffer) => (out += d));
          p.on('exit', () => resolve(Number(out.trim())));
        }),
    ),
  ).then((ns) => ns.reduce((a, b) => a + b, 0));
}

function bpfSamplerStats(): { runNs: number; runs: number } | undefined {
  try {
    const progs = JSON.parse(execFileSync('bpftool', ['prog', 'show', '--json'], { encoding: 'utf8', timeout: 10_000 })) as Array<{ name?: string; run_time_ns?: number; run_cnt?: number }>;
    const p = progs.find((x) => x.name === 'profile_sample');
    return p ? { runNs: p.run_time_ns ?? 0, runs: p.run_cnt ?? 0 } : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  execFileSync('gcc', ['-O2', '-fomit-frame-pointer', '-o', join(dir, 'workload'), join(packageRoot, 'bench', 'profiling-workload.c')]);
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const stats = enableStats();
  const results = new Map<Mode, { throughput: number[]; agentCpu: number[]; startCpu: number[]; nsPerSample: number[] }>();
  for (const m of MODES) results.set(m, { throughput: [], agentCpu: [], startCpu: [], nsPerSample: [] });
  let port = 29400;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of round % 2 ? [...MODES].reverse() : MODES) {
        const agent = await startAgent(mode, port++);
        if (agent) {
          const t = cpuTicks(agent.pid!);
          await sleep(SETTLE * 1000);
          results.get(mode)!.startCpu.push((cpuTicks(agent.pid!) - t) / TICKS / (SETTLE * CPUS));
        }
        const before = agent ? cpuTicks(agent.pid!) : 0;
        const bpfBefore = agent ? bpfSamplerStats() : undefined;
        const t0 = performance.now();
        const throughput = await runWorkload();
        const wallS = (performance.now() - t0) / 1000;
        const r = results.get(mode)!;
        r.throughput.push(throughput / wallS);
        if (agent) {
          r.agentCpu.push((cpuTicks(agent.pid!) - before) / TICKS / (wallS * CPUS));
          const bpfAfter = bpfSamplerStats();
          if (bpfBefore && bpfAfter && bpfAfter.runs > bpfBefore.runs) r.nsPerSample.push((bpfAfter.runNs - bpfBefore.runNs) / (bpfAfter.runs - bpfBefore.runs));
          agent.kill('SIGTERM');
          await new Promise((res) => agent.once('exit', res));
        }
        process.stderr.write(`round ${round + 1} ${mode}: ${(throughput / wallS / 1e3).toFixed(0)}k it/s\n`);
      }
    }
  } finally {
    stats();
    receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const base = median(results.get('none')?.throughput ?? []);
  console.log(`bench:profiling — ${CPUS} CPUs, ${CPUS} spinning workload processes, ${SECONDS} s × ${ROUNDS} rounds (medians)`);
  console.log(`load average at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  console.log(`mode             agent CPU (% of machine)  first ${SETTLE} s (start)  workload throughput vs none  BPF ns/sample`);
  const pct = (xs: number[]) => (xs.length ? `${(100 * median(xs)).toFixed(2)} %` : '—');
  for (const m of MODES) {
    const r = results.get(m)!;
    const ns = r.nsPerSample.length ? median(r.nsPerSample).toFixed(0) : '—';
    console.log(`${m.padEnd(17)}${pct(r.agentCpu).padEnd(26)}${pct(r.startCpu).padEnd(21)}${(median(r.throughput) / base).toFixed(3).padEnd(29)}${ns}`);
  }
  if (MODES.includes('agent+19Hz+push')) console.log(`pushes received: ${received.pushes}, ${(received.bytes / 1024).toFixed(0)} KiB (${(received.bytes / Math.max(1, received.pushes) / 1024).toFixed(1)} KiB each)`);
  console.log('throughput per round (it/s):');
  for (const m of MODES) console.log(`  ${m.padEnd(17)}${results.get(m)!.throughput.map((t) => `${(t / 1e3).toFixed(0)}k`).join(' ')}`);
}

await main();
