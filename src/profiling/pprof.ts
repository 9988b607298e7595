// pprof output: profile.proto (github.com/google/pprof/proto/profile.proto),
// gzipped, one sample type pair (samples/count, cpu/nanoseconds) as Go's CPU
// profiles have. Frames become Functions and Locations by name and module.
import { gzipSync } from 'node:zlib';
import type { Profile } from './profile.js';
import { ProtoWriter } from './protobuf-writer.js';

class StringTable {
  readonly list: string[] = [''];
  private readonly index = new Map<string, number>([['', 0]]);
  id(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(s);
      this.index.set(s, i);
    }
    return i;
  }
}

/** The profile as profile.proto bytes (not compressed). */
export function encodePprof(profile: Profile): Buffer {
  const strings = new StringTable();
  const w = new ProtoWriter();
  const periodNs = Math.round(1e9 / profile.frequency);
  const sampleTypes = [
    [strings.id('samples'), strings.id('count')],
    [strings.id('cpu'), strings.id('nanoseconds')],
  ] as const;
  for (const [type, unit] of sampleTypes) w.message(1, (m) => m.varint(1, type).varint(2, unit));

  const mappings = new Map<string, number>();
  const locations = new Map<string, Map<string, number>>();
  let locationCount = 0;
  const mappingMsgs: ProtoWriter[] = [];
  const functionMsgs: ProtoWriter[] = [];
  const locationMsgs: ProtoWriter[] = [];
  const mappingId = (module: string, buildId: string | undefined): number => {
    let id = mappings.get(module);
    if (id === undefined) {
      id = mappings.size + 1;
      mappings.set(module, id);
      const m = new ProtoWriter(64).varint(1, id).varint(5, strings.id(module)).varint(6, strings.id(buildId ?? ''));
      m.varint(7, 1); // has_functions: names come from the agent, not from a binary
      mappingMsgs.push(m);
    }
    return id;
  };
  // One location and one function per (module, name): a map per module, so no key string is built per frame.
  const locationId = (name: string, module: string, buildId: string | undefined): number => {
    let inModule = locations.get(module);
    if (!inModule) {
      inModule = new Map();
      locations.set(module, inModule);
    }
    let id = inModule.get(name);
    if (id === undefined) {
      id = ++locationCount;
      inModule.set(name, id);
      // Function and location ids are equal: one function per location.
      functionMsgs.push(new ProtoWriter(32).varint(1, id).varint(2, strings.id(name)).varint(3, strings.id(name)).varint(4, strings.id(module)));
      const fn = id;
      locationMsgs.push(new ProtoWriter(32).varint(1, id).varint(2, mappingId(module, buildId)).message(4, (l) => l.varint(1, fn)));
    }
    return id;
  };

  for (const s of profile.stacks.values()) {
    // pprof wants leaf first.
    const ids: number[] = [];
    for (let i = s.frames.length - 1; i >= 0; i--) {
      const f = s.frames[i]!;
      ids.push(locationId(f.name, f.module, f.buildId));
    }
    w.message(2, (m) => m.packed(1, ids).packed(2, [s.count, s.count * periodNs]));
  }
  for (const m of mappingMsgs) w.bytes(3, m.finish());
  for (const l of locationMsgs) w.bytes(4, l.finish());
  for (const f of functionMsgs) w.bytes(5, f.finish());
  const durationNs = Math.max(0, Math.round((profile.endMs - profile.startMs) * 1e6));
  // Field order does not matter to protobuf; the string table is written once every index is known.
  const tail = new ProtoWriter(64);
  tail.varint(9, BigInt(Math.round(profile.startMs)) * 1_000_000n);
  tail.varint(10, durationNs);
  tail.message(11, (m) => m.varint(1, strings.id('cpu')).varint(2, strings.id('nanoseconds')));
  tail.varint(12, periodNs);
  for (const s of strings.list) w.string(6, s);
  return Buffer.concat([w.finish(), tail.finish()]);
}

export function toPprofGzip(profile: Profile): Buffer {
  return gzipSync(encodePprof(profile));
}
