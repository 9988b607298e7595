// One Redis connection, from the client's or the server's side: commands are
// decoded from one direction, replies from the other, and paired in order
// (Redis answers every connection's commands in the order they came, so a
// pipeline of N commands is N operations). See README.md for what is emitted
// for MULTI/EXEC, pub/sub and RESP3 pushes.
import type { ChunkView, ConnectionParser, Emit, Operation, ParserStats, Role } from '../module.js';
import { describeCommand, errorCode } from './command.js';
import { RespDecoder, T, type RespMessage } from './resp.js';

/** Commands waiting for their replies, per connection. */
export const MAX_PENDING = 1024;
/** Commands queued inside MULTI, held until EXEC answers. */
export const MAX_HELD = 256;

const SUBSCRIBE = new Map([
  ['SUBSCRIBE', 'subscribe'],
  ['PSUBSCRIBE', 'psubscribe'],
  ['SSUBSCRIBE', 'ssubscribe'],
  ['UNSUBSCRIBE', 'unsubscribe'],
  ['PUNSUBSCRIBE', 'punsubscribe'],
  ['SUNSUBSCRIBE', 'sunsubscribe'],
]);
/** RESP2 arrays that are pushes, not replies, once the connection subscribed. */
const RESP2_PUSHES = new Set(['message', 'pmessage', 'smessage', 'subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe']);

interface Pending {
  /** db.operation.name; '' for a command we could not name (its reply is consumed, nothing emitted). */
  name: string;
  text: string;
  startNs: number;
  /** SUBSCRIBE-family: the confirmation kind and how many confirmations (one per channel) it waits for. */
  confirm?: string;
  expect: number;
  /** SELECT's index. */
  arg?: string;
  /**
   * A run of commands we did not see: `skipped` dropped on overflow (their
   * replies are consumed in order), or a gap of unknown size (framing lost in
   * the commands) that swallows replies until the commands' side writes again.
   */
  skipped?: number;
  gap?: boolean;
}

export interface RedisStats extends ParserStats {
  /** Pub/sub messages and RESP3 pushes (never paired with a command). */
  pushes: number;
  /** Commands queued in a MULTI and thrown away by DISCARD. */
  discarded: number;
}

export class RedisParser implements ConnectionParser {
  readonly stats: RedisStats = { unparsed: 0, pendingOverflow: 0, orphanResponses: 0, pushes: 0, discarded: 0 };
  private readonly pending: Pending[] = [];
  private held: Array<{ p: Pending; error?: string }> = [];
  private readonly commands: RespDecoder;
  private readonly replies: RespDecoder;
  /** RESP2 pub/sub mode: arrays of "message" are pushes. */
  private subscribed = false;
  private db: string | undefined;
  /** Replies lost framing: their chunks are absorbed until the commands' side speaks again. */
  private absorbing = false;
  private lastReplyNs = 0;
  private emit: Emit = () => {};

  constructor(private readonly role: Role) {
    this.commands = new RespDecoder(true, (m) => this.onCommand(m), (p) => this.onCommandsLost(p));
    this.replies = new RespDecoder(false, (m) => this.onReply(m), () => {
      this.absorbing = true;
    });
  }

  feed(chunk: ChunkView, emit: Emit): void {
    this.emit = emit;
    if (chunk.lost > 0) this.chunksLost(chunk.timeNs);
    const isCommand = (chunk.direction === 'out') === (this.role === 'client');
    if (isCommand) this.feedCommands(chunk);
    else this.feedReplies(chunk);
    this.stats.unparsed = this.commands.unparsed + this.replies.unparsed;
  }

  end(reason: 'closed' | 'idle' | 'evicted', emit: Emit): void {
    this.emit = emit;
    if (this.absorbing) this.endAbsorbing();
    for (const h of this.held) this.op(h.p, h.p.startNs, undefined, reason);
    this.held = [];
    for (const p of this.pending.splice(0)) if (!p.gap && !p.skipped) this.op(p, p.startNs, undefined, reason);
  }

  private feedCommands(chunk: ChunkView): void {
    if (this.absorbing) this.endAbsorbing();
    // A gap (commands we could not frame) at the front when the commands' side
    // speaks again: its replies have come (request/response clients, and the
    // server, which answers a read before the next one) — pair from here on.
    if (this.pending[0]?.gap) this.pending.shift();
    const d = this.commands;
    if (d.lost && !d.resync(chunk.head)) {
      d.unparsed++;
      this.pushGap();
      return;
    }
    d.feed(chunk.head, chunk.timeNs);
    d.hole(chunk.bytes - chunk.head.length - chunk.tail.length, chunk.timeNs);
    d.feed(chunk.tail, chunk.timeNs);
  }

  private feedReplies(chunk: ChunkView): void {
    this.lastReplyNs = chunk.timeNs;
    if (this.absorbing) return;
    const d = this.replies;
    if (d.lost && !d.resync(chunk.head)) {
      d.unparsed++;
      return;
    }
    d.feed(chunk.head, chunk.timeNs);
    d.hole(chunk.bytes - chunk.head.length - chunk.tail.length, chunk.timeNs);
    d.feed(chunk.tail, chunk.timeNs);
  }

  /** Chunks went missing: neither side's framing nor the pairing can be trusted; pending commands end as lost. */
  private chunksLost(timeNs: number): void {
    if (this.absorbing) this.endAbsorbing();
    this.commands.loseFraming(false);
    this.replies.loseFraming(false);
    this.absorbing = false;
    for (const h of this.held) this.op(h.p, h.p.startNs, undefined, 'lost');
    this.held = [];
    for (const p of this.pending.splice(0)) if (!p.gap && !p.skipped) this.op(p, timeNs, undefined, 'lost');
  }

  private onCommand(m: RespMessage): void {
    const cmd = describeCommand(m.words, m.count);
    if (!cmd.name) this.commands.unparsed++;
    const confirm = SUBSCRIBE.get(cmd.name);
    const p: Pending = { name: cmd.name, text: cmd.text, startNs: m.startNs, expect: 1 };
    if (confirm) {
      p.confirm = confirm;
      p.expect = Math.max(1, m.count - 1);
      if (!confirm.includes('unsubscribe')) this.subscribed = true;
    }
    if (cmd.name === 'SELECT') p.arg = m.words[1];
    this.enqueue(p);
  }

  private enqueue(p: Pending): void {
    const q = this.pending;
    if (q.length < MAX_PENDING) {
      q.push(p);
      return;
    }
    this.stats.pendingOverflow++;
    const last = q[q.length - 1]!;
    if (last.skipped) last.skipped++;
    else if (!last.gap) q.push({ name: '', text: '', startNs: p.startNs, expect: 1, skipped: 1 });
  }

  /** Framing of the commands was lost: the command in progress (if named) and an unknown number after it. */
  private onCommandsLost(partial: RespMessage | undefined): void {
    if (partial && partial.words.length > 0) this.onCommand(partial);
    this.pushGap();
  }

  private pushGap(): void {
    const last = this.pending[this.pending.length - 1];
    if (last?.gap) return;
    if (this.pending.length > MAX_PENDING) return;
    this.pending.push({ name: '', text: '', startNs: 0, expect: 1, gap: true });
  }

  /**
   * The replies' framing was lost inside a long reply (a huge array across a
   * capture hole) and the commands' side speaks again: the oldest command got
   * its reply in what we could not see; the others pending from before cannot
   * be paired any more and end as lost. Replies resume at the next reply chunk
   * that starts a value.
   */
  private endAbsorbing(): void {
    this.absorbing = false;
    const first = this.pending.shift();
    if (first) this.answered(first, this.lastReplyNs);
    for (const p of this.pending.splice(0)) if (!p.gap && !p.skipped) this.op(p, this.lastReplyNs, undefined, 'lost');
  }

  private onReply(m: RespMessage): void {
    const kind = m.type === T.push || m.type === T.array ? (m.words[0] ?? '').toLowerCase() : '';
    const front = this.pending[0];
    if (m.type === T.push || (m.type === T.array && this.subscribed && RESP2_PUSHES.has(kind))) {
      if (front?.confirm && front.confirm === kind) {
        if (kind.includes('unsubscribe') && m.words[2] === '0') this.subscribed = false;
        if (--front.expect > 0) return;
        this.pending.shift();
        this.complete(front, m);
        return;
      }
      if (kind.includes('unsubscribe') && m.words[2] === '0') this.subscribed = false;
      this.stats.pushes++;
      return;
    }
    if (!front) {
      this.stats.orphanResponses++;
      return;
    }
    if (front.gap) {
      this.stats.orphanResponses++;
      return;
    }
    if (front.skipped) {
      if (--front.skipped === 0) this.pending.shift();
      return;
    }
    this.pending.shift();
    this.complete(front, m);
  }

  /** A command's reply came through the lost region: it ended, with no status we could read. */
  private answered(p: Pending, endNs: number): void {
    if (p.gap || p.skipped) return;
    this.op(p, endNs);
  }

  private complete(p: Pending, m: RespMessage): void {
    const error = m.type === T.error || m.type === T.blobError ? errorCode(m.text) : undefined;
    if (m.type === T.simple && m.text === 'QUEUED') {
      if (this.held.length < MAX_HELD) {
        this.held.push({ p });
        return;
      }
      this.stats.pendingOverflow++;
    }
    if (p.name === 'EXEC') {
      const errors = new Map(m.childErrors);
      const aborted = error !== undefined || m.count < 0 || m.type !== T.array;
      this.held.forEach((h, i) => {
        const e = aborted ? 'EXECABORT' : errors.has(i) ? errorCode(errors.get(i)!) : undefined;
        this.op(h.p, m.endNs, e);
      });
      this.held = [];
    } else if (p.name === 'DISCARD') {
      this.stats.discarded += this.held.length;
      this.held = [];
    } else if (p.name === 'SELECT' && !error && p.arg !== undefined && /^\d{1,5}$/.test(p.arg)) {
      this.db = p.arg;
    }
    this.op(p, m.endNs, error);
  }

  private op(p: Pending, endNs: number, error?: string, incomplete?: Operation['incomplete']): void {
    if (!p.name) return;
    const attributes: Operation['attributes'] = {
      'db.system.name': 'redis',
      'db.operation.name': p.name,
      'db.query.summary': p.name,
      'db.query.text': p.text,
    };
    if (this.db !== undefined) attributes['db.namespace'] = this.db;
    if (error) attributes['db.response.status_code'] = error;
    const op: Operation = { family: 'db', role: this.role, startNs: p.startNs, endNs: Math.max(endNs, p.startNs), name: p.name, operation: p.name, attributes };
    if (error) op.errorType = error;
    if (incomplete) op.incomplete = incomplete;
    this.emit(op);
  }
}
