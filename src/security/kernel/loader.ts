// Loads bpf/security/security.bpf.c with a compiled policy set: programs for the
// hooks in use only, constants frozen into .rodata, selector maps written before
// any hook is attached. Attaching is staged by the agent: life-cycle first, then
// /proc seeding, then policy hooks.
import {
  type BpfMap,
  type Collection,
  ObjectSpec,
  type RecordBatch,
  type RingBufferReader,
  WaggleError,
  btfCodec,
  codecs,
  loadFirst,
} from '../../ebpf/index.js';
import { bpfObjectPath } from '../../paths.js';
import type { CompiledPolicySet } from '../compile/compiler.js';
import { maskValue, pairValue, type Pair } from '../compile/mask.js';
import { ADDR_KEY_BYTES, PATH_KEY_BYTES, type TrieEntry } from '../compile/tries.js';
import { HOOKS, type Hook } from '../policy/schema.js';
import { type ProcEntry, SecurityLayout, enumValues } from './layout.js';

const LIFECYCLE_PROGRAMS = ['on_exec', 'on_fork', 'on_exit'];
/** The object, then its legacy build for 5.10–5.16 (bpf/include/waggle/legacy.h). */
export const SECURITY_OBJECTS = ['security/security', 'security/security_legacy'];

/** Programs per hook; a hook is available when at least one of them attaches. */
export const HOOK_PROGRAMS: Record<Hook, string[]> = {
  exec: [],
  file_open: ['file_exit_openat', 'file_exit_openat2', 'file_exit_open', 'file_exit_creat'],
  connect: ['sock_connect'],
  bind: ['sock_bind'],
  setuid: ['setuid_setuid', 'setuid_setgid', 'setuid_setreuid', 'setuid_setregid', 'setuid_setresuid', 'setuid_setresgid', 'setuid_setfsuid', 'setuid_setfsgid'],
  ptrace: ['ptrace_enter'],
  mount: ['mount_enter_mount', 'mount_exit_mount', 'mount_enter_move_mount', 'mount_exit_move_mount'],
  module_load: ['module_init_module', 'module_finit_module'],
};
/** BPF LSM programs (bpf/security/lsm.h), loaded only for hooks with a policy that denies. */
export const LSM_PROGRAMS: Partial<Record<Hook, string>> = { file_open: 'lsm_file_open', exec: 'lsm_bprm_check', connect: 'lsm_socket_connect' };
const OPEN_STASH_PROGRAMS = ['file_enter_openat', 'file_enter_openat2', 'file_enter_open', 'file_enter_creat'];

export interface KernelOptions {
  /** Ring buffer size in bytes (power of two; default 8 MiB). */
  ringBufferBytes?: number;
  /** Processes the kernel table holds (default 32768). */
  processTableSize?: number;
  /**
   * Waiting bytes that wake the reader (default 512 KiB, 1/16 of the default
   * ring; 0: wake on every record). Below it, records wait for the agent's drain
   * timer. An exec record is 3 KiB, so at 64 KiB an exec storm woke the agent
   * every 20 execs, and each wake-up (epoll, a batch, a write) cost more than
   * the records it brought.
   */
  wakeupBytes?: number;
  /**
   * Fork records (default 'all'). 'needed': a fork is sent only when an exec
   * names the forked image as its parent (its ancestry needs it); a fork that
   * never execs is cut with its exit. Counted in LifeCounters (forksCut,
   * forkExitsCut, forksLate). Policy hooks still see every process.
   */
  forkRecords?: 'all' | 'needed';
  /**
   * Life-cycle records of the agent's own descendants, the helpers it runs
   * (default 'report'). 'cut': none are sent, counted in LifeCounters.ownCut.
   * Policy hooks still see them.
   */
  ownProcesses?: 'report' | 'cut';
}

export interface HookAttachResult {
  attached: Hook[];
  unavailable: { hook: Hook; reason: string }[];
  /** Programs whose system call does not exist here (e.g. open(2) on arm64), hook still covered. */
  skipped: string[];
}

export interface HookCounters {
  runs: number;
  filtered: number;
  matched: number;
  sent: number;
  rateLimited: number;
  nopost: number;
  kills: number;
  denies: number;
  drops: number;
}

export interface LifeCounters {
  exec: number;
  fork: number;
  exit: number;
  drops: number;
  tableFull: number;
  tableMiss: number;
  /** Fork records not sent (forkRecords 'needed'). */
  forksCut: number;
  /** Exit records not sent: the image was a fork never announced (it never exec'd). */
  forkExitsCut: number;
  /** Fork records sent late: an exec named the unsent image as its parent. */
  forksLate: number;
  /** Records not sent for the agent's own descendants (ownProcesses 'cut'). */
  ownCut: number;
}

export interface SelectorCounters {
  matched: number;
  posted: number;
  rateLimited: number;
  killed: number;
  denied: number;
}

/** struct sec_config as the BTF codec takes it (masks as { w }). */
function kernelConfig(set: CompiledPolicySet): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(set.config)) {
    if (typeof v === 'number') out[k] = v;
    else if (Array.isArray(v) && Array.isArray(v[0])) out[k] = (v as number[][]).map(maskValue);
    else out[k] = maskValue(v as number[]);
  }
  return out;
}

/**
 * Sizes and load-time constants of the security object for a compiled policy
 * set; the verifier prunes every check the set does not use. (Also used by
 * scripts/bpf-budget.ts to verify the programs as the agent loads them.)
 */
export function configureSecuritySpec(spec: ObjectSpec, set: CompiledPolicySet, opts: KernelOptions = {}): void {
  spec.map('events').maxEntries = opts.ringBufferBytes ?? 1 << 23;
  spec.map('procs').maxEntries = opts.processTableSize ?? 32768;
  spec.setVariable('cfg', kernelConfig(set));
  spec.setVariable('wakeup_bytes', opts.wakeupBytes ?? DEFAULT_WAKEUP_BYTES);
  const lifeOpt = spec.btf ? enumValues(spec.btf, 'life_opt') : new Map<string, number>();
  const lifeOpts = (opts.forkRecords === 'needed' ? lifeOpt.get('LIFE_FORKS_NEEDED')! : 0) | (opts.ownProcesses === 'cut' ? lifeOpt.get('LIFE_CUT_OWN')! : 0);
  spec.setVariable('life_opts', lifeOpts);
  spec.setVariable('agent_tgid', process.pid);
  spec.setVariable(
    'sels',
    Array.from({ length: set.config.hook[0]!.length * 32 }, (_, i) => {
      const s = set.sels[i];
      return s ? { ...s, later: maskValue(s.later), pad: 0 } : undefined;
    }),
  );
}

const DEFAULT_WAKEUP_BYTES = 512 << 10;

const sum = (v: number[] | undefined): number => (v ?? []).reduce((a, b) => a + b, 0);

export class SecurityKernel {
  readonly layout: SecurityLayout;
  private readonly coll: Collection;
  private readonly procs: BpfMap<number, ProcEntry>;
  private reader: RingBufferReader | undefined;
  private readonly hookPrograms: Map<Hook, string[]>;
  private readonly lsmPrograms: Map<Hook, string>;

  private constructor(coll: Collection, layout: SecurityLayout, hookPrograms: Map<Hook, string[]>, lsmPrograms: Map<Hook, string>) {
    this.coll = coll;
    this.layout = layout;
    this.hookPrograms = hookPrograms;
    this.lsmPrograms = lsmPrograms;
    this.procs = coll.map<number, ProcEntry>('procs', { key: codecs.u32, value: layout.procEntry });
  }

  /**
   * Loads the security object, or its legacy build (5.10–5.16: bounded loops
   * instead of bpf_loop, see bpf/include/waggle/legacy.h) where the kernel refuses it.
   */
  static open(set: CompiledPolicySet, opts: KernelOptions = {}): SecurityKernel {
    return loadFirst(SECURITY_OBJECTS, (name) => SecurityKernel.openObject(name, set, opts)).value;
  }

  private static openObject(name: string, set: CompiledPolicySet, opts: KernelOptions): SecurityKernel {
    const spec = ObjectSpec.open(bpfObjectPath(name));
    try {
      const btf = spec.btf;
      if (!btf) throw new WaggleError('WAGGLE_ERR_OBJECT', `${spec.path} has no BTF`);
      const layout = new SecurityLayout(btf);
      const hookPrograms = new Map<Hook, string[]>();
      for (const hook of set.hooks) {
        const programs = [...HOOK_PROGRAMS[hook]];
        if (hook === 'file_open' && set.config.uses_open_stash) programs.push(...OPEN_STASH_PROGRAMS);
        hookPrograms.set(hook, programs);
      }
      // LSM programs only for policies that deny; the agent has checked that BPF LSM works here.
      const lsmPrograms = new Map<Hook, string>();
      for (const hook of set.lsmHooks) {
        const name = LSM_PROGRAMS[hook];
        if (!name) throw new WaggleError('WAGGLE_ERR_INVALID_ARGUMENT', `hook ${hook} has no BPF LSM program, so it cannot deny`);
        lsmPrograms.set(hook, name);
      }
      spec.selectPrograms([...LIFECYCLE_PROGRAMS, ...[...hookPrograms.values()].flat(), ...lsmPrograms.values()]);
      configureSecuritySpec(spec, set, opts);
      const coll = spec.load();
      const kernel = new SecurityKernel(coll, layout, hookPrograms, lsmPrograms);
      try {
        kernel.writeSelectors(set);
      } catch (e) {
        coll.close();
        throw e;
      }
      return kernel;
    } catch (e) {
      spec.close();
      throw e;
    }
  }

  private writeSelectors(set: CompiledPolicySet): void {
    const btf = this.coll.spec.btf!;
    const pairCodec = btfCodec(btf, btf.struct('sel_pair').id);
    const encodePair = (p: Pair) => {
      const b = Buffer.alloc(pairCodec.size);
      pairCodec.encode(pairValue(p), b, 0);
      return b;
    };
    const writeTrie = (name: string, entries: TrieEntry[], dataBytes: number) => {
      const map = this.coll.map(name).raw();
      for (const e of entries) {
        const key = Buffer.alloc(4 + dataBytes);
        key.writeUInt32LE(e.bits, 0);
        e.data.copy(key, 4, 0, dataBytes);
        map.update(key, encodePair(e.pair));
      }
    };
    writeTrie('path_trie', set.tries.path, PATH_KEY_BYTES);
    writeTrie('suffix_trie', set.tries.suffix, PATH_KEY_BYTES);
    writeTrie('binary_trie', set.tries.binary, PATH_KEY_BYTES);
    writeTrie('parent_trie', set.tries.parent, PATH_KEY_BYTES);
    writeTrie('addr_trie', set.tries.addr, ADDR_KEY_BYTES);
    const writeSet = (name: string, values: Map<number, Pair>) => {
      const map = this.coll.map(name).raw();
      for (const [k, p] of values) {
        const key = Buffer.alloc(4);
        key.writeUInt32LE(k >>> 0, 0);
        map.update(key, encodePair(p));
      }
    };
    writeSet('port_set', set.sets.port);
    writeSet('uid_set', set.sets.uid);
    writeSet('pid_set', set.sets.pid);
  }

  /** Starts exec/fork/exit tracking: from here the kernel process table follows every process. */
  attachLifecycle(): void {
    for (const p of LIFECYCLE_PROGRAMS) this.coll.program(p).attach();
  }

  /** Starts reading records; `onBatch` runs on the event loop. */
  startReader(onBatch: (batch: RecordBatch) => void, onError?: (e: unknown) => void): RingBufferReader {
    this.reader = this.coll.ringBuffer('events', onBatch, onError ? { onError } : {});
    return this.reader;
  }

  /** The kernel's entry for a process, if any. */
  process(pid: number): ProcEntry | undefined {
    return this.procs.lookup(pid);
  }

  /**
   * Adds a process found in /proc unless the hooks already track it; returns the
   * entry in force, or undefined when the process is gone or the table is full
   * (the hooks run concurrently: a process can fork, exec and exit meanwhile).
   */
  seedProcess(pid: number, entry: ProcEntry): ProcEntry | undefined {
    try {
      this.procs.update(pid, entry, 'noexist');
      return entry;
    } catch (e) {
      if (!(e instanceof WaggleError)) throw e;
      return this.procs.lookup(pid);
    }
  }

  /**
   * Attaches the policy hooks; a hook whose tracepoints do not exist here is
   * reported, not fatal. LSM programs must attach (support was probed): a
   * failure throws rather than leave a deny policy silently off.
   */
  attachHooks(): HookAttachResult {
    const result: HookAttachResult = { attached: [], unavailable: [], skipped: [] };
    for (const [hook, name] of this.lsmPrograms) {
      this.coll.program(name).attach();
      if (!result.attached.includes(hook)) result.attached.push(hook);
    }
    for (const [hook, programs] of this.hookPrograms) {
      if (hook === 'exec') {
        if (!result.attached.includes(hook)) result.attached.push(hook);
        continue;
      }
      const missing: string[] = [];
      let attached = 0;
      for (const name of programs) {
        try {
          this.coll.program(name).attach();
          if (!OPEN_STASH_PROGRAMS.includes(name)) attached++;
        } catch (e) {
          if (e instanceof WaggleError && e.code === 'WAGGLE_ERR_NOT_FOUND') {
            missing.push(`${name} (${e.message})`);
            continue;
          }
          throw e;
        }
      }
      if (attached > 0) {
        if (!result.attached.includes(hook)) result.attached.push(hook);
        result.skipped.push(...missing);
      } else {
        result.unavailable.push({ hook, reason: missing.join('; ') || 'no program' });
      }
    }
    return result;
  }

  hookCounters(): Record<Hook, HookCounters> {
    const per = this.layout.hookCounters;
    const stride = per.get('CNT_PER_HOOK')!;
    const values = this.counterValues();
    const out = {} as Record<Hook, HookCounters>;
    HOOKS.forEach((hook) => {
      const base = this.layout.hookId[hook] * stride;
      const at = (name: string) => values[base + per.get(name)!] ?? 0;
      out[hook] = {
        runs: at('CNT_RUNS'),
        filtered: at('CNT_FILTERED'),
        matched: at('CNT_MATCHED'),
        sent: at('CNT_SENT'),
        rateLimited: at('CNT_RATE_LIMITED'),
        nopost: at('CNT_NOPOST'),
        kills: at('CNT_KILLS'),
        denies: at('CNT_DENIES'),
        drops: at('CNT_DROPS'),
      };
    });
    return out;
  }

  lifeCounters(): LifeCounters {
    const base = HOOKS.length * this.layout.hookCounters.get('CNT_PER_HOOK')!;
    const lc = this.layout.lifeCounters;
    const values = this.counterValues();
    const at = (name: string) => values[base + lc.get(name)!] ?? 0;
    return {
      exec: at('LC_EXEC'),
      fork: at('LC_FORK'),
      exit: at('LC_EXIT'),
      drops: at('LC_DROPS'),
      tableFull: at('LC_TABLE_FULL'),
      tableMiss: at('LC_TABLE_MISS'),
      forksCut: at('LC_CUT_FORK'),
      forkExitsCut: at('LC_CUT_FORK_EXIT'),
      forksLate: at('LC_LATE_FORK'),
      ownCut: at('LC_CUT_OWN'),
    };
  }

  private counterValues(): number[] {
    const map = this.coll.map<number, number[]>('counters');
    const out: number[] = [];
    for (const [k, v] of map.entries()) out[k] = sum(v);
    return out;
  }

  /** Per selector bit. */
  selectorCounters(count: number): SelectorCounters[] {
    const sc = this.layout.selCounters;
    const stride = sc.get('SC_PER_SEL')!;
    const values: number[] = [];
    for (const [k, v] of this.coll.map<number, number[]>('sel_counters').entries()) values[k] = sum(v);
    return Array.from({ length: count }, (_, bit) => ({
      matched: values[bit * stride + sc.get('SC_MATCHED')!] ?? 0,
      posted: values[bit * stride + sc.get('SC_POSTED')!] ?? 0,
      rateLimited: values[bit * stride + sc.get('SC_RATE_LIMITED')!] ?? 0,
      killed: values[bit * stride + sc.get('SC_KILLED')!] ?? 0,
      denied: values[bit * stride + sc.get('SC_DENIED')!] ?? 0,
    }));
  }

  ringStats() {
    return this.reader?.stats();
  }

  /** Drains the ring buffer synchronously through the reader's callback. */
  consume(): number {
    return this.reader && !this.reader.closed ? this.reader.consume() : 0;
  }

  /** Kernel accounting per loaded program (run time is counted only while enableStats() is in force). */
  programStats(): { name: string; runCount: number; runTimeNs: number; recursionMisses: number }[] {
    return [...this.coll.spec.programs.values()]
      .filter((p) => p.autoload)
      .map((p) => {
        const i = this.coll.program(p.name).info();
        return { name: p.name, runCount: i.runCount, runTimeNs: i.runTimeNs, recursionMisses: i.recursionMisses };
      });
  }

  /** Program ids, for tests and `bpftool prog show`. */
  programIds(): number[] {
    return [...this.coll.spec.programs.values()].filter((p) => p.autoload).map((p) => this.coll.program(p.name).info().id);
  }

  close(): void {
    this.coll.close();
  }
}
