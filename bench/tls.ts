// HTTPS overhead of the real agent with TLS capture (OpenSSL uprobes): nginx
// over TLS (1 worker, keep-alive) and a Node `https` hello-world driven by wrk
// over https (-t1 -c32, saturated), and nginx over TLS with HTTP/2 (ALPN h2)
// driven by h2load (-c32 -m1, so one request in flight per connection as with
// wrk; the plaintext goes to the HTTP/2 module), in interleaved rounds of
//   off     no agent
//   agent   `waggle run --open-port P --no-ui`, TLS capture on (the default)
// Per run: requests/s; with the agent, its CPU per request (all threads) and the
// capture programs' kernel run time per request (bpf_stats, uprobes and syscall
// hooks), records lost (kernel drops + evicted exchanges) and requests wrk made
// that the exported histogram did not count. Medians over rounds; ratio
// agent/off. Prints figures; never fails.
//
//   npm run bench:tls   (BENCH_ROUNDS=3, BENCH_SECONDS=5, BENCH_TARGETS=nginx,node,nginx-h2)
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enableStats } from '../src/ebpf/index.js';
import { type Target, freePort, sleep } from './http-targets.js';
import { RealAgent } from './observed-agent.js';
import { Wrk } from './wrk.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const TARGETS = (process.env.BENCH_TARGETS ?? 'nginx,node,nginx-h2').split(',');
const SETTLE_MS = 300;
const WARMUP_SECONDS = 2;

const work = mkdtempSync(join(tmpdir(), 'waggle-bench-tls-'));
chmodSync(work, 0o755);
const wrk = new Wrk(work);
const cert = join(work, 'cert.pem');
const key = join(work, 'key.pem');
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost'], { stdio: 'ignore' });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

async function startNginxTls(http2: boolean): Promise<Target> {
  const port = await freePort();
  const dir = join(work, 'nginx');
  const t = join(dir, 'tmp');
  execFileSync('mkdir', ['-p', join(dir, 'www'), t]);
  writeFileSync(join(dir, 'www', 'index.html'), 'hello world\n');
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off; master_process on; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  client_body_temp_path ${t}; proxy_temp_path ${t}; fastcgi_temp_path ${t}; uwsgi_temp_path ${t}; scgi_temp_path ${t};
  server { listen 127.0.0.1:${port} ssl${http2 ? ' http2' : ''}; ssl_certificate ${cert}; ssl_certificate_key ${key}; root ${dir}/www; } }`,
  );
  const child = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' });
  for (let i = 0; i < 100 && childrenOf(child.pid!).length === 0; i++) await sleep(50);
  const pids = () => [child.pid!, ...childrenOf(child.pid!)];
  const stop = () => {
    for (const pid of pids().reverse()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  };
  return { name: http2 ? 'nginx-tls-h2' : 'nginx-tls', port, url: `https://127.0.0.1:${port}/index.html`, pids, stop };
}

async function startNodeHttps(): Promise<Target> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['-e', `const fs=require('fs');require('https').createServer({cert:fs.readFileSync('${cert}'),key:fs.readFileSync('${key}')},(q,r)=>r.end('hello world\\n')).listen(${port},'127.0.0.1',()=>console.log('up'))`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise((r) => child.stdout!.once('data', r));
  return { name: 'node-https', port, url: `https://127.0.0.1:${port}/`, pids: () => [child.pid!], stop: () => child.kill('SIGKILL') };
}

/** h2load over TLS (ALPN h2) for `seconds`: requests/s and requests done. */
function h2load(url: string, clients: number, seconds: number): { rps: number; requests: number } {
  const out = execFileSync('h2load', ['-c', String(clients), '-m', '1', '-D', String(seconds), url], { encoding: 'utf8' });
  return { rps: Number(/([\d.]+) req\/s/.exec(out)![1]), requests: Number(/requests: \d+ total, \d+ started, (\d+) done/.exec(out)![1]) };
}

interface Run {
  rps: number;
  requests: number;
  cpuUsPerReq?: number;
  bpfUsPerReq?: number;
  lost?: number;
  uncounted?: number;
}

async function measure(target: Target, withAgent: boolean): Promise<Run> {
  const agent = withAgent ? await RealAgent.start(target, { ui: false }) : undefined;
  try {
    const load = (conns: number, seconds: number) => (target.name.endsWith('-h2') ? h2load(target.url, conns, seconds) : wrk.run(target.url, conns, false, seconds));
    load(8, WARMUP_SECONDS);
    await sleep(SETTLE_MS);
    const c0 = await agent?.counters();
    const cpu0 = agent?.cpu();
    const sat = load(32, SECONDS);
    await sleep(SETTLE_MS);
    const cpu1 = agent?.cpu();
    await sleep(700); // the last exchanges of closed connections are counted by now
    const c1 = await agent?.counters();
    if (!agent) return { rps: sat.rps, requests: sat.requests };
    return {
      rps: sat.rps,
      requests: sat.requests,
      cpuUsPerReq: (cpu1!.ns - cpu0!.ns) / 1000 / sat.requests,
      bpfUsPerReq: (c1!.bpfRunNs - c0!.bpfRunNs) / 1000 / sat.requests,
      lost: c1!.drops - c0!.drops + (c1!.evicted - c0!.evicted),
      uncounted: sat.requests - ((c1!.httpServerCount ?? 0) - (c0!.httpServerCount ?? 0)),
    };
  } finally {
    await agent?.stop();
  }
}

const stopStats = enableStats();
try {
  for (const name of TARGETS) {
    const target = name === 'node' ? await startNodeHttps() : await startNginxTls(name === 'nginx-h2');
    const off: Run[] = [];
    const on: Run[] = [];
    try {
      for (let r = 0; r < ROUNDS; r++) {
        // Interleaved pairs, alternating which goes first.
        const order = r % 2 === 0 ? [false, true] : [true, false];
        for (const withAgent of order) (withAgent ? on : off).push(await measure(target, withAgent));
      }
    } finally {
      target.stop();
    }
    const ratios = off.map((o, i) => on[i]!.rps / o.rps);
    const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '–');
    console.log(`\n${target.name} (${target.url}), ${target.name.endsWith('-h2') ? 'h2load -c32 -m1' : 'wrk -t1 -c32'} ${SECONDS}s, ${ROUNDS} interleaved rounds`);
    console.log(`  requests/s off:   ${off.map((o) => f(o.rps)).join(', ')}  median ${f(median(off.map((o) => o.rps)))}`);
    console.log(`  requests/s agent: ${on.map((o) => f(o.rps)).join(', ')}  median ${f(median(on.map((o) => o.rps)))}`);
    console.log(`  ratio agent/off per round: ${ratios.map((x) => f(x, 2)).join(', ')}  median ${f(median(ratios), 2)}`);
    console.log(`  agent CPU µs/request: ${on.map((o) => f(o.cpuUsPerReq!, 2)).join(', ')}  median ${f(median(on.map((o) => o.cpuUsPerReq!)), 2)}`);
    console.log(`  BPF µs/request (all capture programs): ${on.map((o) => f(o.bpfUsPerReq!, 2)).join(', ')}  median ${f(median(on.map((o) => o.bpfUsPerReq!)), 2)}`);
    console.log(`  records lost: ${on.map((o) => o.lost).join(', ')}; requests not counted: ${on.map((o) => o.uncounted).join(', ')} (of ${on.map((o) => o.requests).join(', ')})`);
  }
} finally {
  stopStats();
  rmSync(work, { recursive: true, force: true });
}
