// HTTP capture overhead: nginx and a Node http hello-world, with and without
// the socket capture (bench/http-agent.ts in its own process, decoding every
// record), interleaved rounds, medians. Prints figures; never fails.
//
//   (a) saturation: wrk -t1 -c32, requests/s and the with/without ratio;
//   (b) ~10,000 requests/s: wrk paced by a Lua delay() per connection (a
//       closed loop with think time, not an open loop: Debian has no wrk2), p50/p99;
//   per request: BPF program time (kernel bpf_stats) and agent CPU (user+sys);
//   records lost (ring-buffer drops + evicted states) at ~20,000 requests/s.
//
// Knobs: BENCH_ROUNDS (3), BENCH_SECONDS (5), BENCH_TARGETS (node,nginx).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const TARGETS = (process.env.BENCH_TARGETS ?? 'node,nginx').split(',');
const work = mkdtempSync(join(tmpdir(), 'waggle-bench-http-'));
chmodSync(work, 0o755);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface Target {
  name: string;
  url: string;
  pids(): number[];
  stop(): void;
}

function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

async function startNode(): Promise<Target> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-e', `require('http').createServer((q, r) => r.end('hello world\\n')).listen(${port}, '127.0.0.1', () => console.log('up'))`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((r) => child.stdout!.once('data', r));
  return { name: 'node', url: `http://127.0.0.1:${port}/`, pids: () => [child.pid!], stop: () => child.kill('SIGKILL') };
}

async function startNginx(): Promise<Target> {
  const port = await freePort();
  const root = join(work, 'www');
  execFileSync('mkdir', ['-p', root, join(work, 'tmp')]);
  writeFileSync(join(root, 'index.html'), 'hello world\n');
  const t = join(work, 'tmp');
  writeFileSync(
    join(work, 'nginx.conf'),
    `daemon off; master_process on; worker_processes 1; pid ${work}/nginx.pid; error_log ${work}/error.log;
events { worker_connections 4096; }
http { access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;
  client_body_temp_path ${t}; proxy_temp_path ${t}; fastcgi_temp_path ${t}; uwsgi_temp_path ${t}; scgi_temp_path ${t};
  server { listen 127.0.0.1:${port}; root ${root}; } }`,
  );
  const child = spawn('nginx', ['-c', join(work, 'nginx.conf'), '-p', work], { stdio: 'ignore' });
  for (let i = 0; i < 100 && childrenOf(child.pid!).length === 0; i++) await sleep(50);
  return { name: 'nginx', url: `http://127.0.0.1:${port}/index.html`, pids: () => [child.pid!, ...childrenOf(child.pid!)], stop: () => child.kill('SIGKILL') };
}

class Agent {
  private readonly lines: string[] = [];
  private waiter: (() => void) | undefined;
  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      this.lines.push(l);
      this.waiter?.();
    });
  }
  static async start(pids: number[]): Promise<Agent> {
    const script = join(fileURLToPath(import.meta.url), '..', 'http-agent.js');
    const a = new Agent(spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'inherit'] }));
    await a.next();
    await a.ask(`watch ${pids.join(' ')}`);
    return a;
  }
  private async next(): Promise<Record<string, number>> {
    while (this.lines.length === 0) await new Promise<void>((r) => (this.waiter = r));
    return JSON.parse(this.lines.shift()!) as Record<string, number>;
  }
  ask(cmd: string): Promise<Record<string, number>> {
    this.child.stdin!.write(`${cmd}\n`);
    return this.next();
  }
  async stop(): Promise<void> {
    this.child.stdin!.end();
    await new Promise((r) => this.child.once('exit', r));
  }
}

interface WrkResult {
  rps: number;
  requests: number;
  p50us: number;
  p99us: number;
}

function toUs(v: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(v)!;
  return Number(m[1]) * (m[2] === 'us' ? 1 : m[2] === 'ms' ? 1000 : 1e6);
}

const PACE_LUA = join(work, 'pace.lua');
writeFileSync(PACE_LUA, 'local ms = tonumber(os.getenv("WAGGLE_PACE_MS") or "1")\nfunction delay() return ms end\n');

/** Paced: each of `conns` connections waits 1 ms between requests (~conns × 1,000 requests/s at most). */
function wrk(url: string, conns: number, paced: boolean, seconds = SECONDS): WrkResult {
  const args = ['-t1', `-c${conns}`, `-d${seconds}s`, '--latency', ...(paced ? ['-s', PACE_LUA] : []), url];
  const out = execFileSync('wrk', args, { encoding: 'utf8' });
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]),
    requests: Number(/(\d+) requests in/.exec(out)![1]),
    p50us: toUs(/\s50%\s+(\S+)/.exec(out)![1]!),
    p99us: toUs(/\s99%\s+(\S+)/.exec(out)![1]!),
  };
}

interface Run {
  sat: WrkResult;
  paced: WrkResult;
  agent?: Record<string, number>;
}

/**
 * Connections that make the paced load ≈ `rate` requests/s: each connection's
 * period is its 1 ms delay plus the round trip and timer slack, measured here.
 */
function pacedConnections(url: string, rate: number): number {
  const probe = wrk(url, 10, true, 2);
  return Math.max(1, Math.min(400, Math.round((rate * 10) / probe.rps)));
}

async function measure(target: Target, capture: boolean, pacedConns: number): Promise<Run> {
  const agent = capture ? await Agent.start(target.pids()) : undefined;
  wrk(target.url, 8, false, 1); // warm up
  await agent?.ask('mark');
  const sat = wrk(target.url, 32, false);
  const paced = wrk(target.url, pacedConns, true);
  const report = await agent?.ask('report');
  await agent?.stop();
  return { sat, paced, ...(report ? { agent: { ...report, requests: sat.requests + paced.requests } } : {}) };
}

const f0 = (n: number) => Math.round(n).toLocaleString('en-US');
const f2 = (n: number) => n.toFixed(2);

console.log(`waggle HTTP capture overhead — ${ROUNDS} interleaved rounds × (${SECONDS}s saturated + ${SECONDS}s paced), medians`);
console.log('provisional: 2 cores shared by the server, wrk, the agent and other work on this machine\n');
for (const name of TARGETS) {
  const target = name === 'nginx' ? await startNginx() : await startNode();
  const off: Run[] = [];
  const on: Run[] = [];
  try {
    const conns = pacedConnections(target.url, 10_000);
    for (let i = 0; i < ROUNDS; i++) {
      // Alternate which mode goes first so drift does not favour one.
      if (i % 2 === 0) {
        off.push(await measure(target, false, conns));
        on.push(await measure(target, true, conns));
      } else {
        on.push(await measure(target, true, conns));
        off.push(await measure(target, false, conns));
      }
    }
    const satOff = median(off.map((r) => r.sat.rps));
    const satOn = median(on.map((r) => r.sat.rps));
    const per = (k: string) => median(on.map((r) => r.agent![k]! / r.agent!.requests!));
    const lost = on.reduce((n, r) => n + r.agent!.drops! + r.agent!.evicted!, 0);
    console.log(`${target.name}:`);
    console.log(`  saturation   ${f0(satOff)} → ${f0(satOn)} req/s   ratio ${f2(satOn / satOff)}`);
    console.log(
      `  paced (${conns} conns × 1 ms think time, target 10k req/s)  ${f0(median(off.map((r) => r.paced.rps)))} → ${f0(median(on.map((r) => r.paced.rps)))} req/s   ` +
        `p50 ${f0(median(off.map((r) => r.paced.p50us)))} → ${f0(median(on.map((r) => r.paced.p50us)))} µs   ` +
        `p99 ${f0(median(off.map((r) => r.paced.p99us)))} → ${f0(median(on.map((r) => r.paced.p99us)))} µs ` +
        `(Δp99 ${f0(median(on.map((r) => r.paced.p99us)) - median(off.map((r) => r.paced.p99us)))} µs)`,
    );
    console.log(
      `  per request  BPF ${f2(per('bpfRunNs') / 1000)} µs (${f2(per('bpfRuns'))} program runs)   agent CPU ${f2(per('cpuUs'))} µs   ` +
        `records/request ${f2(per('records'))}   lost ${lost} (drops + evictions, all rounds)`,
    );
  } finally {
    target.stop();
  }
}

// Zero loss at ~20,000 requests/s (Node, keep-alive, paced).
{
  const target = await startNode();
  try {
    const conns = pacedConnections(target.url, 20_000);
    const agent = await Agent.start(target.pids());
    await agent.ask('mark');
    const r = wrk(target.url, conns, true);
    const rep = await agent.ask('report');
    await agent.stop();
    console.log(
      `\n~20k req/s (node, paced over ${conns} connections, ${SECONDS}s): ${f0(r.rps)} req/s achieved, ${f0(r.requests)} completed, ${f0(rep.records!)} records, ` +
        `lost ${rep.drops! + rep.evicted!} (drops ${rep.drops}, evictions ${rep.evicted})`,
    );
  } finally {
    target.stop();
  }
}
rmSync(work, { recursive: true, force: true });
console.log('\nre-run: npm run bench:http   (BENCH_ROUNDS, BENCH_SECONDS, BENCH_TARGETS=node,nginx)');
