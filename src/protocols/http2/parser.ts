// One HTTP/2 connection seen from the watched process (client or server): two
// frame readers (client→server, server→client), an HPACK decoder each, and the
// streams in flight. Each stream is one exchange (request headers … the
// response's END_STREAM), interleaved freely with the others, and becomes one
// Operation: family 'rpc' for gRPC (content-type application/grpc), 'http'
// otherwise, which telemetry turns into the same HTTP request records as
// HTTP/1's. Bodies are only counted (bytes, and gRPC's length-prefixed
// messages), never kept.
import type { ChunkView, ConnectionParser, Emit, Operation, ParserStats, Role } from '../module.js';
import { FrameReader, type FrameSink } from './frame-reader.js';
import {
  FLAG_END_HEADERS,
  FLAG_END_STREAM,
  FLAG_PADDED,
  FLAG_PRIORITY,
  type FrameHeader,
  FrameType,
  MAX_FRAME_SIZE_LIMIT,
  SETTINGS_MAX_FRAME_SIZE,
  plausibleHeader,
  startsWithPreface,
} from './frames.js';
import { GrpcMessageCounter, grpcErrorType, isGrpcContentType, splitGrpcPath } from './grpc.js';
import { HeaderBlock } from './headers.js';
import { HpackDecoder } from './hpack.js';

/** Streams tracked at once per connection (SETTINGS_MAX_CONCURRENT_STREAMS is commonly 100–256). */
export const MAX_STREAMS = 256;
/** Bytes of one header block (HEADERS + CONTINUATIONs) decoded at most; a longer one desyncs HPACK. */
export const MAX_HEADER_BLOCK = 65536;

/** HTTP/2 error codes (RFC 9113 §7), as error.type of a reset stream. */
const ERROR_CODES = ['NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'FLOW_CONTROL_ERROR', 'SETTINGS_TIMEOUT', 'STREAM_CLOSED', 'FRAME_SIZE_ERROR', 'REFUSED_STREAM', 'CANCEL', 'COMPRESSION_ERROR', 'CONNECT_ERROR', 'ENHANCE_YOUR_CALM', 'INADEQUATE_SECURITY', 'HTTP_1_1_REQUIRED'];

/** Counters beyond ParserStats (also exported as its `events`, in /metrics). */
export interface Http2Stats extends ParserStats {
  /** Header fields that referred to dynamic-table entries the decoder did not know (joined midway, or a lost block). */
  unknownHeaderFields: number;
  /** Header blocks over the header-list cap (fields past it dropped). */
  headerListOverflow: number;
  /** Header blocks that could not be decoded (malformed, damaged by a hole, or too long). */
  headerBlocksLost: number;
  /** Streams the server refused by GOAWAY (never processed: not reported, the client retries). */
  goawayRefused: number;
}

class Http2Counters implements Http2Stats {
  unparsed = 0;
  pendingOverflow = 0;
  orphanResponses = 0;
  unknownHeaderFields = 0;
  headerListOverflow = 0;
  headerBlocksLost = 0;
  goawayRefused = 0;

  get events(): Record<string, number> {
    return {
      unknown_header_fields: this.unknownHeaderFields,
      header_list_overflow: this.headerListOverflow,
      header_blocks_lost: this.headerBlocksLost,
      goaway_refused: this.goawayRefused,
    };
  }
}

type Side = 'c2s' | 's2c';

interface H2Stream {
  id: number;
  startNs: number;
  endNs: number;
  /** The request's headers; undefined when they were not seen (joined midway). */
  request: HeaderBlock | undefined;
  grpc: boolean;
  status: number | undefined;
  grpcStatus: number | undefined;
  finalResponse: boolean;
  requestBody: number;
  responseBody: number;
  /** Framing of that direction was lost while the stream was open: its byte count is a lower bound. */
  requestBodyLost: boolean;
  responseBodyLost: boolean;
  responseContentLength: number | undefined;
  requestMessages: GrpcMessageCounter | undefined;
  responseMessages: GrpcMessageCounter | undefined;
}

/** A header block being gathered from HEADERS/PUSH_PROMISE and CONTINUATION frames. */
interface PendingBlock {
  streamId: number;
  type: number;
  endStream: boolean;
  promisedId: number;
  fragments: Uint8Array[];
  size: number;
  damaged: boolean;
  timeNs: number;
}

class Direction implements FrameSink {
  readonly reader: FrameReader;
  readonly hpack: HpackDecoder;
  block: PendingBlock | undefined;

  constructor(readonly parser: Http2Parser, readonly side: Side, start: 'preface' | 'frames' | 'lost') {
    this.reader = new FrameReader(this, start);
    this.hpack = new HpackDecoder(start !== 'lost');
  }

  frame(h: FrameHeader, payload: Uint8Array | undefined, timeNs: number): void {
    this.parser.onFrame(this, h, payload, timeNs);
  }

  dataStart(): void {}

  dataBytes(streamId: number, bytes: Uint8Array | undefined, n: number): void {
    this.parser.onData(this.side, streamId, bytes, n);
  }

  dataEnd(h: FrameHeader, timeNs: number): void {
    if (h.flags & FLAG_END_STREAM) this.parser.onEndStream(this.side, h.streamId, timeNs);
  }

  lost(): void {
    this.block = undefined;
    this.hpack.desync();
    this.parser.onLost(this.side);
  }
}

export class Http2Parser implements ConnectionParser {
  readonly stats: Http2Stats = new Http2Counters();
  readonly #role: Role;
  readonly #streams = new Map<number, H2Stream>();
  #c2s: Direction | undefined;
  #s2c: Direction | undefined;
  #emit: Emit = () => undefined;

  constructor(role: Role) {
    this.#role = role;
  }

  feed(chunk: ChunkView, emit: Emit): void {
    this.#emit = emit;
    const side: Side = (chunk.direction === 'out') === (this.#role === 'client') ? 'c2s' : 's2c';
    // Each direction's first chunk tells whether it is seen from its start (the
    // client's preface; the server's SETTINGS, its preface) or joined midway.
    // The directions are independent (one HPACK table each): after an Upgrade
    // the server may write before the client's preface arrives.
    let d = side === 'c2s' ? this.#c2s : this.#s2c;
    if (d === undefined) {
      const fromStart = chunk.lost === 0 && (side === 'c2s' ? startsWithPreface(chunk.head) : startsWithSettings(chunk.head));
      d = new Direction(this, side, fromStart ? (side === 'c2s' ? 'preface' : 'frames') : 'lost');
      if (side === 'c2s') this.#c2s = d;
      else this.#s2c = d;
    }
    const before = d.reader.unparsedRuns;
    const hole = Math.max(0, chunk.bytes - chunk.head.length - chunk.tail.length);
    d.reader.run(chunk.head, hole, chunk.tail, chunk.timeNs, chunk.lost > 0);
    this.stats.unparsed += d.reader.unparsedRuns - before;
  }

  end(why: 'closed' | 'idle' | 'evicted', emit: Emit): void {
    this.#emit = emit;
    for (const s of this.#streams.values()) {
      if (s.request === undefined) continue;
      this.#report(s, undefined, why);
    }
    this.#streams.clear();
  }

  onFrame(d: Direction, h: FrameHeader, payload: Uint8Array | undefined, timeNs: number): void {
    // A header block is one HEADERS/PUSH_PROMISE and its CONTINUATIONs, nothing in between (RFC 9113 §6.10).
    if (d.block !== undefined && h.type !== FrameType.Continuation) this.#loseBlock(d);
    switch (h.type) {
      case FrameType.Headers:
      case FrameType.PushPromise:
        this.#startBlock(d, h, payload, timeNs);
        return;
      case FrameType.Continuation:
        if (d.block === undefined || d.block.streamId !== h.streamId) {
          this.#loseBlock(d);
          return;
        }
        this.#addFragment(d, payload, 0, payload?.length ?? 0);
        if (h.flags & FLAG_END_HEADERS) this.#finishBlock(d);
        return;
      case FrameType.RstStream:
        this.#reset(h.streamId, payload, timeNs);
        return;
      case FrameType.Goaway:
        if (d.side === 's2c' && payload !== undefined && payload.length >= 8) this.#goaway(readU31(payload, 0));
        return;
      case FrameType.Settings:
        if (payload !== undefined && (h.flags & 1) === 0) this.#settings(d, payload);
        return;
      default:
        // PRIORITY, PING, WINDOW_UPDATE and unknown types carry nothing telemetry reads.
        return;
    }
  }

  onData(side: Side, streamId: number, bytes: Uint8Array | undefined, n: number): void {
    const s = this.#streams.get(streamId);
    if (s === undefined) return;
    if (side === 'c2s') {
      s.requestBody += n;
      s.requestMessages?.bytes(bytes, n);
    } else {
      s.responseBody += n;
      s.responseMessages?.bytes(bytes, n);
    }
  }

  /** Framing of one direction was lost: open streams' body sizes that way are no longer exact. */
  onLost(side: Side): void {
    for (const s of this.#streams.values()) {
      if (side === 'c2s') s.requestBodyLost = true;
      else s.responseBodyLost = true;
    }
  }

  onEndStream(side: Side, streamId: number, timeNs: number): void {
    const s = this.#streams.get(streamId);
    if (s === undefined) {
      if (side === 's2c') this.stats.orphanResponses++;
      return;
    }
    if (side === 'c2s') return;
    s.endNs = timeNs;
    this.#streams.delete(streamId);
    this.#report(s, undefined, undefined);
  }

  #startBlock(d: Direction, h: FrameHeader, payload: Uint8Array | undefined, timeNs: number): void {
    const block: PendingBlock = { streamId: h.streamId, type: h.type, endStream: (h.flags & FLAG_END_STREAM) !== 0, promisedId: 0, fragments: [], size: 0, damaged: false, timeNs };
    d.block = block;
    if (payload === undefined) {
      block.damaged = true;
    } else {
      let at = 0;
      let end = payload.length;
      if (h.flags & FLAG_PADDED) {
        const pad = payload[0] ?? 0;
        at = 1;
        end -= pad;
      }
      if (h.type === FrameType.Headers && h.flags & FLAG_PRIORITY) at += 5;
      if (h.type === FrameType.PushPromise) {
        if (at + 4 <= end) block.promisedId = readU31(payload, at);
        at += 4;
      }
      if (at > end) block.damaged = true;
      else this.#addFragment(d, payload, at, end);
    }
    if (h.flags & FLAG_END_HEADERS) this.#finishBlock(d);
  }

  #addFragment(d: Direction, payload: Uint8Array | undefined, at: number, end: number): void {
    const b = d.block!;
    if (payload === undefined) {
      b.damaged = true;
      return;
    }
    b.size += end - at;
    if (b.size > MAX_HEADER_BLOCK) b.damaged = true;
    if (!b.damaged) b.fragments.push(payload.subarray(at, end));
  }

  #finishBlock(d: Direction): void {
    const b = d.block!;
    d.block = undefined;
    const fields = new HeaderBlock();
    if (b.damaged) {
      this.stats.headerBlocksLost++;
      d.hpack.desync();
    } else {
      const whole = b.fragments.length === 1 ? b.fragments[0]! : concat(b.fragments, b.size);
      const before = d.hpack.unknownReferences;
      if (d.hpack.decode(whole, fields.add) === 'error') this.stats.headerBlocksLost++;
      this.stats.unknownHeaderFields += d.hpack.unknownReferences - before;
      if (fields.overflowed) this.stats.headerListOverflow++;
    }
    if (b.type === FrameType.PushPromise) {
      // The server's promise: the pushed stream's request (answered on that stream).
      if (d.side === 's2c' && b.promisedId !== 0) this.#openStream(b.promisedId, fields, b.timeNs);
      return;
    }
    if (d.side === 'c2s') this.#requestHeaders(b, fields);
    else this.#responseHeaders(b, fields);
  }

  #loseBlock(d: Direction): void {
    if (d.block === undefined) return;
    d.block = undefined;
    this.stats.headerBlocksLost++;
    d.hpack.desync();
  }

  #requestHeaders(b: PendingBlock, fields: HeaderBlock): void {
    // A known stream: request trailers (gRPC clients send none; HTTP rarely).
    if (this.#streams.has(b.streamId)) return;
    this.#openStream(b.streamId, fields, b.timeNs);
  }

  #openStream(id: number, fields: HeaderBlock, timeNs: number): void {
    if (this.#streams.size >= MAX_STREAMS) {
      this.stats.pendingOverflow++;
      return;
    }
    const grpc = isGrpcContentType(fields.contentType);
    this.#streams.set(id, {
      id,
      startNs: timeNs,
      endNs: timeNs,
      request: fields,
      grpc,
      status: undefined,
      grpcStatus: undefined,
      finalResponse: false,
      requestBody: 0,
      responseBody: 0,
      requestBodyLost: false,
      responseBodyLost: false,
      responseContentLength: undefined,
      requestMessages: grpc ? new GrpcMessageCounter() : undefined,
      responseMessages: grpc ? new GrpcMessageCounter() : undefined,
    });
  }

  #responseHeaders(b: PendingBlock, fields: HeaderBlock): void {
    const s = this.#streams.get(b.streamId);
    if (s === undefined) {
      if (b.endStream) this.stats.orphanResponses++;
      return;
    }
    if (!s.finalResponse) {
      // 1xx responses are informational; the final one follows on the same stream.
      if (fields.status !== undefined && fields.status < 200) return;
      s.finalResponse = true;
      s.status = fields.status;
      s.responseContentLength = fields.contentLength;
      if (!s.grpc && isGrpcContentType(fields.contentType)) {
        s.grpc = true;
        s.requestMessages = undefined;
        s.responseMessages = undefined;
      }
    }
    // Trailers, or a trailers-only response: gRPC's status.
    if (fields.grpcStatus !== undefined) s.grpcStatus = fields.grpcStatus;
    if (b.endStream) {
      s.endNs = b.timeNs;
      this.#streams.delete(s.id);
      this.#report(s, undefined, undefined);
    }
  }

  #reset(streamId: number, payload: Uint8Array | undefined, timeNs: number): void {
    const s = this.#streams.get(streamId);
    if (s === undefined) return;
    this.#streams.delete(streamId);
    s.endNs = timeNs;
    const code = payload !== undefined && payload.length >= 4 ? readU31(payload, 0) : -1;
    this.#report(s, ERROR_CODES[code] ?? (code < 0 ? 'RST_STREAM' : `RST_STREAM_${code}`), undefined);
  }

  /** The server will not process streams above lastStreamId: the client retries them elsewhere. */
  #goaway(lastStreamId: number): void {
    for (const s of this.#streams.values()) {
      if (s.id % 2 === 1 && s.id > lastStreamId) {
        this.#streams.delete(s.id);
        this.stats.goawayRefused++;
      }
    }
  }

  /** SETTINGS of one side bound the frames the other side writes. */
  #settings(d: Direction, payload: Uint8Array): void {
    const other = d === this.#c2s ? this.#s2c : this.#c2s;
    if (other === undefined) return;
    for (let i = 0; i + 6 <= payload.length; i += 6) {
      const id = (payload[i]! << 8) | payload[i + 1]!;
      const value = readU32(payload, i + 2);
      if (id === SETTINGS_MAX_FRAME_SIZE && value >= 16384 && value <= 0xffffff) other.reader.maxFrameSize = value;
    }
  }

  #report(s: H2Stream, resetCode: string | undefined, incomplete: 'closed' | 'idle' | 'evicted' | undefined): void {
    const req = s.request;
    if (req === undefined) return;
    const op = s.grpc ? this.#grpcOperation(s, req, resetCode) : this.#httpOperation(s, req, resetCode);
    if (op === undefined) return;
    if (incomplete !== undefined) op.incomplete = incomplete;
    this.#emit(op);
  }

  #httpOperation(s: H2Stream, req: HeaderBlock, resetCode: string | undefined): Operation {
    const method = req.method ?? '_OTHER';
    const a: Operation['attributes'] = { 'http.request.method': method, 'network.protocol.version': '2', 'url.scheme': req.scheme ?? 'http' };
    if (req.path !== undefined) {
      const q = req.path.indexOf('?');
      a['url.path'] = q < 0 ? req.path : req.path.slice(0, q);
      if (q >= 0) a['url.query'] = req.path.slice(q + 1);
    }
    if (req.authority !== undefined) a['http.request.header.host'] = req.authority;
    if (req.userAgent !== undefined) a['user_agent.original'] = req.userAgent;
    if (req.traceparent !== undefined) a['http.request.header.traceparent'] = req.traceparent;
    if (s.status !== undefined) a['http.response.status_code'] = s.status;
    const requestBody = req.contentLength ?? (s.requestBodyLost ? undefined : s.requestBody);
    if (requestBody !== undefined) a['http.request.body.size'] = requestBody;
    const responseBody = s.responseContentLength ?? (s.responseBodyLost ? undefined : s.responseBody);
    if (s.finalResponse && responseBody !== undefined) a['http.response.body.size'] = responseBody;
    if (req.unknown > 0) a['waggle.http2.unknown_header_fields'] = req.unknown;
    const op: Operation = { family: 'http', role: this.#role, startNs: s.startNs, endNs: Math.max(s.endNs, s.startNs), name: method, operation: method, attributes: a };
    if (resetCode !== undefined) op.errorType = resetCode;
    return op;
  }

  #grpcOperation(s: H2Stream, req: HeaderBlock, resetCode: string | undefined): Operation {
    const parts = req.path === undefined ? undefined : splitGrpcPath(req.path.split('?')[0]!);
    const service = parts?.[0] ?? 'unknown';
    const method = parts?.[1] ?? 'unknown';
    const a: Operation['attributes'] = { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method, 'network.protocol.name': 'http', 'network.protocol.version': '2' };
    if (s.grpcStatus !== undefined) a['rpc.grpc.status_code'] = s.grpcStatus;
    if (s.requestMessages) a['waggle.grpc.request.messages'] = s.requestMessages.count;
    if (s.responseMessages) a['waggle.grpc.response.messages'] = s.responseMessages.count;
    if (s.status !== undefined && s.status !== 200) a['http.response.status_code'] = s.status;
    const name = `${service}/${method}`;
    const op: Operation = { family: 'rpc', role: this.#role, startNs: s.startNs, endNs: Math.max(s.endNs, s.startNs), name, operation: name, attributes: a };
    if (s.grpcStatus !== undefined) {
      const e = grpcErrorType(s.grpcStatus, this.#role);
      if (e !== undefined) op.errorType = e;
    } else if (resetCode !== undefined) {
      op.errorType = resetCode;
    } else if (s.status !== undefined && s.status !== 200) {
      op.errorType = String(s.status);
    }
    return op;
  }
}

/** A server's first bytes: a SETTINGS frame (not an ACK) on stream 0. */
function startsWithSettings(b: Uint8Array): boolean {
  return b.length >= 9 && b[3] === FrameType.Settings && (b[4]! & 1) === 0 && plausibleHeader(b, 0, MAX_FRAME_SIZE_LIMIT);
}

function readU31(b: Uint8Array, at: number): number {
  return (b[at]! & 0x7f) * 0x1000000 + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
}

function readU32(b: Uint8Array, at: number): number {
  return b[at]! * 0x1000000 + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
