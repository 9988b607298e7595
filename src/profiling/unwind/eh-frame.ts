// .eh_frame → unwind rows for x86-64: for each address range, how to find the
// canonical frame address (CFA = rsp or rbp + offset), where rbp was saved and
// whether the return address is undefined (the outermost frame). The return
// address itself is always at CFA - 8 on x86-64. Rules the BPF walker cannot
// follow (other CFA registers, DWARF expressions but the PLT's) become gaps,
// where it falls back to frame pointers.
import { DW_EH_PE_omit, DwarfReader } from './dwarf-reader.js';

export const CFA_RSP = 0;
export const CFA_RBP = 1;
export const CFA_PLT = 2;
export const CFA_GAP = 3;
export const CFA_END = 4;
export const RBP_SAME = 0;
export const RBP_AT_CFA = 1;

export interface UnwindRow {
  pc: number;
  cfaReg: number;
  cfaOffset: number;
  rbpRule: number;
  rbpOffset: number;
}

export interface EhFrameResult {
  rows: UnwindRow[];
  fdes: number;
  /** Entries that could not be parsed (skipped). */
  errors: number;
}

const REG_RBP = 6;
const REG_RSP = 7;
const REG_RA = 16;

interface Cie {
  codeAlign: number;
  dataAlign: number;
  raReg: number;
  fdeEncoding: number;
  hasAugmentationData: boolean;
  initial: [number, number]; // instruction bytes [start, end)
}

interface State {
  cfaReg: number; // DWARF register number, -1 for an expression
  cfaOffset: number;
  cfaPlt: boolean;
  rbpOffset: number | undefined; // saved at CFA + offset
  raUndefined: boolean;
}

const copy = (s: State): State => ({ ...s });

/** Parses .eh_frame (at virtual address `sectionAddr`) into rows sorted by pc. */
export function parseEhFrame(data: Buffer, sectionAddr: number, maxRows = 4_000_000): EhFrameResult {
  const cies = new Map<number, Cie>();
  const rows: UnwindRow[] = [];
  let fdes = 0;
  let errors = 0;
  let pos = 0;
  while (pos + 4 <= data.length) {
    const start = pos;
    let length = data.readUInt32LE(pos);
    pos += 4;
    if (length === 0) break; // terminator
    if (length === 0xffffffff) {
      length = Number(data.readBigUInt64LE(pos));
      pos += 8;
    }
    const idPos = pos;
    const end = pos + length;
    if (end > data.length) break;
    pos = end;
    try {
      const r = new DwarfReader(data, idPos, end);
      const id = r.u32();
      if (id === 0) {
        cies.set(start, parseCie(r, sectionAddr));
        continue;
      }
      const cie = cies.get(idPos - id);
      if (!cie) {
        errors++;
        continue;
      }
      const pcBegin = r.pointer(cie.fdeEncoding, sectionAddr);
      const pcRange = r.pointer(cie.fdeEncoding & 0x0f, sectionAddr);
      if (cie.hasAugmentationData) r.pos += r.uleb();
      if (pcBegin === 0 || pcRange === 0) continue;
      fdes++;
      const initial = runInstructions(new DwarfReader(data, cie.initial[0], cie.initial[1]), cie, sectionAddr, pcBegin, initialState(), undefined, []);
      runInstructions(r, cie, sectionAddr, pcBegin, copy(initial.state), initial.state, rows);
      rows.push({ pc: pcBegin + pcRange, cfaReg: CFA_GAP, cfaOffset: 0, rbpRule: RBP_SAME, rbpOffset: 0 });
      if (rows.length > maxRows) break;
    } catch {
      errors++;
    }
  }
  return { rows: normalize(rows), fdes, errors };
}

function initialState(): State {
  return { cfaReg: REG_RSP, cfaOffset: 8, cfaPlt: false, rbpOffset: undefined, raUndefined: false };
}

function parseCie(r: DwarfReader, sectionAddr: number): Cie {
  const version = r.u8();
  const aug = r.cstring();
  if (aug.includes('eh')) r.u64();
  const codeAlign = r.uleb();
  const dataAlign = r.sleb();
  const raReg = version === 1 ? r.u8() : r.uleb();
  let fdeEncoding = 0;
  const hasAugmentationData = aug.startsWith('z');
  if (hasAugmentationData) {
    const len = r.uleb();
    const augEnd = r.pos + len;
    for (const c of aug.slice(1)) {
      if (c === 'R') fdeEncoding = r.u8();
      else if (c === 'L') r.u8();
      else if (c === 'P') {
        const enc = r.u8();
        r.pointer(enc & ~0x80, sectionAddr);
      } else if (c === 'S' || c === 'B' || c === 'G') continue;
      else break;
    }
    r.pos = augEnd;
  }
  return { codeAlign, dataAlign, raReg, fdeEncoding, hasAugmentationData, initial: [r.pos, r.end] };
}

function toRow(pc: number, s: State): UnwindRow {
  if (s.raUndefined) return { pc, cfaReg: CFA_END, cfaOffset: 0, rbpRule: RBP_SAME, rbpOffset: 0 };
  let cfaReg = CFA_GAP;
  if (s.cfaPlt) cfaReg = CFA_PLT;
  else if (s.cfaReg === REG_RSP) cfaReg = CFA_RSP;
  else if (s.cfaReg === REG_RBP) cfaReg = CFA_RBP;
  const rbpOk = s.rbpOffset !== undefined && s.rbpOffset >= -32768 && s.rbpOffset <= 32767;
  return { pc, cfaReg, cfaOffset: s.cfaOffset, rbpRule: rbpOk ? RBP_AT_CFA : RBP_SAME, rbpOffset: rbpOk ? s.rbpOffset! : 0 };
}

/** Runs CFA instructions from `loc`; pushes a row each time the location advances and one at the end. */
function runInstructions(r: DwarfReader, cie: Cie, sectionAddr: number, loc: number, state: State, initial: State | undefined, rows: UnwindRow[]): { state: State } {
  const stack: State[] = [];
  const advance = (delta: number) => {
    if (initial) rows.push(toRow(loc, state));
    loc += delta * cie.codeAlign;
  };
  const setReg = (reg: number, offset: number | undefined, undefinedRa = false) => {
    if (reg === REG_RBP) state.rbpOffset = offset;
    if (reg === cie.raReg || reg === REG_RA) state.raUndefined = undefinedRa;
  };
  const restoreReg = (reg: number) => {
    if (!initial) return;
    if (reg === REG_RBP) state.rbpOffset = initial.rbpOffset;
    if (reg === cie.raReg) state.raUndefined = initial.raUndefined;
  };
  while (!r.done) {
    const op = r.u8();
    const high = op & 0xc0;
    const low = op & 0x3f;
    if (high === 0x40) advance(low);
    else if (high === 0x80) setReg(low, r.uleb() * cie.dataAlign);
    else if (high === 0xc0) restoreReg(low);
    else {
      switch (op) {
        case 0x00: break;
        case 0x01: {
          const to = r.pointer(cie.fdeEncoding, sectionAddr);
          if (initial) rows.push(toRow(loc, state));
          loc = to;
          break;
        }
        case 0x02: advance(r.u8()); break;
        case 0x03: advance(r.u16()); break;
        case 0x04: advance(r.u32()); break;
        case 0x05: setReg(r.uleb(), r.uleb() * cie.dataAlign); break;
        case 0x06: restoreReg(r.uleb()); break;
        case 0x07: setReg(r.uleb(), undefined, true); break;
        case 0x08: setReg(r.uleb(), undefined); break;
        case 0x09: { const reg = r.uleb(); r.uleb(); setReg(reg, undefined); break; }
        case 0x0a: stack.push(copy(state)); break;
        case 0x0b: { const s = stack.pop(); if (s) { state.cfaReg = s.cfaReg; state.cfaOffset = s.cfaOffset; state.cfaPlt = s.cfaPlt; state.rbpOffset = s.rbpOffset; state.raUndefined = s.raUndefined; } break; }
        case 0x0c: state.cfaReg = r.uleb(); state.cfaOffset = r.uleb(); state.cfaPlt = false; break;
        case 0x0d: state.cfaReg = r.uleb(); state.cfaPlt = false; break;
        case 0x0e: state.cfaOffset = r.uleb(); break;
        case 0x0f: {
          const len = r.uleb();
          state.cfaPlt = isPltExpression(r.buf, r.pos, len);
          state.cfaReg = -1;
          r.pos += len;
          break;
        }
        case 0x10: { const reg = r.uleb(); r.pos += r.uleb(); setReg(reg, undefined); break; }
        case 0x11: setReg(r.uleb(), r.sleb() * cie.dataAlign); break;
        case 0x12: state.cfaReg = r.uleb(); state.cfaOffset = r.sleb() * cie.dataAlign; state.cfaPlt = false; break;
        case 0x13: state.cfaOffset = r.sleb() * cie.dataAlign; break;
        case 0x14: { const reg = r.uleb(); r.uleb(); setReg(reg, undefined); break; }
        case 0x15: { const reg = r.uleb(); r.sleb(); setReg(reg, undefined); break; }
        case 0x16: { const reg = r.uleb(); r.pos += r.uleb(); setReg(reg, undefined); break; }
        case 0x2e: r.uleb(); break;
        case 0x2f: { const reg = r.uleb(); setReg(reg, -r.uleb() * cie.dataAlign); break; }
        default: throw new RangeError(`CFA instruction 0x${op.toString(16)} is not supported`);
      }
    }
  }
  if (initial) rows.push(toRow(loc, state));
  return { state };
}

/** The expression of x86-64 .plt entries: rsp + 8 + ((rip & 15) >= 11 ? 8 : 0). */
function isPltExpression(buf: Buffer, pos: number, len: number): boolean {
  const e = buf.subarray(pos, pos + len);
  return e.length === 11 && e[0] === 0x77 && e[1] === 0x08 && e[2] === 0x80 && e[3] === 0x00 && e[4] === 0x3f && e[5] === 0x1a && e[6] === 0x3b;
}

/** Sorted by pc, the last row of an address wins, repeats of the same rule merged. */
function normalize(rows: UnwindRow[]): UnwindRow[] {
  const order = rows.map((_, i) => i).sort((a, b) => rows[a]!.pc - rows[b]!.pc || a - b);
  const out: UnwindRow[] = [];
  for (const i of order) {
    const row = rows[i]!;
    const last = out[out.length - 1];
    if (last && last.pc === row.pc) {
      // A gap closing one FDE and the start of the next at the same address: the FDE wins.
      if (row.cfaReg !== CFA_GAP || last.cfaReg === CFA_GAP) out[out.length - 1] = row;
      continue;
    }
    if (last && last.cfaReg === row.cfaReg && last.cfaOffset === row.cfaOffset && last.rbpRule === row.rbpRule && last.rbpOffset === row.rbpOffset) continue;
    out.push(row);
  }
  return out;
}
