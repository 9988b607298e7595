// Just enough of the protobuf wire format to write pprof's profile.proto:
// varints, length-delimited fields and packed repeated varints.
export class ProtoWriter {
  private chunks: Buffer[] = [];
  private cur: Buffer;
  private pos = 0;

  /** Nested messages (locations, functions, samples) are small: they start small. */
  constructor(initialBytes = 4096) {
    this.cur = Buffer.allocUnsafe(initialBytes);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.cur.length) return;
    this.chunks.push(this.cur.subarray(0, this.pos));
    this.cur = Buffer.allocUnsafe(Math.max(2 * this.cur.length, n, 64));
    this.pos = 0;
  }

  private varintRaw(v: number | bigint): void {
    this.ensure(10);
    if (typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER) {
      // Without BigInt: the common case (ids, counts, lengths, nanoseconds) is a small non-negative number.
      let n = v;
      while (n > 0x7f) {
        this.cur[this.pos++] = (n % 128) | 0x80;
        n = Math.floor(n / 128);
      }
      this.cur[this.pos++] = n;
      return;
    }
    let x = BigInt.asUintN(64, BigInt(v));
    while (x > 0x7fn) {
      this.cur[this.pos++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.cur[this.pos++] = Number(x);
  }

  /** A varint field (int64/uint64/bool); zero is skipped as proto3 does. */
  varint(field: number, v: number | bigint): this {
    if (v === 0 || v === 0n) return this;
    this.varintRaw(field << 3);
    this.varintRaw(v);
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.varintRaw((field << 3) | 2);
    this.varintRaw(data.length);
    this.ensure(data.length);
    this.cur.set(data, this.pos);
    this.pos += data.length;
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, Buffer.from(s, 'utf8'));
  }

  message(field: number, build: (w: ProtoWriter) => void): this {
    const w = new ProtoWriter(64);
    build(w);
    return this.bytes(field, w.finish());
  }

  packed(field: number, values: readonly (number | bigint)[]): this {
    if (values.length === 0) return this;
    const w = new ProtoWriter(values.length * 2 + 8);
    for (const v of values) w.varintRaw(v);
    return this.bytes(field, w.finish());
  }

  finish(): Buffer {
    return Buffer.concat([...this.chunks, this.cur.subarray(0, this.pos)]);
  }
}
