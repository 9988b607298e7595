// A minimal protobuf wire-format reader for tests: enough to walk an OTLP
// ExportTraceServiceRequest / ExportMetricsServiceRequest by field numbers
// (https://protobuf.dev/programming-guides/encoding/). No schema, no codegen.

export type Field = { no: number; wire: 0; value: bigint } | { no: number; wire: 1 | 5; value: Buffer } | { no: number; wire: 2; value: Buffer };

export function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[pos++];
      if (b === undefined) throw new Error('truncated varint');
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ no, wire, value: varint() });
    else if (wire === 1) {
      out.push({ no, wire, value: buf.subarray(pos, pos + 8) });
      pos += 8;
    } else if (wire === 5) {
      out.push({ no, wire, value: buf.subarray(pos, pos + 4) });
      pos += 4;
    } else if (wire === 2) {
      const len = Number(varint());
      out.push({ no, wire, value: buf.subarray(pos, pos + len) });
      pos += len;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

/** The length-delimited sub-messages with field number `no`. */
export function messages(buf: Buffer, no: number): Buffer[] {
  return fields(buf)
    .filter((f): f is Extract<Field, { wire: 2 }> => f.no === no && f.wire === 2)
    .map((f) => f.value);
}

export function str(buf: Buffer, no: number): string | undefined {
  const f = messages(buf, no)[0];
  return f?.toString('utf8');
}

export function bytesHex(buf: Buffer, no: number): string | undefined {
  return messages(buf, no)[0]?.toString('hex');
}

export function uint(buf: Buffer, no: number): bigint | undefined {
  const f = fields(buf).find((x) => x.no === no);
  if (f === undefined) return undefined;
  if (f.wire === 0) return f.value;
  if (f.wire === 1) return f.value.readBigUInt64LE(0);
  return undefined;
}

/** OTLP KeyValue list (field `no` of the message) → plain object. AnyValue: 1 string, 2 bool, 3 int, 4 double. */
export function attributes(buf: Buffer, no: number): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const kv of messages(buf, no)) {
    const key = str(kv, 1)!;
    const any = messages(kv, 2)[0];
    if (any === undefined) continue;
    const f = fields(any)[0];
    if (f === undefined) continue;
    if (f.no === 1 && f.wire === 2) out[key] = f.value.toString('utf8');
    else if (f.no === 2 && f.wire === 0) out[key] = f.value !== 0n;
    else if (f.no === 3 && f.wire === 0) out[key] = Number(BigInt.asIntN(64, f.value));
    else if (f.no === 4 && f.wire === 1) out[key] = f.value.readDoubleLE(0);
  }
  return out;
}
