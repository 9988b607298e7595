// Decodes the kernel's exchange records (struct exchange_event in
// bpf/capture/types.h) into Exchanges. Field offsets come from the object's
// BTF, so the C struct is the only definition of the layout.
import { type Btf, offsetOf } from '../ebpf/index.js';
import { formatAddress } from './address.js';
import type { Exchange, Role } from './exchange.js';

const ROLES: Record<number, Role> = { 1: 'server', 2: 'client' };
const PROTOCOLS: Record<number, string> = { 1: 'http1' };
const INCOMPLETE: Record<number, Exchange['incomplete']> = {
  1: 'closed-before-response',
  2: 'closed-mid-response',
  3: 'evicted',
  4: 'timeout',
};
/** exchange_event.flags (enum capture_flags). */
export const XF_FRAMING_LOST = 1;
export const XF_REQUEST_TRUNCATED = 2;
export const XF_RESPONSE_TRUNCATED = 4;
export const XF_TLS = 8;

const FIELDS = [
  'req_start_ns',
  'req_end_ns',
  'resp_start_ns',
  'resp_end_ns',
  'req_bytes',
  'resp_bytes',
  'pid',
  'tid',
  'ino',
  'family',
  'lport',
  'rport',
  'status',
  'req_len',
  'resp_len',
  'role',
  'protocol',
  'incomplete',
  'flags',
  'laddr',
  'raddr',
  'data',
] as const;
type Layout = Record<(typeof FIELDS)[number], number>;

function u64(buf: Buffer, off: number): number {
  return u32(buf, off + 4) * 4294967296 + u32(buf, off);
}

function u32(buf: Buffer, off: number): number {
  return (buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16)) + buf[off + 3]! * 0x1000000;
}

function u16(buf: Buffer, off: number): number {
  return buf[off]! | (buf[off + 1]! << 8);
}

/** Socket inode → connectionId: one string per connection rather than one per record. */
const CONNECTION_IDS_LIMIT = 8192;

export class ExchangeDecoder {
  private readonly at: Layout;
  private readonly connectionIds = new Map<number, string>();

  constructor(btf: Btf) {
    this.at = Object.fromEntries(FIELDS.map((f) => [f, offsetOf(btf, 'exchange_event', f)])) as Layout;
  }

  /**
   * One record → Exchange, or a reason when the record is malformed. `request`
   * and `response` are views into `buf` (no copy): copy them to keep them past
   * the batch.
   */
  decode(buf: Buffer, off: number, len: number): Exchange | string {
    const ex = reusableExchange();
    return this.decodeInto(buf, off, len, ex) ?? ex;
  }

  /**
   * decode() into `ex`, overwriting every field (the same object record after
   * record: no allocation but the two byte views). Returns a reason when the
   * record is malformed (then `ex` is unchanged).
   */
  decodeInto(buf: Buffer, off: number, len: number, ex: Exchange): string | undefined {
    const a = this.at;
    if (len < a.data) return `record of ${len} bytes is shorter than its ${a.data}-byte header`;
    const reqLen = u16(buf, off + a.req_len);
    const respLen = u16(buf, off + a.resp_len);
    if (a.data + reqLen + respLen > len) return `record of ${len} bytes cannot hold ${reqLen} + ${respLen} captured bytes`;
    const role = ROLES[buf[off + a.role]!];
    if (!role) return `unknown role ${buf[off + a.role]}`;
    const family = u16(buf, off + a.family);
    const flags = buf[off + a.flags]!;
    const status = u16(buf, off + a.status);
    const data = off + a.data;
    ex.pid = u32(buf, off + a.pid);
    ex.tid = u32(buf, off + a.tid);
    ex.role = role;
    ex.local.address = formatAddress(family, buf, off + a.laddr);
    ex.local.port = u16(buf, off + a.lport);
    ex.remote.address = formatAddress(family, buf, off + a.raddr);
    ex.remote.port = u16(buf, off + a.rport);
    ex.requestStartNs = u64(buf, off + a.req_start_ns);
    ex.requestEndNs = u64(buf, off + a.req_end_ns);
    ex.responseStartNs = u64(buf, off + a.resp_start_ns);
    ex.responseEndNs = u64(buf, off + a.resp_end_ns);
    ex.request = buf.subarray(data, data + reqLen);
    ex.response = buf.subarray(data + reqLen, data + reqLen + respLen);
    ex.requestBytes = u64(buf, off + a.req_bytes);
    ex.responseBytes = u64(buf, off + a.resp_bytes);
    ex.protocol = PROTOCOLS[buf[off + a.protocol]!] ?? 'unknown';
    ex.connectionId = this.connectionId(u32(buf, off + a.ino));
    ex.incomplete = INCOMPLETE[buf[off + a.incomplete]!];
    ex.statusHint = status || undefined;
    ex.framingLost = flags & XF_FRAMING_LOST ? true : undefined;
    ex.tls = flags & XF_TLS ? true : undefined;
    ex.carried = undefined;
    return undefined;
  }

  private connectionId(ino: number): string {
    let id = this.connectionIds.get(ino);
    if (id === undefined) {
      id = `socket:[${ino}]`;
      if (this.connectionIds.size >= CONNECTION_IDS_LIMIT) this.connectionIds.clear();
      this.connectionIds.set(ino, id);
    }
    return id;
  }
}

/** An Exchange with every field present, for decodeInto(). */
export function reusableExchange(): Exchange {
  const empty = Buffer.alloc(0);
  return {
    pid: 0,
    tid: 0,
    role: 'server',
    local: { address: '', port: 0 },
    remote: { address: '', port: 0 },
    requestStartNs: 0,
    requestEndNs: 0,
    responseStartNs: 0,
    responseEndNs: 0,
    request: empty,
    response: empty,
    requestBytes: 0,
    responseBytes: 0,
    protocol: '',
    connectionId: '',
    incomplete: undefined,
    statusHint: undefined,
    framingLost: undefined,
    tls: undefined,
    carried: undefined,
  };
}
