// What traceparent injection costs (bpf/capture/traceparent.bpf.c), in
// interleaved rounds against an unwatched Node hello-world, wrk -t1 -c32 saturated:
//   capture-idle  the capture loaded, watching nothing (wrk unwatched)
//   inject-idle   the same plus injection: every new outgoing connection of the
//                 host is in the sockhash, so each of wrk's sends runs the sk_msg
//                 program, which finds wrk unwatched and passes
//   capture-all   the capture watching every process but the server (wrk is a
//                 watched client: its exchanges are captured)
//   inject-all    the same plus injection: each of wrk's requests gets a
//                 traceparent, reported on the ring buffer
// Prints requests/s (medians), the ratios inject-idle/capture-idle and
// inject-all/capture-all, and the sk_msg program's ns per run (bpf_stats). Never fails.
//
//   npm run bench:traceparent   (BENCH_ROUNDS=3, BENCH_SECONDS=5)
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { SocketCapture } from '../src/capture/index.js';
import { enableStats } from '../src/ebpf/index.js';
import { sleep, startNode } from './http-targets.js';

type Mode = 'capture-idle' | 'inject-idle' | 'capture-all' | 'inject-all';
const MODES: Mode[] = ['capture-idle', 'inject-idle', 'capture-all', 'inject-all'];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const run = promisify(execFile);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** run_time_ns and run_cnt of the loaded programs whose (15-character) kernel name starts so (bpftool). */
function programStats(prefix: string): { ns: number; runs: number } {
  const all = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' })) as Array<{ name?: string; run_time_ns?: number; run_cnt?: number }>;
  let ns = 0;
  let runs = 0;
  for (const p of all) if (p.name?.startsWith(prefix)) (ns += p.run_time_ns ?? 0), (runs += p.run_cnt ?? 0);
  return { ns, runs };
}

async function main(): Promise<void> {
  const stopStats = enableStats();
  const server = await startNode();
  const rps: Record<Mode, number[]> = { 'capture-idle': [], 'inject-idle': [], 'capture-all': [], 'inject-all': [] };
  const skMsg: Record<Mode, number[]> = { 'capture-idle': [], 'inject-idle': [], 'capture-all': [], 'inject-all': [] };
  let injected = 0;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of MODES) {
        const inject = mode.startsWith('inject');
        const capture = await SocketCapture.start({ onExchange: () => undefined, injectTraceparent: inject, reuseExchange: true });
        try {
          if (inject && capture.injectStatus.state !== 'up') throw new Error(`injection is off: ${JSON.stringify(capture.injectStatus)}`);
          if (mode.endsWith('-all')) capture.watchAllExcept(server.pids());
          const before = programStats('inject_tracepar');
          // Asynchronous: the ring buffer's reader keeps reading while wrk runs.
          const { stdout } = await run('wrk', ['-t1', '-c32', `-d${SECONDS}s`, server.url]);
          const after = programStats('inject_tracepar');
          const r = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)![1]);
          rps[mode].push(r);
          if (after.runs > before.runs) skMsg[mode].push((after.ns - before.ns) / (after.runs - before.runs));
          if (mode === 'inject-all') injected += capture.injectStats()?.injected ?? 0;
          process.stdout.write(`round ${round + 1} ${mode}: ${r.toFixed(0)} req/s${inject ? `, sk_msg ${skMsg[mode].at(-1)?.toFixed(0) ?? '?'} ns/run` : ''}\n`);
        } finally {
          capture.close();
        }
        await sleep(500);
      }
    }
  } finally {
    server.stop();
    stopStats();
  }
  const m = (mode: Mode) => median(rps[mode]);
  process.stdout.write('\nmedians (req/s):\n');
  for (const mode of MODES) process.stdout.write(`  ${mode.padEnd(13)} ${m(mode).toFixed(0)}${skMsg[mode].length ? `  (sk_msg ${median(skMsg[mode]).toFixed(0)} ns/run)` : ''}\n`);
  process.stdout.write(`unwatched sender, injection on / off: ${(m('inject-idle') / m('capture-idle')).toFixed(3)}\n`);
  process.stdout.write(`watched client, injection on / off:   ${(m('inject-all') / m('capture-all')).toFixed(3)}\n`);
  process.stdout.write(`headers written in the inject-all rounds: ${injected}\n`);
}

await main();
