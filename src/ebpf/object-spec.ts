// The editable stage of a BPF object, before it is loaded into the kernel
// (cilium/ebpf's CollectionSpec): choose programs, resize maps, set constants.
import { existsSync } from 'node:fs';
import { Btf } from './btf/parse.js';
import { btfCodec } from './btf/codec.js';
import { VMLINUX_BTF } from './btf/kernel-names.js';
import { Collection } from './collection.js';
import { WaggleError, failedProgram, toWaggleError } from './errors.js';
import type { BpfMap } from './map.js';
import { type Handle, type NativeMapSpecInfo, type NativeProgramInfo, native } from './native.js';
import { BPF_LOG_LEVEL1, BPF_LOG_LEVEL2 } from './verifier-stats.js';

// Stats alone are a few lines; instruction-level logs of real programs run to megabytes.
const STATS_LOG_BYTES = 64 << 10;
const FULL_LOG_BYTES = 16 << 20;

export class ProgramSpec {
  private log: { level: number; size: number | undefined } = { level: 0, size: undefined };

  constructor(
    private readonly spec: ObjectSpec,
    private readonly info: NativeProgramInfo,
  ) {}

  get name(): string {
    return this.info.name;
  }
  /** ELF section, e.g. "tracepoint/syscalls/sys_enter_read"; it tells how to attach. */
  get section(): string {
    return this.info.section;
  }
  get type(): string {
    return this.info.type;
  }
  get instructions(): number {
    return this.info.instructions;
  }
  get autoload(): boolean {
    return this.info.autoload;
  }
  /** Whether load() loads this program; unloaded programs cost nothing in the kernel. */
  set autoload(on: boolean) {
    native().programSetAutoload(this.spec.handle(), this.info.name, on);
    this.info.autoload = on;
  }

  get logLevel(): number {
    return this.log.level;
  }
  /**
   * Verifier log level of this program's load (BPF_LOG_LEVEL1 | BPF_LOG_LEVEL2 |
   * BPF_LOG_STATS); the log lands in a buffer of its own, read back as
   * Program.verifierLog after load, or VerifierError.verifierLog on failure.
   */
  set logLevel(level: number) {
    if (!Number.isInteger(level) || level < 0 || level > 0x1f) {
      throw new WaggleError('WAGGLE_ERR_INVALID_ARGUMENT', `log level of program '${this.name}' must be an integer 0..31 (BPF_LOG_* bits), got ${level}`);
    }
    this.log.level = level;
    this.applyLog();
  }

  /** Bytes of the log buffer; a log that does not fit fails the load. Default: 64 KiB for stats, 16 MiB otherwise. */
  get logSize(): number {
    return this.log.size ?? (this.log.level & (BPF_LOG_LEVEL1 | BPF_LOG_LEVEL2) ? FULL_LOG_BYTES : STATS_LOG_BYTES);
  }
  set logSize(bytes: number) {
    if (!Number.isInteger(bytes) || bytes <= 0) throw new WaggleError('WAGGLE_ERR_INVALID_ARGUMENT', `log size of program '${this.name}' must be a positive integer, got ${bytes}`);
    this.log.size = bytes;
    if (this.log.level) this.applyLog();
  }

  private applyLog(): void {
    try {
      native().programSetLog(this.spec.handle(), this.info.name, this.log.level, this.logSize);
    } catch (e) {
      throw toWaggleError(e, { action: `setting the verifier log of program '${this.name}'` });
    }
  }

  /** The log of the last load attempt (e.g. a failed one), when logLevel was set. */
  get verifierLog(): string | undefined {
    const obj = this.spec.rawHandle();
    return obj && this.log.level ? (native().programVerifierLog(obj, this.info.name) ?? undefined) : undefined;
  }

  /**
   * The instructions as libbpf last passed them to the kernel: after a load attempt,
   * relocated, with subprograms appended (before it, the ELF section's own code).
   */
  loadedInstructions(): Buffer {
    const obj = this.spec.rawHandle();
    if (!obj) throw new WaggleError('WAGGLE_ERR_CLOSED', `BPF object ${this.spec.path} was closed`);
    return native().programInstructions(obj, this.info.name);
  }
}

export class MapSpec {
  private reused: number | undefined;
  private native: string | undefined;

  constructor(
    private readonly spec: ObjectSpec,
    private readonly info: NativeMapSpecInfo,
  ) {}

  get name(): string {
    return this.info.name;
  }
  get type(): string {
    return this.info.type;
  }
  get keySize(): number {
    return this.info.keySize;
  }
  get valueSize(): number {
    return this.info.valueSize;
  }
  get internal(): boolean {
    return this.info.internal;
  }
  get btfKeyTypeId(): number {
    return this.info.btfKeyTypeId;
  }
  get btfValueTypeId(): number {
    return this.info.btfValueTypeId;
  }
  get maxEntries(): number {
    return this.info.maxEntries;
  }
  /** Resizes the map (for ring buffers: bytes, a power of two multiple of the page size). */
  set maxEntries(n: number) {
    if (!Number.isInteger(n) || n <= 0) throw new WaggleError('WAGGLE_ERR_INVALID_ARGUMENT', `maxEntries of map '${this.name}' must be a positive integer, got ${n}`);
    if (this.info.type === 'ringbuf' && (n & (n - 1)) !== 0) {
      throw new WaggleError('WAGGLE_ERR_INVALID_ARGUMENT', `ring buffer '${this.name}' size must be a power of two, got ${n}`);
    }
    if (this.reused !== undefined) throw new WaggleError('WAGGLE_ERR_INVALID_ARGUMENT', `map '${this.name}' stands for an existing map; its size is that map's`);
    native().mapSetMaxEntries(this.spec.handle(), this.info.name, n);
    this.info.maxEntries = n;
  }

  /**
   * Uses an existing map (another collection's) instead of creating one, so two
   * objects share it: what one program writes the other reads (cilium/ebpf's
   * MapReplacements). Type, key and value sizes and capacity must be the same;
   * the shared map lives as long as any object or program still holds it.
   */
  reuse(existing: BpfMap<unknown, unknown>): void {
    const diff = (['type', 'keySize', 'valueSize', 'maxEntries'] as const).filter((k) => existing[k] !== this.info[k]);
    if (diff.length > 0) {
      const show = diff.map((k) => `${k} ${String(existing[k])} ≠ ${String(this.info[k])}`).join(', ');
      throw new WaggleError('WAGGLE_ERR_INVALID_ARGUMENT', `map '${existing.name}' cannot stand for map '${this.name}' of ${this.spec.path}: ${show}`);
    }
    if (this.reused !== undefined) throw new WaggleError('WAGGLE_ERR_INVALID_ARGUMENT', `map '${this.name}' of ${this.spec.path} already stands for another map`);
    // libbpf renames the object's map to the existing map's kernel name: a map
    // of the object with that name would become ambiguous.
    const clash = [...this.spec.maps.values()].find((m) => m !== this && m.nativeName === existing.name);
    if (clash) throw new WaggleError('WAGGLE_ERR_INVALID_ARGUMENT', `map '${existing.name}' cannot stand for map '${this.name}' of ${this.spec.path}: the object has a map of that name`);
    try {
      native().mapReuseFd(this.spec.handle(), this.info.name, existing.fd);
    } catch (e) {
      throw toWaggleError(e, { action: `reusing map '${existing.name}' as '${this.name}' of ${this.spec.path}` });
    }
    this.reused = existing.id;
    this.native = existing.name;
  }

  /** The name libbpf knows the map by (the existing map's, after reuse()). @internal */
  get nativeName(): string {
    return this.native ?? this.info.name;
  }

  /** Id of the existing map this one stands for (reuse()), if any. */
  get reusedMapId(): number | undefined {
    return this.reused;
  }
}

const DATA_SECTIONS = ['.rodata', '.data', '.bss'];

export class ObjectSpec {
  readonly path: string;
  readonly name: string;
  readonly programs: ReadonlyMap<string, ProgramSpec>;
  readonly maps: ReadonlyMap<string, MapSpec>;
  private obj: Handle<'object'> | undefined;
  private btfCache: Btf | null | undefined;
  private loaded = false;

  private constructor(path: string, obj: Handle<'object'>) {
    this.path = path;
    this.obj = obj;
    const info = native().objectInfo(obj);
    this.name = info.name;
    this.programs = new Map(info.programs.map((p) => [p.name, new ProgramSpec(this, p)]));
    this.maps = new Map(info.maps.map((m) => [m.name, new MapSpec(this, m)]));
  }

  /** Opens a compiled BPF object file (ELF); nothing reaches the kernel yet. */
  static open(path: string): ObjectSpec {
    if (!existsSync(path)) throw new WaggleError('WAGGLE_ERR_NOT_FOUND', `BPF object ${path} does not exist (was "npm run build" run?)`);
    try {
      return new ObjectSpec(path, native().openObject(path));
    } catch (e) {
      throw toWaggleError(e, { action: `opening BPF object ${path}`, missing: path });
    }
  }

  /** @internal */
  handle(): Handle<'object'> {
    if (!this.obj) throw new WaggleError('WAGGLE_ERR_CLOSED', `BPF object ${this.path} was closed`);
    if (this.loaded) throw new WaggleError('WAGGLE_ERR_INVALID_ARGUMENT', `BPF object ${this.path} is already loaded; the spec can no longer change`);
    return this.obj;
  }

  program(name: string): ProgramSpec {
    const p = this.programs.get(name);
    if (!p) throw new WaggleError('WAGGLE_ERR_NOT_FOUND', `no program '${name}' in ${this.path} (has: ${[...this.programs.keys()].join(', ')})`);
    return p;
  }

  map(name: string): MapSpec {
    const m = this.maps.get(name);
    if (!m) throw new WaggleError('WAGGLE_ERR_NOT_FOUND', `no map '${name}' in ${this.path} (has: ${[...this.maps.keys()].join(', ')})`);
    return m;
  }

  /** The object's BTF, or undefined when it was compiled without -g. */
  get btf(): Btf | undefined {
    if (this.btfCache === undefined) {
      const raw = this.obj ? native().objectBtf(this.obj) : null;
      this.btfCache = raw ? Btf.parse(raw) : null;
    }
    return this.btfCache ?? undefined;
  }

  /** Loads only the named programs; every other program is skipped. */
  selectPrograms(names: Iterable<string>): this {
    const wanted = new Set(names);
    for (const n of wanted) this.program(n);
    for (const p of this.programs.values()) p.autoload = wanted.has(p.name);
    return this;
  }

  /**
   * Sets a global variable's initial value: `const volatile` ones (.rodata) become
   * constants the verifier can prune on; .data/.bss ones stay writable after load.
   */
  setVariable(name: string, value: unknown): this {
    const btf = this.btf;
    if (!btf) throw new WaggleError('WAGGLE_ERR_NOT_SUPPORTED', `${this.path} has no BTF; variables cannot be located`);
    for (const section of DATA_SECTIONS) {
      const v = btf.datasecVariables(section).find((x) => x.name === name);
      if (!v) continue;
      const obj = this.handle();
      const initial = native().mapInitialValue(obj, section);
      if (!initial) throw new WaggleError('WAGGLE_ERR_NOT_FOUND', `section ${section} of ${this.path} has no data`);
      btfCodec(btf, v.type).encode(value, initial, v.offset);
      native().mapSetInitialValue(obj, section, initial);
      return this;
    }
    const known = DATA_SECTIONS.flatMap((s) => btf.datasecVariables(s).map((x) => x.name));
    throw new WaggleError('WAGGLE_ERR_NOT_FOUND', `no global variable '${name}' in ${this.path} (has: ${known.join(', ') || 'none'})`);
  }

  /** Loads maps and selected programs into the kernel; the spec becomes a live Collection. */
  load(): Collection {
    const obj = this.handle();
    void this.btf; // read before load: the collection decodes with it after the spec is sealed
    try {
      native().objectLoad(obj);
    } catch (e) {
      if (!existsSync(VMLINUX_BTF) && /vmlinux BTF|CO-RE|relocat/i.test(String((e as { libbpfLog?: string }).libbpfLog ?? ''))) {
        throw new WaggleError(
          'WAGGLE_ERR_NOT_SUPPORTED',
          `loading ${this.path}: this kernel exposes no BTF (${VMLINUX_BTF} is missing), which CO-RE programs need: a kernel built with CONFIG_DEBUG_INFO_BTF=y`,
          { cause: e },
        );
      }
      const types = [...this.programs.values()].filter((p) => p.autoload).map((p) => p.type);
      const privilege = types.some((t) => t === 'tracing' || t === 'lsm')
        ? 'load-trampoline'
        : types.some((t) => /tracepoint|kprobe|perf/.test(t))
          ? 'load-tracing'
          : types.some((t) => /sched_cls|sock_ops|cgroup|socket/.test(t))
            ? 'load-networking'
            : 'load';
      // libbpf prints no log for a program that has its own log buffer: take it from there.
      const failed = failedProgram(String((e as { libbpfLog?: string }).libbpfLog ?? ''));
      const log = failed ? this.programs.get(failed)?.verifierLog : undefined;
      if (log !== undefined && e instanceof Error) Object.assign(e, { verifierLog: log });
      throw toWaggleError(e, { action: `loading ${this.path}`, privilege });
    }
    this.loaded = true;
    return new Collection(this, obj, () => {
      this.obj = undefined;
    });
  }

  /** Releases an object that was never loaded. */
  close(): void {
    if (this.obj && !this.loaded) native().objectClose(this.obj);
    this.obj = undefined;
  }

  /** @internal the native handle regardless of stage, for Collection */
  rawHandle(): Handle<'object'> | undefined {
    return this.obj;
  }
}
