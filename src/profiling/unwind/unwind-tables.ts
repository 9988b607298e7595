// Loads .eh_frame unwind tables into the profiler's BPF maps: one table per
// executable file (shared by every process that maps it), rows in one big
// array, and per process an LPM entry per executable mapping that points the
// BPF walker at the table with the mapping's load bias. Bounded: when the row
// array or table slots are full, further files are counted and left to frame
// pointers. `addProcess` builds tables on the calling thread (the CLI);
// `addProcessAsync` in a worker thread and loads them a slice per event-loop
// turn (the agent).
import { setImmediate as nextTurn } from 'node:timers/promises';
import { type BpfMap, type Collection, offsetOf } from '../../ebpf/index.js';
import { ElfFile, PT_LOAD } from '../elf/elf-file.js';
import { type Mapping, mappingFilePath } from '../../process/proc-maps.js';
import { rangeToBlocks } from './lpm-ranges.js';
import { RowBuilder } from './row-builder.js';
import { type PackedRows, type RowLayout, packedRowsOfFile } from './row-pack.js';

interface Table {
  id: number;
  first: number;
  count: number;
}

export interface UnwindTableStats {
  tables: number;
  rows: number;
  rowCapacity: number;
  processes: number;
  mappings: number;
  /** Files without .eh_frame, not x86-64, or unreadable (walked by frame pointers). */
  filesWithoutTable: number;
  /** Files left out because the row array or table slots were full. */
  filesOverCapacity: number;
  /** FDEs or CIEs that could not be parsed (their ranges use frame pointers). */
  entryErrors: number;
  mappingsOverCapacity: number;
  /** Processes not given tables because the queue was full. */
  processesDropped: number;
}

/** Rows written per map update (and per event-loop turn in the async path). */
const ROWS_PER_BATCH = 8192;
const MAX_QUEUED_PROCESSES = 64;

export class UnwindTables {
  private readonly rows: BpfMap<Buffer, Buffer>;
  private readonly tables: BpfMap<Buffer, Buffer>;
  private readonly mappings: BpfMap<Buffer, Buffer>;
  private readonly byFile = new Map<string, Table | null | Promise<Table | null>>();
  private readonly byPid = new Map<number, Buffer[]>();
  private readonly rowCapacity: number;
  private readonly tableCapacity: number;
  private readonly mappingCapacity: number;
  private readonly layout: RowLayout;
  private readonly value: { tableId: number; bias: number; size: number };
  private builder: RowBuilder | undefined;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private closed = false;
  private nextRow = 0;
  private nextTable = 0;
  private mappingEntries = 0;
  private s = { filesWithoutTable: 0, filesOverCapacity: 0, entryErrors: 0, mappingsOverCapacity: 0, processesDropped: 0 };

  constructor(collection: Collection, private readonly onWarning?: (message: string) => void) {
    const btf = collection.spec.btf!;
    this.rows = collection.map('unwind_rows').raw() as unknown as BpfMap<Buffer, Buffer>;
    this.tables = collection.map('unwind_tables').raw() as unknown as BpfMap<Buffer, Buffer>;
    this.mappings = collection.map('unwind_mappings').raw() as unknown as BpfMap<Buffer, Buffer>;
    this.layout = {
      size: btf.struct('unwind_row').size,
      pc: offsetOf(btf, 'unwind_row', 'pc'),
      cfaOffset: offsetOf(btf, 'unwind_row', 'cfa_offset'),
      rbpOffset: offsetOf(btf, 'unwind_row', 'rbp_offset'),
      cfaReg: offsetOf(btf, 'unwind_row', 'cfa_reg'),
      rbpRule: offsetOf(btf, 'unwind_row', 'rbp_rule'),
    };
    this.value = { tableId: offsetOf(btf, 'mapping_value', 'table_id'), bias: offsetOf(btf, 'mapping_value', 'bias'), size: btf.struct('mapping_value').size };
    this.rowCapacity = collection.spec.map('unwind_rows').maxEntries;
    this.tableCapacity = collection.spec.map('unwind_tables').maxEntries;
    this.mappingCapacity = collection.spec.map('unwind_mappings').maxEntries;
  }

  /** Points the walker at tables for each executable file mapping of `pid`, built on this thread (x86-64 only). */
  addProcess(pid: number, maps: readonly Mapping[]): void {
    if (process.arch !== 'x64' || this.byPid.has(pid)) return;
    const keys: Buffer[] = [];
    this.byPid.set(pid, keys);
    for (const m of executableFiles(maps)) {
      const target = this.resolve(pid, m);
      if (!target) continue;
      let table = this.byFile.get(target.fileKey);
      if (table === undefined) {
        table = this.store(m.path, this.tryPack(pid, m, () => packedRowsOfFile(mappingFilePath(pid, m), this.layout, this.rowCapacity - this.nextRow)));
        this.byFile.set(target.fileKey, table);
      }
      if (table && !(table instanceof Promise)) this.point(pid, m, table, target.bias, keys);
    }
  }

  /** Like addProcess, with tables built in a worker thread; processes are handled one at a time. */
  addProcessAsync(pid: number, maps: readonly Mapping[]): Promise<void> {
    if (process.arch !== 'x64' || this.byPid.has(pid) || this.closed) return Promise.resolve();
    if (this.queued >= MAX_QUEUED_PROCESSES) {
      this.s.processesDropped++;
      return Promise.resolve();
    }
    const keys: Buffer[] = [];
    this.byPid.set(pid, keys);
    this.queued++;
    const job = this.queue.then(async () => {
      for (const m of executableFiles(maps)) {
        if (this.closed || this.byPid.get(pid) !== keys) return; // closed, or the process is gone
        const target = this.resolve(pid, m);
        if (!target) continue;
        let table = this.byFile.get(target.fileKey);
        if (table === undefined) {
          this.builder ??= new RowBuilder(this.layout);
          const builder = this.builder;
          table = builder.build(mappingFilePath(pid, m), this.rowCapacity - this.nextRow).then(
            (packed) => this.storeAsync(m.path, packed),
            (e: Error) => this.noTable(m.path, e.message),
          );
          this.byFile.set(target.fileKey, table);
        }
        const t = await table;
        this.byFile.set(target.fileKey, t);
        if (t && !this.closed && this.byPid.get(pid) === keys) this.point(pid, m, t, target.bias, keys);
      }
    });
    this.queue = job.catch(() => undefined).finally(() => this.queued--);
    return this.queue;
  }

  removeProcess(pid: number): void {
    const keys = this.byPid.get(pid);
    if (!keys) return;
    for (const k of keys) this.mappings.delete(k);
    this.mappingEntries -= keys.length;
    this.byPid.delete(pid);
  }

  has(pid: number): boolean {
    return this.byPid.has(pid);
  }

  stats(): UnwindTableStats {
    const tables = [...this.byFile.values()].filter((t) => t && !(t instanceof Promise)).length;
    return { tables, rows: this.nextRow, rowCapacity: this.rowCapacity, processes: this.byPid.size, mappings: this.mappingEntries, ...this.s };
  }

  close(): void {
    this.closed = true;
    this.builder?.close();
  }

  /** The file's identity and the mapping's load bias (pc - ELF virtual address). */
  private resolve(pid: number, m: Mapping): { fileKey: string; bias: number } | undefined {
    const fileKey = `${m.dev}:${m.inode}:${m.path}`;
    let elf: ElfFile | undefined;
    try {
      elf = ElfFile.open(mappingFilePath(pid, m));
      const seg = elf.segments.find((s) => s.type === PT_LOAD && m.offset >= s.offset && m.offset < s.offset + Math.max(s.filesz, 1));
      if (!seg) return undefined;
      return { fileKey, bias: m.start - (m.offset - seg.offset + seg.vaddr) };
    } catch (e) {
      if (!this.byFile.has(fileKey)) this.byFile.set(fileKey, this.noTable(m.path, (e as Error).message));
      return undefined;
    } finally {
      elf?.close();
    }
  }

  private tryPack(_pid: number, m: Mapping, pack: () => PackedRows): PackedRows | undefined {
    try {
      return pack();
    } catch (e) {
      this.noTable(m.path, (e as Error).message);
      return undefined;
    }
  }

  private noTable(path: string, reason: string): null {
    this.s.filesWithoutTable++;
    this.onWarning?.(`no unwind table for ${path}: ${reason}`);
    return null;
  }

  /** Reserves a table and writes its rows at once. */
  private store(path: string, packed: PackedRows | undefined): Table | null {
    const table = packed && this.reserve(path, packed);
    if (!table || !packed) return null;
    for (let i = 0; i < packed.count; i += ROWS_PER_BATCH) this.writeRows(table, packed, i);
    this.publish(table);
    return table;
  }

  /** Reserves a table and writes its rows a batch per event-loop turn. */
  private async storeAsync(path: string, packed: PackedRows): Promise<Table | null> {
    const table = this.reserve(path, packed);
    if (!table) return null;
    for (let i = 0; i < packed.count; i += ROWS_PER_BATCH) {
      if (this.closed) return null;
      this.writeRows(table, packed, i);
      await nextTurn();
    }
    if (this.closed) return null;
    this.publish(table);
    return table;
  }

  private reserve(path: string, packed: PackedRows): Table | null {
    this.s.entryErrors += packed.errors;
    if (packed.overCapacity) {
      this.s.filesOverCapacity++;
      this.onWarning?.(`unwind rows full: ${path} (${packed.reason}) is walked by frame pointers`);
      return null;
    }
    if (packed.count === 0) return this.noTable(path, packed.reason ?? 'no rows');
    if (this.nextRow + packed.count > this.rowCapacity || this.nextTable >= this.tableCapacity) {
      this.s.filesOverCapacity++;
      this.onWarning?.(`unwind rows full: ${path} (${packed.count} rows) is walked by frame pointers`);
      return null;
    }
    const table: Table = { id: this.nextTable++, first: this.nextRow, count: packed.count };
    this.nextRow += packed.count;
    return table;
  }

  private writeRows(table: Table, packed: PackedRows, from: number): void {
    const n = Math.min(ROWS_PER_BATCH, packed.count - from);
    const size = this.layout.size;
    const data = Buffer.from(packed.data.buffer, packed.data.byteOffset, packed.data.byteLength);
    const entries: [Buffer, Buffer][] = [];
    for (let j = 0; j < n; j++) {
      const k = Buffer.alloc(4);
      k.writeUInt32LE(table.first + from + j);
      entries.push([k, data.subarray((from + j) * size, (from + j + 1) * size)]);
    }
    this.rows.updateBatch(entries);
  }

  /** Makes the table visible to the walker, once all its rows are in place. */
  private publish(table: Table): void {
    const k = Buffer.alloc(4);
    k.writeUInt32LE(table.id);
    const v = Buffer.alloc(8);
    v.writeUInt32LE(table.first, 0);
    v.writeUInt32LE(table.count, 4);
    this.tables.update(k, v);
  }

  private point(pid: number, m: Mapping, table: Table, bias: number, keys: Buffer[]): void {
    const value = Buffer.alloc(this.value.size);
    value.writeUInt32LE(table.id, this.value.tableId);
    value.writeBigUInt64LE(BigInt.asUintN(64, BigInt(bias)), this.value.bias);
    for (const block of rangeToBlocks(m.start, m.end)) {
      if (this.mappingEntries >= this.mappingCapacity) {
        this.s.mappingsOverCapacity++;
        return;
      }
      const key = mappingKey(pid, block.start, 32 + 64 - block.bits);
      this.mappings.update(key, value);
      keys.push(key);
      this.mappingEntries++;
    }
  }
}

function executableFiles(maps: readonly Mapping[]): Mapping[] {
  return maps.filter((m) => m.path && !m.path.startsWith('[') && m.perms[2] === 'x');
}

/** LPM key: prefix length, then pid and address in big endian so the trie matches pid first. */
function mappingKey(pid: number, addr: number, prefixlen: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32LE(prefixlen, 0);
  b.writeUInt32BE(pid, 4);
  b.writeBigUInt64BE(BigInt(addr), 8);
  return b;
}
