// Record layouts and constants of bpf/security/security.bpf.c, read from the
// object's BTF: the C structs and enums are the only source of truth.
import { type Btf, type Codec, WaggleError, offsetOf, structCodecByName } from '../../ebpf/index.js';
import { ACTION_CODES, RATE_SCOPE_CODES } from '../compile/compiler.js';
import { HOOKS, type Hook, OPEN_FLAGS } from '../policy/schema.js';
import { LifeRecords } from './life-records.js';

export interface Selmask {
  w: number[];
}

export interface EventHeader {
  type: number;
  hook: number;
  op: number;
  flags: number;
  pid: number;
  tid: number;
  ppid: number;
  ktime: bigint;
  start_ktime: bigint;
  parent_start_ktime: bigint;
  uid: number;
  gid: number;
}

export interface ExecRecord {
  hdr: EventHeader;
  euid: number;
  egid: number;
  cgroup_id: bigint;
  args_len: number;
  flags: number;
  pidns_level: number;
  binary: string;
  filename: string;
  cwd: string;
  cgroup: string;
}

export interface ExitRecord {
  hdr: EventHeader;
  exit_code: number;
}

export interface PolicyHeader {
  hdr: EventHeader;
  posted: Selmask;
  killed: Selmask;
  dry: Selmask;
}

export interface FileRecord {
  p: PolicyHeader;
  flags: number;
  fmode: number;
  ino: bigint;
  dev: number;
  path_len: number;
  path_flags: number;
  path: string;
}

export interface SockRecord {
  p: PolicyHeader;
  family: number;
  port: number;
  addr: Uint8Array;
}

export interface SetuidRecord {
  p: PolicyHeader;
  ids: number[];
}

export interface PtraceRecord {
  p: PolicyHeader;
  request: bigint;
  target_pid: number;
}

export interface MountRecord {
  p: PolicyHeader;
  mount_flags: bigint;
  ret: number;
  source: string;
  target: string;
  fstype: string;
}

export interface ModuleRecord {
  p: PolicyHeader;
  path_len: number;
  path_flags: number;
  path: string;
  args: string;
}

export interface ExecCheckRecord {
  p: PolicyHeader;
  path_len: number;
  path_flags: number;
  path: string;
}

export interface ProcEntry {
  start_ktime: bigint;
  parent_start_ktime: bigint;
  ppid: number;
  flags: number;
  bin: { pos: Selmask; neg: Selmask };
  as_parent: { pos: Selmask; neg: Selmask };
  parent: { pos: Selmask; neg: Selmask };
}

/** Values of a C enum, without the WG_ prefix that keeps them apart from vmlinux.h. */
export function enumValues(btf: Btf, name: string): Map<string, number> {
  const t = btf.find(name, 'enum')[0];
  if (!t?.enumValues) throw new WaggleError('WAGGLE_ERR_NOT_FOUND', `enum ${name} is not in the security object's BTF`);
  return new Map(t.enumValues.map((v) => [v.name.replace(/^WG_/, ''), v.value]));
}

function need(map: Map<string, number>, key: string): number {
  const v = map.get(key);
  if (v === undefined) throw new WaggleError('WAGGLE_ERR_NOT_FOUND', `constant ${key} is missing from the security object's BTF`);
  return v;
}

export class SecurityLayout {
  readonly exec: Codec<ExecRecord>;
  readonly exit: Codec<ExitRecord>;
  readonly fork: Codec<{ hdr: EventHeader }>;
  readonly file: Codec<FileRecord>;
  readonly sock: Codec<SockRecord>;
  readonly setuid: Codec<SetuidRecord>;
  readonly ptrace: Codec<PtraceRecord>;
  readonly mount: Codec<MountRecord>;
  readonly module: Codec<ModuleRecord>;
  readonly execPolicy: Codec<{ p: PolicyHeader }>;
  readonly execCheck: Codec<ExecCheckRecord>;
  readonly procEntry: Codec<ProcEntry>;
  readonly header: Codec<EventHeader>;
  readonly execArgsOffset: number;
  /** Direct field reads of exec, fork and exit records (the hot path). */
  readonly life: LifeRecords;
  readonly recordType: { exec: number; exit: number; fork: number; policy: number };
  /** enum hook_id value → hook name */
  readonly hookById: Map<number, Hook>;
  readonly hookId: Record<Hook, number>;
  readonly ops: Map<number, string>;
  readonly headerFlags: Map<string, number>;
  readonly pathFlags: Map<string, number>;
  readonly openFlags: Map<string, number>;
  readonly hookCounters: Map<string, number>;
  readonly lifeCounters: Map<string, number>;
  readonly selCounters: Map<string, number>;
  readonly procFlags: Map<string, number>;

  constructor(btf: Btf) {
    const big = { bigint: true };
    this.exec = structCodecByName(btf, 'exec_record', big);
    this.exit = structCodecByName(btf, 'exit_record', big);
    this.fork = structCodecByName(btf, 'fork_record', big);
    this.file = structCodecByName(btf, 'file_record', big);
    this.sock = structCodecByName(btf, 'sock_record', big);
    this.setuid = structCodecByName(btf, 'setuid_record', big);
    this.ptrace = structCodecByName(btf, 'ptrace_record', big);
    this.mount = structCodecByName(btf, 'mount_record', big);
    this.module = structCodecByName(btf, 'module_record', big);
    this.execPolicy = structCodecByName(btf, 'exec_policy_record', big);
    this.execCheck = structCodecByName(btf, 'exec_check_record', big);
    this.procEntry = structCodecByName(btf, 'proc_entry', big);
    this.header = structCodecByName(btf, 'event_header', big);
    this.execArgsOffset = offsetOf(btf, 'exec_record', 'args');
    this.life = new LifeRecords(btf);

    const types = enumValues(btf, 'record_type');
    this.recordType = { exec: need(types, 'REC_EXEC'), exit: need(types, 'REC_EXIT'), fork: need(types, 'REC_FORK'), policy: need(types, 'REC_POLICY') };
    const hooks = enumValues(btf, 'hook_id');
    this.hookId = Object.fromEntries(HOOKS.map((h) => [h, need(hooks, `HOOK_${h.toUpperCase()}`)])) as Record<Hook, number>;
    this.hookById = new Map(HOOKS.map((h) => [this.hookId[h], h]));
    HOOKS.forEach((h, i) => {
      if (this.hookId[h] !== i) throw new WaggleError('WAGGLE_ERR_OBJECT', `hook ${h} is ${this.hookId[h]} in the BPF object but ${i} in TypeScript`);
    });
    this.ops = new Map([...enumValues(btf, 'op_id')].map(([k, v]) => [v, k.replace(/^OP_/, '').toLowerCase()]));
    this.headerFlags = enumValues(btf, 'header_flag');
    this.pathFlags = enumValues(btf, 'path_flag');
    this.openFlags = enumValues(btf, 'open_flag');
    this.hookCounters = enumValues(btf, 'hook_counter');
    this.lifeCounters = enumValues(btf, 'life_counter');
    this.selCounters = enumValues(btf, 'sel_counter');
    this.procFlags = enumValues(btf, 'proc_flag');
    // Codes the compiler writes without the object at hand must agree with it.
    const expect = (name: string, actual: number | undefined, wanted: number) => {
      if (actual !== wanted) throw new WaggleError('WAGGLE_ERR_OBJECT', `${name} is ${actual} in the BPF object but ${wanted} in TypeScript`);
    };
    const actions = enumValues(btf, 'sel_action');
    for (const [a, code] of Object.entries(ACTION_CODES)) expect(`ACTION_${a.toUpperCase()}`, actions.get(`ACTION_${a.toUpperCase()}`), code);
    const scopes = enumValues(btf, 'rate_scope');
    for (const [sc, code] of Object.entries(RATE_SCOPE_CODES)) expect(`RATE_${sc.toUpperCase()}`, scopes.get(`RATE_${sc.toUpperCase()}`), code);
    OPEN_FLAGS.forEach((f, i) => expect(`OPEN_${f.toUpperCase()}`, this.openFlags.get(`OPEN_${f.toUpperCase()}`), 1 << i));
  }

  flag(map: Map<string, number>, name: string): number {
    return need(map, name);
  }
}
