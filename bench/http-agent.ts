// The "agent" side of bench/http.ts: SocketCapture in its own process, decoding
// every record, with kernel bpf_stats on. Commands on stdin, one per line:
//   watch PID…   mark   report
// `mark` starts a measurement interval; `report` prints one JSON line with what
// happened since the mark: records, drops, this process's CPU, BPF run time.
import { createInterface } from 'node:readline';
import { SocketCapture } from '../src/capture/index.js';
import { enableStats } from '../src/ebpf/index.js';

interface Snapshot {
  delivered: number;
  drops: number;
  evicted: number;
  cpu: NodeJS.CpuUsage;
  bpfRunNs: number;
  bpfRuns: number;
  bytes: number;
}

let delivered = 0;
let capturedBytes = 0;
const disableStats = enableStats();
const capture = await SocketCapture.start({
  onExchange: (ex) => {
    // Touch what a consumer would: the request line and the status line.
    delivered++;
    capturedBytes += ex.request.length + ex.response.length;
  },
});

function bpfTotals(): { runNs: number; runs: number } {
  const coll = capture.collection;
  let runNs = 0;
  let runs = 0;
  for (const p of coll.spec.programs.values()) {
    if (!p.autoload || p.name === 'cap_sweep') continue;
    const info = coll.program(p.name).info();
    runNs += info.runTimeNs;
    runs += info.runCount;
  }
  return { runNs, runs };
}

function snapshot(): Snapshot {
  capture.drain();
  const s = capture.stats();
  const bpf = bpfTotals();
  return { delivered, drops: s.ringBufferDrops, evicted: s.evicted, cpu: process.cpuUsage(), bpfRunNs: bpf.runNs, bpfRuns: bpf.runs, bytes: capturedBytes };
}

let mark = snapshot();
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const [cmd, ...args] = line.trim().split(/\s+/);
  if (cmd === 'watch') {
    for (const pid of args) capture.watch(Number(pid));
    console.log(JSON.stringify({ ok: true }));
  } else if (cmd === 'mark') {
    mark = snapshot();
    console.log(JSON.stringify({ ok: true }));
  } else if (cmd === 'report') {
    const now = snapshot();
    const cpu = process.cpuUsage(mark.cpu);
    console.log(
      JSON.stringify({
        records: now.delivered - mark.delivered,
        drops: now.drops - mark.drops,
        evicted: now.evicted - mark.evicted,
        cpuUs: cpu.user + cpu.system,
        bpfRunNs: now.bpfRunNs - mark.bpfRunNs,
        bpfRuns: now.bpfRuns - mark.bpfRuns,
        capturedBytes: now.bytes - mark.bytes,
      }),
    );
  }
});
rl.on('close', () => {
  capture.close();
  disableStats();
  process.exit(0);
});
console.log(JSON.stringify({ ready: true, pid: process.pid }));
