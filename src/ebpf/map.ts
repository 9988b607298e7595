// Typed access to a BPF map. Keys and values go through codecs (by default the
// ones the map's BTF describes); sizes are checked before anything reaches the
// kernel, and again in the binding.
import { type Codec, bytes } from './codec.js';
import { WaggleError, toWaggleError } from './errors.js';
import { type Handle, type NativeMapInfo, native } from './native.js';

export type UpdateFlag = 'any' | 'noexist' | 'exist';
const FLAGS: Record<UpdateFlag, number> = { any: 0, noexist: 1, exist: 2 };

const PER_CPU_TYPES = new Set(['percpu_hash', 'percpu_array', 'lru_percpu_hash', 'percpu_cgroup_storage']);

/** Wraps a per-CPU value codec: one 8-aligned slot per possible CPU. */
export function perCpu<V>(inner: Codec<V>, cpus: number): Codec<V[]> {
  const stride = Math.ceil(inner.size / 8) * 8;
  return {
    size: stride * cpus,
    encode(values, buf, off) {
      for (let i = 0; i < cpus; i++) inner.encode(values[i] as V, buf, off + i * stride);
    },
    decode(buf, off) {
      const out = new Array<V>(cpus);
      for (let i = 0; i < cpus; i++) out[i] = inner.decode(buf, off + i * stride);
      return out;
    },
  };
}

export interface MapOwner {
  assertOpen(): void;
}

export class BpfMap<K = Buffer, V = Buffer> {
  readonly name: string;
  readonly type: string;
  readonly id: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly possibleCpus: number;
  private readonly handle: Handle<'map'>;
  private readonly keyBuf: Buffer;
  private readonly valueBuf: Buffer;
  private batchSupported = true;

  constructor(
    private readonly owner: MapOwner,
    private readonly info: NativeMapInfo,
    readonly keyCodec: Codec<K>,
    readonly valueCodec: Codec<V>,
  ) {
    this.name = info.name;
    this.type = info.type;
    this.id = info.id;
    this.keySize = info.keySize;
    this.valueSize = info.valueSize;
    this.maxEntries = info.maxEntries;
    this.possibleCpus = info.possibleCpus;
    this.handle = info.handle;
    if (keyCodec.size !== info.keySize) {
      throw new WaggleError('WAGGLE_ERR_MAP_SIZE', `key codec of map '${info.name}' is ${keyCodec.size} bytes but the map's keys are ${info.keySize}`);
    }
    if (valueCodec.size !== info.valueBytes) {
      throw new WaggleError(
        'WAGGLE_ERR_MAP_SIZE',
        `value codec of map '${info.name}' is ${valueCodec.size} bytes but the map's values are ${info.valueBytes}${this.isPerCpu ? ' (per-CPU: one 8-aligned slot per possible CPU)' : ''}`,
      );
    }
    this.keyBuf = Buffer.alloc(info.keySize);
    this.valueBuf = Buffer.alloc(info.valueBytes);
  }

  /** The map's file descriptor, owned by its collection (valid while it is open). */
  get fd(): number {
    this.owner.assertOpen();
    return this.info.fd;
  }

  get isPerCpu(): boolean {
    return PER_CPU_TYPES.has(this.type);
  }

  /** The same map seen through other codecs (e.g. raw bytes, or a hand-written struct). */
  withCodecs<K2, V2>(keyCodec: Codec<K2>, valueCodec: Codec<V2>): BpfMap<K2, V2> {
    return new BpfMap(this.owner, this.info, keyCodec, valueCodec);
  }

  /** The map with raw Buffer keys and values. */
  raw(): BpfMap<Uint8Array, Uint8Array> {
    return this.withCodecs(bytes(this.keySize), bytes(this.info.valueBytes));
  }

  private encodeKey(key: K): Buffer {
    this.owner.assertOpen();
    this.keyCodec.encode(key, this.keyBuf, 0);
    return this.keyBuf;
  }

  private fail(e: unknown, op: string): never {
    throw toWaggleError(e, { action: `${op} on map '${this.name}'`, privilege: 'map', missing: 'key' });
  }

  lookup(key: K): V | undefined {
    const k = this.encodeKey(key);
    let found: boolean;
    try {
      found = native().mapLookup(this.handle, k, this.valueBuf);
    } catch (e) {
      this.fail(e, 'lookup');
    }
    return found ? this.valueCodec.decode(this.valueBuf, 0) : undefined;
  }

  update(key: K, value: V, flag: UpdateFlag = 'any'): void {
    const k = this.encodeKey(key);
    this.valueCodec.encode(value, this.valueBuf, 0);
    try {
      native().mapUpdate(this.handle, k, this.valueBuf, FLAGS[flag]);
    } catch (e) {
      this.fail(e, 'update');
    }
  }

  /** Deletes a key; false when it was not there. */
  delete(key: K): boolean {
    const k = this.encodeKey(key);
    try {
      return native().mapDelete(this.handle, k);
    } catch (e) {
      this.fail(e, 'delete');
    }
  }

  lookupAndDelete(key: K): V | undefined {
    const k = this.encodeKey(key);
    try {
      return native().mapLookupAndDelete(this.handle, k, this.valueBuf) ? this.valueCodec.decode(this.valueBuf, 0) : undefined;
    } catch (e) {
      this.fail(e, 'lookupAndDelete');
    }
  }

  /** Keys in kernel order (get_next_key). A key deleted during iteration restarts from the start, as the kernel does. */
  *keys(): IterableIterator<K> {
    this.owner.assertOpen();
    let prev: Buffer | null = null;
    const next = Buffer.alloc(this.keySize);
    for (;;) {
      let more: boolean;
      try {
        more = native().mapNextKey(this.handle, prev, next);
      } catch (e) {
        this.fail(e, 'iterate');
      }
      if (!more) return;
      yield this.keyCodec.decode(next, 0);
      prev = Buffer.from(next);
    }
  }

  /** Entries, read in batches of up to `batchSize` when the kernel supports batch ops for this map type. */
  *entries(batchSize = 256): IterableIterator<[K, V]> {
    if (this.batchSupported && this.type !== 'lru_hash' && this.type !== 'ringbuf') {
      const batched = this.tryBatch(batchSize);
      if (batched) {
        yield* batched;
        return;
      }
    }
    for (const key of this.keys()) {
      const value = this.lookup(key);
      if (value !== undefined) yield [key, value];
    }
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  /** All entries at once through BPF_MAP_LOOKUP_BATCH, or undefined when the map type lacks it. */
  private tryBatch(batchSize: number): [K, V][] | undefined {
    this.owner.assertOpen();
    const tokenSize = Math.max(this.keySize, 8);
    const keys = Buffer.alloc(batchSize * this.keySize);
    const values = Buffer.alloc(batchSize * this.info.valueBytes);
    let inBatch: Buffer | null = null;
    const outBatch = Buffer.alloc(tokenSize);
    const out: [K, V][] = [];
    for (;;) {
      let r: { count: number; done: boolean };
      try {
        r = native().mapLookupBatch(this.handle, inBatch, outBatch, keys, values, batchSize);
      } catch (e) {
        const errno = (e as { errno?: number }).errno;
        if (out.length === 0 && (errno === 22 || errno === 95 || errno === 524)) {
          this.batchSupported = false;
          return undefined;
        }
        this.fail(e, 'lookupBatch');
      }
      for (let i = 0; i < r.count; i++) {
        out.push([this.keyCodec.decode(keys, i * this.keySize), this.valueCodec.decode(values, i * this.info.valueBytes)]);
      }
      if (r.done || r.count === 0) return out;
      inBatch = Buffer.from(outBatch);
    }
  }

  /** Writes many entries with one system call. */
  updateBatch(entries: Iterable<[K, V]>, flag: UpdateFlag = 'any'): void {
    this.owner.assertOpen();
    const list = [...entries];
    if (list.length === 0) return;
    const keys = Buffer.alloc(list.length * this.keySize);
    const values = Buffer.alloc(list.length * this.info.valueBytes);
    list.forEach(([k, v], i) => {
      this.keyCodec.encode(k, keys, i * this.keySize);
      this.valueCodec.encode(v, values, i * this.info.valueBytes);
    });
    try {
      native().mapUpdateBatch(this.handle, keys, values, list.length, FLAGS[flag]);
    } catch (e) {
      this.fail(e, 'updateBatch');
    }
  }

  /** Deletes many keys with one system call; returns how many were deleted. */
  deleteBatch(keysToDelete: Iterable<K>): number {
    this.owner.assertOpen();
    const list = [...keysToDelete];
    if (list.length === 0) return 0;
    const keys = Buffer.alloc(list.length * this.keySize);
    list.forEach((k, i) => this.keyCodec.encode(k, keys, i * this.keySize));
    try {
      return native().mapDeleteBatch(this.handle, keys, list.length);
    } catch (e) {
      this.fail(e, 'deleteBatch');
    }
  }
}
