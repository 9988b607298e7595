// Replays recorded PostgreSQL conversations through the module as the platform
// would: detect() on each connection's first chunk, then every chunk in order
// to the claiming parser, end('closed') at the end.
import { postgresql } from '../../../../src/protocols/postgresql/index.js';
import type { Operation, ParserStats } from '../../../../src/protocols/module.js';
import { type RecordingProxy, toChunks } from '../../helpers/record-proxy.js';

export interface Replay {
  ops: Operation[];
  stats: ParserStats;
  /** Connections detect() claimed, and how many it did not. */
  detected: number;
  undetected: number;
}

export interface ReplayOptions {
  head?: number;
  tail?: number;
  /** The server's port as detect() sees it (5432: the port hint applies). */
  serverPort?: number;
  /** Join every connection midway: skip its first `skip` recorded chunks. */
  skip?: number;
}

export function replay(proxy: RecordingProxy, side: 'client' | 'server', options: ReplayOptions = {}): Replay {
  const { head = 2048, tail = 256, serverPort = 5432, skip = 0 } = options;
  const ops: Operation[] = [];
  const stats: ParserStats = { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 };
  let detected = 0;
  let undetected = 0;
  for (let i = 0; i < proxy.connections(); i++) {
    const chunks = toChunks(proxy.connection(i), side, head, tail).slice(skip);
    const first = chunks[0];
    if (first === undefined) continue;
    const role = postgresql.detect({ chunk: first, localPort: side === 'server' ? serverPort : 40000 + i, remotePort: side === 'server' ? 40000 + i : serverPort });
    if (role === undefined) {
      undetected++;
      continue;
    }
    detected++;
    const parser = postgresql.createParser(role);
    for (const c of chunks) parser.feed(c, (op) => ops.push(op));
    parser.end('closed', (op) => ops.push(op));
    stats.unparsed += parser.stats.unparsed;
    stats.pendingOverflow += parser.stats.pendingOverflow;
    stats.orphanResponses += parser.stats.orphanResponses;
  }
  return { ops, stats, detected, undetected };
}

/** "OPERATION collection status" → count, for exact comparisons. */
export function tally(ops: readonly Operation[], key: (op: Operation) => string = defaultKey): Record<string, number> {
  const out: Record<string, number> = {};
  for (const op of ops) out[key(op)] = (out[key(op)] ?? 0) + 1;
  return out;
}

export function defaultKey(op: Operation): string {
  const a = op.attributes;
  return [op.operation, a['db.collection.name'] ?? '-', a['db.response.status_code'] ?? 'ok', op.incomplete ?? ''].join(' ').trim();
}
