// A cursor over DWARF bytes: LEB128 and the pointer encodings of .eh_frame
// (DW_EH_PE_*). Reading past the end throws RangeError, caught per entry.
export const DW_EH_PE_omit = 0xff;

export class DwarfReader {
  constructor(readonly buf: Buffer, public pos = 0, readonly end = buf.length) {}

  get done(): boolean {
    return this.pos >= this.end;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new RangeError('read past the end of an entry');
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  s16(): number {
    this.need(2);
    const v = this.buf.readInt16LE(this.pos);
    this.pos += 2;
    return v;
  }
  s32(): number {
    this.need(4);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): number {
    this.need(8);
    const v = Number(this.buf.readBigUInt64LE(this.pos));
    this.pos += 8;
    return v;
  }
  s64(): number {
    this.need(8);
    const v = Number(this.buf.readBigInt64LE(this.pos));
    this.pos += 8;
    return v;
  }

  uleb(): number {
    let result = 0;
    let mul = 1;
    for (;;) {
      const b = this.u8();
      result += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) return result;
    }
  }

  sleb(): number {
    let result = 0;
    let mul = 1;
    let b: number;
    do {
      b = this.u8();
      result += (b & 0x7f) * mul;
      mul *= 128;
    } while (b & 0x80);
    if (b & 0x40) result -= mul;
    return result;
  }

  cstring(): string {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0 || end >= this.end) throw new RangeError('unterminated string');
    const s = this.buf.toString('latin1', this.pos, end);
    this.pos = end + 1;
    return s;
  }

  /**
   * A pointer in `encoding`. `sectionAddr` is the virtual address of buf[0], for
   * pc-relative pointers; data-relative ones use `dataRel`.
   */
  pointer(encoding: number, sectionAddr: number, dataRel = 0): number {
    if (encoding === DW_EH_PE_omit) return 0;
    const at = sectionAddr + this.pos;
    let v: number;
    switch (encoding & 0x0f) {
      case 0x00: v = this.u64(); break;
      case 0x01: v = this.uleb(); break;
      case 0x02: v = this.u16(); break;
      case 0x03: v = this.u32(); break;
      case 0x04: v = this.u64(); break;
      case 0x09: v = this.sleb(); break;
      case 0x0a: v = this.s16(); break;
      case 0x0b: v = this.s32(); break;
      case 0x0c: v = this.s64(); break;
      default: throw new RangeError(`pointer encoding 0x${encoding.toString(16)} is not supported`);
    }
    switch (encoding & 0x70) {
      case 0x00: break;
      case 0x10: v += at; break;
      case 0x30: v += dataRel; break;
      default: throw new RangeError(`pointer application 0x${(encoding & 0x70).toString(16)} is not supported`);
    }
    return v;
  }
}
