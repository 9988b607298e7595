// Kernel cost of the fork/exit programs per process: discovery's and capture's
// as separate objects, then shared as the agent runs them (discovery's object
// keeps capture's pid maps and capture's cap_fork/cap_exit are detached).
// Forks and exits /bin/true N times per variant, with kernel BPF run-time
// statistics on, and prints each program's runs and ns per run, and the sum
// per process. Needs root. Prints; never fails.
//
//   npm run bench:lifecycle [-- --processes 1500 --rounds 2]
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { SocketCapture } from '../src/capture/index.js';
import { Discovery } from '../src/discovery/index.js';
import { enableStats } from '../src/ebpf/index.js';

const { values: args } = parseArgs({ options: { processes: { type: 'string', default: '1500' }, rounds: { type: 'string', default: '2' } } });
const N = Number(args.processes);

type Runs = Record<string, { runs: number; ns: number }>;

async function measure(shared: boolean): Promise<void> {
  const cap = await SocketCapture.start({ onExchange: () => {} });
  // A selector matching nothing: forks and exits run the programs, nothing is watched.
  const discovery = new Discovery({ selectors: [{ pids: [0x3fffffff] }], kernelEvents: 'on', rescanIntervalMs: 60_000 });
  try {
    if (shared) {
      const maps = cap.lifecycleMaps();
      discovery.shareKernelMaps({ tracked: maps.watched, excluded: maps.excluded });
    }
    await discovery.start();
    if (shared) cap.handOverLifecycle();
    const read = (): Runs => {
      const out: Runs = {};
      for (const p of discovery.kernelProgramStats()) if (p.name === 'discovery_fork' || p.name === 'discovery_exit') out[p.name] = { runs: p.runCount, ns: p.runTimeNs };
      for (const name of ['cap_fork', 'cap_exit']) {
        const i = cap.collection.program(name).info();
        out[name] = { runs: i.runCount, ns: i.runTimeNs };
      }
      return out;
    };
    const stop = enableStats();
    const before = read();
    for (let i = 0; i < N; i++) spawnSync('/bin/true');
    const after = read();
    stop();
    let total = 0;
    const parts: string[] = [];
    for (const [name, a] of Object.entries(after)) {
      const runs = a.runs - before[name]!.runs;
      const ns = a.ns - before[name]!.ns;
      total += ns;
      parts.push(`${name} ${runs} runs${runs > 0 ? ` ${(ns / runs).toFixed(0)} ns/run` : ''}`);
    }
    console.log(`${shared ? 'shared  ' : 'separate'}  ${(total / N).toFixed(0).padStart(5)} ns of fork+exit programs per process   ${parts.join(', ')}`);
  } finally {
    cap.close();
    discovery.close();
  }
}

console.log(`fork/exit programs of discovery and capture, ${N} processes (/bin/true) per run`);
for (let r = 0; r < Number(args.rounds); r++) {
  await measure(false);
  await measure(true);
}
