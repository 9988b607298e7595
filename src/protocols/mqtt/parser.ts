// One MQTT connection seen from the watched process. Client side: a PUBLISH it
// writes is one producer operation (send) to the topic — QoS 0 ends at its
// write, QoS 1 at the broker's PUBACK, QoS 2 at PUBCOMP (or a failing PUBREC);
// a PUBLISH it reads is one consumer operation (process). CONNECT/CONNACK,
// SUBSCRIBE/SUBACK and UNSUBSCRIBE/UNSUBACK are operations without
// messaging.operation.type (neither sent nor consumed messages), failing on a
// refusal or a reason code ≥ 0x80. Server side (the broker watched): only the
// refusals it writes (README.md). The CONNECT's username, password and will,
// and every payload, are skipped, never read into attributes.
import type { ChunkView, ConnectionParser, Emit, Operation, ParserStats, Role } from '../module.js';
import { connackError, reasonError } from './codes.js';
import { type Packet, PacketFramer, PacketType } from './framing.js';

export const MESSAGING_SYSTEM = 'mqtt';
/** Unacknowledged QoS 1/2 publishes and subscribes per connection. */
export const MAX_PENDING = 256;
/** Topic aliases (MQTT 5) remembered per direction. */
export const MAX_ALIASES = 64;

const utf8 = new TextDecoder('utf-8', { fatal: false });

function u16(b: Uint8Array, at: number): number | undefined {
  return at + 1 < b.length ? (b[at]! << 8) | b[at + 1]! : undefined;
}

function varint(b: Uint8Array, at: number): { value: number; size: number } | undefined {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 4; i++) {
    if (at + i >= b.length) return undefined;
    const c = b[at + i]!;
    value += (c & 0x7f) * mul;
    if ((c & 0x80) === 0) return { value, size: i + 1 };
    mul *= 128;
  }
  return undefined;
}

/** MQTT 5 property value sizes by identifier (0: variable, see below). */
const PROP_SIZE: Record<number, number> = {
  0x01: 1, 0x17: 1, 0x19: 1, 0x24: 1, 0x25: 1, 0x28: 1, 0x29: 1, 0x2a: 1,
  0x13: 2, 0x21: 2, 0x22: 2, 0x23: 2,
  0x02: 4, 0x11: 4, 0x18: 4, 0x27: 4,
  0x0b: -1, // varint
  0x03: 0, 0x08: 0, 0x09: 0, 0x12: 0, 0x15: 0, 0x16: 0, 0x1a: 0, 0x1c: 0, 0x1f: 0, // length-prefixed
  0x26: -2, // string pair
};

/** The Topic Alias (0x23) among properties b[from, to), if present and readable. */
function topicAlias(b: Uint8Array, from: number, to: number): number | undefined {
  let at = from;
  const end = Math.min(to, b.length);
  while (at < end) {
    const id = b[at++]!;
    const size = PROP_SIZE[id];
    if (size === undefined) return undefined;
    if (id === 0x23) return u16(b, at);
    if (size > 0) at += size;
    else if (size === -1) at += varint(b, at)?.size ?? end;
    else {
      const pieces = size === -2 ? 2 : 1;
      for (let i = 0; i < pieces; i++) at += 2 + (u16(b, at) ?? end);
    }
  }
  return undefined;
}

interface Pending {
  op: Operation;
  kind: 'publish1' | 'publish2' | 'subscribe' | 'unsubscribe';
}

export class MqttParser implements ConnectionParser {
  readonly stats: ParserStats = { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 };
  /** 3 (MQIsdp), 4 (3.1.1) or 5, from CONNECT; 4 when joined midway. */
  private version = 4;
  private connecting: Operation | null = null;
  private readonly pending = new Map<number, Pending>();
  private readonly aliases = { client: new Map<number, string>(), server: new Map<number, string>() };
  private readonly clientSent: PacketFramer;
  private readonly serverSent: PacketFramer;
  private emit: Emit = () => {};
  private now = 0;

  constructor(readonly role: Role) {
    const unparsed = () => void this.stats.unparsed++;
    this.clientSent = new PacketFramer({ packet: (p) => this.fromClient(p), unparsed });
    this.serverSent = new PacketFramer({ packet: (p) => this.fromServer(p), unparsed });
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
    const left = [...this.pending.values()].map((p) => p.op);
    if (this.connecting !== null) left.unshift(this.connecting);
    this.pending.clear();
    this.connecting = null;
    for (const op of left) {
      op.incomplete = reason;
      this.finish(op);
    }
    this.emit = () => {};
  }

  /** Client side: every operation; server side: only the broker's refusals, as its own. */
  private finish(op: Operation): void {
    if (this.role === 'client') return this.emit(op);
    if (op.errorType === undefined) return;
    // The broker's refusal, not a message it sent or consumed: no operation type.
    const { spanKind: _kind, ...rest } = op;
    const { 'messaging.operation.type': _type, ...attributes } = op.attributes;
    this.emit({ ...rest, attributes, role: 'server' });
  }

  private op(name: string, type: 'send' | 'process' | undefined, destination: string | undefined, bodySize?: number): Operation {
    const attributes: Operation['attributes'] = { 'messaging.system': MESSAGING_SYSTEM, 'messaging.operation.name': name };
    if (type !== undefined) attributes['messaging.operation.type'] = type;
    if (destination !== undefined) attributes['messaging.destination.name'] = destination;
    if (bodySize !== undefined) attributes['messaging.message.body.size'] = bodySize;
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

  private track(id: number, p: Pending): void {
    if (this.pending.has(id)) {
      // The id was reused before its ack: the old exchange's answer was lost.
      const old = this.pending.get(id)!;
      old.op.incomplete = 'lost';
      this.finish(old.op);
      this.pending.delete(id);
    } else if (this.pending.size >= MAX_PENDING) {
      this.stats.pendingOverflow++;
      const [oldest] = this.pending;
      if (oldest !== undefined) {
        this.pending.delete(oldest[0]);
        oldest[1].op.incomplete = 'evicted';
        this.finish(oldest[1].op);
      }
    }
    this.pending.set(id, p);
  }

  private fromClient(p: Packet): void {
    const b = p.prefix;
    switch (p.type) {
      case PacketType.CONNECT: {
        // Protocol name ("MQTT" / "MQIsdp") and level; the rest (client id,
        // will, username, password) is never read.
        const nameLen = u16(b, 0);
        if (nameLen !== undefined && 2 + nameLen < b.length) this.version = b[2 + nameLen]!;
        if (this.connecting !== null) {
          this.connecting.incomplete = 'lost';
          this.finish(this.connecting);
        }
        this.connecting = this.op('connect', undefined, undefined);
        return;
      }
      case PacketType.PUBLISH: {
        const m = this.publish(p, 'client');
        if (m === undefined) return;
        const op = this.op('publish', 'send', m.topic, m.bodySize);
        if (m.qos === 0 || m.id === undefined) return this.finish(op);
        // A DUP retransmission of a publish still pending is the same message.
        if ((p.flags & 0x08) !== 0 && this.pending.has(m.id)) return;
        this.track(m.id, { op, kind: m.qos === 1 ? 'publish1' : 'publish2' });
        return;
      }
      case PacketType.SUBSCRIBE:
      case PacketType.UNSUBSCRIBE: {
        const id = u16(b, 0);
        if (id === undefined) return void this.stats.unparsed++;
        let at = 2;
        if (this.version >= 5) {
          const props = varint(b, at);
          if (props === undefined) return void this.stats.unparsed++;
          at += props.size + props.value;
        }
        // The first topic filter names the operation (a packet may carry several).
        const len = u16(b, at);
        const filter = len !== undefined && at + 2 + len <= b.length ? utf8.decode(b.subarray(at + 2, at + 2 + len)) : undefined;
        const sub = p.type === PacketType.SUBSCRIBE;
        this.track(id, { op: this.op(sub ? 'subscribe' : 'unsubscribe', undefined, filter), kind: sub ? 'subscribe' : 'unsubscribe' });
        return;
      }
      default:
        // PUBACK/PUBREC/PUBCOMP (acks of deliveries), PUBREL, PINGREQ,
        // DISCONNECT, AUTH: no operation of their own.
        return;
    }
  }

  private fromServer(p: Packet): void {
    const b = p.prefix;
    switch (p.type) {
      case PacketType.CONNACK: {
        const op = this.connecting;
        this.connecting = null;
        if (op === null) return void this.stats.orphanResponses++;
        op.endNs = this.now;
        const code = b[1];
        const err = code === undefined ? undefined : connackError(code, this.version);
        if (err !== undefined) op.errorType = err;
        return this.finish(op);
      }
      case PacketType.PUBLISH: {
        const m = this.publish(p, 'server');
        if (m === undefined || this.role !== 'client') return;
        return this.emit(this.op('publish', 'process', m.topic, m.bodySize));
      }
      case PacketType.PUBACK:
      case PacketType.PUBREC:
      case PacketType.PUBCOMP: {
        const id = u16(b, 0);
        const pend = id === undefined ? undefined : this.pending.get(id);
        const want = p.type === PacketType.PUBACK ? 'publish1' : 'publish2';
        if (id === undefined || pend === undefined || pend.kind !== want) return void this.stats.orphanResponses++;
        // MQTT 5: a reason code after the id (absent: success).
        const err = this.version >= 5 && b.length > 2 ? reasonError(b[2]!) : undefined;
        if (p.type === PacketType.PUBREC && err === undefined) return; // PUBREL/PUBCOMP follow
        this.pending.delete(id);
        pend.op.endNs = this.now;
        if (err !== undefined) pend.op.errorType = err;
        return this.finish(pend.op);
      }
      case PacketType.SUBACK:
      case PacketType.UNSUBACK: {
        const id = u16(b, 0);
        const pend = id === undefined ? undefined : this.pending.get(id);
        const want = p.type === PacketType.SUBACK ? 'subscribe' : 'unsubscribe';
        if (id === undefined || pend === undefined || pend.kind !== want) return void this.stats.orphanResponses++;
        this.pending.delete(id);
        let at = 2;
        if (this.version >= 5) at += (varint(b, at)?.size ?? 0) + (varint(b, at)?.value ?? 0);
        // One code per filter; 3.1.1's UNSUBACK has none.
        if (p.type === PacketType.SUBACK || this.version >= 5) {
          for (let i = at; i < b.length; i++) {
            const err = reasonError(b[i]!);
            if (err !== undefined) {
              pend.op.errorType = p.type === PacketType.SUBACK && this.version < 5 ? 'failure' : err;
              break;
            }
          }
        }
        pend.op.endNs = this.now;
        return this.finish(pend.op);
      }
      case PacketType.DISCONNECT: {
        // MQTT 5 lets the server disconnect with a reason.
        const err = this.version >= 5 && b.length > 0 ? reasonError(b[0]!) : undefined;
        if (err === undefined) return;
        const op = this.op('disconnect', undefined, undefined);
        op.errorType = err;
        return this.finish(op);
      }
      default:
        return;
    }
  }

  /** A PUBLISH's topic (its alias resolved), QoS, packet id and payload size; undefined when malformed. */
  private publish(p: Packet, from: 'client' | 'server'): { topic: string | undefined; qos: number; id: number | undefined; bodySize: number | undefined } | undefined {
    const b = p.prefix;
    const qos = (p.flags >> 1) & 3;
    const topicLen = u16(b, 0);
    if (topicLen === undefined || 2 + topicLen > p.remaining) {
      this.stats.unparsed++;
      return undefined;
    }
    let topic = 2 + topicLen <= b.length ? utf8.decode(b.subarray(2, 2 + topicLen)) : undefined;
    let at = 2 + topicLen;
    let id: number | undefined;
    if (qos > 0) {
      id = u16(b, at);
      at += 2;
    }
    let known = true;
    if (this.version >= 5) {
      const props = varint(b, at);
      if (props === undefined) known = false;
      else {
        const alias = topicAlias(b, at + props.size, at + props.size + props.value);
        at += props.size + props.value;
        if (alias !== undefined) {
          const map = this.aliases[from];
          if (topic !== undefined && topic !== '') {
            if (map.has(alias) || map.size < MAX_ALIASES) map.set(alias, topic);
          } else topic = map.get(alias);
        }
      }
    }
    const bodySize = known && at <= p.remaining ? p.remaining - at : undefined;
    return { topic, qos, id, bodySize };
  }
}
