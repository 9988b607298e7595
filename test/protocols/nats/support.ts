// Shared by the messaging modules' tests (nats, mqtt, amqp): free loopback
// ports, and replaying a recorded conversation through a parser.
import net from 'node:net';
import type { ConnectionParser, Operation } from '../../../src/protocols/module.js';
import { type RecordedChunk, toChunks } from '../helpers/record-proxy.js';

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface Replay {
  ops: Operation[];
  parser: ConnectionParser;
}

/** Feeds one recorded connection, seen from `side`, through a fresh parser and ends it. */
export function replay(recorded: readonly RecordedChunk[], side: 'client' | 'server', make: (role: 'client' | 'server') => ConnectionParser, head = 2048, tail = 256): Replay {
  const parser = make(side);
  const ops: Operation[] = [];
  for (const c of toChunks(recorded, side, head, tail)) parser.feed(c, (op) => ops.push(op));
  parser.end('closed', (op) => ops.push(op));
  return { ops, parser };
}

/** How many operations have each `operation destination` pair, e.g. { 'PUB orders': 50 }. */
export function tally(ops: readonly Operation[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const op of ops) {
    const key = `${op.operation} ${String(op.attributes['messaging.destination.name'] ?? '')}`.trim();
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

/** Spans of a --spans-file (JSON lines) as [kind, name, service.name, messaging.destination.name] counts. */
export function spanCounts(text: string, system: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line) continue;
    const s = JSON.parse(line) as { kind: string; name: string; attributes: Record<string, unknown>; resource: Record<string, unknown> };
    if (s.attributes['messaging.system'] !== system) continue;
    const key = `${s.kind} ${s.name} @${String(s.resource['service.name'])}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}
