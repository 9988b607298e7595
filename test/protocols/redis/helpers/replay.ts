// Replays a recorded conversation through a protocol parser from one side, as
// the platform would feed it, and collects what it emits.
import type { ConnectionParser, Operation, ProtocolModule } from '../../../../src/protocols/module.js';
import { type RecordedChunk, toChunks } from '../../helpers/record-proxy.js';

export interface Replayed {
  ops: Operation[];
  parser: ConnectionParser;
}

export function replay(mod: ProtocolModule, recorded: readonly RecordedChunk[], side: 'client' | 'server', head = 2048, tail = 256): Replayed {
  const parser = mod.createParser(side);
  const ops: Operation[] = [];
  const emit = (op: Operation) => ops.push(op);
  for (const c of toChunks(recorded, side, head, tail)) parser.feed(c, emit);
  parser.end('closed', emit);
  return { ops, parser };
}

/** Operations per db.operation.name (complete ones only, unless `all`). */
export function countByName(ops: readonly Operation[], all = false): Record<string, number> {
  const out: Record<string, number> = {};
  for (const op of ops) if (all || !op.incomplete) out[op.operation] = (out[op.operation] ?? 0) + 1;
  return out;
}

/** Every recorded connection, replayed separately, operations concatenated. */
export function replayAll(mod: ProtocolModule, connections: RecordedChunk[][], side: 'client' | 'server', head = 2048, tail = 256): Replayed[] {
  return connections.map((c) => replay(mod, c, side, head, tail));
}
