// Decodes the kernel's stream records (struct stream_event in
// bpf/capture/types.h) into StreamChunks and StreamEnds, with the offsets from
// the object's BTF. Keeps per connection the kernel's key (for verdicts) and the
// next expected sequence number (holes become StreamChunk.lost).
import { type Btf, offsetOf } from '../ebpf/index.js';
import { formatAddress } from './address.js';
import type { Endpoint } from './exchange.js';
import type { StreamChunk, StreamEnd } from './stream.js';

const FIELDS = ['ts', 'sk', 'bytes', 'seq', 'pid', 'tid', 'ino', 'head_len', 'tail_len', 'kind', 'dir', 'tls', 't', 'data'] as const;
const TUPLE_FIELDS = ['laddr', 'raddr', 'family', 'lport', 'rport'] as const;
type Layout = Record<(typeof FIELDS)[number] | (typeof TUPLE_FIELDS)[number], number>;

const KIND_DATA = 1;
const KIND_CLOSE = 2;
const EMPTY = new Uint8Array(0);
/** Connections remembered at once (the kernel's streams map holds 16384); past it, the table starts over. */
const CONNECTIONS_LIMIT = 16384;

interface ConnectionEntry {
  id: string;
  /** Formatted once per connection: the tuple does not change. */
  local: Endpoint;
  remote: Endpoint;
  /** The kernel's map key (struct sock address), for verdicts. */
  key: Buffer;
  nextSeq: number;
  tls: boolean;
}

const u16 = (b: Buffer, o: number) => b[o]! | (b[o + 1]! << 8);
const u32 = (b: Buffer, o: number) => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000;
const u64 = (b: Buffer, o: number) => u32(b, o + 4) * 4294967296 + u32(b, o);

export class StreamDecoder {
  readonly #at: Layout;
  readonly #connections = new Map<number, ConnectionEntry>();

  constructor(btf: Btf) {
    const at = Object.fromEntries(FIELDS.map((f) => [f, offsetOf(btf, 'stream_event', f)])) as Layout;
    for (const f of TUPLE_FIELDS) at[f] = at.t + offsetOf(btf, 'tuple', f);
    this.#at = at;
  }

  /** The kernel key of a connection seen and not yet closed, for stream verdicts. */
  keyOf(socketInode: number): Buffer | undefined {
    return this.#connections.get(socketInode)?.key;
  }

  /**
   * One record: fills `chunk` (head and tail are views into `buf`) and returns
   * 'chunk', or fills `end` and returns 'end', or returns a reason it is malformed.
   */
  decodeInto(buf: Buffer, off: number, len: number, chunk: StreamChunk, end: StreamEnd): 'chunk' | 'end' | string {
    const a = this.#at;
    if (len < a.data) return `stream record of ${len} bytes is shorter than its ${a.data}-byte header`;
    const kind = buf[off + a.kind]!;
    const ino = u32(buf, off + a.ino);
    const seq = u32(buf, off + a.seq);
    const entry = this.#entry(ino, buf, off);
    const lost = Math.max(0, seq - entry.nextSeq);
    if (kind === KIND_CLOSE) {
      this.#connections.delete(ino);
      end.connectionId = entry.id;
      end.socketInode = ino;
      end.timeNs = u64(buf, off + a.ts);
      end.lost = lost;
      return 'end';
    }
    if (kind !== KIND_DATA) return `unknown stream record kind ${kind}`;
    const headLen = u16(buf, off + a.head_len);
    const tailLen = u16(buf, off + a.tail_len);
    if (a.data + headLen + tailLen > len) return `stream record of ${len} bytes cannot hold ${headLen} + ${tailLen} captured bytes`;
    entry.nextSeq = seq + 1;
    const data = off + a.data;
    chunk.connectionId = entry.id;
    chunk.socketInode = ino;
    chunk.pid = u32(buf, off + a.pid);
    chunk.tid = u32(buf, off + a.tid);
    chunk.direction = buf[off + a.dir] ? 'out' : 'in';
    chunk.timeNs = u64(buf, off + a.ts);
    chunk.bytes = u32(buf, off + a.bytes);
    chunk.head = buf.subarray(data, data + headLen);
    chunk.tail = tailLen ? buf.subarray(data + headLen, data + headLen + tailLen) : EMPTY;
    chunk.lost = lost;
    chunk.local = entry.local;
    chunk.remote = entry.remote;
    chunk.tls = entry.tls;
    return 'chunk';
  }

  #entry(ino: number, buf: Buffer, off: number): ConnectionEntry {
    let entry = this.#connections.get(ino);
    const tls = buf[off + this.#at.tls] !== 0;
    // A socket found to carry TLS after its ciphertext was streamed (a connection
    // older than the capture): its plaintext is a new stream with a new kernel key.
    if (entry === undefined || entry.tls !== tls) {
      if (this.#connections.size >= CONNECTIONS_LIMIT) this.#connections.clear();
      const a = this.#at;
      const family = u16(buf, off + a.family);
      entry = {
        id: `socket:[${ino}]`,
        key: Buffer.from(buf.subarray(off + a.sk, off + a.sk + 8)),
        nextSeq: 0,
        tls,
        local: { address: formatAddress(family, buf, off + a.laddr), port: u16(buf, off + a.lport) },
        remote: { address: formatAddress(family, buf, off + a.raddr), port: u16(buf, off + a.rport) },
      };
      this.#connections.set(ino, entry);
    }
    return entry;
  }
}

/** A StreamChunk and StreamEnd with every field present, for decodeInto(). */
export function reusableStreamRecords(): { chunk: StreamChunk; end: StreamEnd } {
  return {
    chunk: {
      connectionId: '',
      socketInode: 0,
      pid: 0,
      tid: 0,
      direction: 'in',
      timeNs: 0,
      bytes: 0,
      head: EMPTY,
      tail: EMPTY,
      lost: 0,
      local: { address: '', port: 0 },
      remote: { address: '', port: 0 },
      tls: false,
    },
    end: { connectionId: '', socketInode: 0, timeNs: 0, lost: 0 },
  };
}
