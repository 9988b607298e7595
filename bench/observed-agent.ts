// The agent under test in bench/http.ts, in its own process, with what the bench
// reads from it: CPU from /proc (all threads), and counters (records, drops,
// evictions, BPF run time, exported request counts).
//   RealAgent       `waggle run --open-port P --listen 127.0.0.1:Q` (default config,
//                   or --no-ui); counters from its /metrics.
//   CaptureHarness  bench/http-agent.ts: SocketCapture decoding records, nothing else.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { type Target, freePort, sleep } from './http-targets.js';

export interface Cpu {
  /** On-CPU time of every thread (schedstat), ns. */
  ns: number;
  /** utime and stime, clock ticks (user/system split). */
  userTicks: number;
  systemTicks: number;
}

export interface Counters {
  records: number;
  drops: number;
  evicted: number;
  /** Capture programs' run time and runs (bpf_stats), the sweep excluded. */
  bpfRunNs: number;
  bpfRuns: number;
  /** Requests counted in http_server_request_duration_seconds (RealAgent only). */
  httpServerCount?: number;
}

export interface ObservedAgent {
  readonly pid: number;
  cpu(): Cpu;
  counters(): Promise<Counters>;
  stop(): Promise<void>;
}

export function processCpu(pid: number): Cpu {
  let ns = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread exited between the listing and the read.
    }
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { ns, userTicks: Number(fields[11]), systemTicks: Number(fields[12]) };
}

async function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return Promise.race([new Promise<boolean>((r) => child.once('exit', () => r(true))), sleep(ms).then(() => false)]);
}

/** Sums of each metric's samples in a Prometheus text exposition, by name. */
export function sumSamples(text: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{.*\})?\s+(\S+)$/.exec(line);
    if (!m) continue;
    if (m[1] === 'waggle_bpf_program_run_seconds_total' || m[1] === 'waggle_bpf_program_runs_total') {
      if (m[2]?.includes('program="cap_sweep"')) continue;
    }
    sums.set(m[1]!, (sums.get(m[1]!) ?? 0) + Number(m[3]));
  }
  return sums;
}

export class RealAgent implements ObservedAgent {
  private constructor(
    private readonly child: ChildProcess,
    private readonly base: string,
  ) {}

  get pid(): number {
    return this.child.pid!;
  }

  /** `root`: the checkout whose bin/waggle.js runs (default: this one). */
  static async start(target: Target, opts: { ui: boolean; nodeArgs?: string[]; root?: string; args?: string[] }): Promise<RealAgent> {
    const listen = await freePort();
    const bin = join(opts.root ?? join(fileURLToPath(import.meta.url), '..', '..', '..'), 'bin', 'waggle.js');
    // Default configuration: no OTLP endpoint, no printing, whatever the caller's environment says.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_') && !k.startsWith('WAGGLE_')));
    const args = [...(opts.nodeArgs ?? []), bin, 'run', '--open-port', String(target.port), '--listen', `127.0.0.1:${listen}`, '--log-level', 'warn', ...(opts.ui ? [] : ['--no-ui']), ...(opts.args ?? [])];
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
    const agent = new RealAgent(child, `http://127.0.0.1:${listen}`);
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`waggle run exited with ${child.exitCode}`);
      try {
        if ((await fetch(`${agent.base}/readyz`)).status === 200) break;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) {
        await agent.stop();
        throw new Error('waggle run not ready after 60 s');
      }
      await sleep(100);
    }
    const watched = (await agent.metrics()).get('waggle_watched_processes') ?? 0;
    if (watched < 1) throw new Error(`waggle run watches ${watched} processes on port ${target.port}`);
    return agent;
  }

  async metrics(): Promise<Map<string, number>> {
    return sumSamples(await (await fetch(`${this.base}/metrics`)).text());
  }

  cpu(): Cpu {
    return processCpu(this.pid);
  }

  async counters(): Promise<Counters> {
    const m = await this.metrics();
    return {
      records: m.get('waggle_records_received_total') ?? 0,
      drops: m.get('waggle_records_dropped_kernel_total') ?? 0,
      evicted: m.get('waggle_capture_evicted_total') ?? 0,
      bpfRunNs: (m.get('waggle_bpf_program_run_seconds_total') ?? 0) * 1e9,
      bpfRuns: m.get('waggle_bpf_program_runs_total') ?? 0,
      httpServerCount: m.get('http_server_request_duration_seconds_count') ?? 0,
    };
  }

  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    if (!(await exited(this.child, 15_000))) {
      this.child.kill('SIGKILL');
      await exited(this.child, 5_000);
    }
  }
}

export class CaptureHarness implements ObservedAgent {
  private readonly lines: string[] = [];
  private waiter: (() => void) | undefined;

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      this.lines.push(l);
      this.waiter?.();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /**
   * `env`: added to the harness's environment (e.g. BENCH_CAPTURE_HOOKS).
   * `root`: another built checkout whose harness (and so whose capture programs) runs.
   */
  static async start(target: Target, env: Record<string, string> = {}, root?: string): Promise<CaptureHarness> {
    const script = root === undefined ? join(fileURLToPath(import.meta.url), '..', 'http-agent.js') : join(root, 'dist', 'bench', 'http-agent.js');
    const a = new CaptureHarness(spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...env } }));
    await a.next();
    await a.ask(`watch ${target.pids().join(' ')}`);
    return a;
  }

  private async next(): Promise<Record<string, number>> {
    while (this.lines.length === 0) await new Promise<void>((r) => (this.waiter = r));
    return JSON.parse(this.lines.shift()!) as Record<string, number>;
  }

  private ask(cmd: string): Promise<Record<string, number>> {
    this.child.stdin!.write(`${cmd}\n`);
    return this.next();
  }

  cpu(): Cpu {
    return processCpu(this.pid);
  }

  async counters(): Promise<Counters> {
    const t = await this.ask('totals');
    return { records: t.records!, drops: t.drops!, evicted: t.evicted!, bpfRunNs: t.bpfRunNs!, bpfRuns: t.bpfRuns! };
  }

  async stop(): Promise<void> {
    this.child.stdin!.end();
    if (!(await exited(this.child, 10_000))) this.child.kill('SIGKILL');
  }
}
