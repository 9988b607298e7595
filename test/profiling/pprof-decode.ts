// A reader of profile.proto for tests, written from the .proto
// (github.com/google/pprof/proto/profile.proto), independent of the agent's
// writer: stacks by function name, leaf first, with their values.
import { gunzipSync } from 'node:zlib';

export interface DecodedProfile {
  sampleTypes: Array<{ type: string; unit: string }>;
  /** Function names leaf first, and the sample's values. */
  samples: Array<{ stack: string[]; values: number[] }>;
  timeNanos: bigint;
  durationNanos: number;
  period: number;
}

type Field = { no: number; wire: number; value: bigint | Buffer };

function* fields(buf: Buffer): Generator<Field> {
  let at = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (at >= buf.length) throw new Error('truncated varint');
      const b = buf[at++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
  };
  while (at < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    if (wire === 0) yield { no, wire, value: varint() };
    else if (wire === 2) {
      const len = Number(varint());
      const value = buf.subarray(at, at + len);
      if (value.length !== len) throw new Error('truncated field');
      at += len;
      yield { no, wire, value };
    } else if (wire === 1) {
      yield { no, wire, value: buf.readBigUInt64LE(at) };
      at += 8;
    } else if (wire === 5) {
      yield { no, wire, value: BigInt(buf.readUInt32LE(at)) };
      at += 4;
    } else throw new Error(`wire type ${wire}`);
  }
}

/** Repeated uint64: packed (wire 2) or one by one. */
function pushInts(out: number[], f: Field): void {
  if (typeof f.value === 'bigint') {
    out.push(Number(f.value));
    return;
  }
  let v = 0;
  let shift = 0;
  for (const byte of f.value) {
    v += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(byte & 0x80)) {
      out.push(v);
      v = 0;
      shift = 0;
    }
  }
}

const num = (f: Field): number => Number(f.value as bigint);

/** Decodes gzipped or plain profile.proto bytes. */
export function decodePprof(bytes: Buffer): DecodedProfile {
  const raw = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
  const strings: string[] = [];
  const sampleTypesRaw: Array<[number, number]> = [];
  const samplesRaw: Array<{ locs: number[]; values: number[] }> = [];
  const locations = new Map<number, number[]>(); // location id → function ids (inline order)
  const functions = new Map<number, number>(); // function id → name string index
  let timeNanos = 0n;
  let durationNanos = 0;
  let period = 0;
  for (const f of fields(raw)) {
    const body = f.value as Buffer;
    switch (f.no) {
      case 1: {
        let t = 0;
        let u = 0;
        for (const g of fields(body)) {
          if (g.no === 1) t = num(g);
          if (g.no === 2) u = num(g);
        }
        sampleTypesRaw.push([t, u]);
        break;
      }
      case 2: {
        const s = { locs: [] as number[], values: [] as number[] };
        for (const g of fields(body)) {
          if (g.no === 1) pushInts(s.locs, g);
          if (g.no === 2) pushInts(s.values, g);
        }
        samplesRaw.push(s);
        break;
      }
      case 4: {
        let id = 0;
        const fns: number[] = [];
        for (const g of fields(body)) {
          if (g.no === 1) id = num(g);
          if (g.no === 4) for (const l of fields(g.value as Buffer)) if (l.no === 1) fns.push(num(l));
        }
        locations.set(id, fns);
        break;
      }
      case 5: {
        let id = 0;
        let name = 0;
        for (const g of fields(body)) {
          if (g.no === 1) id = num(g);
          if (g.no === 2) name = num(g);
        }
        functions.set(id, name);
        break;
      }
      case 6:
        strings.push(body.toString('utf8'));
        break;
      case 9:
        timeNanos = f.value as bigint;
        break;
      case 10:
        durationNanos = num(f);
        break;
      case 12:
        period = num(f);
        break;
    }
  }
  const name = (fid: number) => strings[functions.get(fid) ?? 0] ?? '';
  return {
    sampleTypes: sampleTypesRaw.map(([t, u]) => ({ type: strings[t] ?? '', unit: strings[u] ?? '' })),
    samples: samplesRaw.map((s) => ({ stack: s.locs.flatMap((l) => (locations.get(l) ?? []).map(name)), values: s.values })),
    timeNanos,
    durationNanos,
    period,
  };
}

/** Sum of the first value of the samples whose stack holds `frame`, over all. */
export function pprofShare(p: DecodedProfile, frame: string): { hits: number; total: number } {
  let hits = 0;
  let total = 0;
  for (const s of p.samples) {
    total += s.values[0] ?? 0;
    if (s.stack.includes(frame)) hits += s.values[0] ?? 0;
  }
  return { hits, total };
}
