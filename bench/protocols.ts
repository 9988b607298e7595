// Protocol overhead of the real agent (issue 9's benchmark): redis-benchmark
// (-P 1 and -P 16, SET) against redis-server and pgbench select-only against
// PostgreSQL, in interleaved rounds without and with `waggle run` (default
// configuration, no selector: every process, so client and server sides are
// both parsed). Per workload: throughput ratio (medians), the agent's CPU per
// operation it emitted (all threads) and per benchmark command, operations per
// command (2 when both sides are parsed), and what was lost: kernel ring drops,
// chunks the parsers never got, chunks skipped while undecided. Prints figures;
// never fails.
//
//   npm run bench:protocols   (BENCH_ROUNDS=3, BENCH_SECONDS=5, BENCH_WORKLOADS=redis-p1,redis-p16,pgbench)
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { freePort, sleep } from './http-targets.js';
import { processCpu, sumSamples } from './observed-agent.js';
import { type ProtocolServer, startPostgres, startRedis } from './protocol-servers.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WORKLOADS = (process.env.BENCH_WORKLOADS ?? 'redis-p1,redis-p16,pgbench').split(',');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const BIN = join(fileURLToPath(import.meta.url), '..', '..', '..', 'bin', 'waggle.js');

interface Workload {
  name: string;
  server: ProtocolServer;
  /** Runs the client for about SECONDS; returns commands done and their rate. */
  run(): { commands: number; perSecond: number };
}

function redisWorkload(name: string, server: ProtocolServer, pipeline: number): Workload {
  // Sized from a first run so that each run lasts about SECONDS.
  let n = 50_000 * pipeline;
  return {
    name,
    server,
    run() {
      const out = execFileSync('redis-benchmark', ['-p', String(server.port), '-n', String(n), '-P', String(pipeline), '-t', 'set', '-c', '8', '--csv'], { encoding: 'utf8' });
      const row = out.split('\n').find((l) => l.startsWith('"SET"'));
      const perSecond = Number(row?.split(',')[1]?.replace(/"/g, ''));
      const done = n;
      n = Math.max(1000, Math.round((perSecond * SECONDS) / 1000) * 1000);
      return { commands: done, perSecond };
    },
  };
}

function pgbenchWorkload(server: ProtocolServer): Workload {
  return {
    name: 'pgbench -S',
    server,
    run() {
      const out = execFileSync('pgbench', ['-h', '127.0.0.1', '-p', String(server.port), '-U', 'postgres', '-S', '-T', String(SECONDS), '-c', '4', '-j', '2', 'postgres'], { encoding: 'utf8' });
      const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1]);
      const done = Number(/number of transactions actually processed: (\d+)/.exec(out)?.[1]);
      return { commands: done, perSecond: tps };
    },
  };
}

class Agent {
  private constructor(
    readonly pid: number,
    private readonly base: string,
    private readonly stopper: () => Promise<void>,
  ) {}

  static async start(): Promise<Agent> {
    const listen = await freePort();
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_') && !k.startsWith('WAGGLE_')));
    const child = spawn(process.execPath, [BIN, 'run', '--listen', `127.0.0.1:${listen}`, '--log-level', 'warn'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    const base = `http://127.0.0.1:${listen}`;
    const stop = async () => {
      child.kill('SIGTERM');
      await Promise.race([new Promise((r) => child.once('exit', r)), sleep(15_000).then(() => child.kill('SIGKILL'))]);
    };
    for (const deadline = Date.now() + 60_000; ; await sleep(100)) {
      if (child.exitCode !== null) throw new Error(`waggle run exited with ${child.exitCode}`);
      if (Date.now() > deadline) {
        await stop();
        throw new Error('waggle run not ready after 60 s');
      }
      const ready = await fetch(`${base}/readyz`).then((r) => r.status === 200, () => false);
      if (ready) break;
    }
    return new Agent(child.pid!, base, stop);
  }

  async counters() {
    const m = sumSamples(await (await fetch(`${this.base}/metrics`)).text());
    const get = (k: string) => m.get(k) ?? 0;
    return {
      operations: get('waggle_protocol_operations_total'),
      lost: get('waggle_stream_records_dropped_kernel_total') + get('waggle_protocol_chunks_lost_total') + get('waggle_stream_undecided_skipped_total'),
      unparsed: get('waggle_protocol_unparsed_total'),
    };
  }

  stop(): Promise<void> {
    return this.stopper();
  }
}

interface Row {
  off: number[];
  on: number[];
  cpuPerOp: number[];
  cpuPerCommand: number[];
  opsPerCommand: number[];
  lost: number;
  unparsed: number;
}

async function main(): Promise<void> {
  const servers: ProtocolServer[] = [];
  const workloads: Workload[] = [];
  try {
    if (WORKLOADS.some((w) => w.startsWith('redis'))) {
      const redis = await startRedis();
      servers.push(redis);
      if (WORKLOADS.includes('redis-p1')) workloads.push(redisWorkload('redis-benchmark -P 1 SET', redis, 1));
      if (WORKLOADS.includes('redis-p16')) workloads.push(redisWorkload('redis-benchmark -P 16 SET', redis, 16));
    }
    if (WORKLOADS.includes('pgbench')) {
      const pg = await startPostgres();
      servers.push(pg);
      workloads.push(pgbenchWorkload(pg));
    }
    const rows = new Map<string, Row>(workloads.map((w) => [w.name, { off: [], on: [], cpuPerOp: [], cpuPerCommand: [], opsPerCommand: [], lost: 0, unparsed: 0 }]));
    for (const w of workloads) w.run(); // warm-up, and sizes the redis runs
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of round % 2 === 0 ? ['off', 'agent'] : ['agent', 'off']) {
        const agent = mode === 'agent' ? await Agent.start() : undefined;
        try {
          for (const w of workloads) {
            const row = rows.get(w.name)!;
            const before = agent && { cpu: processCpu(agent.pid).ns, c: await agent.counters() };
            const r = w.run();
            (mode === 'off' ? row.off : row.on).push(r.perSecond);
            if (agent && before) {
              await sleep(400); // the capture's flush interval: records below the wakeup threshold arrive
              const after = await agent.counters();
              const cpu = processCpu(agent.pid).ns - before.cpu;
              const ops = after.operations - before.c.operations;
              row.cpuPerOp.push(cpu / 1000 / Math.max(1, ops));
              row.cpuPerCommand.push(cpu / 1000 / r.commands);
              row.opsPerCommand.push(ops / r.commands);
              row.lost += after.lost - before.c.lost;
              row.unparsed += after.unparsed - before.c.unparsed;
            }
          }
        } finally {
          await agent?.stop();
        }
      }
    }
    console.log(`\nprotocols: ${ROUNDS} interleaved rounds of ~${SECONDS} s, medians`);
    console.log('workload                      off/s      agent/s   ratio  agent µs/op  µs/command  ops/command  lost  unparsed');
    for (const [name, r] of rows) {
      const off = median(r.off);
      const on = median(r.on);
      console.log(
        `${name.padEnd(28)} ${off.toFixed(0).padStart(8)} ${on.toFixed(0).padStart(10)}   ${(on / off).toFixed(3)}  ${median(r.cpuPerOp).toFixed(2).padStart(11)}  ${median(r.cpuPerCommand).toFixed(2).padStart(10)}  ${median(r.opsPerCommand).toFixed(2).padStart(11)}  ${String(r.lost).padStart(4)}  ${String(r.unparsed).padStart(8)}`,
      );
    }
  } finally {
    for (const s of servers) await s.stop();
  }
}

await main();
