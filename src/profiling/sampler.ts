// The kernel half of the profiler: loads bpf/profiling/profiler.bpf.c, opens a
// CPU-clock perf event on every CPU at the asked frequency and drains the
// kernel's (pid, kernel stack, user stack) counts into RawSamples.
//
//   const s = ProfileSampler.start({ frequency: 19, pids: [1234] });
//   const batch = s.drain();   // counts since the last drain
//   s.close();
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { type BpfMap, type Collection, type Link, ObjectSpec, WaggleError, loadFirst, offsetOf } from '../ebpf/index.js';
import { bpfObjectPath } from '../paths.js';

export const DEFAULT_FREQUENCY = 19;
export const MAX_FREQUENCY = 999;
/** The object, then its legacy build for 5.10–5.16 (bpf/include/waggle/legacy.h). */
export const PROFILER_OBJECTS = ['profiling/profiler', 'profiling/profiler_legacy'];

export interface SamplerOptions {
  /** Samples per second per CPU (1–999). */
  frequency: number;
  /** Only these processes; absent: every process but the agent. */
  pids?: readonly number[];
}

export interface RawSample {
  pid: number;
  /** Kernel frames, innermost first (kernel addresses as bigint). */
  kernel: bigint[];
  /** User frames, innermost first. */
  user: number[];
  /** The user stack was deeper than the kernel walks. */
  truncated: boolean;
  /** The user stack was evicted before the drain (shown as unknown). */
  userLost: boolean;
  count: number;
}

export interface SamplerStats {
  samples: number;
  idle: number;
  kernelStacksLost: number;
  userTruncated: number;
  countsFull: number;
  readFailed: number;
  framesByTable: number;
  framesByFramePointer: number;
  /** Counts whose user stack had been evicted from the LRU before the drain. */
  userStacksLost: number;
}

const COUNTER_NAMES = ['samples', 'idle', 'kernelStacksLost', 'userTruncated', 'countsFull', 'readFailed', 'framesByTable', 'framesByFramePointer'] as const;

/** Throws WAGGLE_ERR_INVALID_ARGUMENT naming the field when a frequency is unusable. */
export function checkFrequency(frequency: number, field = 'frequency'): number {
  if (!Number.isInteger(frequency) || frequency < 1 || frequency > MAX_FREQUENCY) {
    throw new WaggleError('WAGGLE_ERR_INVALID_ARGUMENT', `${field} must be an integer from 1 to ${MAX_FREQUENCY} (samples per second per CPU), got ${frequency}`);
  }
  return frequency;
}

/** Online CPUs from /sys (a perf event per CPU); falls back to the CPU count. */
function onlineCpus(): number[] {
  try {
    const text = readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
    const cpus: number[] = [];
    for (const part of text.split(',')) {
      const [a, b] = part.split('-').map(Number);
      for (let c = a!; c <= (b ?? a!); c++) cpus.push(c);
    }
    if (cpus.length > 0) return cpus;
  } catch {
    // no sysfs: assume all CPUs are online
  }
  return Array.from({ length: availableParallelism() }, (_, i) => i);
}

export class ProfileSampler {
  private readonly links: Link[] = [];
  private readonly counts: BpfMap<Buffer, Buffer>;
  private readonly userStacks: BpfMap<Buffer, Buffer>;
  private readonly kernelStacks: BpfMap<Buffer, Buffer>;
  private readonly targets: BpfMap<number, number>;
  private readonly layout: { pid: number; kernel: number; user: number; len: number; truncated: number; pcs: number };
  private userStacksLost = 0;
  private closed = false;

  private constructor(readonly collection: Collection, readonly frequency: number) {
    const btf = collection.spec.btf!;
    this.layout = {
      pid: offsetOf(btf, 'sample_key', 'pid'),
      kernel: offsetOf(btf, 'sample_key', 'kernel_stack'),
      user: offsetOf(btf, 'sample_key', 'user_stack'),
      len: offsetOf(btf, 'user_stack', 'len'),
      truncated: offsetOf(btf, 'user_stack', 'truncated'),
      pcs: offsetOf(btf, 'user_stack', 'pcs'),
    };
    this.counts = collection.map('sample_counts').raw() as unknown as BpfMap<Buffer, Buffer>;
    this.userStacks = collection.map('user_stacks').raw() as unknown as BpfMap<Buffer, Buffer>;
    this.kernelStacks = collection.map('kernel_stacks').raw() as unknown as BpfMap<Buffer, Buffer>;
    this.targets = collection.map<number, number>('target_pids');
  }

  /** Loads the object; `prepare` runs before the perf events attach (e.g. to load unwind tables). */
  static start(opts: SamplerOptions, prepare?: (sampler: ProfileSampler) => void): ProfileSampler {
    const frequency = checkFrequency(opts.frequency);
    // The legacy build (5.10–5.16: bounded loops instead of bpf_loop, see
    // bpf/include/waggle/legacy.h) where the kernel refuses the object.
    const { value: coll } = loadFirst(PROFILER_OBJECTS, (name) => {
      const spec = ObjectSpec.open(bpfObjectPath(name));
      try {
        spec.setVariable('filter_pids', opts.pids ? 1 : 0);
        spec.setVariable('agent_pid', process.pid);
        return spec.load();
      } catch (e) {
        spec.close();
        throw e;
      }
    });
    const sampler = new ProfileSampler(coll, frequency);
    try {
      for (const pid of opts.pids ?? []) sampler.addPid(pid);
      prepare?.(sampler);
      const program = coll.program('profile_sample');
      for (const cpu of onlineCpus()) sampler.links.push(program.attachPerfEvent({ cpu, frequency }));
      return sampler;
    } catch (e) {
      coll.close();
      throw e;
    }
  }

  /** Adds a process to the sampled set (when started with pids). */
  addPid(pid: number): void {
    this.targets.update(pid, 1);
  }

  removePid(pid: number): void {
    this.targets.delete(pid);
  }

  /** Counts gathered since the last drain, with their stacks; empties the kernel's counts. */
  drain(): RawSample[] {
    if (this.closed) return [];
    const keys = [...this.counts.keys()].map((k) => Buffer.from(k));
    const out: RawSample[] = [];
    const usedKernelStacks = new Set<number>();
    for (const key of keys) {
      const value = this.counts.lookupAndDelete(key);
      if (!value) continue;
      const count = Number(Buffer.from(value).readBigUInt64LE(0));
      const pid = key.readUInt32LE(this.layout.pid);
      const kid = key.readInt32LE(this.layout.kernel);
      const uhash = key.readBigUInt64LE(this.layout.user);
      const sample: RawSample = { pid, kernel: [], user: [], truncated: false, userLost: false, count };
      if (kid >= 0) {
        usedKernelStacks.add(kid);
        const raw = this.kernelStacks.lookup(u32Key(kid));
        if (raw) sample.kernel = readAddresses(Buffer.from(raw), 0, 64).map((a) => a);
      }
      if (uhash !== 0n) {
        const raw = this.userStacks.lookup(u64Key(uhash));
        if (raw) {
          const b = Buffer.from(raw);
          const len = b.readUInt32LE(this.layout.len);
          sample.truncated = b.readUInt32LE(this.layout.truncated) !== 0;
          for (let i = 0; i < len; i++) sample.user.push(Number(b.readBigUInt64LE(this.layout.pcs + i * 8)));
        } else {
          sample.userLost = true;
          this.userStacksLost += count;
        }
      }
      out.push(sample);
    }
    // A stack-trace map never evicts: free the ids just read (new samples re-add theirs).
    for (const kid of usedKernelStacks) this.kernelStacks.delete(u32Key(kid));
    return out;
  }

  stats(): SamplerStats {
    const counters = this.collection.map<number, number[]>('profile_counters');
    const out = { userStacksLost: this.userStacksLost } as SamplerStats;
    COUNTER_NAMES.forEach((name, i) => {
      out[name] = this.closed ? 0 : (counters.lookup(i) ?? []).reduce((a, b) => a + Number(b), 0);
    });
    return out;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.collection.close();
  }
}

function u32Key(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

function u64Key(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
}

/** Non-zero u64 addresses from `buf`, stopping at the first zero. */
function readAddresses(buf: Buffer, offset: number, max: number): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < max && offset + i * 8 + 8 <= buf.length; i++) {
    const a = buf.readBigUInt64LE(offset + i * 8);
    if (a === 0n) break;
    out.push(a);
  }
  return out;
}
