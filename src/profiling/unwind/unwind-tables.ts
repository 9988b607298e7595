// Loads .eh_frame unwind tables into the profiler's BPF maps: one table per
// executable file (shared by every process that maps it), rows in one big
// array, and per process an LPM entry per executable mapping that points the
// BPF walker at the table with the mapping's load bias. Bounded: when the row
// array or table slots are full, further files are counted and left to frame
// pointers.
import { type BpfMap, type Collection, offsetOf } from '../../ebpf/index.js';
import { ElfFile, PT_LOAD } from '../elf/elf-file.js';
import { type Mapping, mappingFilePath } from '../proc-maps.js';
import { parseEhFrame } from './eh-frame.js';
import { rangeToBlocks } from './lpm-ranges.js';

const EM_X86_64 = 62;

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
}

export class UnwindTables {
  private readonly rows: BpfMap<Buffer, Buffer>;
  private readonly tables: BpfMap<Buffer, Buffer>;
  private readonly mappings: BpfMap<Buffer, Buffer>;
  private readonly byFile = new Map<string, Table | null>();
  private readonly byPid = new Map<number, Buffer[]>();
  private readonly rowCapacity: number;
  private readonly tableCapacity: number;
  private readonly mappingCapacity: number;
  private readonly rowSize: number;
  private readonly row: { pc: number; cfaOffset: number; rbpOffset: number; cfaReg: number; rbpRule: number };
  private readonly value: { tableId: number; bias: number; size: number };
  private nextRow = 0;
  private nextTable = 0;
  private mappingEntries = 0;
  private s = { filesWithoutTable: 0, filesOverCapacity: 0, entryErrors: 0, mappingsOverCapacity: 0 };

  constructor(collection: Collection, private readonly onWarning?: (message: string) => void) {
    const btf = collection.spec.btf!;
    this.rows = collection.map('unwind_rows').raw() as unknown as BpfMap<Buffer, Buffer>;
    this.tables = collection.map('unwind_tables').raw() as unknown as BpfMap<Buffer, Buffer>;
    this.mappings = collection.map('unwind_mappings').raw() as unknown as BpfMap<Buffer, Buffer>;
    this.rowSize = btf.struct('unwind_row').size;
    this.row = {
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

  /** Points the walker at tables for each executable file mapping of `pid` (x86-64 only). */
  addProcess(pid: number, maps: readonly Mapping[]): void {
    if (process.arch !== 'x64' || this.byPid.has(pid)) return;
    const keys: Buffer[] = [];
    this.byPid.set(pid, keys);
    for (const m of maps) {
      if (!m.path || m.path.startsWith('[') || m.perms[2] !== 'x') continue;
      const loaded = this.tableFor(pid, m);
      if (!loaded) continue;
      const value = Buffer.alloc(this.value.size);
      value.writeUInt32LE(loaded.table.id, this.value.tableId);
      value.writeBigUInt64LE(BigInt.asUintN(64, BigInt(loaded.bias)), this.value.bias);
      for (const block of rangeToBlocks(m.start, m.end)) {
        if (this.mappingEntries >= this.mappingCapacity) {
          this.s.mappingsOverCapacity++;
          break;
        }
        const key = mappingKey(pid, block.start, 32 + 64 - block.bits);
        this.mappings.update(key, value);
        keys.push(key);
        this.mappingEntries++;
      }
    }
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
    const tables = [...this.byFile.values()].filter((t) => t !== null).length;
    return { tables, rows: this.nextRow, rowCapacity: this.rowCapacity, processes: this.byPid.size, mappings: this.mappingEntries, ...this.s };
  }

  /** The table of the mapping's file (built once per file) and the mapping's load bias. */
  private tableFor(pid: number, m: Mapping): { table: Table; bias: number } | undefined {
    const fileKey = `${m.dev}:${m.inode}:${m.path}`;
    let elf: ElfFile | undefined;
    try {
      elf = ElfFile.open(mappingFilePath(pid, m));
      const seg = elf.segments.find((s) => s.type === PT_LOAD && m.offset >= s.offset && m.offset < s.offset + Math.max(s.filesz, 1));
      if (!seg) return undefined;
      const bias = m.start - (m.offset - seg.offset + seg.vaddr);
      let table = this.byFile.get(fileKey);
      if (table === undefined) {
        table = this.build(elf);
        this.byFile.set(fileKey, table);
      }
      return table ? { table, bias } : undefined;
    } catch (e) {
      if (!this.byFile.has(fileKey)) {
        this.byFile.set(fileKey, null);
        this.s.filesWithoutTable++;
        this.onWarning?.(`no unwind table for ${m.path}: ${(e as Error).message}`);
      }
      return undefined;
    } finally {
      elf?.close();
    }
  }

  private build(elf: ElfFile): Table | null {
    const section = elf.section('.eh_frame');
    if (elf.machine !== EM_X86_64 || !section || section.size === 0) {
      this.s.filesWithoutTable++;
      return null;
    }
    const parsed = parseEhFrame(elf.sectionData(section), section.addr);
    this.s.entryErrors += parsed.errors;
    const rows = parsed.rows.filter((r) => r.pc <= 0xffffffff);
    if (rows.length === 0) {
      this.s.filesWithoutTable++;
      return null;
    }
    if (this.nextRow + rows.length > this.rowCapacity || this.nextTable >= this.tableCapacity) {
      this.s.filesOverCapacity++;
      this.onWarning?.(`unwind rows full: ${elf.path} (${rows.length} rows) is walked by frame pointers`);
      return null;
    }
    const table: Table = { id: this.nextTable++, first: this.nextRow, count: rows.length };
    const BATCH = 8192;
    for (let i = 0; i < rows.length; i += BATCH) {
      const n = Math.min(BATCH, rows.length - i);
      const entries: [Buffer, Buffer][] = [];
      for (let j = 0; j < n; j++) {
        const r = rows[i + j]!;
        const k = Buffer.alloc(4);
        k.writeUInt32LE(table.first + i + j);
        const v = Buffer.alloc(this.rowSize);
        v.writeUInt32LE(r.pc, this.row.pc);
        v.writeInt32LE(r.cfaOffset, this.row.cfaOffset);
        v.writeInt16LE(r.rbpOffset, this.row.rbpOffset);
        v.writeUInt8(r.cfaReg, this.row.cfaReg);
        v.writeUInt8(r.rbpRule, this.row.rbpRule);
        entries.push([k, v]);
      }
      this.rows.updateBatch(entries);
    }
    this.nextRow += rows.length;
    const k = Buffer.alloc(4);
    k.writeUInt32LE(table.id);
    const v = Buffer.alloc(8);
    v.writeUInt32LE(table.first, 0);
    v.writeUInt32LE(table.count, 4);
    this.tables.update(k, v);
    return table;
  }
}

/** LPM key: prefix length, then pid and address in big endian so the trie matches pid first. */
function mappingKey(pid: number, addr: number, prefixlen: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32LE(prefixlen, 0);
  b.writeUInt32BE(pid, 4);
  b.writeBigUInt64BE(BigInt(addr), 8);
  return b;
}
