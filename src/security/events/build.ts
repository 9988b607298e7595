// Kernel records → security events. Life-cycle records keep the process cache
// current; policy records become one event per policy that posted, with the
// process, its parent and ancestors taken from the cache.
import { constants } from 'node:os';
import type { CompiledPolicySet } from '../compile/compiler.js';
import { bitsOf, hasBit, maskFromValue } from '../compile/mask.js';
import type { EventHeader, PolicyHeader, SecurityLayout } from '../kernel/layout.js';
import type { OpenFlag } from '../policy/schema.js';
import { containerIdFromCgroupPath } from '../../process/index.js';
import { type ProcessCache, type ProcessInfo, execIdOf, processKey } from '../process/cache.js';
import type { KtimeClock } from '../process/clock.js';
import type { LifeRecords } from '../kernel/life-records.js';
import type { PolicyEvent, ProcessDetail, ProcessExecEvent, ProcessView, SecurityEvent, SocketAddress } from './types.js';

const SIGNAL_NAMES = new Map<number, string>(Object.entries(constants.signals).map(([name, n]) => [n, name]));
const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));

const PTRACE_REQUESTS = new Map<number, string>([
  [4, 'PTRACE_POKETEXT'],
  [5, 'PTRACE_POKEDATA'],
  [6, 'PTRACE_POKEUSER'],
  [13, 'PTRACE_SETREGS'],
  [15, 'PTRACE_SETFPREGS'],
  [16, 'PTRACE_ATTACH'],
  [0x4205, 'PTRACE_SETREGSET'],
  [0x4206, 'PTRACE_SEIZE'],
]);

export function formatAddress(bytes: Uint8Array, family: number): Omit<SocketAddress, 'port'> {
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (family === 2 || (mapped && family !== 10)) return { family: 'ipv4', address: Array.from(bytes.slice(12, 16)).join('.') };
  if (mapped) return { family: 'ipv6', address: `::ffff:${Array.from(bytes.slice(12, 16)).join('.')}` };
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  // Longest run of zero words (length ≥ 2) becomes "::".
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  const address = best < 0 ? hex(words) : `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`;
  return { family: 'ipv6', address };
}

function splitArgs(buf: Buffer, start: number, len: number): string[] {
  if (len <= 0) return [];
  const parts = buf.toString('utf8', start, start + len).split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** Shared by every forked image (read-only, like all of an event's process fields). */
const CLONE_FLAGS = Object.freeze(['clone']) as string[];
const EXECVE_FLAGS = Object.freeze(['execve']) as string[];

export interface BuilderStats {
  records: number;
  events: number;
  /** Records of a type or hook this agent does not know (should stay 0). */
  unknown: number;
  /** Unsent forks taken into the cache from a policy record (forkRecords 'needed'). */
  adopted: number;
}

export class EventBuilder {
  private readonly stats_: BuilderStats = { records: 0, events: 0, unknown: 0, adopted: 0 };
  private readonly openFlagBits: [OpenFlag, number][];
  private readonly truncated: { path: number; cwd: number; args: number; filename: number };
  private readonly inContainerFlag: number;
  private readonly lsmFlag: number;
  private readonly life: LifeRecords;

  constructor(
    private readonly layout: SecurityLayout,
    private readonly cache: ProcessCache,
    private readonly clock: KtimeClock,
    private readonly set: CompiledPolicySet,
    readonly node: string,
    /** The kernel sends forks only when needed (KernelOptions.forkRecords): a policy event may name a fork it never sent. */
    private readonly unsentForks = false,
  ) {
    const of = layout.openFlags;
    this.openFlagBits = [
      ['read', of.get('OPEN_READ')!],
      ['write', of.get('OPEN_WRITE')!],
      ['create', of.get('OPEN_CREATE')!],
      ['truncate', of.get('OPEN_TRUNCATE')!],
    ];
    const pf = layout.pathFlags;
    this.truncated = { path: pf.get('PATH_TRUNCATED')!, cwd: pf.get('CWD_TRUNCATED')!, args: pf.get('ARGS_TRUNCATED')!, filename: pf.get('FILENAME_TRUNCATED')! };
    this.inContainerFlag = layout.headerFlags.get('HDR_IN_CONTAINER')!;
    this.lsmFlag = layout.headerFlags.get('HDR_LSM')!;
    this.life = layout.life;
  }

  stats(): BuilderStats {
    return { ...this.stats_ };
  }

  /** Decodes one ring buffer record; returns the events it makes (possibly none). Never throws on a record. */
  handle(buf: Buffer, off: number, len: number): SecurityEvent[] {
    this.stats_.records++;
    const type = len > 0 ? buf.readUInt8(off) : -1;
    const t = this.layout.recordType;
    const L = this.layout;
    // A record shorter than its struct would be a bug on the kernel side: counted, not decoded.
    const fits = (size: number) => len >= size;
    let out: SecurityEvent[];
    if (type === t.exec && fits(L.exec.size)) out = [this.exec(buf, off, len)];
    else if (type === t.fork && fits(L.fork.size)) out = [this.fork(buf, off)];
    else if (type === t.exit && fits(L.exit.size)) out = [this.exit(buf, off)];
    else if (type === t.policy && fits(L.execPolicy.size)) out = this.policy(buf, off, len);
    else {
      this.stats_.unknown++;
      out = [];
    }
    this.stats_.events += out.length;
    return out;
  }

  /** The process with its parent (and ancestors): shared views, only the detail object is new. */
  private detail(p: ProcessInfo, tid?: number, withAncestors = true): ProcessDetail {
    const d: ProcessDetail = { ...this.cache.view(p, tid) };
    const parent = this.cache.parentOf(p);
    if (!parent) return d;
    d.parent = this.cache.view(parent);
    if (withAncestors) {
      const anc = this.cache.ancestorViews(p);
      if (anc.length > 0) d.ancestors = anc;
    }
    return d;
  }

  /**
   * A fork the kernel did not send (forkRecords 'needed'), met in a policy
   * record: the same image as its parent's, as a fork record would have made it
   * (no event: the user asked not to see forks).
   */
  private adoptFork(h: EventHeader): ProcessInfo | undefined {
    if (h.start_ktime === 0n || h.parent_start_ktime === 0n) return undefined;
    const parent = this.cache.get(h.ppid, h.parent_start_ktime);
    if (!parent) return undefined;
    this.stats_.adopted++;
    return this.cache.add({
      pid: h.pid,
      ppid: h.ppid,
      startKtime: h.start_ktime,
      execId: execIdOf(this.node, h.start_ktime, h.pid),
      binary: parent.binary,
      filename: undefined,
      arguments: parent.arguments,
      cwd: parent.cwd,
      uid: h.uid,
      gid: h.gid,
      startTime: this.clock.iso(h.start_ktime),
      containerId: parent.containerId,
      inContainer: (h.flags & this.inContainerFlag) !== 0,
      cgroup: parent.cgroup,
      flags: CLONE_FLAGS,
      parentKey: parent.key,
    });
  }

  /** A process the cache does not know: what the record itself says. */
  private missing(h: Pick<EventHeader, 'pid' | 'tid' | 'start_ktime' | 'uid' | 'gid' | 'flags'>): ProcessView {
    return {
      pid: h.pid,
      ...(h.tid !== h.pid ? { tid: h.tid } : {}),
      exec_id: h.start_ktime !== 0n ? execIdOf(this.node, h.start_ktime, h.pid) : '',
      binary: '',
      arguments: [],
      cwd: '',
      uid: h.uid,
      gid: h.gid,
      start_time: h.start_ktime !== 0n ? this.clock.iso(h.start_ktime) : '',
      in_container: (h.flags & this.inContainerFlag) !== 0,
      flags: ['miss'],
    };
  }

  private parentKeyOf(ppid: number, parentStart: bigint): string | undefined {
    if (parentStart !== 0n) return processKey(ppid, parentStart);
    return this.cache.current(ppid)?.key;
  }

  private exec(buf: Buffer, off: number, len: number): SecurityEvent {
    const R = this.life;
    const pid = R.pid(buf, off);
    const start = R.startKtime(buf, off);
    const argsStart = off + this.layout.execArgsOffset;
    const argv = splitArgs(buf, argsStart, Math.min(R.argsLen(buf, off), len - this.layout.execArgsOffset));
    const rflags = R.execFlags(buf, off);
    let flags = EXECVE_FLAGS;
    if (rflags & (this.truncated.args | this.truncated.path | this.truncated.cwd)) {
      flags = ['execve'];
      if (rflags & this.truncated.args) flags.push('truncArgs');
      if (rflags & this.truncated.path) flags.push('truncBinary');
      if (rflags & this.truncated.cwd) flags.push('truncCwd');
    }
    const binary = R.binary(buf, off);
    const filename = R.filename(buf, off);
    const cgroup = R.cgroup(buf, off);
    const p = this.cache.add({
      pid,
      ppid: R.ppid(buf, off),
      startKtime: start,
      execId: execIdOf(this.node, start, pid),
      binary,
      filename,
      arguments: argv.slice(1),
      cwd: R.cwd(buf, off),
      uid: R.uid(buf, off),
      gid: R.gid(buf, off),
      startTime: this.clock.iso(start),
      containerId: containerIdFromCgroupPath(cgroup),
      inContainer: R.pidnsLevel(buf, off) > 0,
      cgroup,
      flags,
      parentKey: this.parentKeyOf(R.ppid(buf, off), R.parentStartKtime(buf, off)),
    });
    const event: ProcessExecEvent = { time: this.clock.iso(R.ktime(buf, off)), node: this.node, type: 'process_exec', process: this.detail(p) };
    // Path passed to execve when it differs from the running image (a script, a symlink).
    if (filename && filename !== binary) event.filename = filename;
    return event;
  }

  private fork(buf: Buffer, off: number): SecurityEvent {
    const R = this.life;
    const pid = R.pid(buf, off);
    const ppid = R.ppid(buf, off);
    const parentStart = R.parentStartKtime(buf, off);
    const start = R.startKtime(buf, off);
    const parentKey = this.parentKeyOf(ppid, parentStart);
    const parent = parentKey ? this.cache.get(ppid, parentStart) ?? this.cache.current(ppid) : undefined;
    const p = this.cache.add({
      pid,
      ppid,
      startKtime: start,
      execId: execIdOf(this.node, start, pid),
      binary: parent?.binary ?? '',
      filename: undefined,
      arguments: parent?.arguments ?? [],
      cwd: parent?.cwd ?? '',
      uid: R.uid(buf, off),
      gid: R.gid(buf, off),
      startTime: this.clock.iso(start),
      containerId: parent?.containerId,
      inContainer: (R.flags(buf, off) & this.inContainerFlag) !== 0,
      cgroup: parent?.cgroup,
      flags: CLONE_FLAGS,
      parentKey: parent?.key,
    });
    return { time: this.clock.iso(R.ktime(buf, off)), node: this.node, type: 'process_fork', process: this.detail(p, undefined, false) };
  }

  private exit(buf: Buffer, off: number): SecurityEvent {
    const R = this.life;
    const pid = R.pid(buf, off);
    const start = R.startKtime(buf, off);
    const p = this.cache.get(pid, start);
    const process: ProcessDetail = p
      ? this.detail(p, undefined, false)
      : this.missing({ pid, tid: R.tid(buf, off), start_ktime: start, uid: R.uid(buf, off), gid: R.gid(buf, off), flags: R.flags(buf, off) });
    if (p) this.cache.die(p);
    const code = R.exitCode(buf, off);
    const sig = code & 0x7f;
    return {
      time: this.clock.iso(R.ktime(buf, off)),
      node: this.node,
      type: 'process_exit',
      process,
      status: sig === 0 ? (code >> 8) & 0xff : null,
      signal: sig === 0 ? null : (SIGNAL_NAMES.get(sig) ?? `signal ${sig}`),
    };
  }

  private policy(buf: Buffer, off: number, len: number): SecurityEvent[] {
    const hook = this.layout.hookById.get(buf.readUInt8(off + 1));
    const L = this.layout;
    const size = { file_open: L.file, connect: L.sock, bind: L.sock, setuid: L.setuid, ptrace: L.ptrace, mount: L.mount, module_load: L.module, exec: L.execPolicy };
    if (!hook || len < size[hook].size) {
      this.stats_.unknown++;
      return [];
    }
    let header: PolicyHeader;
    let fields: Record<string, unknown>;
    switch (hook) {
      case 'file_open': {
        const r = L.file.decode(buf, off);
        header = r.p;
        const flags = this.openFlagBits.filter(([, bit]) => r.flags & bit).map(([name]) => name);
        fields = { file: { path: r.path, flags, ...(r.path_flags & this.truncated.path ? { truncated: true } : {}) } };
        break;
      }
      case 'connect':
      case 'bind': {
        const r = L.sock.decode(buf, off);
        header = r.p;
        const a = formatAddress(r.addr, r.family);
        fields = { [hook === 'connect' ? 'destination' : 'address']: { family: a.family, address: a.address, port: r.port } };
        break;
      }
      case 'setuid': {
        const r = L.setuid.decode(buf, off);
        header = r.p;
        const count = { setuid: 1, setgid: 1, setfsuid: 1, setfsgid: 1, setreuid: 2, setregid: 2 }[L.ops.get(r.p.hdr.op) ?? ''] ?? 3;
        fields = { ids: r.ids.slice(0, count).map((v) => (v === 0xffffffff ? null : v)) };
        break;
      }
      case 'ptrace': {
        const r = L.ptrace.decode(buf, off);
        header = r.p;
        fields = { ptrace: { request: PTRACE_REQUESTS.get(Number(r.request)) ?? String(r.request), target_pid: r.target_pid } };
        break;
      }
      case 'mount': {
        const r = L.mount.decode(buf, off);
        header = r.p;
        const error = r.ret === 0 ? null : (ERRNO_NAMES.get(-r.ret) ?? `errno ${-r.ret}`);
        fields = { mount: { source: r.source, target: r.target, fstype: r.fstype, flags: Number(r.mount_flags), error } };
        break;
      }
      case 'module_load': {
        const r = L.module.decode(buf, off);
        header = r.p;
        fields = { module: { ...(r.path ? { path: r.path } : {}), params: r.args } };
        break;
      }
      case 'exec': {
        // From lsm/bprm_check_security: the record names the file about to run.
        const lsm = (buf.readUInt8(off + 3) & this.lsmFlag) !== 0 && len >= L.execCheck.size;
        if (lsm) {
          const r = L.execCheck.decode(buf, off);
          header = r.p;
          fields = { file: { path: r.path, ...(r.path_flags & this.truncated.path ? { truncated: true } : {}) } };
        } else {
          header = L.execPolicy.decode(buf, off).p;
          fields = {};
        }
        break;
      }
    }
    const h = header.hdr;
    const p = this.cache.get(h.pid, h.start_ktime) ?? (this.unsentForks ? this.adoptFork(h) : undefined);
    // Credentials as they were at the operation (setuid after exec changes them).
    const process: ProcessDetail = p
      ? { ...this.detail(p, h.tid), uid: h.uid, gid: h.gid, in_container: (h.flags & this.inContainerFlag) !== 0 }
      : this.missing(h);
    const dry = maskFromValue(header.dry);
    const time = this.clock.iso(h.ktime);
    const syscall = L.ops.get(h.op) ?? 'unknown';
    return bitsOf(maskFromValue(header.posted)).map((bit) => {
      const sel = this.set.selectors[bit];
      const meta = sel?.policy.metadata;
      const event = {
        time,
        node: this.node,
        type: hook,
        policy: sel?.policyName ?? `selector-${bit}`,
        action: sel?.action === 'sigkill' || sel?.action === 'deny' ? sel.action : 'post',
        dry_run: hasBit(dry, bit),
        ...(meta?.severity ? { severity: meta.severity } : {}),
        ...(meta?.tags ? { tags: meta.tags } : {}),
        syscall,
        process,
        ...fields,
      };
      return event as PolicyEvent;
    });
  }
}
