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
}

const EM_X86_64 = 62;

/** Reads the file's .eh_frame and packs its rows (x86-64 ELF only). */
export function packedRowsOfFile(path: string, layout: RowLayout): PackedRows {
  const elf = ElfFile.open(path);
  try {
    const section = elf.section('.eh_frame');
    if (elf.machine !== EM_X86_64) return { data: new Uint8Array(0), count: 0, errors: 0, reason: 'not an x86-64 ELF file' };
    if (!section || section.size === 0) return { data: new Uint8Array(0), count: 0, errors: 0, reason: 'no .eh_frame section' };
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
