// Function symbols of an ELF file (.symtab, else .dynsym), sorted by address,
// with names decoded only when asked for: libnode has ~100k of them.
import { ElfFile, cString } from './elf-file.js';

const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
/** Symbols kept per file at most (the rest are counted as dropped). */
export const MAX_SYMBOLS_PER_FILE = 1 << 20;

export class SymbolTable {
  private constructor(
    private readonly addrs: Float64Array,
    private readonly sizes: Float64Array,
    private readonly nameOffsets: Uint32Array,
    private readonly strings: Buffer,
    readonly source: '.symtab' | '.dynsym' | 'none',
    readonly dropped: number,
  ) {}

  static empty(): SymbolTable {
    return new SymbolTable(new Float64Array(0), new Float64Array(0), new Uint32Array(0), Buffer.alloc(0), 'none', 0);
  }

  /** Reads .symtab, or .dynsym when the file is stripped. */
  static read(elf: ElfFile): SymbolTable {
    for (const name of ['.symtab', '.dynsym'] as const) {
      const sec = elf.section(name);
      if (!sec || sec.size === 0) continue;
      const strSec = elf.sections[sec.link];
      if (!strSec) continue;
      const data = elf.sectionData(sec);
      const strings = elf.sectionData(strSec);
      const entries: [number, number, number][] = [];
      let dropped = 0;
      for (let o = 0; o + 24 <= data.length; o += 24) {
        const type = data[o + 4]! & 0xf;
        const shndx = data.readUInt16LE(o + 6);
        const value = Number(data.readBigUInt64LE(o + 8));
        if ((type !== STT_FUNC && type !== STT_GNU_IFUNC) || shndx === 0 || value === 0) continue;
        if (entries.length >= MAX_SYMBOLS_PER_FILE) {
          dropped++;
          continue;
        }
        entries.push([value, Number(data.readBigUInt64LE(o + 16)), data.readUInt32LE(o)]);
      }
      if (entries.length === 0) continue;
      entries.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
      const n = entries.length;
      const addrs = new Float64Array(n);
      const sizes = new Float64Array(n);
      const offs = new Uint32Array(n);
      entries.forEach(([a, s, o], i) => {
        addrs[i] = a;
        sizes[i] = s;
        offs[i] = o;
      });
      return new SymbolTable(addrs, sizes, offs, strings, name, dropped);
    }
    return SymbolTable.empty();
  }

  get length(): number {
    return this.addrs.length;
  }

  /** Bytes this table holds (for the cache's bound). */
  get bytes(): number {
    return this.addrs.length * 20 + this.strings.length;
  }

  /** The function containing `vaddr`: the last symbol at or before it, within its size (or unsized). */
  lookup(vaddr: number): { name: string; offset: number } | undefined {
    let lo = 0;
    let hi = this.addrs.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.addrs[mid]! <= vaddr) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0) return undefined;
    // Several symbols may share an address; any sized one containing vaddr will do.
    const start = this.addrs[found]!;
    const size = this.sizes[found]!;
    if (size > 0 && vaddr >= start + size) return undefined;
    return { name: cString(this.strings, this.nameOffsets[found]!), offset: vaddr - start };
  }
}
