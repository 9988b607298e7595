// Codecs turn JS values into the bytes a map or record holds, and back.
// Scalar codecs are here; codecs derived from BTF types are in btf/codec.ts.
import { WaggleError } from './errors.js';

export interface Codec<T> {
  readonly size: number;
  encode(value: T, buf: Buffer, offset: number): void;
  decode(buf: Buffer, offset: number): T;
}

function intCodec(size: 1 | 2 | 4, signed: boolean): Codec<number> {
  const read = signed ? (['readInt8', 'readInt16LE', , 'readInt32LE'] as const) : (['readUInt8', 'readUInt16LE', , 'readUInt32LE'] as const);
  const write = signed ? (['writeInt8', 'writeInt16LE', , 'writeInt32LE'] as const) : (['writeUInt8', 'writeUInt16LE', , 'writeUInt32LE'] as const);
  const r = read[size - 1]!;
  const w = write[size - 1]!;
  return {
    size,
    encode: (v, buf, off) => void buf[w](v, off),
    decode: (buf, off) => buf[r](off),
  };
}

export const u8 = intCodec(1, false);
export const u16 = intCodec(2, false);
export const u32 = intCodec(4, false);
export const s8 = intCodec(1, true);
export const s16 = intCodec(2, true);
export const s32 = intCodec(4, true);

/** 64-bit unsigned as a number: exact below 2^53 (e.g. counters, nanosecond uptimes under 104 days). */
export const u64: Codec<number> = {
  size: 8,
  encode: (v, buf, off) => void buf.writeBigUInt64LE(BigInt(Math.trunc(v)), off),
  decode: (buf, off) => buf.readUInt32LE(off + 4) * 4294967296 + buf.readUInt32LE(off),
};

export const s64: Codec<number> = {
  size: 8,
  encode: (v, buf, off) => void buf.writeBigInt64LE(BigInt(Math.trunc(v)), off),
  decode: (buf, off) => buf.readInt32LE(off + 4) * 4294967296 + buf.readUInt32LE(off),
};

export const u64n: Codec<bigint> = {
  size: 8,
  encode: (v, buf, off) => void buf.writeBigUInt64LE(v, off),
  decode: (buf, off) => buf.readBigUInt64LE(off),
};

export const s64n: Codec<bigint> = {
  size: 8,
  encode: (v, buf, off) => void buf.writeBigInt64LE(v, off),
  decode: (buf, off) => buf.readBigInt64LE(off),
};

/** Raw bytes of exactly `size`; decode copies, so the result outlives the source buffer. */
export function bytes(size: number): Codec<Uint8Array> {
  return {
    size,
    encode(v, buf, off) {
      if (v.length !== size) throw new WaggleError('WAGGLE_ERR_MAP_SIZE', `${v.length} bytes given where exactly ${size} are needed`);
      buf.set(v, off);
    },
    decode: (buf, off) => Buffer.from(buf.subarray(off, off + size)),
  };
}

/** Up to `size` bytes, zero-padded (byte arrays inside structs). */
export function paddedBytes(size: number): Codec<Uint8Array> {
  return {
    size,
    encode(v, buf, off) {
      if (v.length > size) throw new WaggleError('WAGGLE_ERR_MAP_SIZE', `${v.length} bytes do not fit in ${size}`);
      buf.fill(0, off, off + size);
      buf.set(v, off);
    },
    decode: (buf, off) => Buffer.from(buf.subarray(off, off + size)),
  };
}

/** A NUL-padded C string of a fixed size. */
export function cstring(size: number): Codec<string> {
  return {
    size,
    encode(v, buf, off) {
      buf.fill(0, off, off + size);
      const written = buf.write(v, off, size - 1, 'utf8');
      if (Buffer.byteLength(v) > written) throw new WaggleError('WAGGLE_ERR_MAP_SIZE', `string of ${Buffer.byteLength(v)} bytes does not fit in ${size - 1}`);
    },
    decode(buf, off) {
      const end = buf.indexOf(0, off);
      return buf.toString('utf8', off, end < 0 || end > off + size ? off + size : end);
    },
  };
}

/** Encodes a value into a fresh buffer of the codec's size. */
export function encodeToBuffer<T>(codec: Codec<T>, value: T): Buffer {
  const buf = Buffer.alloc(codec.size);
  codec.encode(value, buf, 0);
  return buf;
}
