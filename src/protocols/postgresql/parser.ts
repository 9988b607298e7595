// One PostgreSQL connection seen from the watched process: frontend messages
// (what a client writes / a server reads) and backend messages, framed per
// direction, paired in order. See README.md for what becomes an Operation.
import type { ChunkView, ConnectionParser, Emit, Operation, ParserStats, Role } from '../module.js';
import { BARE_BYTE, CANCEL_REQUEST, Framer, GSSENC_REQUEST, type Message, PROTOCOL_3, SSL_REQUEST, STARTUP } from './framer.js';
import { describeSql, parseCommandTag, type StatementInfo } from './sql.js';

/** Named prepared statements and portals remembered per connection. */
export const MAX_STATEMENTS = 256;
export const MAX_PORTALS = 64;
/** Frontend messages awaiting their backend answer. */
export const MAX_PENDING = 1024;
/** Bytes of a Query/Parse text kept (the rest of a longer text is not read). */
export const MAX_TEXT_BYTES = 8192;

/** Message type bytes (frontend and backend share some letters). */
const enum Ch {
  One = 49,
  Two = 50,
  Three = 51,
  B = 66,
  C = 67,
  D = 68,
  E = 69,
  F = 70,
  G = 71,
  I = 73,
  N = 78,
  P = 80,
  Q = 81,
  S = 83,
  T = 84,
  Z = 90,
  n = 110,
  s = 115,
}
const decoder = new TextDecoder('utf-8', { fatal: false });

/** The Parse/Bind/Describe/Execute run that makes one Operation. */
interface Unit {
  startNs: number;
  info: StatementInfo | undefined;
  rows: number;
}

interface QueryItem {
  kind: 'Q';
  startNs: number;
  info: StatementInfo;
  rows: number;
  tag: string;
  status: string;
}
interface ExtItem {
  /** P(arse), B(ind), D(escribe), E(xecute), C(lose), S(ync), F(unction call). */
  kind: 'P' | 'B' | 'D' | 'E' | 'C' | 'S' | 'F';
  unit?: Unit;
}
type Item = QueryItem | ExtItem;

const UNKNOWN: StatementInfo = { text: '', operation: '', summary: '', statements: 0 };

export class PostgresParser implements ConnectionParser {
  readonly stats: ParserStats = { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 };
  /** Named statements whose Parse did not fit (counted, not an error). */
  statementOverflow = 0;

  private readonly frontend: Framer;
  private readonly backend: Framer;
  private started = false;
  /** TLS or GSS encryption was accepted: the rest is opaque. */
  private encrypted = false;
  private namespace: string | undefined;
  private readonly statements = new Map<string, StatementInfo>();
  private unnamedStatement: StatementInfo | undefined;
  private readonly portals = new Map<string, StatementInfo>();
  private unnamedPortal: StatementInfo | undefined;
  private queue: Item[] = [];
  private head = 0;
  /** The unit being built by Parse/Bind/Describe until its Execute. */
  private unit: Unit | undefined;
  private emit: Emit = () => {};

  constructor(readonly role: Role) {
    this.frontend = new Framer('frontend', keepFrontend, (m) => this.onFrontend(m), MAX_TEXT_BYTES);
    this.backend = new Framer('backend', keepBackend, (m) => this.onBackend(m), 1024);
  }

  /** Internal sizes, for the fuzz test's boundedness check. */
  get footprint(): { pending: number; statements: number; portals: number; carried: number } {
    return {
      pending: this.queue.length - this.head,
      statements: this.statements.size,
      portals: this.portals.size,
      carried: this.frontend.carried + this.backend.carried,
    };
  }

  feed(chunk: ChunkView, emit: Emit): void {
    if (this.encrypted) return;
    this.emit = emit;
    try {
      const fromFrontend = (chunk.direction === 'out') === (this.role === 'client');
      const framer = fromFrontend ? this.frontend : this.backend;
      if (chunk.lost > 0) this.onLost(emit);
      if (!this.started && fromFrontend) {
        this.started = true;
        // A connection seen from its start opens with an untyped startup
        // message, whose length's first byte is 0; no message type is 0.
        if (chunk.head[0] === 0) this.frontend.mode = 'startup';
      }
      const hole = Math.max(0, chunk.bytes - chunk.head.length - chunk.tail.length);
      framer.chunk(chunk.head, hole, chunk.tail, chunk.timeNs);
    } catch {
      // Unreachable by design; a parser bug must not take the agent down.
      this.stats.unparsed++;
      this.frontend.loseFraming();
      this.backend.loseFraming();
    }
    this.stats.unparsed = this.frontend.unparsed + this.backend.unparsed;
  }

  end(reason: 'closed' | 'idle' | 'evicted', emit: Emit): void {
    this.emit = emit;
    for (let i = this.head; i < this.queue.length; i++) {
      const item = this.queue[i] as Item;
      if (item.kind === 'Q') this.emitQuery(item, item.startNs, reason);
      else if (item.kind === 'E' && item.unit !== undefined) this.emitUnit(item.unit, item.unit.startNs, undefined, '', reason);
    }
    this.queue = [];
    this.head = 0;
  }

  /** Chunks went missing: what is pending will not be answered in a way we can pair. */
  private onLost(emit: Emit): void {
    this.end('closed', (op) => emit({ ...op, incomplete: 'lost' }));
    this.emit = emit;
    this.unit = undefined;
    if (this.frontend.mode === 'typed') this.frontend.loseFraming();
    if (this.backend.mode === 'typed') this.backend.loseFraming();
  }

  // ---- frontend ----

  private onFrontend(m: Message): void {
    switch (m.type) {
      case STARTUP:
        if (m.code === PROTOCOL_3) {
          this.frontend.mode = 'typed';
          this.namespace = startupDatabase(m.body);
        } else if (m.code === SSL_REQUEST || m.code === GSSENC_REQUEST) {
          // The server answers with one bare byte; the startup follows if it is 'N'.
          this.backend.mode = 'byte';
        } else if (m.code === CANCEL_REQUEST) {
          this.frontend.mode = 'typed';
        }
        return;
      case Ch.Q:
        this.push({ kind: 'Q', startNs: m.startNs, info: describeSql(text(m.body)), rows: 0, tag: '', status: '' });
        return;
      case Ch.P: {
        const name = cstring(m.body, 0);
        const info = describeSql(text(m.body, name.end + 1));
        if (name.value === '') this.unnamedStatement = info;
        else this.remember(this.statements, name.value, info, MAX_STATEMENTS);
        this.currentUnit(m).info = info;
        this.push({ kind: 'P', unit: this.unit });
        return;
      }
      case Ch.B: {
        const portal = cstring(m.body, 0);
        const stmt = cstring(m.body, portal.end + 1);
        const info = stmt.value === '' ? this.unnamedStatement : this.statements.get(stmt.value);
        if (portal.value === '') this.unnamedPortal = info;
        else if (info !== undefined) this.remember(this.portals, portal.value, info, MAX_PORTALS);
        const unit = this.currentUnit(m);
        unit.info = info ?? unit.info;
        this.push({ kind: 'B', unit });
        return;
      }
      case Ch.D:
        this.push({ kind: 'D', unit: this.currentUnit(m) });
        return;
      case Ch.E: {
        const portal = cstring(m.body, 0);
        const unit = this.currentUnit(m);
        unit.info = (portal.value === '' ? this.unnamedPortal : this.portals.get(portal.value)) ?? unit.info;
        this.unit = undefined;
        this.push({ kind: 'E', unit });
        return;
      }
      case Ch.C: {
        const kind = m.body[0];
        const name = cstring(m.body, 1).value;
        if (kind === Ch.S) {
          if (name === '') this.unnamedStatement = undefined;
          else this.statements.delete(name);
        } else if (name === '') this.unnamedPortal = undefined;
        else this.portals.delete(name);
        this.push({ kind: 'C' });
        return;
      }
      case Ch.S:
        this.unit = undefined;
        this.push({ kind: 'S' });
        return;
      case Ch.F:
        this.push({ kind: 'F' });
        return;
      default:
        // Flush, Terminate, CopyData/Done/Fail, and Password/SASL messages,
        // whose bodies were never kept.
        return;
    }
  }

  private currentUnit(m: Message): Unit {
    if (this.unit === undefined) this.unit = { startNs: m.startNs, info: undefined, rows: 0 };
    return this.unit;
  }

  private remember(map: Map<string, StatementInfo>, name: string, info: StatementInfo, max: number): void {
    if (!map.has(name) && map.size >= max) {
      // Forget the oldest: a long-lived connection keeps its recent statements.
      const oldest = map.keys().next().value as string;
      map.delete(oldest);
      this.statementOverflow++;
    }
    map.delete(name);
    map.set(name, info);
  }

  private push(item: Item): void {
    if (this.queue.length - this.head >= MAX_PENDING) {
      this.stats.pendingOverflow++;
      return;
    }
    this.queue.push(item);
  }

  // ---- backend ----

  private peek(): Item | undefined {
    return this.queue[this.head];
  }

  private shift(): void {
    this.queue[this.head] = undefined as unknown as Item;
    this.head++;
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 512) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private onBackend(m: Message): void {
    const item = this.peek();
    switch (m.type) {
      case BARE_BYTE:
        if (m.code === Ch.N) this.frontend.mode = 'startup';
        else if (m.code === Ch.S || m.code === Ch.G) this.encrypted = true;
        return;
      case Ch.One:
      case Ch.Two:
      case Ch.Three:
      case Ch.n:
        if (item !== undefined && item.kind === EXPECT[m.type]) this.shift();
        else this.stats.orphanResponses++;
        return;
      case Ch.T:
        if (item?.kind === 'D') this.shift();
        return;
      case Ch.D:
        if (item?.kind === 'Q') item.rows++;
        else if (item?.kind === 'E' && item.unit !== undefined) item.unit.rows++;
        return;
      case Ch.C:
      case Ch.I:
      case Ch.s: {
        const tag = m.type === Ch.C ? cstring(m.body, 0).value : '';
        if (item?.kind === 'Q') {
          if (item.tag === '') item.tag = tag;
        } else if (item?.kind === 'E' && item.unit !== undefined) {
          this.shift();
          this.emitUnit(item.unit, m.endNs, undefined, tag);
        } else this.stats.orphanResponses++;
        return;
      }
      case Ch.E:
        this.onError(errorCode(m.body), m.endNs);
        return;
      case Ch.Z:
        this.onReady(m.endNs);
        return;
      default:
        // Authentication, ParameterStatus, BackendKeyData, notices,
        // notifications, copy responses and data: nothing to pair.
        return;
    }
  }

  private onError(status: string, endNs: number): void {
    const item = this.peek();
    if (item === undefined) {
      this.stats.orphanResponses++;
      return;
    }
    if (item.kind === 'Q') {
      if (item.status === '') item.status = status;
      return;
    }
    if (item.kind === 'S' || item.kind === 'F') return;
    // Extended query: the server skips to the next Sync. The failing message's
    // Execute gets the error; later Executes of the batch were never run.
    const failed = item.unit;
    while (this.head < this.queue.length) {
      const it = this.peek() as Item;
      if (it.kind === 'S' || it.kind === 'Q') break;
      this.shift();
      if (it.kind === 'E' && it.unit !== undefined) {
        if (it.unit === failed) this.emitUnit(it.unit, endNs, status, '');
        else this.emitUnit(it.unit, endNs, 'pipeline_aborted', '');
      }
    }
  }

  private onReady(endNs: number): void {
    while (this.head < this.queue.length) {
      const it = this.peek() as Item;
      this.shift();
      if (it.kind === 'Q') {
        this.emitQuery(it, endNs);
        return;
      }
      if (it.kind === 'S') return;
      // A request whose answer never came before ReadyForQuery (lost chunks).
      if (it.kind === 'E' && it.unit !== undefined) this.emitUnit(it.unit, endNs, undefined, '', 'lost');
    }
    // ReadyForQuery after the startup, or with nothing pending (joined midway).
  }

  // ---- operations ----

  private emitQuery(q: QueryItem, endNs: number, incomplete?: Operation['incomplete']): void {
    if (q.info.statements === 0 && q.tag === '' && q.status === '') return; // empty query string
    this.emitOp(q.startNs, endNs, q.info, q.tag, q.rows, q.status === '' ? undefined : q.status, incomplete);
  }

  private emitUnit(u: Unit, endNs: number, status: string | undefined, tag: string, incomplete?: Operation['incomplete']): void {
    this.emitOp(u.startNs, endNs, u.info ?? UNKNOWN, tag, u.rows, status, incomplete);
  }

  private emitOp(startNs: number, endNs: number, info: StatementInfo, tag: string, rows: number, status: string | undefined, incomplete?: Operation['incomplete']): void {
    const parsedTag = tag === '' ? undefined : parseCommandTag(tag);
    const operation = info.operation || parsedTag?.command || 'UNKNOWN';
    const summary = info.summary || operation;
    const attributes: Operation['attributes'] = { 'db.system.name': 'postgresql', 'db.operation.name': operation, 'db.query.summary': summary };
    if (info.collection !== undefined) attributes['db.collection.name'] = info.collection;
    if (info.text !== '') attributes['db.query.text'] = info.text;
    if (info.statements > 1) attributes['db.operation.batch.size'] = info.statements;
    if (this.namespace !== undefined) attributes['db.namespace'] = this.namespace;
    if (status !== undefined && status !== 'pipeline_aborted') attributes['db.response.status_code'] = status;
    const returned = parsedTag?.rows !== undefined && (parsedTag.command === 'SELECT' || parsedTag.command === 'FETCH') ? parsedTag.rows : rows;
    if (status === undefined && incomplete === undefined && returned > 0) attributes['db.response.returned_rows'] = returned;
    const op: Operation = { family: 'db', role: this.role, startNs, endNs: Math.max(startNs, endNs), name: summary, operation, attributes };
    if (status !== undefined) op.errorType = status;
    if (incomplete !== undefined) op.incomplete = incomplete;
    this.emit(op);
  }
}

const EXPECT: Record<number, ExtItem['kind']> = { [Ch.One]: 'P', [Ch.Two]: 'B', [Ch.Three]: 'C', [Ch.n]: 'D' };

function keepFrontend(type: number): number {
  switch (type) {
    case STARTUP:
      return 1024;
    case Ch.Q:
    case Ch.P:
      return MAX_TEXT_BYTES;
    case Ch.B:
    case Ch.E:
    case Ch.D:
    case Ch.C:
      return 256;
    default:
      return 0; // never keep 'p' (password, SASL), CopyData, FunctionCall arguments
  }
}

function keepBackend(type: number): number {
  return type === Ch.E ? 1024 : type === Ch.C ? 64 : 0;
}

function zeroAt(b: Uint8Array, from: number): number {
  for (let i = from; i < b.length; i++) if (b[i] === 0) return i;
  return b.length;
}

/** Bytes as text: short ASCII (names, tags, SQLSTATEs) without the decoder. */
function str(b: Uint8Array, from: number, to: number): string {
  if (to - from <= 64) {
    let s = '';
    for (let i = from; i < to; i++) {
      const c = b[i] as number;
      if (c >= 0x80) return decoder.decode(b.subarray(from, to));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return decoder.decode(b.subarray(from, to));
}

function text(b: Uint8Array, from = 0): string {
  return str(b, from, zeroAt(b, from));
}

function cstring(b: Uint8Array, at: number): { value: string; end: number } {
  if (at >= b.length) return { value: '', end: b.length };
  const end = zeroAt(b, at);
  return { value: end === at || end - at > 128 ? '' : str(b, at, end), end };
}

/** The SQLSTATE ('C' field) of an ErrorResponse; the message text is never read. */
export function errorCode(b: Uint8Array): string {
  let at = 0;
  while (at < b.length && b[at] !== 0) {
    const field = b[at] as number;
    const end = zeroAt(b, at + 1);
    if (field === Ch.C && end - at - 1 === 5) return str(b, at + 1, end);
    at = end + 1;
  }
  return 'unknown';
}

/** db.namespace from the StartupMessage: `database`, which defaults to `user`. No other parameter is read. */
function startupDatabase(b: Uint8Array): string | undefined {
  let at = 0;
  let database: string | undefined;
  let user: string | undefined;
  while (at < b.length && b[at] !== 0) {
    const k = cstring(b, at);
    const v = cstring(b, k.end + 1);
    if (k.value === 'database') database = v.value;
    else if (k.value === 'user') user = v.value;
    at = v.end + 1;
  }
  return database || user || undefined;
}
