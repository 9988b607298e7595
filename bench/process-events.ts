// Process events at scale (issue 15): `waggle events --events-file FILE` as a
// user runs it (a child process, stdout to /dev/null), under an exec storm of a
// copied /bin/true from a small C generator (bench/exec-storm.c, fork + execve,
// paced). Each exec is three events (fork, exec, exit), so a rate of R events/s
// is R/3 executions/s; "max" is flat out. Per run: events/s, the agent's CPU per
// event (utime+stime from /proc/PID/stat over the storm and the drain, divided
// by the events written meanwhile), kernel losses (ring buffer full), user-space
// losses (events not written, exec events missing for the copied binary), peak
// RSS. Before the measured window the agent sees --warmup-execs executions
// (default 3000, at 2000/s; 0 for a cold agent). With --baseline DIR the same runs are made, interleaved, with the agent
// of another checkout. Prints medians; never fails.
//
//   npm run bench:process-events [-- --rates 1000,5000,20000,max --seconds 5 --rounds 3 --baseline /path/to/checkout]
//     --warmup-execs N (default 3000; 0: a cold agent)   --agent-args="--forks needed"   --cpu-prof DIR
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, createReadStream, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    rates: { type: 'string', default: '1000,5000,20000,max' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    'max-execs': { type: 'string', default: '10000' },
    inflight: { type: 'string', default: '16' },
    /** Executions before the measured window, in the same agent (a long-running agent's code is compiled and warm). */
    'warmup-execs': { type: 'string', default: '3000' },
    baseline: { type: 'string' },
    'agent-args': { type: 'string', default: '' },
    'cpu-prof': { type: 'string' },
  },
});
const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

interface Variant {
  name: string;
  root: string;
}
const variants: Variant[] = [{ name: 'this', root: ROOT }];
if (args.baseline) variants.push({ name: 'baseline', root: args.baseline });

interface Run {
  variant: string;
  rate: string;
  execs: number;
  stormS: number;
  events: number;
  eventsPerS: number;
  cpuUsPerEvent: number;
  /** Share of the agent's CPU spent in the kernel (stime). */
  sysShare: number;
  kernelLost: number;
  userLost: number;
  execFound: number;
  rssMiB: number;
}

const work = mkdtempSync(join(tmpdir(), 'waggle-bench-procev-'));
const storm = join(work, 'exec-storm');
const cc = spawnSync('gcc', ['-O2', '-o', storm, join(ROOT, 'bench', 'exec-storm.c')], { encoding: 'utf8' });
if (cc.status !== 0) throw new Error(`gcc: ${cc.stderr}`);
const bin = join(work, 'wg-storm-true');
copyFileSync('/bin/true', bin);
spawnSync('chmod', ['755', bin]);

/** [utime, stime] of the whole process (fields 14 and 15), in clock ticks. */
const cpuTicks = (pid: number): [number, number] => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(f[11]), Number(f[12])];
};
const rssMiB = (pid: number): number => Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fileSize = (p: string) => {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
};

async function startAgent(v: Variant, file: string, tag: string): Promise<{ child: ChildProcess; stderr: () => string }> {
  // Profile the storm, not start-up (bench/late-cpu-profile.ts, from 800 ms on).
  const nodeArgs = args['cpu-prof'] ? ['--import', join(ROOT, 'dist', 'bench', 'late-cpu-profile.js')] : [];
  const env = args['cpu-prof'] ? { ...process.env, BENCH_PROFILE_DIR: join(args['cpu-prof'], `${v.name}-${tag}`), BENCH_PROFILE_DELAY_MS: '800' } : process.env;
  const extra = args['agent-args'] ? args['agent-args'].split(' ').filter(Boolean) : [];
  const out = openSync('/dev/null', 'w');
  const child = spawn(process.execPath, [...nodeArgs, join(v.root, 'bin', 'waggle.js'), 'events', '--events-file', file, ...extra], { stdio: ['ignore', out, 'pipe'], env });
  closeSync(out);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const until = Date.now() + 30_000;
  while (!err.includes('watching')) {
    if (child.exitCode !== null || Date.now() > until) throw new Error(`agent did not start: ${err}`);
    await sleep(50);
  }
  return { child, stderr: () => err };
}

/** Events in [from, end) of the file, and exec events of the storm's binary among them. */
async function countEvents(file: string, from: number): Promise<{ events: number; execs: number }> {
  let events = 0;
  let execs = 0;
  const rl = createInterface({ input: createReadStream(file, { start: from }), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line) continue;
    events++;
    if (line.includes('"process_exec"') && line.includes(bin)) {
      const e = JSON.parse(line) as { type: string; process: { binary: string } };
      if (e.type === 'process_exec' && e.process.binary === bin) execs++;
    }
  }
  return { events, execs };
}

async function once(v: Variant, rate: string, tag: string): Promise<Run> {
  const file = join(work, `events-${v.name}-${tag}.jsonl`);
  const agent = await startAgent(v, file, tag);
  const pid = agent.child.pid!;
  await sleep(500);
  const warmup = Number(args['warmup-execs']);
  if (warmup > 0) await new Promise((r) => spawn(storm, [bin, String(warmup), '2000', String(args.inflight)], { stdio: 'ignore' }).on('exit', r));
  await sleep(1000);
  const flat = rate === 'max';
  const execs = flat ? Number(args['max-execs']) : Math.round((Number(rate) / 3) * SECONDS);
  const execRate = flat ? 0 : Number(rate) / 3;
  const size0 = fileSize(file);
  const cpu0 = cpuTicks(pid);
  let rss = rssMiB(pid);
  const sampler = setInterval(() => (rss = Math.max(rss, rssMiB(pid))), 200);
  const t0 = process.hrtime.bigint();
  const gen = spawn(storm, [bin, String(execs), String(execRate), String(args.inflight)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let genOut = '';
  gen.stdout!.on('data', (d: Buffer) => (genOut += d.toString()));
  await new Promise((r) => gen.on('exit', r));
  const stormS = Number(process.hrtime.bigint() - t0) / 1e9;
  // Drain: until the file stops growing for 500 ms (the agent reads every 100 ms).
  let last = -1;
  let stableSince = Date.now();
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    const s = fileSize(file);
    if (s !== last) {
      last = s;
      stableSince = Date.now();
    } else if (Date.now() - stableSince > 500) break;
    await sleep(100);
  }
  const cpu1 = cpuTicks(pid);
  clearInterval(sampler);
  agent.child.kill('SIGINT');
  await new Promise((r) => agent.child.on('exit', r));
  const summary = agent.stderr();
  const kernelLost = Number(/(\d+) lost in the kernel/.exec(summary)?.[1] ?? NaN);
  const dropped = Number(/\((\d+) dropped\)/.exec(summary)?.[1] ?? 0) + Number(/(\d+) not printed/.exec(summary)?.[1] ?? 0);
  const failed = Number(genOut.trim().split(' ')[2] ?? 0);
  // Events written during the storm and its drain; exec events of the storm's binary over the whole file.
  const { events } = await countEvents(file, size0);
  const execFound = (await countEvents(file, 0)).execs - warmup;
  rmSync(file, { force: true });
  return {
    variant: v.name,
    rate,
    execs,
    stormS,
    events,
    eventsPerS: (execs * 3) / stormS,
    cpuUsPerEvent: (((cpu1[0] + cpu1[1] - cpu0[0] - cpu0[1]) / CLK_TCK) * 1e6) / Math.max(1, events),
    sysShare: (cpu1[1] - cpu0[1]) / Math.max(1, cpu1[0] + cpu1[1] - cpu0[0] - cpu0[1]),
    kernelLost,
    userLost: dropped + Math.max(0, execs - failed - execFound),
    execFound,
    rssMiB: rss,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const rates = args.rates.split(',').map((r) => r.trim());
console.log(
  `process events: waggle events --events-file, exec storm of a copied /bin/true (3 events per exec), ${SECONDS}s per fixed rate, ${args['max-execs']} execs flat out, ${args['warmup-execs']} execs of warm-up, ` +
    `at most ${args.inflight} children in flight, ${ROUNDS} rounds, variants interleaved: ${variants.map((v) => `${v.name}=${v.root}`).join(', ')}`,
);
const runs: Run[] = [];
for (let round = 0; round < ROUNDS; round++) {
  for (const rate of rates) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      const r = await once(v, rate, `${rate}-${round}`);
      runs.push(r);
      console.log(
        `  round ${round + 1} ${v.name.padEnd(8)} rate ${rate.padStart(5)}: ${r.execs} execs in ${r.stormS.toFixed(2)}s (${Math.round(r.eventsPerS)} ev/s), ` +
          `${r.events} events written, ${r.cpuUsPerEvent.toFixed(1)} µs/event (${Math.round(r.sysShare * 100)}% sys), lost kernel ${r.kernelLost} user ${r.userLost}, exec events ${r.execFound}/${r.execs}, RSS ${r.rssMiB.toFixed(0)} MiB`,
      );
    }
  }
}
console.log('\nmedians            rate    events/s   µs CPU/event   kernel lost   user lost   exec events   peak RSS');
for (const rate of rates) {
  const byVariant = new Map<string, number>();
  for (const v of variants) {
    const rs = runs.filter((r) => r.rate === rate && r.variant === v.name);
    const us = median(rs.map((r) => r.cpuUsPerEvent));
    byVariant.set(v.name, us);
    console.log(
      `  ${v.name.padEnd(10)} ${rate.padStart(10)}  ${String(Math.round(median(rs.map((r) => r.eventsPerS)))).padStart(9)}   ${us.toFixed(1).padStart(12)}   ${String(median(rs.map((r) => r.kernelLost))).padStart(11)}   ${String(median(rs.map((r) => r.userLost))).padStart(9)}   ${rs.map((r) => `${r.execFound}/${r.execs}`).join(' ').padStart(11)}   ${median(rs.map((r) => r.rssMiB)).toFixed(0).padStart(5)} MiB`,
    );
  }
  if (byVariant.has('baseline')) console.log(`  ratio this/baseline at ${rate}: ${(byVariant.get('this')! / byVariant.get('baseline')!).toFixed(2)}`);
}
rmSync(work, { recursive: true, force: true });
