// What the hooks alone cost a saturated server, before any capture logic
// (bpf/bench/hook_floor.bpf.c): each mode counts the server's calls and copies
// their first 64 bytes, on
//   off       nothing
//   syscalls  the nine read/write-family exit tracepoints the capture uses
//   *-bare    the same hooks counting only: what the hook mechanism costs
//   sock_tp   tp_btf on the socket layer's sock_recv_length/sock_send_length
//             (6.4+): only socket I/O runs them, no syscall slow path
//   sock_tp-ring  the same, each call's bytes (up to 512) sent to this process
//             as a ring-buffer record, read as the capture reads its ring (woken
//             past 256 KiB waiting, else every 200 ms): the floor of any capture
//             that hands each call's bytes to user space to be framed there
//   sockets   sockops (every TCP connection into a sockhash) + sk_msg on each
//             send + cgroup_skb/ingress on each incoming segment
//   sk_msg    sockops + sk_msg alone (the sending side)
//   ingress   cgroup_skb/ingress alone (the receiving side)
// wrk -t1 -c32 saturated against a Node hello-world and nginx (sendfile), modes
// interleaved and rotated each round; prints medians, ratios to `off`, what each
// mode saw per request and its programs' ns per request. Throughput is measured
// without bpf_stats (its clock reads on every run cost a few % by themselves);
// the ns per request come from a short saturated run after it with bpf_stats on.
// Never fails.
//
//   npm run bench:hooks   (BENCH_ROUNDS=3, BENCH_SECONDS=8, BENCH_TARGETS=node,nginx, BENCH_MODES)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Collection, Link, ObjectSpec, type RingBufferReader, ensureTracefs, withStats } from '../src/ebpf/index.js';
import { bpfObjectPath } from '../src/paths.js';
import { sleep, startNginx, startNode, type Target } from './http-targets.js';
import { Wrk } from './wrk.js';

type Mode = 'off' | 'syscalls' | 'syscalls-bare' | 'sock_tp' | 'sock_tp-bare' | 'sock_tp-ring' | 'sockets' | 'sk_msg' | 'ingress';
const ALL_MODES: Mode[] = ['off', 'syscalls', 'syscalls-bare', 'sock_tp', 'sock_tp-bare', 'sock_tp-ring', 'sockets', 'sk_msg', 'ingress'];
const MODES = (process.env.BENCH_MODES?.split(',') as Mode[] | undefined) ?? ALL_MODES;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
/** The short run with bpf_stats on that measures each mode's BPF ns per request. */
const STATS_SECONDS = 2;
const TARGETS = (process.env.BENCH_TARGETS ?? 'node,nginx').split(',');
const SYSCALL_PROGRAMS = ['floor_read', 'floor_recvfrom', 'floor_readv', 'floor_recvmsg', 'floor_write', 'floor_sendto', 'floor_writev', 'floor_sendmsg', 'floor_sendfile'];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

function programsOf(mode: Mode): string[] {
  switch (mode) {
    case 'syscalls':
    case 'syscalls-bare':
      return SYSCALL_PROGRAMS;
    case 'sock_tp':
    case 'sock_tp-bare':
      return ['floor_sock_recv', 'floor_sock_send'];
    case 'sock_tp-ring':
      return ['floor_sock_recv_ring', 'floor_sock_send_ring'];
    case 'sockets':
      return ['floor_track', 'floor_send', 'floor_ingress'];
    case 'sk_msg':
      return ['floor_track', 'floor_send'];
    case 'ingress':
      return ['floor_ingress'];
    default:
      return [];
  }
}

interface Hooks {
  coll: Collection;
  links: Link[];
  names: string[];
  /** sock_tp-ring: the reader of the records. */
  ring?: RingRead;
}

/** The capture's own reader reads its ring this often besides its wakeups (src/capture/options.ts). */
const RING_FLUSH_MS = 200;

interface RingRead {
  reader: RingBufferReader;
  timer: NodeJS.Timeout;
  records: number;
  /** Payload bytes the records said they carry (read, as a decoder must). */
  bytes: number;
}

function readRing(coll: Collection): RingRead {
  const ring = { records: 0, bytes: 0 } as RingRead;
  ring.reader = coll.ringBuffer('floor_ring', (batch) =>
    batch.forEach((buf, off) => {
      ring.records++;
      ring.bytes += buf.readUInt32LE(off + 12); // struct floor_record.len
    }),
  );
  ring.timer = setInterval(() => ring.reader.consume(), RING_FLUSH_MS);
  return ring;
}

function attach(mode: Mode, pid: number, port: number): Hooks | undefined {
  const names = programsOf(mode);
  if (!names.length) return undefined;
  const spec = ObjectSpec.open(bpfObjectPath('bench/hook_floor')).selectPrograms(names);
  spec.setVariable('target_tgid', pid).setVariable('target_port', port).setVariable('copy_bytes', mode.endsWith('-bare') ? 0 : 1);
  const coll = spec.load();
  const links: Link[] = [];
  try {
    // sk_msg before sockops: a connection is in the sockhash only once its program is there.
    if (names.includes('floor_send')) links.push(coll.program('floor_send').attachSockMap(coll.map('floor_socks')));
    for (const n of names) if (n !== 'floor_send') links.push(n === 'floor_track' || n === 'floor_ingress' ? coll.program(n).attachCgroup() : coll.program(n).attach());
    return mode === 'sock_tp-ring' ? { coll, links, names, ring: readRing(coll) } : { coll, links, names };
  } catch (e) {
    for (const l of links) l.close();
    coll.close();
    throw e;
  }
}

/** Calls the hooks saw for the server (summed over CPUs) and their programs' run time. */
function seen(h: Hooks): { events: number; runs: number; ns: number } {
  const perCpu = h.coll.map<number, Array<{ events: bigint }>>('floor_scratch').lookup(0) ?? [];
  const events = perCpu.reduce((n, v) => n + Number(v.events), 0);
  let runs = 0;
  let ns = 0;
  for (const n of h.names) {
    const s = h.coll.program(n).info();
    (runs += s.runCount), (ns += s.runTimeNs);
  }
  return { events, runs, ns };
}

async function main(): Promise<void> {
  ensureTracefs();
  const work = mkdtempSync(join(tmpdir(), 'waggle-hooks-'));
  const wrk = new Wrk(work);
  console.log(`hook floor: ${ROUNDS} interleaved rounds × ${MODES.join(', ')}; wrk -t1 -c32 ${SECONDS}s saturated`);
  try {
    for (const name of TARGETS) {
      const target: Target = name === 'nginx' ? await startNginx(work) : await startNode();
      // nginx: the worker (its one child) serves; Node: the process itself.
      const pid = target.pids().at(-1)!;
      const rps = new Map<Mode, number[]>(MODES.map((m) => [m, []]));
      const perReq = new Map<Mode, number[]>(MODES.map((m) => [m, []]));
      const nsPerReq = new Map<Mode, number[]>(MODES.map((m) => [m, []]));
      try {
        wrk.run(target.url, 8, false, 2);
        for (let round = 0; round < ROUNDS; round++) {
          for (let k = 0; k < MODES.length; k++) {
            const mode = MODES[(round + k) % MODES.length]!;
            const hooks = attach(mode, pid, target.port);
            try {
              const load = (seconds: number) => (hooks?.ring ? wrk.runAsync(target.url, 32, false, seconds) : Promise.resolve(wrk.run(target.url, 32, false, seconds)));
              const before = hooks && seen(hooks);
              const r = await load(SECONDS);
              rps.get(mode)!.push(r.rps);
              let ringNote = '';
              if (hooks) {
                const after = seen(hooks);
                perReq.get(mode)!.push((after.events - before!.events) / r.requests);
                if (hooks.ring) {
                  hooks.ring.reader.consume();
                  const { records, bytes } = hooks.ring;
                  ringNote = `  (${(records / r.requests).toFixed(2)} records/req read, ${Math.round(bytes / records)} B each, ${hooks.ring.reader.kernelDrops()} dropped)`;
                }
                const s0 = seen(hooks);
                const timed = await withStats(() => load(STATS_SECONDS));
                nsPerReq.get(mode)!.push((seen(hooks).ns - s0.ns) / timed.requests);
              }
              console.log(`  ${target.name} round ${round + 1} ${mode.padEnd(13)} ${r.rps.toFixed(0)} req/s${ringNote}`);
            } finally {
              if (hooks?.ring) clearInterval(hooks.ring.timer);
              for (const l of hooks?.links ?? []) l.close();
              hooks?.coll.close();
            }
            await sleep(300);
          }
        }
      } finally {
        target.stop();
      }
      const off = median(rps.get('off')!);
      console.log(`\n${target.name} (medians of ${ROUNDS}):`);
      console.log(`  ${'mode'.padEnd(14)}${'req/s'.padStart(9)}${'ratio'.padStart(7)}${'seen/req'.padStart(10)}${'BPF ns/req'.padStart(12)}   ratios by round`);
      for (const mode of MODES) {
        const m = median(rps.get(mode)!);
        const seenReq = median(perReq.get(mode)!);
        const ns = median(nsPerReq.get(mode)!);
        const byRound = rps.get(mode)!.map((x, i) => (x / rps.get('off')![i]!).toFixed(2)).join(' ');
        console.log(`  ${mode.padEnd(14)}${m.toFixed(0).padStart(9)}${(m / off).toFixed(2).padStart(7)}${(Number.isFinite(seenReq) ? seenReq.toFixed(2) : '–').padStart(10)}${(Number.isFinite(ns) ? ns.toFixed(0) : '–').padStart(12)}   ${byRound}`);
      }
      console.log('');
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  console.log('re-run: npm run bench:hooks   (BENCH_ROUNDS, BENCH_SECONDS, BENCH_TARGETS, BENCH_MODES)');
}

await main();
