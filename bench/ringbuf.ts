// Ring buffer throughput: records/s delivered from a BPF program through the
// ring buffer into a JS callback that reads every record, for 64-byte and
// 1 KiB records. A child process triggers the producer (getppid → bpf_loop
// emitting a burst), so producer and consumer run on different cores and the
// producer always outpaces the consumer: what is measured is the consumer side.
// Prints figures; never fails.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ObjectSpec, offsetOf } from '../src/ebpf/index.js';
import { bpfObjectPath } from '../src/paths.js';

const python3 = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

interface Round {
  delivered: number;
  perSecond: number;
  cpuSeconds: number;
  perCpuSecond: number;
  kernelDrops: number;
  batches: number;
}

async function round(large: boolean): Promise<Round> {
  const spec = ObjectSpec.open(bpfObjectPath('testdata/ringbuf_emit')).selectPrograms(['emit_on_getppid']);
  spec.map('events').maxEntries = 16 << 20;
  const seqAt = offsetOf(spec.btf!, large ? 'large_record' : 'small_record', 'seq');
  const producer = spawn(python3, ['-c', 'import os, sys\nsys.stdin.readline()\nwhile True: os.getppid()'], { stdio: ['pipe', 'ignore', 'inherit'] });
  spec.setVariable('target_tgid', producer.pid!);
  const coll = spec.load();
  let delivered = 0;
  let checksum = 0;
  const reader = coll.ringBuffer('events', (batch) => {
    batch.forEach((buf, off) => {
      checksum += buf.readUInt32LE(off + seqAt); // read every record
      delivered++;
    });
  });
  coll.setVariable('use_large', large ? 1 : 0);
  coll.setVariable('records_per_trigger', 256);
  coll.program('emit_on_getppid').attach();
  producer.stdin!.write('go\n');
  await new Promise((r) => setTimeout(r, 200)); // warm up
  const startCount = delivered;
  const startDrops = reader.kernelDrops();
  const startBatches = reader.stats().batches;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const n = delivered - startCount;
  const stats = reader.stats();
  producer.kill('SIGKILL');
  coll.close();
  if (checksum < 0) console.log(checksum);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return {
    delivered: n,
    perSecond: n / elapsed,
    cpuSeconds,
    perCpuSecond: n / cpuSeconds,
    kernelDrops: stats.kernelDrops - startDrops,
    batches: stats.batches - startBatches,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

console.log(`ring buffer → JS callback throughput (${ROUNDS} rounds × ${SECONDS}s, medians; the producer always outpaces the consumer)`);
for (const large of [false, true]) {
  const rounds: Round[] = [];
  for (let i = 0; i < ROUNDS; i++) rounds.push(await round(large));
  const label = large ? '1 KiB records ' : '64-byte records';
  console.log(
    `${label}: ${fmt(median(rounds.map((r) => r.perSecond)))} records/s delivered ` +
      `(${fmt(median(rounds.map((r) => r.perCpuSecond)))} per consumer CPU-second, ` +
      `consumer CPU ${(median(rounds.map((r) => r.cpuSeconds / SECONDS)) * 100).toFixed(0)}% of a core, ` +
      `${fmt(median(rounds.map((r) => r.delivered / Math.max(1, r.batches))))} records/batch, ` +
      `${fmt(median(rounds.map((r) => r.perSecond * (large ? 1024 : 64) / 1e6)))} MB/s; ` +
      `kernel drops while saturated: ${fmt(median(rounds.map((r) => r.kernelDrops)))})`,
  );
}
