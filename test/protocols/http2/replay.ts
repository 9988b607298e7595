// Replays a recorded HTTP/2 connection through the http2 parser from one side.
import { Http2Parser } from '../../../src/protocols/http2/index.js';
import type { Operation } from '../../../src/protocols/module.js';
import { type RecordedChunk, toChunks } from '../helpers/record-proxy.js';

export function replay(recorded: readonly RecordedChunk[], side: 'client' | 'server', head = 2048, tail = 256): { ops: Operation[]; parser: Http2Parser } {
  const parser = new Http2Parser(side);
  const ops: Operation[] = [];
  const emit = (op: Operation) => ops.push(op);
  for (const c of toChunks(recorded, side, head, tail)) parser.feed(c, emit);
  parser.end('closed', emit);
  return { ops, parser };
}

/** How many operations per key. */
export function tally(ops: readonly Operation[], key: (op: Operation) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const op of ops) out[key(op)] = (out[key(op)] ?? 0) + 1;
  return out;
}
