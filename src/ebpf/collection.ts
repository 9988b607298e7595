// A loaded BPF object: its programs, maps, global variables, and everything
// attached or opened from it. close() releases all of it, links first.
import { btfCodec } from './btf/codec.js';
import { type Codec, bytes, u32, u64 } from './codec.js';
import { WaggleError } from './errors.js';
import type { Link } from './link.js';
import { BpfMap, perCpu } from './map.js';
import { type Handle, native } from './native.js';
import type { ObjectSpec } from './object-spec.js';
import { Program } from './program.js';
import { type RecordBatch, RingBufferReader, type RingBufferOptions } from './ringbuf.js';

const DATA_SECTIONS = ['.rodata', '.data', '.bss'];

export class Collection {
  private obj: Handle<'object'> | undefined;
  private readonly links = new Set<Link>();
  private readonly readers = new Set<RingBufferReader>();
  private readonly programCache = new Map<string, Program>();
  private readonly mapCache = new Map<string, BpfMap<unknown, unknown>>();

  /** @internal created by ObjectSpec.load() */
  constructor(
    readonly spec: ObjectSpec,
    obj: Handle<'object'>,
    private readonly onClosed: () => void,
  ) {
    this.obj = obj;
  }

  get path(): string {
    return this.spec.path;
  }

  /** @internal */
  handle(): Handle<'object'> {
    if (!this.obj) throw new WaggleError('WAGGLE_ERR_CLOSED', `BPF object ${this.spec.path} was closed`);
    return this.obj;
  }

  assertOpen(): void {
    this.handle();
  }

  /** @internal */
  track(link: Link): Link {
    this.links.add(link);
    return link;
  }

  /** @internal */
  untrack(link: Link): void {
    this.links.delete(link);
  }

  /** Links currently attached through this collection. */
  get attachments(): readonly Link[] {
    return [...this.links];
  }

  program(name: string): Program {
    this.assertOpen();
    const cached = this.programCache.get(name);
    if (cached) return cached;
    const spec = this.spec.program(name);
    if (!spec.autoload) throw new WaggleError('WAGGLE_ERR_NOT_FOUND', `program '${name}' was not loaded (autoload was off)`);
    const p = new Program(this, name, spec.section, spec.type);
    this.programCache.set(name, p);
    return p;
  }

  /** Attaches every loaded program whose section says where (tracepoint/…, raw_tp/…, tp_btf/…). */
  attachAll(): Link[] {
    return [...this.spec.programs.values()].filter((p) => p.autoload).map((p) => this.program(p.name).attach());
  }

  /**
   * A map, with key and value codecs from its BTF types unless given. Per-CPU maps
   * decode to one value per possible CPU.
   */
  map<K = unknown, V = unknown>(name: string, codecs: { key?: Codec<K>; value?: Codec<V> } = {}): BpfMap<K, V> {
    this.assertOpen();
    const cacheable = codecs.key === undefined && codecs.value === undefined;
    const cached = cacheable ? this.mapCache.get(name) : undefined;
    if (cached) return cached as BpfMap<K, V>;
    const spec = this.spec.map(name);
    const info = native().mapOpen(native().mapFd(this.handle(), spec.nativeName));
    const btf = this.spec.btf;
    const fromBtf = (typeId: number, size: number): Codec<unknown> => {
      if (btf && typeId > 0) {
        const c = btfCodec(btf, typeId);
        if (c.size === size) return c;
      }
      if (size === 4) return u32 as Codec<unknown>;
      if (size === 8) return u64 as Codec<unknown>;
      return bytes(size) as Codec<unknown>;
    };
    const key = (codecs.key ?? fromBtf(spec.btfKeyTypeId, info.keySize)) as Codec<K>;
    let value: Codec<V>;
    if (codecs.value) value = codecs.value;
    else {
      const inner = fromBtf(spec.btfValueTypeId, info.valueSize);
      value = (info.valueBytes !== info.valueSize ? perCpu(inner, info.possibleCpus) : inner) as Codec<V>;
    }
    const m = new BpfMap<K, V>(this, info, key, value);
    if (cacheable) this.mapCache.set(name, m as BpfMap<unknown, unknown>);
    return m;
  }

  /** Reads a global variable from .data/.bss (or .rodata) of the loaded object. */
  variable<T = unknown>(name: string): T {
    const { map, offset, codec } = this.locateVariable(name);
    const value = map.lookup(0);
    if (!value) throw new WaggleError('WAGGLE_ERR_NOT_FOUND', `section of variable '${name}' could not be read`);
    return codec.decode(value, offset) as T;
  }

  /** Writes a global variable in .data/.bss; programs see the new value on their next run. */
  setVariable(name: string, newValue: unknown): void {
    const { map, offset, codec, section } = this.locateVariable(name);
    if (section === '.rodata') throw new WaggleError('WAGGLE_ERR_INVALID_ARGUMENT', `'${name}' is a constant (.rodata), frozen at load; set it on the spec before load()`);
    const value = map.lookup(0);
    if (!value) throw new WaggleError('WAGGLE_ERR_NOT_FOUND', `section of variable '${name}' could not be read`);
    codec.encode(newValue, value, offset);
    map.update(0, value);
  }

  private locateVariable(name: string): { map: BpfMap<number, Buffer>; offset: number; codec: Codec<unknown>; section: string } {
    const btf = this.spec.btf;
    if (!btf) throw new WaggleError('WAGGLE_ERR_NOT_SUPPORTED', `${this.path} has no BTF; variables cannot be located`);
    for (const section of DATA_SECTIONS) {
      const v = btf.datasecVariables(section).find((x) => x.name === name);
      if (!v) continue;
      const mapName = [...this.spec.maps.values()].find((m) => m.internal && m.name.endsWith(section))?.name;
      if (!mapName) break;
      const info = native().mapOpen(native().mapFd(this.handle(), mapName));
      const map = new BpfMap<number, Buffer>(this, info, u32, bytes(info.valueBytes) as Codec<Buffer>);
      return { map, offset: v.offset, codec: btfCodec(btf, v.type), section };
    }
    throw new WaggleError('WAGGLE_ERR_NOT_FOUND', `no global variable '${name}' in ${this.path}`);
  }

  /**
   * Starts reading a ring buffer map; `onBatch` runs on the event loop once per
   * wakeup with every record available.
   */
  ringBuffer(name: string, onBatch: (batch: RecordBatch) => void, opts: RingBufferOptions = {}): RingBufferReader {
    const spec = this.spec.map(name);
    if (spec.type !== 'ringbuf') throw new WaggleError('WAGGLE_ERR_INVALID_ARGUMENT', `map '${name}' is a ${spec.type}, not a ringbuf`);
    const dropsName = `${name}_drops`;
    const drops = this.spec.maps.has(dropsName) ? this.map<number, number[]>(dropsName) : undefined;
    const reader = new RingBufferReader(name, native().mapFd(this.handle(), spec.nativeName), onBatch, drops, opts, (r) => this.readers.delete(r));
    this.readers.add(reader);
    return reader;
  }

  get closed(): boolean {
    return this.obj === undefined;
  }

  /** Detaches every link, stops every reader, then unloads programs and maps. */
  close(): void {
    if (!this.obj) return;
    const errors: unknown[] = [];
    for (const r of [...this.readers]) {
      try {
        r.close();
      } catch (e) {
        errors.push(e);
      }
    }
    for (const l of [...this.links]) {
      try {
        l.close();
      } catch (e) {
        errors.push(e);
      }
    }
    native().objectClose(this.obj);
    this.obj = undefined;
    this.onClosed();
    if (errors.length > 0) throw new AggregateError(errors, `closing ${this.path}: ${errors.length} detach errors`);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
