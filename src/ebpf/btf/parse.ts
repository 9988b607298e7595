// A reader for BTF (BPF Type Format) blobs: the object's own BTF, as libbpf
// finalised it at open time. Record layouts, map key/value types and .rodata
// variable offsets are all derived from it, so C and TypeScript cannot drift.
// Format: https://docs.kernel.org/bpf/btf.html
import { WaggleError } from '../errors.js';

export type BtfKind =
  | 'void'
  | 'int'
  | 'ptr'
  | 'array'
  | 'struct'
  | 'union'
  | 'enum'
  | 'fwd'
  | 'typedef'
  | 'volatile'
  | 'const'
  | 'restrict'
  | 'func'
  | 'func_proto'
  | 'var'
  | 'datasec'
  | 'float'
  | 'decl_tag'
  | 'type_tag'
  | 'enum64';

const KINDS: BtfKind[] = [
  'void', 'int', 'ptr', 'array', 'struct', 'union', 'enum', 'fwd', 'typedef', 'volatile',
  'const', 'restrict', 'func', 'func_proto', 'var', 'datasec', 'float', 'decl_tag', 'type_tag', 'enum64',
];

export interface BtfMember {
  name: string;
  type: number;
  /** Offset in bits from the start of the struct. */
  bitOffset: number;
  /** Bitfield width in bits, 0 for a whole member. */
  bitSize: number;
}

export interface BtfType {
  id: number;
  kind: BtfKind;
  name: string;
  /** size in bytes (int, struct, union, enum, datasec, float) */
  size: number;
  /** referenced type (ptr, typedef, modifiers, func, var) */
  type: number;
  /** int: signed / char flags and bit width */
  int?: { signed: boolean; char: boolean; bool: boolean; bits: number; offset: number };
  array?: { elemType: number; indexType: number; count: number };
  members?: BtfMember[];
  enumValues?: { name: string; value: number }[];
  signedEnum?: boolean;
  params?: { name: string; type: number }[];
  /** datasec entries */
  vars?: { type: number; offset: number; size: number }[];
  linkage?: number;
}

const BTF_MAGIC = 0xeb9f;

export class Btf {
  readonly types: BtfType[];
  private readonly byName = new Map<string, BtfType[]>();

  private constructor(types: BtfType[]) {
    this.types = types;
    for (const t of types) {
      if (!t.name) continue;
      const list = this.byName.get(t.name);
      if (list) list.push(t);
      else this.byName.set(t.name, [t]);
    }
  }

  static parse(raw: Uint8Array): Btf {
    const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    if (buf.length < 24 || buf.readUInt16LE(0) !== BTF_MAGIC) {
      throw new WaggleError('WAGGLE_ERR_OBJECT', 'not a BTF blob (bad magic); only little-endian BTF is supported');
    }
    const hdrLen = buf.readUInt32LE(4);
    const typeOff = hdrLen + buf.readUInt32LE(8);
    const typeLen = buf.readUInt32LE(12);
    const strOff = hdrLen + buf.readUInt32LE(16);
    const strLen = buf.readUInt32LE(20);
    if (typeOff + typeLen > buf.length || strOff + strLen > buf.length) {
      throw new WaggleError('WAGGLE_ERR_OBJECT', 'truncated BTF blob');
    }
    const str = (off: number): string => {
      if (off === 0) return '';
      const start = strOff + off;
      const end = buf.indexOf(0, start);
      return buf.toString('utf8', start, end < 0 || end > strOff + strLen ? strOff + strLen : end);
    };
    const types: BtfType[] = [{ id: 0, kind: 'void', name: '', size: 0, type: 0 }];
    let p = typeOff;
    const end = typeOff + typeLen;
    while (p < end) {
      const nameOff = buf.readUInt32LE(p);
      const info = buf.readUInt32LE(p + 4);
      const sizeOrType = buf.readUInt32LE(p + 8);
      p += 12;
      const vlen = info & 0xffff;
      const kindNum = (info >>> 24) & 0x1f;
      const kindFlag = (info >>> 31) === 1;
      const kind = KINDS[kindNum];
      if (!kind) throw new WaggleError('WAGGLE_ERR_OBJECT', `unknown BTF kind ${kindNum} at type ${types.length}`);
      const t: BtfType = { id: types.length, kind, name: str(nameOff), size: 0, type: 0 };
      switch (kind) {
        case 'int': {
          const enc = buf.readUInt32LE(p);
          p += 4;
          t.size = sizeOrType;
          const encoding = (enc >>> 24) & 0x0f;
          t.int = { signed: (encoding & 1) !== 0, char: (encoding & 2) !== 0, bool: (encoding & 4) !== 0, bits: enc & 0xff, offset: (enc >>> 16) & 0xff };
          break;
        }
        case 'array':
          t.array = { elemType: buf.readUInt32LE(p), indexType: buf.readUInt32LE(p + 4), count: buf.readUInt32LE(p + 8) };
          p += 12;
          break;
        case 'struct':
        case 'union':
          t.size = sizeOrType;
          t.members = [];
          for (let i = 0; i < vlen; i++, p += 12) {
            const off = buf.readUInt32LE(p + 8);
            t.members.push({
              name: str(buf.readUInt32LE(p)),
              type: buf.readUInt32LE(p + 4),
              bitOffset: kindFlag ? off & 0xffffff : off,
              bitSize: kindFlag ? off >>> 24 : 0,
            });
          }
          break;
        case 'enum':
          t.size = sizeOrType;
          t.signedEnum = kindFlag;
          t.enumValues = [];
          for (let i = 0; i < vlen; i++, p += 8) {
            t.enumValues.push({ name: str(buf.readUInt32LE(p)), value: kindFlag ? buf.readInt32LE(p + 4) : buf.readUInt32LE(p + 4) });
          }
          break;
        case 'enum64':
          t.size = sizeOrType;
          t.signedEnum = kindFlag;
          t.enumValues = [];
          for (let i = 0; i < vlen; i++, p += 12) {
            t.enumValues.push({ name: str(buf.readUInt32LE(p)), value: buf.readUInt32LE(p + 8) * 2 ** 32 + buf.readUInt32LE(p + 4) });
          }
          break;
        case 'func_proto':
          t.type = sizeOrType;
          t.params = [];
          for (let i = 0; i < vlen; i++, p += 8) t.params.push({ name: str(buf.readUInt32LE(p)), type: buf.readUInt32LE(p + 4) });
          break;
        case 'var':
          t.type = sizeOrType;
          t.linkage = buf.readUInt32LE(p);
          p += 4;
          break;
        case 'datasec':
          t.size = sizeOrType;
          t.vars = [];
          for (let i = 0; i < vlen; i++, p += 12) {
            t.vars.push({ type: buf.readUInt32LE(p), offset: buf.readUInt32LE(p + 4), size: buf.readUInt32LE(p + 8) });
          }
          break;
        case 'decl_tag':
          t.type = sizeOrType;
          p += 4;
          break;
        case 'float':
          t.size = sizeOrType;
          break;
        default:
          // ptr, fwd, typedef, volatile, const, restrict, func, type_tag
          t.type = sizeOrType;
      }
      types.push(t);
    }
    return new Btf(types);
  }

  get(id: number): BtfType {
    const t = this.types[id];
    if (!t) throw new WaggleError('WAGGLE_ERR_NOT_FOUND', `no BTF type with id ${id}`);
    return t;
  }

  /** Types of that name, optionally of one kind. */
  find(name: string, kind?: BtfKind): BtfType[] {
    const all = this.byName.get(name) ?? [];
    return kind ? all.filter((t) => t.kind === kind) : all;
  }

  /** The struct (or union) of that name; a clear error when the object lacks it. */
  struct(name: string): BtfType {
    const t = this.find(name, 'struct')[0] ?? this.find(name, 'union')[0];
    if (!t) {
      throw new WaggleError(
        'WAGGLE_ERR_NOT_FOUND',
        `no struct '${name}' in the object's BTF (a type only appears when the C code uses it)`,
      );
    }
    return t;
  }

  /** Follows typedefs and const/volatile/restrict/type_tag to the underlying type. */
  resolve(id: number): BtfType {
    let t = this.get(id);
    for (let guard = 0; guard < 64; guard++) {
      if (t.kind === 'typedef' || t.kind === 'volatile' || t.kind === 'const' || t.kind === 'restrict' || t.kind === 'type_tag') {
        t = this.get(t.type);
      } else {
        return t;
      }
    }
    throw new WaggleError('WAGGLE_ERR_OBJECT', `BTF type ${id} does not resolve (cycle)`);
  }

  /** Size in bytes of a type. */
  sizeOf(id: number): number {
    const t = this.resolve(id);
    switch (t.kind) {
      case 'ptr':
        return 8;
      case 'array':
        return this.sizeOf(t.array!.elemType) * t.array!.count;
      case 'var':
        return this.sizeOf(t.type);
      case 'void':
      case 'func':
      case 'func_proto':
      case 'fwd':
        return 0;
      default:
        return t.size;
    }
  }

  /** Variables of a data section (.rodata, .bss, .data) with their offsets and types. */
  datasecVariables(section: string): { name: string; offset: number; size: number; type: number }[] {
    const sec = this.find(section, 'datasec')[0];
    if (!sec) return [];
    return (sec.vars ?? []).map((v) => {
      const variable = this.get(v.type);
      return { name: variable.name, offset: v.offset, size: v.size, type: variable.type };
    });
  }
}
