// The capture-only side of bench/http.ts: SocketCapture in its own process,
// decoding every record and touching its bytes, nothing else (no parsing, no
// telemetry, no store). Commands on stdin, one per line:
//   watch PID…   totals
// `totals` prints one JSON line of running totals: records delivered, kernel
// drops, evicted exchanges, and the capture programs' bpf_stats.
import { createInterface } from 'node:readline';
import { SocketCapture } from '../src/capture/index.js';

let delivered = 0;
let capturedBytes = 0;
const capture = await SocketCapture.start({
  // Capture tuning experiments (defaults otherwise).
  ...(process.env.BENCH_WAKEUP_BYTES ? { wakeupBytes: Number(process.env.BENCH_WAKEUP_BYTES) } : {}),
  ...(process.env.BENCH_FLUSH_MS ? { flushIntervalMs: Number(process.env.BENCH_FLUSH_MS) } : {}),
  ...(process.env.BENCH_CAPTURE_HOOKS ? { hooks: process.env.BENCH_CAPTURE_HOOKS as 'socket' | 'fexit' | 'syscalls' } : {}),
  // Which build reads kernel structs: 'core' measures the CO-RE build (5.17–6.1's) on a kfunc kernel.
  ...(process.env.BENCH_KERNEL_READS ? { kernelReads: process.env.BENCH_KERNEL_READS as 'auto' | 'core' | 'legacy' } : {}),
  onExchange: (ex) => {
    delivered++;
    capturedBytes += ex.request.length + ex.response.length;
  },
});

function bpfTotals(): { runNs: number; runs: number; programs: Record<string, [number, number]> } {
  const coll = capture.collection;
  let runNs = 0;
  let runs = 0;
  const programs: Record<string, [number, number]> = {};
  for (const p of coll.spec.programs.values()) {
    if (!p.autoload || p.name === 'cap_sweep') continue;
    const info = coll.program(p.name).info();
    runNs += info.runTimeNs;
    runs += info.runCount;
    programs[p.name] = [info.runTimeNs, info.runCount];
  }
  return { runNs, runs, programs };
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const [cmd, ...args] = line.trim().split(/\s+/);
  if (cmd === 'watch') {
    for (const pid of args) capture.watch(Number(pid));
    console.log(JSON.stringify({ ok: true }));
  } else if (cmd === 'totals') {
    capture.drain();
    const s = capture.stats();
    const bpf = bpfTotals();
    console.log(JSON.stringify({ records: delivered, drops: s.ringBufferDrops, evicted: s.evicted, bpfRunNs: bpf.runNs, bpfRuns: bpf.runs, capturedBytes, programs: bpf.programs }));
  }
});
rl.on('close', () => {
  capture.close();
  process.exit(0);
});
console.log(JSON.stringify({ ready: true, pid: process.pid }));
