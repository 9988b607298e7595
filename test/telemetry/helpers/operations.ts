// Hand-made LocatedOperations, as the stream platform hands them to telemetry
// (the protocol modules are tested on real traffic in test/protocols/).
import type { LocatedOperation, Operation } from '../../../src/protocols/module.js';

/** Monotonic ns near now, so wall-clock conversions land in the store's windows. */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

export interface DbInput {
  operation: string;
  collection?: string;
  status?: string;
  system?: string;
  role?: 'client' | 'server';
  durationMs?: number;
  endNs?: number;
  port?: number;
  incomplete?: Operation['incomplete'];
  pid?: number;
}

/** A db operation: PostgreSQL by default, from a client at 127.0.0.1:40000 to 127.0.0.1:5432. */
export function dbOp(i: DbInput): LocatedOperation {
  const end = i.endNs ?? nowNs();
  const start = end - Math.round((i.durationMs ?? 2) * 1e6);
  const system = i.system ?? 'postgresql';
  const attributes: Operation['attributes'] = { 'db.system.name': system, 'db.operation.name': i.operation };
  if (i.collection !== undefined) {
    attributes['db.collection.name'] = i.collection;
    attributes['db.query.summary'] = `${i.operation} ${i.collection}`;
  }
  if (i.status !== undefined) attributes['db.response.status_code'] = i.status;
  const op: Operation = {
    family: 'db',
    role: i.role ?? 'client',
    startNs: start,
    endNs: end,
    name: i.collection === undefined ? i.operation : `${i.operation} ${i.collection}`,
    operation: i.operation,
    attributes,
  };
  if (i.status !== undefined) op.errorType = i.status;
  if (i.incomplete !== undefined) op.incomplete = i.incomplete;
  const server = { address: '127.0.0.1', port: i.port ?? 5432 };
  const client = { address: '127.0.0.1', port: 40000 };
  const clientSide = op.role === 'client';
  return { protocol: system, op, pid: i.pid ?? 4242, connectionId: 'c1', local: clientSide ? client : server, remote: clientSide ? server : client };
}

export interface MessagingInput {
  operation: 'publish' | 'deliver' | 'receive';
  destination: string;
  batch?: number;
  durationMs?: number;
  errorType?: string;
}

/** A NATS client operation against 127.0.0.1:4222. */
export function messagingOp(i: MessagingInput): LocatedOperation {
  const end = nowNs();
  const producer = i.operation === 'publish';
  const attributes: Operation['attributes'] = {
    'messaging.system': 'nats',
    'messaging.operation.name': i.operation,
    'messaging.operation.type': producer ? 'send' : i.operation === 'deliver' ? 'process' : 'receive',
    'messaging.destination.name': i.destination,
  };
  if (i.batch !== undefined) attributes['messaging.batch.message_count'] = i.batch;
  const op: Operation = {
    family: 'messaging',
    role: 'client',
    spanKind: producer ? 'producer' : 'consumer',
    startNs: end - Math.round((i.durationMs ?? 1) * 1e6),
    endNs: end,
    name: `${i.operation} ${i.destination}`,
    operation: i.operation,
    attributes,
  };
  if (i.errorType !== undefined) op.errorType = i.errorType;
  return { protocol: 'nats', op, pid: 4242, connectionId: 'n1', local: { address: '127.0.0.1', port: 41000 }, remote: { address: '127.0.0.1', port: 4222 } };
}
