// Cost of security observability on file-heavy work: a C project built with
// make -j2 (every compiler process opens hundreds of headers) and a large
// directory tree read file by file, each run without the agent, with process
// events only, and with the default policy pack. Runs are interleaved (the
// order rotates every round) and medians are compared. Prints figures; never
// fails. The agent lives in this process, as it would in `waggle run`, so its
// user-space work competes with the workload for the same 2 cores.
//
//   npm run bench:security [-- --rounds 7 --files 160 --tree /usr/share --workload compile|tree|all]
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { enableStats } from '../src/ebpf/index.js';
import { SecurityAgent, type SecurityStats, defaultPolicyDir } from '../src/security/index.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    files: { type: 'string', default: '120' },
    tree: { type: 'string', default: '/usr/share' },
    'tree-files': { type: 'string', default: '30000' },
    workload: { type: 'string', default: 'all' },
    'syscall-loops': { type: 'string', default: '200000' },
    'bpf-stats': { type: 'boolean', default: false },
  },
});
const ROUNDS = Number(args.rounds);

type Mode = 'baseline' | 'process-events' | 'default-pack';
const MODES: Mode[] = ['baseline', 'process-events', 'default-pack'];

interface Run {
  mode: Mode;
  /** syscalls workload: ns per getppid and per open+close. */
  probe?: [number, number];
  wallMs: number;
  /** CPU time of the workload's processes (BPF programs run in them, inside their system calls). */
  workCpuMs: number;
  agentCpuMs: number;
  /** Time spent in the agent's BPF programs (with --bpf-stats). */
  bpfMs: number;
  events: number;
  lost: number;
  stats?: SecurityStats;
}

/** Runs a shell command; resolves with the CPU time (user + system, ms) its process tree used. */
function sh(cmd: string, cwd?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    // dash's `times` prints the shell's, then its children's, user and system time.
    const c = spawn('/bin/sh', ['-c', `${cmd} >/dev/null && times`], { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.on('error', reject);
    c.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${cmd}: exit ${code}`));
      const line = out.trim().split('\n')[1] ?? '';
      const ms = [...line.matchAll(/(\d+)m([\d.]+)s/g)].reduce((a, m) => a + (Number(m[1]) * 60 + Number(m[2])) * 1000, 0);
      resolve(ms);
    });
  });
}

/** A C project whose compile units include many system headers, like real code. */
function makeProject(files: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'waggle-bench-c-'));
  const headers = ['stdio.h', 'stdlib.h', 'string.h', 'unistd.h', 'errno.h', 'fcntl.h', 'time.h', 'math.h', 'signal.h', 'pthread.h', 'sys/types.h', 'sys/stat.h', 'sys/socket.h', 'netinet/in.h', 'arpa/inet.h', 'ctype.h', 'limits.h', 'stdint.h', 'inttypes.h', 'assert.h'];
  mkdirSync(join(dir, 'include'));
  for (let i = 0; i < 10; i++) writeFileSync(join(dir, 'include', `mod${i}.h`), `#pragma once\n#include <stddef.h>\nint mod${i}_fn(int x);\nstruct mod${i} { int a[${i + 1}]; size_t n; };\n`);
  for (let i = 0; i < files; i++) {
    const local = Array.from({ length: 10 }, (_, k) => `#include "mod${k}.h"`).join('\n');
    const body = `${headers.map((h) => `#include <${h}>`).join('\n')}\n${local}\nstatic double f${i}(double x) { return sin(x) * ${i}.0 + strlen("${'x'.repeat(i % 40)}"); }\nint unit_${i}(int argc) { char buf[64]; snprintf(buf, sizeof buf, "%d %f", argc, f${i}(argc)); return (int)strlen(buf) + mod${i % 10}_fn(argc); }\n`;
    writeFileSync(join(dir, `u${i}.c`), body);
  }
  for (let i = 0; i < 10; i++) writeFileSync(join(dir, `mod${i}.c`), `#include "mod${i}.h"\nint mod${i}_fn(int x) { return x + ${i}; }\n`);
  writeFileSync(join(dir, 'Makefile'), 'SRC := $(wildcard *.c)\nOBJ := $(SRC:.c=.o)\nCFLAGS := -O1 -Iinclude\nall: $(OBJ)\n%.o: %.c\n\t$(CC) $(CFLAGS) -c $< -o $@\nclean:\n\trm -f $(OBJ)\n');
  return dir;
}

/** The first `n` regular files under `root`, as a list file for xargs. */
function treeList(root: string, n: number): string {
  const files: string[] = [];
  const walk = (d: string) => {
    if (files.length >= n) return;
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (files.length >= n) return;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) files.push(p);
    }
  };
  walk(root);
  const list = join(mkdtempSync(join(tmpdir(), 'waggle-bench-tree-')), 'files');
  writeFileSync(list, files.join('\0'));
  return list;
}

const workloads: Record<string, { describe: string; prepare: () => Promise<unknown>; run: () => Promise<number>; cleanup: () => void }> = {};

if (args.workload === 'all' || args.workload === 'compile') {
  const dir = makeProject(Number(args.files));
  workloads.compile = {
    describe: `make -j2: ${args.files} C files, each including 20 system and 10 project headers`,
    prepare: () => sh('make -s clean', dir),
    run: () => sh('make -s -j2', dir),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
/** A C program timing `loops` getppid() and open()+close() calls; prints ns per call of each (best of 5). */
function syscallProbe(): string {
  const dir = mkdtempSync(join(tmpdir(), 'waggle-bench-sys-'));
  writeFileSync(
    join(dir, 'probe.c'),
    `#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }
int main(int argc, char **argv) {
  long n = atol(argv[1]);
  double best_ppid = 1e18, best_open = 1e18;
  for (int r = 0; r < 5; r++) {
    double t0 = now();
    for (long i = 0; i < n; i++) getppid();
    double t1 = now();
    for (long i = 0; i < n / 4; i++) close(open("/usr/share/perl5/Debian/DebConf/Client/ConfModule.pm", O_RDONLY));
    double t2 = now();
    if ((t1 - t0) / n < best_ppid) best_ppid = (t1 - t0) / n;
    if ((t2 - t1) / (n / 4) < best_open) best_open = (t2 - t1) / (n / 4);
  }
  fprintf(stderr, "%.1f %.1f\\n", best_ppid, best_open);
  return 0;
}
`,
  );
  spawnSync('cc', ['-O2', '-o', join(dir, 'probe'), join(dir, 'probe.c')], { stdio: 'inherit' });
  return dir;
}

let probeResult = '';
if (args.workload === 'all' || args.workload === 'syscalls') {
  const dir = syscallProbe();
  workloads.syscalls = {
    describe: `${args['syscall-loops']} getppid() and a quarter as many open()+close(), best of 5 (ns per call)`,
    prepare: async () => undefined,
    run: () =>
      new Promise((resolve) => {
        const r = spawnSync(join(dir, 'probe'), [String(args['syscall-loops'])], { encoding: 'utf8' });
        probeResult = r.stderr.trim();
        resolve(0);
      }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

if (args.workload === 'all' || args.workload === 'tree') {
  const list = treeList(String(args.tree), Number(args['tree-files']));
  workloads.tree = {
    describe: `read ${args['tree-files']} files under ${args.tree} (xargs cat), page cache warm`,
    prepare: async () => undefined,
    run: () => sh(`xargs -0 -n 500 cat < ${list} > /dev/null`),
    cleanup: () => rmSync(join(list, '..'), { recursive: true, force: true }),
  };
}

async function once(mode: Mode, w: (typeof workloads)[string]): Promise<Run> {
  await w.prepare();
  let agent: SecurityAgent | undefined;
  let events = 0;
  if (mode !== 'baseline') {
    agent = await SecurityAgent.start({
      policyPaths: mode === 'default-pack' ? [defaultPolicyDir()] : [],
      onEvent: () => events++,
      onWarning: () => undefined,
    });
  }
  const bpfTime = () => (agent?.programStats() ?? []).reduce((a, p) => a + p.runTimeNs, 0);
  const bpf0 = bpfTime();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const workCpuMs = await w.run();
  agent?.flush();
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  const stats = agent?.stats();
  const bpfMs = (bpfTime() - bpf0) / 1e6;
  await agent?.close();
  const lost = stats ? stats.ringBuffer.kernelDrops + stats.ringBuffer.lostNoMemory + stats.lifecycle.tableFull : 0;
  const probe = probeResult ? (probeResult.split(' ').map(Number) as [number, number]) : undefined;
  probeResult = '';
  return { mode, ...(probe ? { probe } : {}), wallMs, workCpuMs, agentCpuMs: agent ? (cpu.user + cpu.system) / 1000 : 0, bpfMs, events, lost, ...(stats ? { stats } : {}) };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const stopStats = args['bpf-stats'] ? enableStats() : undefined;
  console.log(`security overhead benchmark: ${ROUNDS} interleaved rounds of ${MODES.join(' / ')}${stopStats ? ' (BPF run-time statistics ON: they add their own cost)' : ''}`);
  for (const [name, w] of Object.entries(workloads)) {
    console.log(`\n${name}: ${w.describe}`);
    await once('baseline', w); // warm the page cache and the compiler
    const runs: Run[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const order = MODES.map((_, i) => MODES[(i + r) % MODES.length]!);
      for (const mode of order) runs.push(await once(mode, w));
    }
    const of = (mode: Mode) => runs.filter((r) => r.mode === mode);
    if (name === 'syscalls') {
      const base = of('baseline');
      const b0 = Math.min(...base.map((r) => r.probe![0]));
      const b1 = Math.min(...base.map((r) => r.probe![1]));
      for (const mode of MODES) {
        const rs = of(mode);
        const p0 = Math.min(...rs.map((r) => r.probe![0]));
        const p1 = Math.min(...rs.map((r) => r.probe![1]));
        const add = mode === 'baseline' ? '' : `   added: getppid +${(p0 - b0).toFixed(1)} ns, open+close +${(p1 - b1).toFixed(1)} ns`;
        console.log(`  ${mode.padEnd(15)}  getppid ${p0.toFixed(1)} ns   open+close ${p1.toFixed(1)} ns${add}`);
      }
      w.cleanup();
      continue;
    }
    const baseWall = median(of('baseline').map((r) => r.wallMs));
    const baseCpu = median(of('baseline').map((r) => r.workCpuMs));
    const pct = (x: number, base: number) => `${x >= base ? '+' : ''}${(((x - base) / base) * 100).toFixed(2)}%`;
    // Each round ran every mode back to back: the ratio within a round cancels slow drifts of the machine.
    const paired = (mode: Mode, key: (r: Run) => number) => {
      const ratios: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const inRound = runs.slice(r * MODES.length, (r + 1) * MODES.length);
        const b = inRound.find((x) => x.mode === 'baseline')!;
        const m = inRound.find((x) => x.mode === mode)!;
        ratios.push(key(m) / key(b));
      }
      return median(ratios);
    };
    console.log('  mode             wall median (min–max)        CPU: workload + agent = total   vs baseline: wall    CPU     events  lost');
    for (const mode of MODES) {
      const rs = of(mode);
      const wall = median(rs.map((r) => r.wallMs));
      const work = median(rs.map((r) => r.workCpuMs));
      const agentCpu = median(rs.map((r) => r.agentCpuMs));
      const spread = `(${Math.min(...rs.map((r) => r.wallMs)).toFixed(0)}–${Math.max(...rs.map((r) => r.wallMs)).toFixed(0)})`;
      const vs = mode === 'baseline' ? ''.padEnd(16) : `${pct(wall, baseWall).padStart(8)} ${pct(work + agentCpu, baseCpu).padStart(8)}`;
      const ev = mode === 'baseline' ? '' : `  ${String(median(rs.map((r) => r.events))).padStart(6)}  ${rs.reduce((a, r) => a + r.lost, 0)}`;
      console.log(`  ${mode.padEnd(15)}  ${wall.toFixed(0).padStart(7)} ms ${spread.padEnd(17)}  ${work.toFixed(0).padStart(7)} + ${agentCpu.toFixed(0).padStart(4)} = ${(work + agentCpu).toFixed(0).padStart(7)} ms   ${vs}${ev}`);
    }
    for (const mode of ['process-events', 'default-pack'] as const) {
      const wallRatio = paired(mode, (r) => r.wallMs);
      const cpuRatio = paired(mode, (r) => r.workCpuMs + r.agentCpuMs);
      const minRatio = Math.min(...of(mode).map((r) => r.workCpuMs + r.agentCpuMs)) / Math.min(...of('baseline').map((r) => r.workCpuMs));
      console.log(`  ${mode}: per-round paired median: wall ${pct(wallRatio, 1)}, CPU ${pct(cpuRatio, 1)}; best-of CPU ${pct(minRatio, 1)}`);
    }
    if (stopStats) {
      for (const mode of ['process-events', 'default-pack'] as const) {
        const rs = of(mode);
        const bpf = median(rs.map((r) => r.bpfMs));
        console.log(`  ${mode}: BPF programs ran ${bpf.toFixed(1)} ms per run = ${((bpf / baseCpu) * 100).toFixed(2)}% of the workload's CPU time`);
      }
    }
    const last = runs.filter((r) => r.mode === 'default-pack').at(-1)?.stats;
    if (last) {
      const f = last.hooks.file_open;
      console.log(`  default pack, last run: file_open seen ${f.runs}, filtered in kernel ${f.filtered}, sent ${f.sent}, rate-limited ${f.rateLimited}; execs ${last.lifecycle.exec}, forks ${last.lifecycle.fork}`);
      const fired = last.policies.filter((p) => p.kernel.matched > 0).map((p) => `${p.name} ${p.kernel.matched}`);
      if (fired.length) console.log(`  policies that matched: ${fired.join(', ')}`);
    }
    w.cleanup();
  }
  stopStats?.();
  console.log('\nFigures are provisional: the 2 cores are shared with other work. Re-run: npm run bench:security -- --rounds 9');
}

await main();
