// One AMQP 0-9-1 connection seen from the watched process. Client side:
// basic.publish (with its content header) is one producer operation (send) —
// ending at its write, or, on a confirm channel (confirm.select), at the
// broker's basic.ack/nack for its sequence number; basic.deliver is one
// consumer operation (process); basic.get is a receive ending at get-ok or
// get-empty (messaging.batch.message_count 0). Declares, binds, deletes and
// basic.consume are operations without messaging.operation.type, ending at
// their -ok or failing with the broker's channel.close reply code. A
// channel.close or connection.close the broker sends with an error code and
// no request to pin it on is an operation of its own. Server side (the broker
// watched): only those refusals (README.md). connection.start-ok (its SASL
// response holds the password) and every body are never read into attributes.
import type { ChunkView, ConnectionParser, Emit, Operation, ParserStats, Role } from '../module.js';
import { type Frame, FrameFramer, FrameType } from './framing.js';
import { Args, M, SYNC_REQUESTS, replyError } from './methods.js';

export const MESSAGING_SYSTEM = 'rabbitmq';
/** Channels tracked per connection. */
export const MAX_CHANNELS = 256;
/** Unconfirmed publishes per connection (confirm mode). */
export const MAX_UNCONFIRMED = 1024;

interface Channel {
  confirm: boolean;
  /** The publish sequence number the next basic.publish gets (confirm mode). */
  nextSeq: number;
  unconfirmed: Map<number, Operation>;
  /** A publish whose content header is next from the client. */
  publishing: { op: Operation; seq: number } | null;
  /** A delivery (or get-ok) whose content header is next from the broker. */
  delivering: Operation | null;
  sync: { op: Operation; ok: number } | null;
  get: Operation | null;
}

export class AmqpParser implements ConnectionParser {
  readonly stats: ParserStats = { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 };
  private readonly channels = new Map<number, Channel>();
  private unconfirmedCount = 0;
  private readonly clientSent: FrameFramer;
  private readonly serverSent: FrameFramer;
  private emit: Emit = () => {};
  private now = 0;

  constructor(readonly role: Role) {
    const unparsed = () => void this.stats.unparsed++;
    this.clientSent = new FrameFramer({ frame: (f) => this.fromClient(f), unparsed });
    this.serverSent = new FrameFramer({ frame: (f) => this.fromServer(f), unparsed });
  }

  feed(chunk: ChunkView, emit: Emit): void {
    this.emit = emit;
    this.now = chunk.timeNs;
    const sentByClient = (chunk.direction === 'out') === (this.role === 'client');
    const framer = sentByClient ? this.clientSent : this.serverSent;
    if (chunk.lost > 0) framer.reset();
    framer.feed(chunk.head, true);
    if (chunk.bytes > chunk.head.length) {
      framer.hole(chunk.bytes - chunk.head.length - chunk.tail.length);
      if (chunk.tail.length > 0) framer.feed(chunk.tail, false);
    }
    this.emit = () => {};
  }

  end(reason: 'closed' | 'idle' | 'evicted', emit: Emit): void {
    this.emit = emit;
    for (const id of [...this.channels.keys()]) this.closeChannel(id, reason, undefined);
    this.emit = () => {};
  }

  private finish(op: Operation): void {
    if (this.role === 'client') return this.emit(op);
    if (op.errorType === undefined) return;
    // The broker's refusal, not a message it sent or consumed: no operation type.
    const { spanKind: _kind, ...rest } = op;
    const { 'messaging.operation.type': _type, ...attributes } = op.attributes;
    this.emit({ ...rest, attributes, role: 'server' });
  }

  private channel(id: number): Channel | undefined {
    let ch = this.channels.get(id);
    if (ch === undefined) {
      if (this.channels.size >= MAX_CHANNELS) {
        this.stats.pendingOverflow++;
        return undefined;
      }
      ch = { confirm: false, nextSeq: 1, unconfirmed: new Map(), publishing: null, delivering: null, sync: null, get: null };
      this.channels.set(id, ch);
    }
    return ch;
  }

  /** Ends every operation of a channel: incomplete (`reason`), failing with `error` when the broker closed it. */
  private closeChannel(id: number, reason: NonNullable<Operation['incomplete']>, error: string | undefined): void {
    const ch = this.channels.get(id);
    if (ch === undefined) return;
    this.channels.delete(id);
    const left: Operation[] = [];
    // A publish whose header never came still went out.
    if (ch.publishing !== null && !ch.confirm) this.finish(ch.publishing.op);
    else if (ch.publishing !== null) left.push(ch.publishing.op);
    if (ch.delivering !== null) this.finish(ch.delivering);
    for (const op of ch.unconfirmed.values()) left.push(op);
    this.unconfirmedCount -= ch.unconfirmed.size;
    if (ch.sync !== null) left.push(ch.sync.op);
    if (ch.get !== null) left.push(ch.get);
    for (const op of left) {
      op.endNs = this.now;
      if (error !== undefined) op.errorType = error;
      else op.incomplete = reason;
      this.finish(op);
    }
  }

  private op(name: string, type: 'send' | 'process' | 'receive' | undefined, destination: string | undefined): Operation {
    const attributes: Operation['attributes'] = { 'messaging.system': MESSAGING_SYSTEM, 'messaging.operation.name': name };
    if (type !== undefined) attributes['messaging.operation.type'] = type;
    if (destination !== undefined) attributes['messaging.destination.name'] = destination;
    const op: Operation = {
      family: 'messaging',
      role: 'client',
      startNs: this.now,
      endNs: this.now,
      name: destination === undefined || destination === '' ? name : `${name} ${destination}`,
      operation: name,
      attributes,
    };
    if (type === 'send') op.spanKind = 'producer';
    if (type === 'process') op.spanKind = 'consumer';
    return op;
  }

  /**
   * A message operation routed by exchange and routing key: the destination is
   * the exchange (semconv for RabbitMQ), or for the default exchange ("") the
   * routing key, which is then the queue's name.
   */
  private routed(name: string, type: 'send' | 'process' | 'receive', exchange: string | undefined, routingKey: string | undefined): Operation {
    const dest = exchange === '' ? temporary(routingKey) : { name: exchange, temporary: false };
    const op = this.op(name, type, dest.name);
    if (dest.temporary) {
      op.attributes['messaging.destination.temporary'] = true;
      // The random part would make the routing key unbounded too.
      if (dest.name !== undefined) op.attributes['messaging.rabbitmq.destination.routing_key'] = dest.name;
    } else if (routingKey !== undefined && routingKey !== '') op.attributes['messaging.rabbitmq.destination.routing_key'] = routingKey;
    return op;
  }

  private fromClient(f: Frame): void {
    if (f.type === FrameType.HEADER) {
      const ch = this.channels.get(f.channel);
      const p = ch?.publishing;
      if (ch === undefined || p == null) return;
      ch.publishing = null;
      const size = bodySize(f.prefix);
      if (size !== undefined) p.op.attributes['messaging.message.body.size'] = size;
      return this.published(ch, p.op, p.seq);
    }
    if (f.type !== FrameType.METHOD) return;
    const a = new Args(f.prefix);
    const cls = a.u16();
    const mth = a.u16();
    if (cls === undefined || mth === undefined) return void this.stats.unparsed++;
    const id = (cls << 16) | mth;
    if (id === M.BASIC_PUBLISH) {
      const ch = this.channel(f.channel);
      if (ch === undefined) return;
      a.skip(2);
      const exchange = a.shortstr();
      const routingKey = a.shortstr();
      if (ch.publishing !== null) this.published(ch, ch.publishing.op, ch.publishing.seq);
      const seq = ch.confirm ? ch.nextSeq++ : 0;
      ch.publishing = { op: this.routed('basic.publish', 'send', exchange, routingKey), seq };
      return;
    }
    if (id === M.BASIC_GET) {
      const ch = this.channel(f.channel);
      if (ch === undefined) return;
      a.skip(2);
      const queue = temporary(a.shortstr());
      if (ch.get !== null) this.stats.orphanResponses++;
      ch.get = this.op('basic.get', 'receive', queue.name);
      if (queue.temporary) ch.get.attributes['messaging.destination.temporary'] = true;
      return;
    }
    if (id === M.CONFIRM_SELECT) {
      const ch = this.channel(f.channel);
      if (ch !== undefined && !ch.confirm) {
        ch.confirm = true;
        ch.nextSeq = 1;
      }
      return;
    }
    if (id === M.CHANNEL_OPEN) {
      // A reused channel number starts afresh.
      this.closeChannel(f.channel, 'closed', undefined);
      this.channel(f.channel);
      return;
    }
    const sync = SYNC_REQUESTS.get(id);
    if (sync !== undefined) {
      const ch = this.channel(f.channel);
      if (ch === undefined) return;
      a.skip(2);
      // Every one of them names its exchange or queue first.
      const name = temporary(a.shortstr()).name;
      if (ch.sync !== null) this.finish(ch.sync.op); // nowait: no -ok comes
      ch.sync = { op: this.op(sync.name, undefined, name), ok: sync.ok };
    }
    // basic.ack/nack/reject from the client settle deliveries; channel.close,
    // connection.* and the rest have no operation of their own.
  }

  private published(ch: Channel, op: Operation, seq: number): void {
    if (!ch.confirm) return this.finish(op);
    if (this.unconfirmedCount >= MAX_UNCONFIRMED) {
      this.stats.pendingOverflow++;
      op.incomplete = 'evicted';
      return this.finish(op);
    }
    ch.unconfirmed.set(seq, op);
    this.unconfirmedCount++;
  }

  private fromServer(f: Frame): void {
    if (f.type === FrameType.HEADER) {
      const ch = this.channels.get(f.channel);
      const op = ch?.delivering;
      if (ch === undefined || op == null) return;
      ch.delivering = null;
      const size = bodySize(f.prefix);
      if (size !== undefined) op.attributes['messaging.message.body.size'] = size;
      return this.finish(op);
    }
    if (f.type !== FrameType.METHOD) return;
    const a = new Args(f.prefix);
    const cls = a.u16();
    const mth = a.u16();
    if (cls === undefined || mth === undefined) return void this.stats.unparsed++;
    const id = (cls << 16) | mth;
    switch (id) {
      case M.BASIC_DELIVER: {
        const ch = this.channel(f.channel);
        if (ch === undefined) return;
        a.shortstr(); // consumer tag
        const tag = a.u64();
        a.u8();
        const exchange = a.shortstr();
        const routingKey = a.shortstr();
        if (ch.delivering !== null) this.finish(ch.delivering);
        const op = this.routed('basic.deliver', 'process', exchange, routingKey);
        if (tag !== undefined) op.attributes['messaging.rabbitmq.message.delivery_tag'] = tag;
        ch.delivering = op;
        return;
      }
      case M.BASIC_GET_OK:
      case M.BASIC_GET_EMPTY: {
        const ch = this.channels.get(f.channel);
        const op = ch?.get;
        if (ch === undefined || op == null) return void this.stats.orphanResponses++;
        ch.get = null;
        op.endNs = this.now;
        if (id === M.BASIC_GET_EMPTY) {
          op.attributes['messaging.batch.message_count'] = 0;
          return this.finish(op);
        }
        const tag = a.u64();
        a.u8();
        a.shortstr(); // exchange: the destination of a get is its queue
        const routingKey = a.shortstr();
        if (routingKey !== undefined && routingKey !== '') op.attributes['messaging.rabbitmq.destination.routing_key'] = routingKey;
        if (tag !== undefined) op.attributes['messaging.rabbitmq.message.delivery_tag'] = tag;
        if (ch.delivering !== null) this.finish(ch.delivering);
        ch.delivering = op; // its content header gives the body size
        return;
      }
      case M.BASIC_ACK:
      case M.BASIC_NACK: {
        const ch = this.channels.get(f.channel);
        const tag = a.u64();
        const multiple = ((a.u8() ?? 0) & 1) === 1;
        if (ch === undefined || !ch.confirm || tag === undefined) return void this.stats.orphanResponses++;
        const nack = id === M.BASIC_NACK;
        let matched = 0;
        for (const [seq, op] of ch.unconfirmed) {
          // Publisher confirms: tag 0 with multiple acks everything outstanding.
          if (seq === tag || (multiple && (seq <= tag || tag === 0))) {
            ch.unconfirmed.delete(seq);
            this.unconfirmedCount--;
            matched++;
            op.endNs = this.now;
            if (nack) op.errorType = 'nack';
            this.finish(op);
          }
        }
        if (matched === 0) this.stats.orphanResponses++;
        return;
      }
      case M.BASIC_RETURN: {
        // A mandatory publish the broker could not route; on a confirm channel
        // it comes before that publish's ack: fail the oldest matching one.
        const ch = this.channels.get(f.channel);
        const code = a.u16();
        a.shortstr();
        const exchange = a.shortstr() ?? '';
        const routingKey = a.shortstr() ?? '';
        if (ch === undefined) return;
        const dest = exchange === '' ? routingKey : exchange;
        for (const op of ch.unconfirmed.values()) {
          if (op.errorType === undefined && op.attributes['messaging.destination.name'] === dest && (op.attributes['messaging.rabbitmq.destination.routing_key'] ?? '') === routingKey) {
            op.errorType = replyError(code ?? 312) ?? 'no_route';
            break;
          }
        }
        return;
      }
      case M.CHANNEL_CLOSE:
      case M.CONNECTION_CLOSE: {
        const code = a.u16();
        const err = code === undefined ? 'close' : replyError(code);
        if (id === M.CONNECTION_CLOSE) {
          const hadPending = [...this.channels.values()].some((c) => c.sync !== null || c.get !== null);
          for (const ch of [...this.channels.keys()]) this.closeChannel(ch, 'closed', err);
          if (err !== undefined && !hadPending) this.standalone('connection.close', err);
          return;
        }
        const ch = this.channels.get(f.channel);
        const pinned = ch !== undefined && (ch.sync !== null || ch.get !== null);
        this.closeChannel(f.channel, 'closed', err);
        if (err !== undefined && !pinned) this.standalone('channel.close', err);
        return;
      }
      default: {
        const ch = this.channels.get(f.channel);
        if (ch?.sync != null && ch.sync.ok === id) {
          const op = ch.sync.op;
          ch.sync = null;
          op.endNs = this.now;
          this.finish(op);
        }
      }
    }
  }

  private standalone(name: string, error: string): void {
    const op = this.op(name, undefined, undefined);
    op.errorType = error;
    this.finish(op);
  }
}

/**
 * Queue names as bounded destinations: RabbitMQ's direct reply-to
 * (`amq.rabbitmq.reply-to.<random>`, one per RPC) and server-named queues
 * (`amq.gen-<random>`) are temporary, named without their random part.
 */
export function temporary(queue: string | undefined): { name: string | undefined; temporary: boolean } {
  if (queue === undefined) return { name: undefined, temporary: false };
  if (queue.startsWith('amq.rabbitmq.reply-to')) return { name: 'amq.rabbitmq.reply-to', temporary: true };
  if (queue.startsWith('amq.gen-')) return { name: 'amq.gen', temporary: true };
  return { name: queue, temporary: false };
}

/** A content header's body size: class (2), weight (2), body size (8). */
function bodySize(prefix: Uint8Array): number | undefined {
  const a = new Args(prefix);
  a.skip(4);
  return a.u64();
}
