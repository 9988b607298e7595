// One MySQL/MariaDB connection seen from the watched process's side. Requests
// (commands) flow client → server, responses server → client; each direction has
// its own PacketReader. The connection phase is followed only to learn the
// capabilities, the server's flavour and the initial database (user and auth
// data are never kept). In the command phase every command that gets a response
// becomes one Operation when its response ends: the last result set of a
// multi-statement query or a CALL, an ERR, or the simple OK/EOF.
import type { ChunkView, ConnectionParser, Emit, Operation, ParserStats, Role } from '../module.js';
import {
  COM_BINLOG_DUMP, COM_BINLOG_DUMP_GTID, COM_CHANGE_USER, COM_FIELD_LIST, COM_INIT_DB, COM_QUERY, COM_RESET_CONNECTION,
  COM_STATISTICS, COM_STMT_BULK_EXECUTE, COM_STMT_CLOSE, COM_STMT_EXECUTE, COM_STMT_FETCH, COM_STMT_PREPARE,
  SERVER_MORE_RESULTS_EXISTS, SERVER_STATUS_CURSOR_EXISTS, commandName, errorCode, hasResponse, statusFlags,
  terminatorAtEnd, type Terminator,
} from './commands.js';
import { CLIENT_COMPRESS, CLIENT_DEPRECATE_EOF, CLIENT_ZSTD_COMPRESSION, type Greeting, decodeUtf8, parseGreeting, parseHandshakeResponse } from './handshake.js';
import { MAX_PAYLOAD, type Packet, PacketReader, lenenc, u16, u32 } from './packets.js';
import { describeSql, type SqlInfo } from './sql.js';

/** Requests awaiting their response (MySQL clients rarely pipeline; this bounds those that do). */
export const MAX_PENDING = 16;
/** Prepared statements remembered per connection (text by statement id); the oldest is forgotten first. */
export const MAX_STATEMENTS = 256;
/** Bytes kept of a command packet (its SQL text beyond is cut, and sanitized as cut). */
const REQUEST_KEEP = 4096;
/** Bytes kept of a response packet: enough for OK/ERR/EOF, PREPARE_OK, the greeting. */
const RESPONSE_KEEP = 256;

type Phase = 'start' | 'auth' | 'command' | 'opaque';

type ResponseState =
  | 'first' // the first packet: OK, ERR, LOCAL INFILE or a column count
  | 'columns' // column definitions still to come
  | 'afterColumns' // the EOF after the definitions (unless CLIENT_DEPRECATE_EOF), or the first row
  | 'rows' // rows until the terminating EOF/OK or an ERR
  | 'prepare' // PREPARE_OK's parameter and column definitions
  | 'prepareEof' // the EOF after them
  | 'fieldList'
  | 'any' // one packet ends it
  | 'auth'; // COM_CHANGE_USER: auth switches until OK/ERR

interface Pending {
  cmd: number;
  startNs: number;
  endNs: number;
  state: ResponseState;
  /** Column definitions (or PREPARE_OK definitions) still expected. */
  left: number;
  rows: number;
  /** Rows were counted with no framing loss. */
  rowsKnown: boolean;
  /** Result sets seen (a CALL or a multi-statement query has several). */
  resultSets: number;
  sql?: SqlInfo;
  /** COM_INIT_DB's schema. */
  schema?: string;
  /** COM_STMT_EXECUTE/FETCH/RESET's statement id. */
  statementId?: number;
  error?: number;
  infile: boolean;
}

export interface MysqlParserStats extends ParserStats {
  /** Prepared statements forgotten because the per-connection map was full. */
  statementsEvicted: number;
  /** Executions of a statement prepared before the parser joined (text unknown). */
  statementsUnknown: number;
  /** Connections that went opaque (TLS, compression, replication stream). */
  opaque: number;
}

export class MysqlParser implements ConnectionParser {
  readonly stats: MysqlParserStats = { unparsed: 0, pendingOverflow: 0, orphanResponses: 0, statementsEvicted: 0, statementsUnknown: 0, opaque: 0 };
  private phase: Phase = 'start';
  private system: 'mysql' | 'mariadb' = 'mysql';
  private serverCaps: number | undefined;
  /** CLIENT_DEPRECATE_EOF as negotiated; undefined when joined midway. */
  private deprecateEof: boolean | undefined;
  private compressAfterAuth = false;
  private namespace: string | undefined;
  private readonly statements = new Map<number, SqlInfo>();
  private readonly pending: Pending[] = [];
  private readonly requests = new PacketReader(REQUEST_KEEP);
  private readonly responses = new PacketReader(RESPONSE_KEEP);
  /** LOCAL INFILE: the client is sending the file's packets (not commands) until an empty one. */
  private infileData = false;
  /** Joined midway without knowing CLIENT_DEPRECATE_EOF: a PREPARE_OK may be followed by an EOF nobody waits for. */
  private strayEofOk = false;
  private orphaning = false;
  /** After losing framing: the length a lone 4-byte header read announced (the next read may be its payload). */
  private headerOnly: number | undefined;
  private lastResponseNs = 0;
  private emit: Emit = () => {};
  private readonly onRequest = (p: Packet) => this.requestPacket(p);
  private readonly onResponse = (p: Packet) => this.responsePacket(p);

  constructor(private readonly role: Role) {}

  feed(chunk: ChunkView, emit: Emit): void {
    this.emit = emit;
    try {
      if (this.phase === 'opaque') return;
      const isRequest = (chunk.direction === 'out') === (this.role === 'client');
      if (chunk.lost > 0) {
        this.requests.desync();
        this.responses.desync();
      }
      if (isRequest) this.feedRequests(chunk);
      else this.feedResponses(chunk);
    } catch {
      // Total by contract: a bug here must not take the agent down; start afresh.
      this.stats.unparsed++;
      this.requests.desync();
      this.responses.desync();
    }
  }

  end(reason: 'closed' | 'idle' | 'evicted', emit: Emit): void {
    try {
      for (const p of this.pending.splice(0)) emit(this.operation(p, reason));
    } catch {
      this.stats.unparsed++;
    }
  }

  private feedRequests(chunk: ChunkView): void {
    // MariaDB's server reads a packet's 4-byte header and then its payload, one read each:
    // joined midway (or after a loss) it may start on a payload with no header in front.
    const bare = this.phase === 'start' || !this.requests.synced ? this.barePayload(chunk) : false;
    if (!bare && !this.requests.synced) {
      // A client writes each command from its start: resynchronise at a chunk that begins like one.
      if (looksLikeCommand(chunk.head, chunk.bytes)) this.requests.reset();
      else {
        this.headerOnly = chunk.bytes === 4 && chunk.head.length === 4 && chunk.head[3] === 0 ? u24(chunk.head) : undefined;
        this.stats.unparsed++;
        return;
      }
    }
    this.headerOnly = undefined;
    if (!this.responses.synced || (this.pending.length === 0 && !this.responses.atBoundary)) {
      // The server answered everything it was asked before this request, but we could not see
      // how (or it was a response we joined in the middle of): its next response starts afresh.
      this.flushLost();
      this.responses.reset();
    }
    if (bare) {
      // The payload of one command packet: framed by its read, the next read starts a header.
      if (this.phase === 'start') this.phase = 'command';
      this.requests.reset();
      const data = chunk.head;
      this.requestPacket({ seq: 0, first: data[0] ?? -1, length: chunk.bytes, data, whole: data.length === chunk.bytes, continuation: false, startNs: chunk.timeNs, timeNs: chunk.timeNs });
      return;
    }
    feedReader(this.requests, chunk, this.onRequest);
  }

  /**
   * Whether this chunk is a command's payload read alone: after a lone header read
   * announcing exactly its length, or (joined midway) SQL text after a COM_QUERY or
   * COM_STMT_PREPARE byte, which no header-framed chunk starts with.
   */
  private barePayload(chunk: ChunkView): boolean {
    const cmd = chunk.head[0];
    if (cmd === undefined || commandName(cmd) === undefined || cmd === 0) return false;
    if (this.headerOnly !== undefined && chunk.bytes === this.headerOnly) return true;
    return this.role === 'server' && looksLikeBareSql(chunk.head, chunk.bytes) && !looksLikeCommand(chunk.head, chunk.bytes);
  }

  private feedResponses(chunk: ChunkView): void {
    this.lastResponseNs = chunk.timeNs;
    if (this.phase === 'start' && chunk.head[0] === 0x0a && chunk.head.length === chunk.bytes) {
      // A client that reads the greeting's header and payload apart: the payload alone.
      const g = parseGreeting(chunk.head);
      if (g) {
        this.greeting(g);
        this.responses.reset();
        return;
      }
    }
    if (this.responses.synced) feedReader(this.responses, chunk, this.onResponse);
    if (!this.responses.synced) this.resyncAtEnd(chunk);
  }

  /** Framing lost in a response: its end is found again from the chunk's last bytes. */
  private resyncAtEnd(chunk: ChunkView): void {
    const p = this.pending[0];
    if (!p || this.phase !== 'command') return;
    p.rowsKnown = false;
    const whole = chunk.tail.length === 0 && chunk.head.length === chunk.bytes;
    const end = chunk.tail.length > 0 ? chunk.tail : whole ? chunk.head : undefined;
    if (!end) return;
    const t = terminatorAtEnd(end);
    if (!t) return;
    if (t.kind === 'ok' && t.status & SERVER_MORE_RESULTS_EXISTS) return;
    this.finishWith(p, t, chunk.timeNs);
    this.responses.reset();
  }

  private requestPacket(p: Packet): void {
    if (this.phase === 'opaque') return;
    if (this.infileData) {
      if (p.length === 0) this.infileData = false;
      return;
    }
    if (p.continuation) return; // the rest of a > 16 MB command
    if (this.phase === 'start' || this.phase === 'auth') {
      if (p.seq !== 0) {
        if (p.seq === 1) this.handshakeResponse(p);
        return;
      }
      // A command while we thought authentication was going on: we missed its end.
      this.phase = 'command';
    }
    if (p.seq !== 0) {
      // Only a command starts at sequence 0; auth-switch replies and stray packets do not.
      if (this.pending[0]?.state !== 'auth') this.stats.unparsed++;
      return;
    }
    this.command(p);
  }

  private greeting(g: Greeting): void {
    this.system = g.system;
    this.serverCaps = g.capabilities;
    this.phase = 'auth';
  }

  private handshakeResponse(p: Packet): void {
    const r = parseHandshakeResponse(p.data, p.length);
    if (!r) return;
    if (r.tls) return this.goOpaque();
    const caps = this.serverCaps === undefined ? r.capabilities : r.capabilities & this.serverCaps;
    this.deprecateEof = (caps & CLIENT_DEPRECATE_EOF) !== 0;
    this.compressAfterAuth = (caps & (CLIENT_COMPRESS | CLIENT_ZSTD_COMPRESSION)) !== 0;
    if (r.database) this.namespace = r.database;
    this.phase = 'auth';
  }

  private command(p: Packet): void {
    const d = p.data;
    const cmd = d[0];
    if (cmd === undefined) {
      this.stats.unparsed++;
      return;
    }
    if (commandName(cmd) === undefined) {
      this.stats.unparsed++;
      return;
    }
    this.orphaning = false;
    if (cmd === COM_BINLOG_DUMP || cmd === COM_BINLOG_DUMP_GTID) return this.goOpaque();
    if (cmd === COM_STMT_CLOSE) {
      const id = u32(d, 1);
      if (id !== undefined) this.statements.delete(id);
      return;
    }
    if (!hasResponse(cmd)) return;
    if (this.pending.length >= MAX_PENDING) {
      this.stats.pendingOverflow++;
      return;
    }
    const op: Pending = {
      cmd, startNs: p.startNs, endNs: p.timeNs, state: 'first', left: 0, rows: 0, rowsKnown: true, resultSets: 0, infile: false,
    };
    switch (cmd) {
      case COM_QUERY:
        op.sql = describeSql(decodeUtf8(d.subarray(1)));
        break;
      case COM_STMT_PREPARE:
        op.sql = describeSql(decodeUtf8(d.subarray(1)));
        op.state = 'first';
        break;
      case COM_STMT_EXECUTE:
      case COM_STMT_BULK_EXECUTE:
      case COM_STMT_FETCH:
      case 0x1a /* COM_STMT_RESET */: {
        op.statementId = u32(d, 1);
        const known = op.statementId === undefined ? undefined : this.statements.get(op.statementId);
        if (known) op.sql = known;
        else if (cmd !== 0x1a) this.stats.statementsUnknown++;
        if (cmd === COM_STMT_FETCH) op.state = 'rows';
        else if (cmd === 0x1a) op.state = 'any';
        break;
      }
      case COM_INIT_DB:
        op.schema = decodeUtf8(d.subarray(1, 1 + 256));
        op.state = 'any';
        break;
      case COM_FIELD_LIST:
        op.state = 'fieldList';
        break;
      case COM_CHANGE_USER:
        op.state = 'auth';
        break;
      default:
        op.state = 'any';
    }
    this.pending.push(op);
  }

  private responsePacket(p: Packet): void {
    if (this.phase === 'opaque') return;
    const h = p.first;
    if (this.phase === 'start') {
      if (p.seq === 0 && h === 0x0a) {
        const g = parseGreeting(p.data);
        if (g) return this.greeting(g);
      }
      this.phase = 'command'; // joined midway
    } else if (this.phase === 'auth') {
      // Auth switch (fe) and more-data (01) packets go on; OK or ERR end authentication.
      if (h === 0x00 || h === 0xff) {
        this.phase = 'command';
        if (h === 0x00 && this.compressAfterAuth) this.goOpaque();
      }
      return;
    }
    const op = this.pending[0];
    if (!op) {
      if (this.strayEofOk && h === 0xfe && p.length < 9) {
        this.strayEofOk = false;
        return;
      }
      if (!this.orphaning) this.stats.orphanResponses++;
      this.orphaning = true;
      return;
    }
    this.strayEofOk = false;
    op.endNs = p.timeNs;
    if (p.continuation) return; // the rest of a > 16 MB row
    if (h === 0xff && isProgress(p.data)) return;
    const isTerminator = h === 0xfe && p.length < MAX_PAYLOAD;
    switch (op.state) {
      case 'first':
        return this.first(op, p);
      case 'columns':
        if (h === 0xff) return this.fail(op, p.data);
        if (--op.left <= 0) op.state = 'afterColumns';
        return;
      case 'afterColumns':
        if (h === 0xff) return this.fail(op, p.data);
        if (isTerminator) {
          const eof = this.deprecateEof === false || (this.deprecateEof === undefined && p.length < 7);
          const status = statusFlags(p.data, p.length) ?? 0;
          if (eof) {
            // The EOF between definitions and rows; with a cursor open, the response ends here.
            if (status & SERVER_STATUS_CURSOR_EXISTS && op.cmd === COM_STMT_EXECUTE) return this.done(op);
            op.state = 'rows';
            return;
          }
          return this.endOfResultSet(op, status);
        }
        op.state = 'rows';
        op.rows++;
        return;
      case 'rows':
        if (h === 0xff) return this.fail(op, p.data);
        if (isTerminator) return this.endOfResultSet(op, statusFlags(p.data, p.length) ?? 0);
        op.rows++;
        return;
      case 'prepare':
        if (h === 0xff) return this.fail(op, p.data);
        if (isTerminator) return; // the EOF between parameter and column definitions
        if (--op.left <= 0) this.afterPrepareDefinitions(op);
        return;
      case 'prepareEof':
        return this.done(op);
      case 'fieldList':
        if (h === 0xff) return this.fail(op, p.data);
        if (isTerminator) return this.done(op);
        return;
      case 'auth':
        if (h === 0xff) return this.fail(op, p.data);
        if (h === 0x00) return this.done(op);
        return;
      case 'any':
        if (h === 0xff) return this.fail(op, p.data);
        return this.done(op);
    }
  }

  /** The first packet of a response. */
  private first(op: Pending, p: Packet): void {
    const d = p.data;
    const h = p.first;
    if (h === 0xff) return this.fail(op, d);
    if (op.cmd === COM_STMT_PREPARE) {
      if (h !== 0x00) return this.done(op);
      const id = u32(d, 1);
      const columns = u16(d, 5) ?? 0;
      const params = u16(d, 7) ?? 0;
      if (id !== undefined && op.sql) this.remember(id, op.sql);
      op.left = columns + params;
      if (op.left === 0) return this.done(op);
      op.state = 'prepare';
      return;
    }
    if (h === 0x00) {
      // OK: no result set (INSERT, UPDATE, …), perhaps more to come.
      return this.endOfResultSet(op, statusFlags(d, p.length) ?? 0, false);
    }
    if (h === 0xfb) {
      // LOCAL INFILE request: the client sends the file, then the server's OK/ERR ends the command.
      op.infile = true;
      this.infileData = true;
      return;
    }
    if (h === 0xfe) return this.done(op);
    const count = lenenc(d, 0);
    if (!count || count.value === 0) {
      this.stats.unparsed++;
      return this.done(op);
    }
    // MariaDB's metadata cache: a trailing 0 byte means no column definitions follow.
    const skipMetadata = p.length === count.size + 1 && d[count.size] === 0;
    op.left = skipMetadata ? 0 : count.value;
    op.state = op.left > 0 ? 'columns' : 'afterColumns';
  }

  private afterPrepareDefinitions(op: Pending): void {
    if (this.deprecateEof === false) {
      op.state = 'prepareEof';
      return;
    }
    if (this.deprecateEof === undefined) this.strayEofOk = true;
    this.done(op);
  }

  private endOfResultSet(op: Pending, status: number, hadRows = true): void {
    if (hadRows) op.resultSets++;
    if (status & SERVER_MORE_RESULTS_EXISTS) {
      op.state = 'first';
      return;
    }
    this.done(op);
  }

  private fail(op: Pending, d: Uint8Array): void {
    op.error = errorCode(d) ?? 0;
    this.done(op);
  }

  private finishWith(op: Pending, t: Terminator, timeNs: number): void {
    op.endNs = timeNs;
    if (t.kind === 'err') op.error = t.code;
    this.done(op);
  }

  private done(op: Pending): void {
    const i = this.pending.indexOf(op);
    if (i >= 0) this.pending.splice(i, 1);
    if (op.error === undefined) {
      if (op.cmd === COM_INIT_DB && op.schema) this.namespace = op.schema;
      if (op.cmd === COM_QUERY && op.sql?.use) this.namespace = op.sql.use;
      if (op.cmd === COM_RESET_CONNECTION) this.statements.clear();
    }
    this.emit(this.operation(op));
  }

  /** Responses we could not follow: their requests end as lost when the next request shows the server moved on. */
  private flushLost(): void {
    for (const p of this.pending.splice(0)) {
      if (this.lastResponseNs > p.endNs) p.endNs = this.lastResponseNs;
      this.emit(this.operation(p, 'lost'));
    }
  }

  private remember(id: number, sql: SqlInfo): void {
    this.statements.delete(id);
    this.statements.set(id, sql);
    if (this.statements.size > MAX_STATEMENTS) {
      const oldest = this.statements.keys().next().value;
      if (oldest !== undefined) this.statements.delete(oldest);
      this.stats.statementsEvicted++;
    }
  }

  private goOpaque(): void {
    this.phase = 'opaque';
    this.stats.opaque++;
  }

  private operation(p: Pending, incomplete?: Operation['incomplete']): Operation {
    const attributes: Operation['attributes'] = { 'db.system.name': this.system };
    const name = commandName(p.cmd) ?? 'COM_UNKNOWN';
    let operation = name;
    const sql = p.sql;
    if (p.cmd === COM_INIT_DB && p.schema) attributes['db.namespace'] = p.schema;
    else if (this.namespace) attributes['db.namespace'] = this.namespace;
    if (sql) {
      if (p.cmd !== COM_STMT_PREPARE && sql.operation) operation = sql.operation;
      if (sql.text) attributes['db.query.text'] = sql.text;
      if (sql.collection) attributes['db.collection.name'] = sql.collection;
      if (sql.procedure) attributes['db.stored_procedure.name'] = sql.procedure;
      if (sql.statements > 1) attributes['db.operation.batch.size'] = sql.statements;
      if (sql.summary && p.cmd !== COM_STMT_PREPARE) attributes['db.query.summary'] = sql.summary;
    }
    attributes['db.operation.name'] = operation;
    if (p.error !== undefined) attributes['db.response.status_code'] = String(p.error);
    if (!incomplete && p.rowsKnown && (p.resultSets > 0 || p.rows > 0)) attributes['db.response.returned_rows'] = p.rows;
    const summary = attributes['db.query.summary'];
    const target = (attributes['db.collection.name'] ?? attributes['db.stored_procedure.name'] ?? attributes['db.namespace']) as string | undefined;
    const op: Operation = {
      family: 'db',
      role: this.role,
      startNs: p.startNs,
      endNs: Math.max(p.endNs, p.startNs),
      name: typeof summary === 'string' ? summary : target ? `${operation} ${target}` : operation,
      operation,
      attributes,
    };
    if (p.error !== undefined) op.errorType = String(p.error);
    if (incomplete) op.incomplete = incomplete;
    return op;
  }
}

/** MariaDB's progress report (CLIENT_PROGRESS): an ERR-shaped packet with code 0xffff, not an error. */
function isProgress(d: Uint8Array): boolean {
  return d[0] === 0xff && d[1] === 0xff && d[2] === 0xff;
}

/** Feeds a chunk's captured head, its hole and its tail to a reader. */
function feedReader(reader: PacketReader, chunk: ChunkView, onPacket: (p: Packet) => void): void {
  reader.push(chunk.head, chunk.timeNs, onPacket);
  const hole = chunk.bytes - chunk.head.length - chunk.tail.length;
  if (hole > 0) reader.skip(hole, chunk.timeNs, onPacket);
  else if (hole < 0) {
    reader.desync(); // head and tail overlap: not a chunk the capture makes
    return;
  }
  if (chunk.tail.length > 0) reader.push(chunk.tail, chunk.timeNs, onPacket);
}

function u24(b: Uint8Array): number {
  return b[0]! | (b[1]! << 8) | (b[2]! << 16);
}

const SQL_START = /^\s*\(?\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|CALL|WITH|SET|SHOW|BEGIN|START|COMMIT|ROLLBACK|CREATE|DROP|ALTER|USE|EXPLAIN|DESCRIBE|LOAD|TRUNCATE)\b/i;

/** SQL text's first bytes: an SQL keyword after optional spaces and a parenthesis. */
export function startsWithSql(b: Uint8Array): boolean {
  return SQL_START.test(String.fromCharCode(...b.subarray(0, 24)));
}

/** A COM_QUERY/COM_STMT_PREPARE payload with no header: the command byte, then SQL. */
export function looksLikeBareSql(head: Uint8Array, bytes: number): boolean {
  return head.length >= 6 && bytes >= head.length && (head[0] === 0x03 || head[0] === 0x16) && startsWithSql(head.subarray(1));
}

/** Whether a chunk begins like a command packet: a length that fits, sequence 0, a known command byte. */
export function looksLikeCommand(head: Uint8Array, bytes: number): boolean {
  if (head.length < 5) return false;
  const len = head[0]! | (head[1]! << 8) | (head[2]! << 16);
  if (len < 1 || len + 4 > bytes || head[3] !== 0) return false;
  const cmd = head[4]!;
  if (commandName(cmd) === undefined || cmd === 0x00) return false;
  if (cmd === COM_QUERY || cmd === COM_STMT_PREPARE) {
    // SQL text: printable or whitespace, at least its first bytes.
    const c = head[5];
    return c !== undefined && (c >= 0x20 || c === 0x09 || c === 0x0a || c === 0x0d);
  }
  return true;
}
