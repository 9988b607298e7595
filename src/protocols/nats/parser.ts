// One NATS connection seen from the watched process. Client side: a PUB/HPUB
// it writes is one producer operation (send) to the subject; a MSG/HMSG it
// reads is one consumer operation (process) of the subject. In verbose mode
// (CONNECT {"verbose":true}) the server acks every CONNECT/PUB/SUB/UNSUB with
// +OK or -ERR in order, so a PUB's operation ends at its ack; otherwise it is
// one-way and ends at its own write. A -ERR that no pending operation takes
// (non-verbose mode: permission violations, slow consumer, auth) is emitted as
// an "ERR" operation without messaging.operation.type, so it counts as neither
// sent nor consumed. Server side: see README.md. Payloads, CONNECT's
// credentials and INFO are read for framing only and never emitted.
import type { ChunkView, ConnectionParser, Emit, Operation, ParserStats, Role } from '../module.js';
import { LineFramer } from './lines.js';

export const MESSAGING_SYSTEM = 'nats';
/** Verbose-mode operations awaiting +OK/-ERR. */
export const MAX_PENDING = 256;

interface Pending {
  op: Operation | null;
}

/** error.type from a -ERR line: its class, without subjects or quoted details. */
export function errorClass(text: string): string {
  let m = text.replace(/^-ERR\s*/i, '').trim();
  if (m.startsWith("'")) m = m.slice(1);
  if (m.endsWith("'")) m = m.slice(0, -1);
  const cut = m.search(/ for | to |:|"|'/);
  if (cut > 0) m = m.slice(0, cut);
  m = m.trim().toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '');
  return m.length === 0 ? 'err' : m.slice(0, 64);
}

/**
 * A subject as a bounded destination: reply inboxes (`_INBOX.<random>…`, one
 * per request) are "_INBOX", temporary; JetStream acks
 * (`$JS.ACK.<stream>.<consumer>.<sequence numbers…>`) keep stream and consumer.
 * Everything else is the subject itself.
 */
export function destination(subject: string): { name: string; temporary: boolean } {
  if (subject.startsWith('_INBOX.')) return { name: '_INBOX', temporary: true };
  if (subject.startsWith('$JS.ACK.')) return { name: subject.split('.').slice(0, 4).join('.'), temporary: false };
  return { name: subject, temporary: false };
}

/** The subject named in a -ERR ('Permissions Violation for Publish to "a.b"'), if any. */
function errorSubject(text: string): string | undefined {
  const m = /"([^"\s]{1,256})"/.exec(text);
  return m?.[1];
}

export class NatsParser implements ConnectionParser {
  readonly stats: ParserStats = { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 };
  private verbose = false;
  private readonly pending: Pending[] = [];
  private readonly clientSent: LineFramer;
  private readonly serverSent: LineFramer;
  private emit: Emit = () => {};
  private now = 0;

  constructor(readonly role: Role) {
    const unparsed = () => void this.stats.unparsed++;
    this.clientSent = new LineFramer({ line: (t) => this.fromClient(t), unparsed });
    this.serverSent = new LineFramer({ line: (t) => this.fromServer(t), unparsed });
  }

  feed(chunk: ChunkView, emit: Emit): void {
    this.emit = emit;
    this.now = chunk.timeNs;
    const sentByClient = (chunk.direction === 'out') === (this.role === 'client');
    const framer = sentByClient ? this.clientSent : this.serverSent;
    if (chunk.lost > 0) {
      this.clientSent.reset();
      this.serverSent.reset();
      // Acks of requests in the hole would pair with the wrong operations.
      this.flushPending('lost');
    }
    framer.feed(chunk.head);
    if (chunk.bytes > chunk.head.length) {
      framer.hole(chunk.bytes - chunk.head.length - chunk.tail.length);
      if (chunk.tail.length > 0) framer.feed(chunk.tail);
    }
    this.emit = () => {};
  }

  end(reason: 'closed' | 'idle' | 'evicted', emit: Emit): void {
    this.emit = emit;
    this.flushPending(reason);
    this.emit = () => {};
  }

  private flushPending(reason: NonNullable<Operation['incomplete']>): void {
    for (const p of this.pending.splice(0)) {
      if (p.op === null) continue;
      p.op.incomplete = reason;
      this.emit(p.op);
    }
  }

  private fromClient(line: string): number {
    const sp = line.indexOf(' ');
    const verb = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
    switch (verb) {
      case 'PUB':
      case 'HPUB': {
        const f = line.split(/[ \t]+/).filter(Boolean);
        // PUB subject [reply] size; HPUB subject [reply] hdrsize totalsize
        const isH = verb === 'HPUB';
        const n = f.length - 1;
        if (n < (isH ? 3 : 2) || n > (isH ? 4 : 3)) return this.bad();
        const total = Number(f[f.length - 1]);
        const hdr = isH ? Number(f[f.length - 2]) : 0;
        if (!Number.isSafeInteger(total) || total < 0 || !Number.isSafeInteger(hdr) || hdr < 0 || hdr > total) return this.bad();
        this.message(verb, f[1]!, total - hdr, 'client');
        return total + 2;
      }
      case 'CONNECT':
        // Only the verbose flag is read; the JSON may carry user/pass/token.
        this.verbose = /"verbose"\s*:\s*true/.test(line);
        this.expectAck(null);
        return 0;
      case 'SUB':
      case 'UNSUB':
        this.expectAck(null);
        return 0;
      case 'PING':
      case 'PONG':
        return 0;
      default:
        return this.bad();
    }
  }

  private fromServer(line: string): number {
    const sp = line.indexOf(' ');
    const verb = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
    switch (verb) {
      case 'MSG':
      case 'HMSG': {
        // MSG subject sid [reply] size; HMSG subject sid [reply] hdrsize totalsize
        const f = line.split(/[ \t]+/).filter(Boolean);
        const isH = verb === 'HMSG';
        const n = f.length - 1;
        if (n < (isH ? 4 : 3) || n > (isH ? 5 : 4)) return this.bad();
        const total = Number(f[f.length - 1]);
        const hdr = isH ? Number(f[f.length - 2]) : 0;
        if (!Number.isSafeInteger(total) || total < 0 || !Number.isSafeInteger(hdr) || hdr < 0 || hdr > total) return this.bad();
        this.message(verb, f[1]!, total - hdr, 'server');
        return total + 2;
      }
      case '+OK':
        this.ack(undefined);
        return 0;
      case '-ERR':
        this.ack(line);
        return 0;
      case 'INFO':
      case 'PING':
      case 'PONG':
        return 0;
      default:
        return this.bad();
    }
  }

  private bad(): number {
    this.stats.unparsed++;
    return 0;
  }

  /** A message on the wire: `from` is the side that sent it. */
  private message(verb: string, subject: string, bodySize: number, from: 'client' | 'server'): void {
    if (this.role === 'server') {
      // The broker's side: framing only (README.md), but keep verbose acks in step.
      if (from === 'client') this.expectAck(null);
      return;
    }
    const producer = from === 'client';
    const dest = destination(subject);
    const op: Operation = {
      family: 'messaging',
      role: 'client',
      spanKind: producer ? 'producer' : 'consumer',
      startNs: this.now,
      endNs: this.now,
      name: `${verb} ${dest.name}`,
      operation: verb,
      attributes: {
        'messaging.system': MESSAGING_SYSTEM,
        'messaging.operation.type': producer ? 'send' : 'process',
        'messaging.operation.name': verb,
        'messaging.destination.name': dest.name,
        'messaging.message.body.size': bodySize,
      },
    };
    if (dest.temporary) op.attributes['messaging.destination.temporary'] = true;
    if (producer && this.verbose) this.expectAck(op);
    else this.emit(op);
  }

  private expectAck(op: Operation | null): void {
    if (!this.verbose) return;
    if (this.pending.length >= MAX_PENDING) {
      this.stats.pendingOverflow++;
      const dropped = this.pending.shift()!;
      if (dropped.op !== null) {
        dropped.op.incomplete = 'evicted';
        this.emit(dropped.op);
      }
    }
    this.pending.push({ op });
  }

  /** +OK (err undefined) or -ERR: the oldest verbose-mode request's answer, or a standalone error. */
  private ack(err: string | undefined): void {
    const p = this.pending.shift();
    if (p === undefined) {
      if (err === undefined) {
        this.stats.orphanResponses++;
        return;
      }
      this.standaloneError(err);
      return;
    }
    if (p.op === null) {
      if (err !== undefined) this.standaloneError(err);
      return;
    }
    p.op.endNs = this.now;
    if (err !== undefined) p.op.errorType = errorClass(err);
    if (this.role === 'client') this.emit(p.op);
  }

  private standaloneError(line: string): void {
    const attributes: Operation['attributes'] = { 'messaging.system': MESSAGING_SYSTEM, 'messaging.operation.name': 'ERR' };
    const subject = errorSubject(line);
    if (subject !== undefined) attributes['messaging.destination.name'] = destination(subject).name;
    this.emit({
      family: 'messaging',
      role: this.role,
      startNs: this.now,
      endNs: this.now,
      name: 'ERR',
      operation: 'ERR',
      attributes,
      errorType: errorClass(line),
    });
  }
}
