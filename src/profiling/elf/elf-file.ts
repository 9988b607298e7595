// A minimal 64-bit little-endian ELF reader (x86-64, arm64): headers, sections,
// program headers and section bytes, read by offset so that a 100 MB library
// costs only the sections asked for.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export interface ElfSection {
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  entsize: number;
}

export interface ElfSegment {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
}

export const PT_LOAD = 1;
export const PF_X = 1;
export const SHT_NOBITS = 8;

/** Bytes read from one ELF file at most (a corrupt header naming a huge section). */
const MAX_SECTION_BYTES = 512 << 20;

export class ElfError extends Error {
  constructor(readonly path: string, reason: string) {
    super(`${path}: ${reason}`);
  }
}

export class ElfFile {
  readonly sections: ElfSection[] = [];
  readonly segments: ElfSegment[] = [];
  readonly machine: number;
  readonly type: number;
  readonly size: number;

  private constructor(private fd: number, readonly path: string) {
    this.size = fstatSync(fd).size;
    const h = this.read(0, 64);
    if (h.length < 64 || h.readUInt32BE(0) !== 0x7f454c46) throw new ElfError(path, 'not an ELF file');
    if (h[4] !== 2 || h[5] !== 1) throw new ElfError(path, 'only 64-bit little-endian ELF is read');
    this.type = h.readUInt16LE(16);
    this.machine = h.readUInt16LE(18);
    const phoff = Number(h.readBigUInt64LE(32));
    const shoff = Number(h.readBigUInt64LE(40));
    const phentsize = h.readUInt16LE(54);
    const phnum = h.readUInt16LE(56);
    const shentsize = h.readUInt16LE(58);
    const shnum = h.readUInt16LE(60);
    const shstrndx = h.readUInt16LE(62);
    const ph = this.read(phoff, phentsize * phnum);
    for (let i = 0; i < phnum; i++) {
      const o = i * phentsize;
      if (o + 56 > ph.length) break;
      this.segments.push({
        type: ph.readUInt32LE(o),
        flags: ph.readUInt32LE(o + 4),
        offset: Number(ph.readBigUInt64LE(o + 8)),
        vaddr: Number(ph.readBigUInt64LE(o + 16)),
        filesz: Number(ph.readBigUInt64LE(o + 32)),
        memsz: Number(ph.readBigUInt64LE(o + 40)),
      });
    }
    if (shoff === 0 || shnum === 0) return;
    const sh = this.read(shoff, shentsize * shnum);
    const raw: Omit<ElfSection, 'name'>[] & { nameOff?: number }[] = [];
    const nameOffsets: number[] = [];
    for (let i = 0; i < shnum; i++) {
      const o = i * shentsize;
      if (o + 64 > sh.length) break;
      nameOffsets.push(sh.readUInt32LE(o));
      raw.push({
        type: sh.readUInt32LE(o + 4),
        flags: Number(sh.readBigUInt64LE(o + 8)),
        addr: Number(sh.readBigUInt64LE(o + 16)),
        offset: Number(sh.readBigUInt64LE(o + 24)),
        size: Number(sh.readBigUInt64LE(o + 32)),
        link: sh.readUInt32LE(o + 40),
        entsize: Number(sh.readBigUInt64LE(o + 56)),
      });
    }
    const strtab = raw[shstrndx];
    const names = strtab ? this.read(strtab.offset, strtab.size) : Buffer.alloc(0);
    raw.forEach((s, i) => this.sections.push({ ...s, name: cString(names, nameOffsets[i]!) }));
  }

  static open(path: string): ElfFile {
    const fd = openSync(path, 'r');
    try {
      return new ElfFile(fd, path);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  section(name: string): ElfSection | undefined {
    return this.sections.find((s) => s.name === name);
  }

  /** A section's bytes (empty for NOBITS). */
  sectionData(s: ElfSection): Buffer {
    if (s.type === SHT_NOBITS) return Buffer.alloc(0);
    return this.read(s.offset, s.size);
  }

  read(offset: number, length: number): Buffer {
    if (length > MAX_SECTION_BYTES || offset < 0 || offset + length > this.size) {
      throw new ElfError(this.path, `bytes ${offset}+${length} are outside the file (${this.size} bytes)`);
    }
    const buf = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, buf, done, length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return buf.subarray(0, done);
  }

  /** The GNU build id (hex), when the file has one. */
  buildId(): string | undefined {
    const s = this.section('.note.gnu.build-id');
    if (!s) return undefined;
    const d = this.sectionData(s);
    let o = 0;
    while (o + 12 <= d.length) {
      const namesz = d.readUInt32LE(o);
      const descsz = d.readUInt32LE(o + 4);
      const type = d.readUInt32LE(o + 8);
      const desc = o + 12 + align4(namesz);
      if (type === 3 && d.toString('latin1', o + 12, o + 12 + namesz).startsWith('GNU')) return d.toString('hex', desc, desc + descsz);
      o = desc + align4(descsz);
    }
    return undefined;
  }

  /** The ELF virtual address of a file offset, through the PT_LOAD segment that maps it. */
  vaddrOfOffset(fileOffset: number): number | undefined {
    for (const s of this.segments) {
      if (s.type === PT_LOAD && fileOffset >= s.offset && fileOffset < s.offset + Math.max(s.filesz, 1)) return fileOffset - s.offset + s.vaddr;
    }
    return undefined;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

export function cString(buf: Buffer, offset: number): string {
  if (offset >= buf.length) return '';
  const end = buf.indexOf(0, offset);
  return buf.toString('utf8', offset, end < 0 ? buf.length : end);
}
