// Discovery costs: what the agent spends to keep up with the host's processes.
//   npm run build && node dist/bench/discovery.js
// Starts IDLE idle processes and SERVERS python servers, then measures, per
// mode (watch-all, by ports, by exe glob; kernel events on/off):
//   - the initial scan (readiness) wall time;
//   - CPU per periodic rescan (user+system of this process, median), and what
//     that is as a share of one core at the rescan interval;
//   - pick-up latency of a process started later (median): from spawn()'s
//     return (the child has exec'd) for `sleep`, from the moment it printed "listening" for the port selector
//     (negative: discovery knew before the program's own output arrived);
//   - kernel time per run of each discovery BPF program under a TCP connection
//     churn (inet_sock_set_state fires on every TCP state change).
// Figures only; never fails. Shared 2-core machines make them provisional.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Discovery, type DiscoveryOptions } from '../src/discovery/index.js';
import { enableStats } from '../src/ebpf/index.js';

const IDLE = Number(process.env.BENCH_IDLE ?? 200);
const SERVERS = Number(process.env.BENCH_SERVERS ?? 20);
const RESCANS = Number(process.env.BENCH_RESCANS ?? 40);
const PICKUPS = Number(process.env.BENCH_PICKUPS ?? 15);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 3000);
const BASE_PORT = Number(process.env.BENCH_BASE_PORT ?? 27100);

const dir = mkdtempSync(join(tmpdir(), 'waggle-bench-discovery-'));
const children: ChildProcess[] = [];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function start(cmd: string, args: string[]): ChildProcess {
  const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  children.push(c);
  return c;
}

async function setup(): Promise<void> {
  const app = join(dir, 'app.py');
  writeFileSync(app, "import http.server, sys\nhttp.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), http.server.BaseHTTPRequestHandler).serve_forever()\n");
  for (let i = 0; i < IDLE; i++) start('sleep', ['3600']);
  for (let i = 0; i < SERVERS; i++) start('/usr/bin/python3', [app, String(BASE_PORT + i)]);
  await sleep(1500);
}

async function cpuOf(fn: () => Promise<void>): Promise<number> {
  const c0 = process.cpuUsage();
  await fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

async function measure(label: string, opts: DiscoveryOptions, pickupCmd: [string, string[]]): Promise<void> {
  const d = new Discovery({ excludeAgentChildren: false, ...opts });
  let added = 0;
  const addedAt = new Map<number, number>();
  d.on('added', (p) => {
    added++;
    addedAt.set(p.pid, performance.now());
  });
  const t0 = performance.now();
  await d.start();
  const readyMs = performance.now() - t0;
  const initialAdded = added;
  const cpu: number[] = [];
  for (let i = 0; i < RESCANS; i++) cpu.push(await cpuOf(() => d.rescan()));
  const interval = opts.rescanIntervalMs ?? (d.stats().kernelEvents ? 500 : 250);
  const pickups: number[] = [];
  for (let i = 0; i < PICKUPS; i++) {
    // From spawn, or from the moment the program says it listens (it prints a line).
    const c = start(pickupCmd[0], pickupCmd[1]);
    // spawn() returns once the child has exec'd (it can take 10+ ms on a busy machine).
    let readyAt = performance.now();
    let printed = false;
    c.stdout?.once('data', () => {
      readyAt = performance.now();
      printed = true;
    });
    const deadline = readyAt + 5000;
    while ((!addedAt.has(c.pid!) || (pickupCmd[0] !== 'sleep' && !printed)) && performance.now() < deadline) await sleep(1);
    pickups.push((addedAt.get(c.pid!) ?? NaN) - readyAt);
    c.kill('SIGKILL');
    await sleep(20);
  }
  const s = d.stats();
  d.close();
  const perRescan = median(cpu);
  console.log(
    `${label.padEnd(34)} ready ${readyMs.toFixed(0).padStart(5)} ms  selected ${String(initialAdded).padStart(4)}  ` +
      `rescan CPU ${perRescan.toFixed(2).padStart(6)} ms (${((perRescan / interval) * 100).toFixed(2)}% of a core @${interval} ms)  ` +
      `pick-up ${median(pickups).toFixed(1).padStart(6)} ms  fd reads ${s.fdReads}`,
  );
}

async function bpfCost(): Promise<void> {
  const d = new Discovery({ selectors: [{ exePath: '*/nonexistent' }], kernelEvents: 'on' });
  await d.start();
  const server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const stop = enableStats();
  const before = d.kernelProgramStats();
  for (let i = 0; i < CONNECTIONS; i++) {
    await new Promise<void>((resolve) => {
      const c = connect(port, '127.0.0.1');
      c.on('close', () => resolve());
      c.on('error', () => resolve());
      c.resume();
    });
  }
  for (let i = 0; i < 50; i++) {
    await new Promise<void>((resolve) => spawn('true', [], { stdio: 'ignore' }).on('exit', () => resolve()));
  }
  const after = d.kernelProgramStats();
  stop();
  d.close();
  server.close();
  console.log(`\nBPF programs (${CONNECTIONS} TCP connections, 50 fork+exec+exit):`);
  for (const a of after) {
    const b = before.find((x) => x.name === a.name)!;
    const runs = a.runCount - b.runCount;
    const ns = a.runTimeNs - b.runTimeNs;
    console.log(`  ${a.name.padEnd(18)} runs ${String(runs).padStart(7)}  ${runs ? (ns / runs).toFixed(0).padStart(5) : '    -'} ns/run  (${(runs / CONNECTIONS).toFixed(2)} runs per connection)`);
  }
}

async function main(): Promise<void> {
  console.log(`discovery bench: ${IDLE} idle processes + ${SERVERS} python servers (ports ${BASE_PORT}-${BASE_PORT + SERVERS - 1}), ${RESCANS} rescans, ${PICKUPS} pick-ups per mode\n`);
  await setup();
  const ports = `${BASE_PORT}-${BASE_PORT + SERVERS - 1}`;
  const pyListen = join(dir, 'late.py');
  writeFileSync(pyListen, `import socket, time\ns = socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\ns.bind(('127.0.0.1', ${BASE_PORT + SERVERS}))\ns.listen()\nprint('listening', flush=True)\ntime.sleep(60)\n`);
  for (const kernelEvents of ['on', 'off'] as const) {
    await measure(`watch-all, kernel ${kernelEvents}`, { kernelEvents }, ['sleep', ['60']]);
    await measure(`open_ports ${ports}, kernel ${kernelEvents}`, { kernelEvents, selectors: [{ openPorts: `${BASE_PORT}-${BASE_PORT + SERVERS}` }] }, ['/usr/bin/python3', [pyListen]]);
    await measure(`exe_path */sleep, kernel ${kernelEvents}`, { kernelEvents, selectors: [{ exePath: '*/sleep' }] }, ['sleep', ['60']]);
  }
  await bpfCost();
  console.log('\nProvisional: other engineers share these 2 cores. Re-run: npm run build && node dist/bench/discovery.js');
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const c of children) {
      try {
        process.kill(-c.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
