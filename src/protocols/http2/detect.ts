// Whether a connection's first seen chunk is HTTP/2 (cleartext, or TLS
// plaintext from the same stream path), and from which side. Seen from its
// start, the client's first bytes are the connection preface. Joined midway
// (the agent started after the connection, or the kernel skipped its start),
// the chunk must be a run of plausible frames holding a HEADERS frame whose
// fields, decoded with the static table and literals only, show a request
// (:method) or a response (:status).
import type { DetectInput, Role } from '../module.js';
import { DEFAULT_MAX_FRAME_SIZE, FLAG_PADDED, FLAG_PRIORITY, FRAME_HEADER_LENGTH, FrameType, plausibleHeader, startsWithPreface } from './frames.js';
import { HpackDecoder } from './hpack.js';

export const HTTP2_PORTS: readonly number[] = [];

export function detectHttp2(input: DetectInput): Role | undefined {
  const { chunk } = input;
  const head = chunk.head;
  if (startsWithPreface(head)) return chunk.direction === 'out' ? 'client' : 'server';
  const kind = midwayMessageKind(head, DEFAULT_MAX_FRAME_SIZE);
  if (kind === undefined) return undefined;
  // A request is written by the client; a response by the server.
  return (kind === 'request') === (chunk.direction === 'out') ? 'client' : 'server';
}

/** Frames from offset 0 to the end of `head` (or past it), and what the first decodable HEADERS frame carries. */
function midwayMessageKind(head: Uint8Array, maxFrameSize: number): 'request' | 'response' | undefined {
  let at = 0;
  let kind: 'request' | 'response' | undefined;
  while (at + FRAME_HEADER_LENGTH <= head.length) {
    if (!plausibleHeader(head, at, maxFrameSize)) return undefined;
    const length = (head[at]! << 16) | (head[at + 1]! << 8) | head[at + 2]!;
    const type = head[at + 3]!;
    const flags = head[at + 4]!;
    const payloadAt = at + FRAME_HEADER_LENGTH;
    const end = payloadAt + length;
    if (kind === undefined && type === FrameType.Headers && end <= head.length) {
      let p = payloadAt;
      let e = end;
      if (flags & FLAG_PADDED) e -= head[p++]!;
      if (flags & FLAG_PRIORITY) p += 5;
      if (p <= e) kind = kindOf(head.subarray(p, e));
      if (kind === undefined) return undefined;
    }
    at = end;
  }
  // Bytes left that are not a whole header: the run must end exactly, or go on past the head.
  if (at < head.length) return undefined;
  return kind;
}

function kindOf(block: Uint8Array): 'request' | 'response' | undefined {
  let kind: 'request' | 'response' | undefined;
  new HpackDecoder(false).decode(block, (name) => {
    if (kind !== undefined) return;
    if (name === ':method') kind = 'request';
    else if (name === ':status') kind = 'response';
  });
  return kind;
}
