// One memcached (text protocol) connection, from the client's or the server's
// side. Commands and replies are paired in order; `noreply` commands and `quit`
// have no reply and are operations ending at their write; a get's VALUE blocks
// are skipped by length and counted as returned rows. See README.md.
import type { ChunkView, ConnectionParser, Emit, Operation, ParserStats, Role } from '../module.js';
import { type Command, KNOWN as KNOWN_NAMES, parseCommand, Reply, replyError } from './commands.js';
import { LineFramer, MAX_LINE } from './lines.js';

export const MAX_PENDING = 1024;

interface Pending {
  cmd: Command;
  startNs: number;
  /** VALUE lines (or STAT lines) seen so far of its reply. */
  rows: number;
  /** Commands we could not frame, of unknown number: replies reaching it are orphans. */
  gap?: boolean;
  /** Commands dropped on overflow: their replies are consumed in order. */
  skipped?: number;
}

const decoder = (buf: Uint8Array, s: number, e: number) => Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString('latin1');

export class MemcachedParser implements ConnectionParser {
  readonly stats: ParserStats = { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 };
  private readonly pending: Pending[] = [];
  private readonly commands: LineFramer;
  private readonly replies: LineFramer;
  private absorbing = false;
  private lastReplyNs = 0;
  /** The reply line was a VA (meta value): the reply ends after its block. */
  private vaOpen = false;
  private emit: Emit = () => {};

  constructor(private readonly role: Role) {
    this.commands = new LineFramer({
      line: (buf, s, e, t) => this.onCommandLine(buf, s, e, t),
      blockDone: () => {},
      lost: () => this.pushGap(),
    });
    this.replies = new LineFramer({
      line: (buf, s, e, t) => this.onReplyLine(buf, s, e, t),
      blockDone: (t) => {
        if (this.vaOpen) {
          this.vaOpen = false;
          this.reply('VA', t);
        }
      },
      lost: () => {
        this.absorbing = true;
        this.vaOpen = false;
      },
    });
  }

  feed(chunk: ChunkView, emit: Emit): void {
    this.emit = emit;
    if (chunk.lost > 0) this.chunksLost(chunk.timeNs);
    if ((chunk.direction === 'out') === (this.role === 'client')) this.feedCommands(chunk);
    else this.feedReplies(chunk);
    this.stats.unparsed = this.commands.unparsed + this.replies.unparsed;
  }

  end(reason: 'closed' | 'idle' | 'evicted', emit: Emit): void {
    this.emit = emit;
    if (this.absorbing) this.endAbsorbing();
    for (const p of this.pending.splice(0)) this.op(p, p.startNs, undefined, reason);
  }

  private feedCommands(chunk: ChunkView): void {
    if (this.absorbing) this.endAbsorbing();
    // A gap at the front when the client writes again: its replies have come.
    if (this.pending[0]?.gap) this.pending.shift();
    const f = this.commands;
    if (f.lost && !f.resync(startsCommand(chunk.head))) {
      f.unparsed++;
      this.pushGap();
      return;
    }
    f.feed(chunk.head, chunk.timeNs);
    f.hole(chunk.bytes - chunk.head.length - chunk.tail.length, chunk.timeNs);
    f.feed(chunk.tail, chunk.timeNs);
  }

  private feedReplies(chunk: ChunkView): void {
    this.lastReplyNs = chunk.timeNs;
    if (this.absorbing) return;
    const f = this.replies;
    if (f.lost && !f.resync(startsReply(chunk.head))) {
      f.unparsed++;
      return;
    }
    f.feed(chunk.head, chunk.timeNs);
    f.hole(chunk.bytes - chunk.head.length - chunk.tail.length, chunk.timeNs);
    f.feed(chunk.tail, chunk.timeNs);
    // A long get or stats reply lost in a hole: when the chunk ends with END, so did the reply.
    if (this.absorbing && endsWithEnd(chunk.tail.length > 0 ? chunk.tail : chunk.head)) {
      const front = this.pending[0];
      if (front && !front.gap && !front.skipped && front.cmd.reply !== Reply.Line) {
        this.pending.shift();
        this.op(front, chunk.timeNs, undefined, undefined, false);
        this.absorbing = false;
        f.lost = false;
      }
    }
  }

  private chunksLost(timeNs: number): void {
    if (this.absorbing) this.endAbsorbing();
    this.commands.lose(undefined, false);
    this.replies.lose(undefined, false);
    this.absorbing = false;
    for (const p of this.pending.splice(0)) this.op(p, timeNs, undefined, 'lost');
  }

  /** Replies lost framing and the client writes again: the oldest command ended in what we missed, others are lost. */
  private endAbsorbing(): void {
    this.absorbing = false;
    const first = this.pending.shift();
    if (first) this.op(first, this.lastReplyNs, undefined, undefined, false);
    for (const p of this.pending.splice(0)) this.op(p, this.lastReplyNs, undefined, 'lost');
  }

  private onCommandLine(buf: Uint8Array, s: number, e: number, t: number): number {
    const cmd = parseCommand(decoder(buf, s, Math.min(e, s + MAX_LINE)));
    if (!cmd) return -1;
    const startNs = this.commands.startNs || t;
    if (cmd.reply === Reply.None) this.op({ cmd, startNs, rows: 0 }, t);
    else this.enqueue({ cmd, startNs, rows: 0 });
    return cmd.block >= 0 ? cmd.block + 2 : 0;
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
    else if (!last.gap) q.push({ cmd: p.cmd, startNs: p.startNs, rows: 0, skipped: 1 });
  }

  private pushGap(): void {
    const last = this.pending[this.pending.length - 1];
    if (last?.gap || this.pending.length > MAX_PENDING) return;
    this.pending.push({ cmd: { name: '', text: '', reply: Reply.Line, block: -1, keys: 0, quiet: false }, startNs: 0, rows: 0, gap: true });
  }

  private onReplyLine(buf: Uint8Array, s: number, e: number, t: number): number {
    if (e === s) return -1;
    const sp = buf.indexOf(0x20, s);
    const wordEnd = sp < 0 || sp > e ? e : sp;
    const word = decoder(buf, s, Math.min(wordEnd, s + 32));
    const front = this.pending[0];
    // Lines of a stats-like listing (STAT, ITEM, lru_crawler metadump's "key=…") until END.
    if (front && !front.gap && !front.skipped && front.cmd.reply === Reply.Stats && (word === 'STAT' || word === 'ITEM' || word.startsWith('key='))) {
      front.rows++;
      return 0;
    }
    const c = buf[s]!;
    if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39))) return -1;
    if (word === 'VALUE' || word === 'VA') {
      const fields = decoder(buf, s, Math.min(e, s + 400)).split(' ');
      const bytes = Number(fields[word === 'VA' ? 1 : 3]);
      if (!Number.isInteger(bytes) || bytes < 0 || bytes >= 2 ** 31) return -1;
      if (word === 'VA') this.vaOpen = true;
      else this.item();
      return bytes + 2;
    }
    this.reply(word, t);
    return 0;
  }

  private item(): void {
    const front = this.pending[0];
    if (front && !front.gap && !front.skipped && front.cmd.reply === Reply.Values) front.rows++;
  }

  /** A whole reply whose status line starts with `word`. */
  private reply(word: string, t: number): void {
    // Quiet meta commands (flag q) answer only what is not their usual outcome:
    // the reply goes to the first quiet command that could have sent it, and
    // the quiet ones before it were answered by silence (mn, the noop that ends
    // such a batch, is never such a reply, so it ends them all).
    if (this.pending[0]?.cmd.quiet) {
      let i = 0;
      while (i < this.pending.length && this.pending[i]!.cmd.quiet && !quietMayAnswer(this.pending[i]!.cmd.name, word)) i++;
      for (const p of this.pending.splice(0, i)) this.op(p, t);
    }
    const front = this.pending[0];
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
    const error = replyError(word);
    this.op(front, t, error);
  }

  private op(p: Pending, endNs: number, error?: string, incomplete?: Operation['incomplete'], rowsKnown = true): void {
    if (p.gap || p.skipped || !p.cmd.name) return;
    const { cmd } = p;
    const attributes: Operation['attributes'] = {
      'db.system.name': 'memcached',
      'db.operation.name': cmd.name,
      'db.query.summary': cmd.name,
      'db.query.text': cmd.text,
    };
    if (cmd.keys >= 2) attributes['db.operation.batch.size'] = cmd.keys;
    if (cmd.reply === Reply.Values && rowsKnown && !incomplete && !error) attributes['db.response.returned_rows'] = p.rows;
    if (error) attributes['db.response.status_code'] = error;
    const op: Operation = { family: 'db', role: this.role, startNs: p.startNs, endNs: Math.max(endNs, p.startNs), name: cmd.name, operation: cmd.name, attributes };
    if (error) op.errorType = error;
    if (incomplete) op.incomplete = incomplete;
    this.emit(op);
  }
}

const firstLine = (head: Uint8Array): string | undefined => {
  const nl = head.indexOf(10);
  if (nl < 0) return head.length >= 256 ? decoder(head, 0, 256) : undefined;
  return decoder(head, 0, nl > 0 && head[nl - 1] === 13 ? nl - 1 : nl);
};

/** A chunk that starts with a known command line. */
export function startsCommand(head: Uint8Array): boolean {
  const line = firstLine(head);
  if (line === undefined) return false;
  const cmd = parseCommand(line);
  return cmd !== undefined && cmd.name !== '' && KNOWN_NAMES.has(cmd.name);
}

const REPLY_WORDS = new Set(['VALUE', 'END', 'STORED', 'NOT_STORED', 'EXISTS', 'NOT_FOUND', 'DELETED', 'TOUCHED', 'OK', 'ERROR', 'CLIENT_ERROR', 'SERVER_ERROR', 'STAT', 'VERSION', 'RESET', 'VA', 'HD', 'EN', 'NF', 'NS', 'EX', 'MN', 'ME', 'BUSY', 'BADCLASS', 'NOSPARE', 'NOTFULL', 'UNSAFE', 'SAME', 'ITEM']);

/** A chunk that starts with a reply line. */
export function startsReply(head: Uint8Array): boolean {
  const line = firstLine(head);
  if (line === undefined) return false;
  const word = line.split(' ', 1)[0]!;
  return REPLY_WORDS.has(word) || /^\d{1,20}$/.test(word);
}

/** Replies a quiet meta command still sends (its usual one, HD or EN, is suppressed). */
function quietMayAnswer(name: string, word: string): boolean {
  if (replyError(word)) return true;
  switch (name) {
    case 'mg':
      return word === 'VA' || word === 'HD';
    case 'ma':
      return word === 'VA' || word === 'NF' || word === 'NS' || word === 'EX';
    case 'ms':
      return word === 'NS' || word === 'EX' || word === 'NF';
    case 'md':
      return word === 'NF' || word === 'EX';
    case 'me':
      return word === 'ME' || word === 'EN';
    default:
      return false;
  }
}

function endsWithEnd(b: Uint8Array): boolean {
  const n = b.length;
  return n >= 5 && b[n - 5] === 0x45 && b[n - 4] === 0x4e && b[n - 3] === 0x44 && b[n - 2] === 13 && b[n - 1] === 10;
}
