// Direct reads of the life-cycle records (exec, fork, exit), which arrive by
// the thousand a second: field offsets come from the object's BTF once, and
// each field is read where it lies, with no decoded object per record (the
// generic codec stays for policy records). Paths and names are interned.
import { type Btf, WaggleError, offsetOf } from '../../ebpf/index.js';
import { StringInterner } from './interner.js';

function sizeOf(btf: Btf, struct: string, member: string): number {
  const m = btf.struct(struct).members?.find((x) => x.name === member);
  if (!m) throw new WaggleError('WAGGLE_ERR_NOT_FOUND', `struct '${struct}' has no member '${member}'`);
  return btf.sizeOf(m.type);
}

export class LifeRecords {
  private readonly o: Record<string, number>;
  private readonly max: { binary: number; filename: number; cwd: number; cgroup: number };
  private readonly strings = new StringInterner(256);

  constructor(btf: Btf) {
    const at = (s: string, p: string) => offsetOf(btf, s, p);
    this.o = {
      flags: at('event_header', 'flags'),
      pid: at('event_header', 'pid'),
      tid: at('event_header', 'tid'),
      ppid: at('event_header', 'ppid'),
      ktime: at('event_header', 'ktime'),
      start: at('event_header', 'start_ktime'),
      parentStart: at('event_header', 'parent_start_ktime'),
      uid: at('event_header', 'uid'),
      gid: at('event_header', 'gid'),
      argsLen: at('exec_record', 'args_len'),
      execFlags: at('exec_record', 'flags'),
      pidnsLevel: at('exec_record', 'pidns_level'),
      binary: at('exec_record', 'binary'),
      filename: at('exec_record', 'filename'),
      cwd: at('exec_record', 'cwd'),
      cgroup: at('exec_record', 'cgroup'),
      exitCode: at('exit_record', 'exit_code'),
    };
    this.max = {
      binary: sizeOf(btf, 'exec_record', 'binary'),
      filename: sizeOf(btf, 'exec_record', 'filename'),
      cwd: sizeOf(btf, 'exec_record', 'cwd'),
      cgroup: sizeOf(btf, 'exec_record', 'cgroup'),
    };
    // The reads below assume these widths (records.h); a change there must show up here.
    const widths: [string, string, number][] = [
      ['event_header', 'flags', 1], ['event_header', 'pid', 4], ['event_header', 'tid', 4], ['event_header', 'ppid', 4],
      ['event_header', 'ktime', 8], ['event_header', 'start_ktime', 8], ['event_header', 'parent_start_ktime', 8],
      ['event_header', 'uid', 4], ['event_header', 'gid', 4], ['exec_record', 'args_len', 4], ['exec_record', 'flags', 2],
      ['exec_record', 'pidns_level', 2], ['exit_record', 'exit_code', 4],
    ];
    for (const [name, n] of Object.entries(this.max)) {
      if (n <= 0) throw new WaggleError('WAGGLE_ERR_OBJECT', `exec_record.${name} has no size in the BPF object`);
    }
    for (const [s, m, w] of widths) {
      if (sizeOf(btf, s, m) !== w) throw new WaggleError('WAGGLE_ERR_OBJECT', `${s}.${m} is ${sizeOf(btf, s, m)} bytes in the BPF object, ${w} in TypeScript`);
    }
  }

  // Header (every record starts with struct event_header).
  flags = (b: Buffer, r: number) => b[r + this.o.flags!]!;
  pid = (b: Buffer, r: number) => b.readUInt32LE(r + this.o.pid!);
  tid = (b: Buffer, r: number) => b.readUInt32LE(r + this.o.tid!);
  ppid = (b: Buffer, r: number) => b.readUInt32LE(r + this.o.ppid!);
  ktime = (b: Buffer, r: number) => b.readBigUInt64LE(r + this.o.ktime!);
  startKtime = (b: Buffer, r: number) => b.readBigUInt64LE(r + this.o.start!);
  parentStartKtime = (b: Buffer, r: number) => b.readBigUInt64LE(r + this.o.parentStart!);
  uid = (b: Buffer, r: number) => b.readUInt32LE(r + this.o.uid!);
  gid = (b: Buffer, r: number) => b.readUInt32LE(r + this.o.gid!);

  // struct exec_record
  argsLen = (b: Buffer, r: number) => b.readUInt32LE(r + this.o.argsLen!);
  execFlags = (b: Buffer, r: number) => b.readUInt16LE(r + this.o.execFlags!);
  pidnsLevel = (b: Buffer, r: number) => b.readUInt16LE(r + this.o.pidnsLevel!);
  binary = (b: Buffer, r: number) => this.strings.read(b, r + this.o.binary!, this.max.binary);
  filename = (b: Buffer, r: number) => this.strings.read(b, r + this.o.filename!, this.max.filename);
  cwd = (b: Buffer, r: number) => this.strings.read(b, r + this.o.cwd!, this.max.cwd);
  cgroup = (b: Buffer, r: number) => this.strings.read(b, r + this.o.cgroup!, this.max.cgroup);

  // struct exit_record
  exitCode = (b: Buffer, r: number) => b.readUInt32LE(r + this.o.exitCode!);
}
