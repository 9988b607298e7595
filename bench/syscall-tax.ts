// What the capture's hooks cost processes it does not watch: with the capture
// watching one idle server, unwatched workloads run with the capture off and
// on each set of hooks this kernel runs — the socket tracepoints ('socket',
// 6.5+), fexit on the inet layer ('fexit', before 6.5 with BPF trampolines),
// the syscall exits ('syscalls', every kernel) — interleaved, rotated each round:
//   file-io  dd, 64-byte blocks /dev/zero → /dev/null: read and write syscalls
//            on files (the syscall exits run their program and return at the
//            pid filter; the socket tracepoints and fexit never run)
//   getppid  a C-speed loop of getppid(): a syscall no program hooks (what
//            remains is the traced slow path alone)
// Prints ns per syscall (medians) and the extra over `off`. Never fails.
//
//   npm run bench:syscall-tax   (BENCH_ROUNDS=5, BENCH_SYSCALLS=2000000)
import { spawnSync } from 'node:child_process';
import { type CaptureHooks, SocketCapture } from '../src/capture/index.js';
import { startNode } from './http-targets.js';

type Mode = 'off' | CaptureHooks;

/** The sets of hooks the capture loads on this kernel, each tried once; the others are named with the refusal. */
async function modesHere(): Promise<Mode[]> {
  const modes: Mode[] = ['off'];
  for (const hooks of ['socket', 'fexit', 'syscalls'] as const) {
    try {
      (await SocketCapture.start({ onExchange: () => {}, hooks })).close();
      modes.push(hooks);
    } catch (e) {
      console.log(`  (${hooks}: not on this kernel: ${String((e as Error).message ?? e).split('\n')[0]!.slice(0, 160)})`);
    }
  }
  return modes;
}

const MODES = await modesHere();
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const N = Number(process.env.BENCH_SYSCALLS ?? 2_000_000);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const WORKLOADS: Record<string, { cmd: string; args: string[]; syscalls: number }> = {
  'file-io': { cmd: 'dd', args: ['if=/dev/zero', 'of=/dev/null', 'bs=64', `count=${N / 2}`], syscalls: N },
  // perl's syscall() is a thin wrapper: the loop's own cost is small next to a syscall's.
  getppid: { cmd: 'perl', args: ['-e', `for (1..${N}) { getppid() }`], syscalls: N },
};

function nsPerSyscall(w: { cmd: string; args: string[]; syscalls: number }): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(w.cmd, w.args, { stdio: 'ignore' });
  const t1 = process.hrtime.bigint();
  if (r.status !== 0) throw new Error(`${w.cmd} exited ${r.status ?? r.signal}`);
  return Number(t1 - t0) / w.syscalls;
}

const server = await startNode();
const results = new Map<string, number[]>();
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < MODES.length; k++) {
      const mode = MODES[(round + k) % MODES.length]!;
      const cap = mode === 'off' ? undefined : await SocketCapture.start({ onExchange: () => {}, hooks: mode });
      try {
        cap?.watch(server.pids()[0]!);
        for (const [name, w] of Object.entries(WORKLOADS)) {
          const key = `${name} ${mode}`;
          results.set(key, [...(results.get(key) ?? []), nsPerSyscall(w)]);
        }
      } finally {
        cap?.close();
      }
    }
  }
} finally {
  server.stop();
}
console.log(`unwatched syscalls with the capture watching one idle server — ${ROUNDS} interleaved rounds, ${N.toLocaleString('en-US')} syscalls per run (medians)`);
for (const name of Object.keys(WORKLOADS)) {
  const off = median(results.get(`${name} off`)!);
  for (const mode of MODES) {
    const m = median(results.get(`${name} ${mode}`)!);
    console.log(`  ${name.padEnd(8)} ${mode.padEnd(9)} ${m.toFixed(1).padStart(7)} ns/syscall   ${mode === 'off' ? '' : `${m >= off ? '+' : '−'}${Math.abs(m - off).toFixed(1)} ns (${m >= off ? '+' : '−'}${Math.abs((m / off - 1) * 100).toFixed(0)} %)`}`);
  }
}
console.log('\nre-run: npm run bench:syscall-tax   (BENCH_ROUNDS, BENCH_SYSCALLS)');
