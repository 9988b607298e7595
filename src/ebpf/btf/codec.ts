// Codecs derived from BTF: a struct declared once in C decodes in TypeScript
// with the offsets, sizes and signedness the compiler chose.
import { type Codec, bytes, cstring, paddedBytes, s16, s32, s64, s64n, s8, u16, u32, u64, u64n, u8 } from '../codec.js';
import { WaggleError } from '../errors.js';
import type { Btf, BtfType } from './parse.js';

export interface BtfCodecOptions {
  /** Decode 64-bit integers as bigint instead of number (exact past 2^53). */
  bigint?: boolean;
}

function intCodec(t: BtfType, opts: BtfCodecOptions): Codec<unknown> {
  const signed = t.int?.signed ?? false;
  if (t.int?.bool) {
    return { size: t.size, encode: (v, b, o) => void b.writeUInt8(v ? 1 : 0, o), decode: (b, o) => b[o] !== 0 };
  }
  switch (t.size) {
    case 1: return (signed ? s8 : u8) as Codec<unknown>;
    case 2: return (signed ? s16 : u16) as Codec<unknown>;
    case 4: return (signed ? s32 : u32) as Codec<unknown>;
    case 8: return (opts.bigint ? (signed ? s64n : u64n) : signed ? s64 : u64) as Codec<unknown>;
    default: return bytes(t.size) as Codec<unknown>;
  }
}

function floatCodec(t: BtfType): Codec<unknown> {
  if (t.size === 4) return { size: 4, encode: (v, b, o) => void b.writeFloatLE(Number(v), o), decode: (b, o) => b.readFloatLE(o) };
  return { size: 8, encode: (v, b, o) => void b.writeDoubleLE(Number(v), o), decode: (b, o) => b.readDoubleLE(o) };
}

function arrayCodec(btf: Btf, t: BtfType, opts: BtfCodecOptions): Codec<unknown> {
  const { elemType, count } = t.array!;
  const elem = btf.resolve(elemType);
  if (elem.kind === 'int' && elem.size === 1) {
    // char arrays are strings, other byte arrays are bytes
    return (elem.int?.char || (elem.int?.signed && elem.name === 'char') ? cstring(count) : paddedBytes(count)) as Codec<unknown>;
  }
  const inner = btfCodec(btf, elemType, opts);
  const stride = inner.size;
  return {
    size: stride * count,
    encode(v, buf, off) {
      const arr = v as unknown[];
      for (let i = 0; i < count; i++) inner.encode(arr[i] ?? 0, buf, off + i * stride);
    },
    decode(buf, off) {
      const out = new Array<unknown>(count);
      for (let i = 0; i < count; i++) out[i] = inner.decode(buf, off + i * stride);
      return out;
    },
  };
}

function structCodec(btf: Btf, t: BtfType, opts: BtfCodecOptions): Codec<unknown> {
  const fields = (t.members ?? []).map((m, index) => {
    const name = m.name || `_anon${index}`;
    if (m.bitSize > 0) {
      const byteOffset = Math.floor(m.bitOffset / 8 / 4) * 4;
      const shift = m.bitOffset - byteOffset * 8;
      const mask = m.bitSize >= 32 ? 0xffffffff : (1 << m.bitSize) - 1;
      return {
        name,
        encode(v: unknown, buf: Buffer, off: number) {
          const cur = buf.readUInt32LE(off + byteOffset);
          const next = (cur & ~(mask << shift)) | ((Number(v) & mask) << shift);
          buf.writeUInt32LE(next >>> 0, off + byteOffset);
        },
        decode: (buf: Buffer, off: number) => (buf.readUInt32LE(off + byteOffset) >>> shift) & mask,
      };
    }
    const codec = btfCodec(btf, m.type, opts);
    const at = m.bitOffset / 8;
    return {
      name,
      encode: (v: unknown, buf: Buffer, off: number) => codec.encode(v, buf, off + at),
      decode: (buf: Buffer, off: number) => codec.decode(buf, off + at),
    };
  });
  return {
    size: t.size,
    encode(v, buf, off) {
      buf.fill(0, off, off + t.size);
      const obj = (v ?? {}) as Record<string, unknown>;
      for (const f of fields) if (obj[f.name] !== undefined) f.encode(obj[f.name], buf, off);
    },
    decode(buf, off) {
      const out: Record<string, unknown> = {};
      for (const f of fields) out[f.name] = f.decode(buf, off);
      return out;
    },
  };
}

/** A codec for BTF type `id`. Structs decode to plain objects keyed by member name. */
export function btfCodec(btf: Btf, id: number, opts: BtfCodecOptions = {}): Codec<unknown> {
  const t = btf.resolve(id);
  switch (t.kind) {
    case 'int':
      return intCodec(t, opts);
    case 'enum':
    case 'enum64':
      return intCodec({ ...t, int: { signed: t.signedEnum ?? false, char: false, bool: false, bits: t.size * 8, offset: 0 } }, opts);
    case 'ptr':
      return (opts.bigint ? u64n : u64) as Codec<unknown>;
    case 'float':
      return floatCodec(t);
    case 'array':
      return arrayCodec(btf, t, opts);
    case 'struct':
      return structCodec(btf, t, opts);
    case 'union':
      return bytes(t.size) as Codec<unknown>;
    default:
      throw new WaggleError('WAGGLE_ERR_NOT_SUPPORTED', `no codec for BTF ${t.kind} '${t.name}'`);
  }
}

/** A codec for the struct named `name` in `btf`, typed as the caller declares it. */
export function structCodecByName<T>(btf: Btf, name: string, opts: BtfCodecOptions = {}): Codec<T> {
  return btfCodec(btf, btf.struct(name).id, opts) as Codec<T>;
}

/** Byte offset of a member path ("conn.saddr") inside struct `name`. */
export function offsetOf(btf: Btf, name: string, path: string): number {
  let t = btf.struct(name);
  let offset = 0;
  for (const part of path.split('.')) {
    const m = t.members?.find((x) => x.name === part);
    if (!m) throw new WaggleError('WAGGLE_ERR_NOT_FOUND', `struct '${t.name}' has no member '${part}'`);
    if (m.bitSize) throw new WaggleError('WAGGLE_ERR_NOT_SUPPORTED', `member '${part}' is a bitfield`);
    offset += m.bitOffset / 8;
    t = btf.resolve(m.type);
  }
  return offset;
}
