// A loaded program and the ways to attach it. Each attach returns a Link owned
// by the program's Collection, so closing the collection detaches everything.
import { existsSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { WaggleError, toWaggleError } from './errors.js';
import { Link, detachOnExit } from './link.js';
import { cgroup2Path, ensureTracefs } from './mounts.js';
import { type StackChain, callGraph, deepestStackChain, depthsBeforeLoopInlining, subprogramStarts, type Subprogram } from './call-graph.js';
import { type Handle, type NativeProgramCode, type NativeProgramRuntimeInfo, native } from './native.js';
import { interfaceIndex } from './net.js';
import { type VerifierStats, parseVerifierStats } from './verifier-stats.js';

export const PERF_TYPE_HARDWARE = 0;
export const PERF_TYPE_SOFTWARE = 1;
export const PERF_COUNT_HW_CPU_CYCLES = 0;
export const PERF_COUNT_SW_CPU_CLOCK = 0;

export interface UprobeTarget {
  /** Path of the executable or shared library. */
  binary: string;
  /** Symbol to probe; resolved by libbpf from the ELF symbol tables. */
  symbol?: string;
  /** Offset from the symbol (or from the file start when no symbol is given). */
  offset?: number;
  /** Only this process (default: every process that maps the binary). */
  pid?: number;
  retprobe?: boolean;
}

export interface PerfEventTarget {
  type?: number;
  config?: number;
  /** Samples per second (frequency mode). */
  frequency?: number;
  /** Events between samples (period mode); ignored when frequency is set. */
  period?: number;
  cpu: number;
  /** -1 (default) for every process on the CPU. */
  pid?: number;
}

export interface ProgramOwner {
  handle(): Handle<'object'>;
  track(link: Link): Link;
  untrack(link: Link): void;
}

export class Program {
  constructor(
    private readonly owner: ProgramOwner,
    readonly name: string,
    readonly section: string,
    readonly type: string,
  ) {}

  get fd(): number {
    return native().programFd(this.owner.handle(), this.name);
  }

  /**
   * Kernel facts: id, and run time/count while bpf_stats is enabled; with
   * `{ code: true }` also the translated instructions and func_info.
   */
  info(): NativeProgramRuntimeInfo;
  info(opts: { code: true }): NativeProgramRuntimeInfo & { code: NativeProgramCode };
  info(opts: { code?: boolean } = {}): NativeProgramRuntimeInfo & { code?: NativeProgramCode } {
    const fd = this.fd;
    try {
      const facts = native().programInfo(fd);
      return opts.code ? { ...facts, code: native().programCode(fd) } : facts;
    } catch (e) {
      throw toWaggleError(e, { action: `reading the info of program ${this.name}`, privilege: 'load' });
    }
  }

  /** The verifier's log of this program's load, when its spec's logLevel was set. */
  get verifierLog(): string | undefined {
    return native().programVerifierLog(this.owner.handle(), this.name) ?? undefined;
  }

  /** Processed instructions and stack depths from the verifier log (stack depths need BPF_LOG_STATS). */
  get verifierStats(): VerifierStats | undefined {
    const log = this.verifierLog;
    return log === undefined ? undefined : parseVerifierStats(log);
  }

  /** Subprograms of the loaded program and their calls, from the kernel's own copy of the code. */
  callGraph(): Subprogram[] {
    const { code } = this.info({ code: true });
    return callGraph(code.instructions, code.funcInfo.map((f) => f.insnOff), 'xlated');
  }

  /**
   * Stack bytes of each subprogram as the verifier's stack check counted them
   * (BPF_LOG_STATS depths less what bpf_loop inlining added afterwards); needs
   * spec.program(name).logLevel = BPF_LOG_STATS (4).
   */
  stackDepths(): number[] {
    const depths = this.verifierStats?.stackDepths ?? [];
    if (depths.length === 0) {
      throw new WaggleError('WAGGLE_ERR_INVALID_ARGUMENT', `program ${this.name} was loaded without BPF_LOG_STATS (logLevel 4); its stack depths are unknown`);
    }
    const given = native().programInstructions(this.owner.handle(), this.name);
    return depthsBeforeLoopInlining(depths, this.callGraph(), callGraph(given, subprogramStarts(given), 'elf'));
  }

  /**
   * The deepest chain of calls by stack use, the verifier's way (see
   * deepestStackChain; rounding 32, the portable figure, by default).
   */
  stackChain(granularity: 16 | 32 = 32): StackChain {
    return deepestStackChain(this.callGraph(), this.stackDepths(), granularity);
  }

  private link(description: string, attach: () => Handle<'link'>, ctx: Parameters<typeof toWaggleError>[1]): Link {
    let handle: Handle<'link'>;
    try {
      handle = attach();
    } catch (e) {
      throw toWaggleError(e, ctx);
    }
    const link = new Link(`${description} ← ${this.name}`, () => native().linkDestroy(handle), (l) => this.owner.untrack(l));
    return this.owner.track(link);
  }

  /** Attaches according to the ELF section, as libbpf's auto-attach does. */
  attach(): Link {
    const [kind, ...rest] = this.section.split('/');
    const target = rest.join('/');
    switch (kind) {
      case 'tracepoint':
      case 'tp': {
        const [category, name] = rest;
        if (!category || !name) break;
        return this.attachTracepoint(category, name);
      }
      case 'raw_tracepoint':
      case 'raw_tp':
        if (target) return this.attachRawTracepoint(target);
        break;
      case 'tp_btf':
      case 'fentry':
      case 'fexit':
      case 'fmod_ret':
      case 'lsm':
        return this.attachTracing();
      case 'kprobe':
      case 'kretprobe':
        if (target) return this.attachKprobe(target, kind === 'kretprobe');
        break;
      default:
    }
    throw new WaggleError(
      'WAGGLE_ERR_INVALID_ARGUMENT',
      `program '${this.name}' (section "${this.section}") cannot be attached from its section alone; use the attach method for its kind with a target`,
    );
  }

  attachTracepoint(category: string, name: string): Link {
    const tracefs = ensureTracefs();
    if (!existsSync(join(tracefs, 'events', category, name))) {
      throw new WaggleError('WAGGLE_ERR_NOT_FOUND', `tracepoint ${category}/${name} does not exist on this kernel (not in ${tracefs}/events)`);
    }
    return this.link(`tracepoint ${category}/${name}`, () => native().attachTracepoint(this.owner.handle(), this.name, category, name), {
      action: `attaching ${this.name} to tracepoint ${category}/${name}`,
      privilege: 'attach-perf',
      missing: `tracepoint ${category}/${name}`,
    });
  }

  attachRawTracepoint(name: string): Link {
    return this.link(`raw_tracepoint ${name}`, () => native().attachRawTracepoint(this.owner.handle(), this.name, name), {
      action: `attaching ${this.name} to raw tracepoint ${name}`,
      privilege: 'attach-perf',
      missing: `raw tracepoint ${name}`,
    });
  }

  /** tp_btf, fentry/fexit, fmod_ret and lsm programs: the target was fixed at load. */
  attachTracing(): Link {
    return this.link(this.section, () => native().attachAuto(this.owner.handle(), this.name), {
      action: `attaching ${this.name} (${this.section})`,
      privilege: 'attach-perf',
      missing: `target of ${this.section}`,
    });
  }

  attachKprobe(fn: string, retprobe = false): Link {
    const tracefs = ensureTracefs();
    if (!existsSync('/sys/bus/event_source/devices/kprobe') && !existsSync(join(tracefs, 'kprobe_events'))) {
      throw new WaggleError(
        'WAGGLE_ERR_NOT_SUPPORTED',
        `attaching ${this.name} to kprobe ${fn}: this kernel has no kprobes (no kprobe PMU, no ${tracefs}/kprobe_events: CONFIG_KPROBES is off)`,
      );
    }
    return this.link(`${retprobe ? 'kretprobe' : 'kprobe'} ${fn}`, () => native().attachKprobe(this.owner.handle(), this.name, retprobe, fn), {
      action: `attaching ${this.name} to ${retprobe ? 'kretprobe' : 'kprobe'} ${fn}`,
      privilege: 'attach-perf',
      missing: `kernel function ${fn} (or kprobe support: CONFIG_KPROBES)`,
    });
  }

  attachUprobe(target: UprobeTarget): Link {
    if (!existsSync(target.binary)) throw new WaggleError('WAGGLE_ERR_NOT_FOUND', `uprobe target binary ${target.binary} does not exist`);
    const kind = target.retprobe ? 'uretprobe' : 'uprobe';
    const where = `${target.binary}:${target.symbol ?? ''}${target.offset ? `+0x${target.offset.toString(16)}` : ''}`;
    ensureTracefs();
    return this.link(
      `${kind} ${where}${target.pid ? ` pid ${target.pid}` : ''}`,
      () =>
        native().attachUprobe(this.owner.handle(), this.name, target.retprobe ?? false, target.pid ?? -1, target.binary, target.symbol ?? null, target.offset ?? 0),
      {
        action: `attaching ${this.name} to ${kind} ${where}`,
        privilege: 'attach-perf',
        missing: target.symbol ? `symbol '${target.symbol}' in ${target.binary}` : `offset in ${target.binary}`,
      },
    );
  }

  /** Samples on one CPU (perf_event_open + attach); the Link closes the perf event too. */
  attachPerfEvent(target: PerfEventTarget): Link {
    const freq = target.frequency !== undefined;
    let pfd: number;
    try {
      pfd = native().perfEventOpen(
        target.type ?? PERF_TYPE_SOFTWARE,
        target.config ?? PERF_COUNT_SW_CPU_CLOCK,
        freq ? target.frequency! : (target.period ?? 1_000_000),
        freq,
        target.pid ?? -1,
        target.cpu,
      );
    } catch (e) {
      throw toWaggleError(e, { action: `opening a perf event on CPU ${target.cpu}`, privilege: 'attach-perf', missing: `CPU ${target.cpu} or the event type` });
    }
    try {
      // libbpf's perf link closes the perf event fd when it is destroyed.
      return this.link(`perf_event cpu ${target.cpu}`, () => native().attachPerfEvent(this.owner.handle(), this.name, pfd), {
        action: `attaching ${this.name} to a perf event on CPU ${target.cpu}`,
        privilege: 'attach-perf',
      });
    } catch (e) {
      native().closeFd(pfd);
      throw e;
    }
  }

  /** Cgroup programs (sockops, cgroup_skb, cgroup/sock…) on a cgroup v2 directory (default: the root). */
  attachCgroup(cgroupPath?: string): Link {
    const path = cgroupPath ?? cgroup2Path();
    if (!path) throw new WaggleError('WAGGLE_ERR_NOT_FOUND', 'no cgroup v2 hierarchy is mounted; cgroup programs need one');
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      throw new WaggleError('WAGGLE_ERR_NOT_FOUND', `cgroup ${path} cannot be opened`);
    }
    try {
      return this.link(`cgroup ${path}`, () => native().attachCgroup(this.owner.handle(), this.name, fd), {
        action: `attaching ${this.name} to cgroup ${path}`,
        privilege: 'attach-networking',
        missing: `cgroup ${path}`,
      });
    } finally {
      closeSync(fd); // the kernel holds its own reference once attached
    }
  }

  /**
   * An sk_msg program on a sockmap or sockhash: it runs on every send of the
   * sockets the map holds (sockops programs usually put them there).
   */
  attachSockMap(map: { readonly name: string; readonly fd: number }): Link {
    return this.link(`sockmap ${map.name}`, () => native().attachSockmap(this.owner.handle(), this.name, map.fd), {
      action: `attaching ${this.name} to sockmap ${map.name}`,
      privilege: 'attach-networking',
    });
  }

  /**
   * tc on an interface: tcx (a bpf_link, kernel ≥ 6.6) when available, otherwise a
   * clsact qdisc filter through netlink, detached on close and at process exit.
   */
  attachTc(iface: string | number, direction: 'ingress' | 'egress'): Link {
    const ifindex = interfaceIndex(iface);
    const ingress = direction === 'ingress';
    const description = `tc ${direction} ${iface}`;
    try {
      return this.link(`${description} (tcx)`, () => native().attachTcx(this.owner.handle(), this.name, ifindex, ingress), {
        action: `attaching ${this.name} to ${description}`,
        privilege: 'attach-networking',
      });
    } catch (e) {
      if (!(e instanceof WaggleError) || e.code === 'WAGGLE_ERR_PERMISSION') throw e;
    }
    const progFd = this.fd;
    let created: boolean;
    let handle: number;
    let priority: number;
    try {
      created = native().tcHookCreate(ifindex, ingress);
      ({ handle, priority } = native().tcAttach(ifindex, ingress, progFd, 0));
    } catch (e) {
      throw toWaggleError(e, { action: `attaching ${this.name} to ${description}`, privilege: 'attach-networking' });
    }
    const detach = (): void => {
      native().tcDetach(ifindex, ingress, handle, priority);
      if (created) native().tcHookDestroy(ifindex);
    };
    const forget = detachOnExit(detach);
    const link = new Link(`${description} (netlink) ← ${this.name}`, () => {
      forget();
      detach();
    }, (l) => this.owner.untrack(l));
    return this.owner.track(link);
  }

  /** A socket filter on a packet socket bound to the interface (0 or omitted: all). */
  attachSocketFilter(iface: string | number = 0): Link {
    const ifindex = iface === 0 ? 0 : interfaceIndex(iface);
    let sock: number;
    try {
      sock = native().packetSocketOpen(ifindex);
      native().socketAttachFilter(sock, this.fd);
    } catch (e) {
      throw toWaggleError(e, { action: `attaching socket filter ${this.name}`, privilege: 'attach-networking' });
    }
    const link = new Link(`socket_filter if ${iface} ← ${this.name}`, () => native().closeFd(sock), (l) => this.owner.untrack(l));
    return this.owner.track(link);
  }

  /** Runs the program in the kernel with BPF_PROG_TEST_RUN (raw_tp, syscall, skb… types); repeat 0 runs once (raw_tp accepts only 0). */
  testRun(ctx: Uint8Array | null = null, repeat = 0): { retval: number; durationNs: number } {
    try {
      return native().programTestRun(this.fd, ctx, repeat);
    } catch (e) {
      throw toWaggleError(e, { action: `test-running ${this.name}` });
    }
  }
}
