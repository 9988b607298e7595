// Unwind rows packed as the kernel's `struct unwind_row` array, so they can be
// built in a worker thread and handed over as one transferable buffer.
import { ElfFile } from '../elf/elf-file.js';
import { parseEhFrame } from './eh-frame.js';

export interface RowLayout {
  size: number;
  pc: number;
  cfaOffset: number;
  rbpOffset: number;
  cfaReg: number;
  rbpRule: number;
}

export interface PackedRows {
  /** rows × layout.size bytes; empty when the file has no usable table. */
  data: Uint8Array;
  count: number;
  /** FDEs or CIEs that could not be parsed. */
  errors: number;
  /** Why there is no table, when there is none. */
  reason?: string;
  /** The table would not fit in the rows left (not parsed). */
  overCapacity?: boolean;
}

/** .eh_frame bytes per row are 5–8 in Debian's binaries: a section of N bytes makes at least N / 8 rows. */
const MIN_BYTES_PER_ROW_ESTIMATE = 8;

const EM_X86_64 = 62;

/** Reads the file's .eh_frame and packs its rows (x86-64 ELF only). */
export function packedRowsOfFile(path: string, layout: RowLayout, rowsLeft = Infinity): PackedRows {
  const elf = ElfFile.open(path);
  try {
    const section = elf.section('.eh_frame');
    if (elf.machine !== EM_X86_64) return { data: new Uint8Array(0), count: 0, errors: 0, reason: 'not an x86-64 ELF file' };
    if (!section || section.size === 0) return { data: new Uint8Array(0), count: 0, errors: 0, reason: 'no .eh_frame section' };
    // A table that cannot fit is not worth a second of parsing (Chromium's would be millions of rows).
    if (section.size / MIN_BYTES_PER_ROW_ESTIMATE > rowsLeft) return { data: new Uint8Array(0), count: 0, errors: 0, reason: `about ${Math.round(section.size / MIN_BYTES_PER_ROW_ESTIMATE)} rows or more, ${rowsLeft} left`, overCapacity: true };
    const parsed = parseEhFrame(elf.sectionData(section), section.addr);
    const rows = parsed.rows.filter((r) => r.pc <= 0xffffffff);
    const data = Buffer.alloc(rows.length * layout.size);
    rows.forEach((r, i) => {
      const o = i * layout.size;
      data.writeUInt32LE(r.pc, o + layout.pc);
      data.writeInt32LE(r.cfaOffset, o + layout.cfaOffset);
      data.writeInt16LE(r.rbpOffset, o + layout.rbpOffset);
      data.writeUInt8(r.cfaReg, o + layout.cfaReg);
      data.writeUInt8(r.rbpRule, o + layout.rbpRule);
    });
    return { data, count: rows.length, errors: parsed.errors, ...(rows.length === 0 ? { reason: '.eh_frame has no usable rows' } : {}) };
  } finally {
    elf.close();
  }
}
