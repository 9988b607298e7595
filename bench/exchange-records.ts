// Synthetic ring-buffer batches of exchange records (struct exchange_event, laid
// out with the capture object's BTF offsets), for benchmarks of the user-space
// path without the kernel: what the native reader hands to JavaScript.
import { type Btf, ObjectSpec, offsetOf } from '../src/ebpf/index.js';
import { CAPTURE_OBJECT } from '../src/capture/index.js';
import { bpfObjectPath } from '../src/paths.js';

export interface RecordSpec {
  pid: number;
  role: 1 | 2;
  laddr: [number, number, number, number];
  raddr: [number, number, number, number];
  lport: number;
  rport: number;
  ino: number;
  request: Buffer;
  response: Buffer;
  startNs: number;
  durationNs: number;
}

export function captureBtf(): Btf {
  const spec = ObjectSpec.open(bpfObjectPath(CAPTURE_OBJECT));
  const btf = spec.btf!;
  return btf;
}

/** One batch as the native reader delivers it: per record u32 length, 4 bytes padding, the record, padding to 8. */
export function encodeBatch(btf: Btf, records: RecordSpec[]): { buffer: Buffer; count: number } {
  const at = (f: string) => offsetOf(btf, 'exchange_event', f);
  const header = at('data');
  const parts: Buffer[] = [];
  for (const r of records) {
    const len = header + r.request.length + r.response.length;
    const b = Buffer.alloc(8 + ((len + 7) & ~7));
    b.writeUInt32LE(len, 0);
    const o = 8;
    const u64 = (f: string, v: number) => b.writeBigUInt64LE(BigInt(Math.round(v)), o + at(f));
    u64('req_start_ns', r.startNs);
    u64('req_end_ns', r.startNs + 1_000);
    u64('resp_start_ns', r.startNs + r.durationNs - 2_000);
    u64('resp_end_ns', r.startNs + r.durationNs);
    u64('req_bytes', r.request.length);
    u64('resp_bytes', r.response.length);
    b.writeUInt32LE(r.pid, o + at('pid'));
    b.writeUInt32LE(r.pid, o + at('tid'));
    b.writeUInt32LE(r.ino, o + at('ino'));
    b.writeUInt16LE(2, o + at('family'));
    b.writeUInt16LE(r.lport, o + at('lport'));
    b.writeUInt16LE(r.rport, o + at('rport'));
    b.writeUInt16LE(200, o + at('status'));
    b.writeUInt16LE(r.request.length, o + at('req_len'));
    b.writeUInt16LE(r.response.length, o + at('resp_len'));
    b[o + at('role')] = r.role;
    b[o + at('protocol')] = 1;
    for (let i = 0; i < 4; i++) b[o + at('laddr') + i] = r.laddr[i]!;
    for (let i = 0; i < 4; i++) b[o + at('raddr') + i] = r.raddr[i]!;
    r.request.copy(b, o + header);
    r.response.copy(b, o + header + r.request.length);
    parts.push(b);
  }
  return { buffer: Buffer.concat(parts), count: records.length };
}
