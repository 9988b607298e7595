// SQL text → what a span may carry: the text with every literal replaced by `?`
// (comments dropped: they are free text too), the operation keyword, the tables
// it names and a low-cardinality summary ("SELECT users", "INSERT orders SELECT
// customers"), per the OTel SQL conventions. A small lexer, not a parser: it
// never throws, and an unterminated string (text cut by a capture hole) is
// replaced to its end, so no partial literal ever leaks.

export interface SqlInfo {
  /** The text with literals as `?`, comments removed, capped. */
  text: string;
  /** db.operation.name: the first statement's operation keyword, "BATCH …" for several statements. */
  operation?: string;
  /** db.collection.name: set only when the query names exactly one table. */
  collection?: string;
  /** db.query.summary. */
  summary?: string;
  /** db.stored_procedure.name for CALL. */
  procedure?: string;
  /** Statements in the text (a multi-statement COM_QUERY has several). */
  statements: number;
  /** The schema a `USE db` statement switches to. */
  use?: string;
}

const MAX_TEXT = 2048;
const MAX_SUMMARY = 255;

/** Keywords that start a statement and name its operation. */
const OPERATIONS = new Set([
  'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'REPLACE', 'CALL', 'CREATE', 'DROP', 'ALTER', 'TRUNCATE', 'RENAME',
  'SHOW', 'SET', 'USE', 'BEGIN', 'START', 'COMMIT', 'ROLLBACK', 'SAVEPOINT', 'RELEASE', 'DESCRIBE', 'DESC',
  'EXPLAIN', 'WITH', 'LOAD', 'GRANT', 'REVOKE', 'LOCK', 'UNLOCK', 'ANALYZE', 'OPTIMIZE', 'CHECK', 'REPAIR',
  'FLUSH', 'KILL', 'HANDLER', 'DO', 'PREPARE', 'EXECUTE', 'DEALLOCATE', 'VALUES', 'TABLE', 'XA', 'RESET',
  'PURGE', 'CHANGE', 'INSTALL', 'UNINSTALL', 'SIGNAL', 'RESIGNAL', 'GET', 'OPTIMIZE', 'CHECKSUM', 'BINLOG',
]);
/** Operation keywords that may also appear inside a statement (sub-selects, INSERT … SELECT). */
const INNER_OPERATIONS = new Set(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'REPLACE']);
/** Keywords after which a table name follows. */
const TABLE_INTRODUCERS = new Set(['FROM', 'JOIN', 'INTO', 'UPDATE', 'TABLE', 'STRAIGHT_JOIN']);
/** Words that can sit between an introducer and the table name. */
const TABLE_SKIP = new Set(['IF', 'NOT', 'EXISTS', 'LOW_PRIORITY', 'IGNORE', 'QUICK', 'DELAYED', 'HIGH_PRIORITY', 'TEMPORARY', 'ONLY', 'LATERAL']);
/** Words that end a FROM list or are not table names. */
const NOT_TABLE = new Set([
  'SELECT', 'WHERE', 'SET', 'VALUES', 'VALUE', 'ON', 'USING', 'GROUP', 'ORDER', 'LIMIT', 'HAVING', 'UNION', 'JOIN',
  'LEFT', 'RIGHT', 'INNER', 'OUTER', 'CROSS', 'NATURAL', 'AS', 'WINDOW', 'FOR', 'LOCK', 'INTO', 'DUAL', 'PARTITION',
  'STRAIGHT_JOIN', 'RETURNING', 'DEFAULT', 'LIKE', 'WITH', 'NULL', 'TRUE', 'FALSE',
]);

type Token =
  | { kind: 'word'; text: string; upper: string }
  | { kind: 'ident'; text: string } // `quoted`
  | { kind: 'literal' }
  | { kind: 'punct'; text: string };

function isWordStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36 || c >= 128;
}
function isWordPart(c: number): boolean {
  return isWordStart(c) || (c >= 48 && c <= 57);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11;
}

/** Lexes `sql`, appending the sanitized text to out[] and tokens to tokens[]. */
function lex(sql: string, tokens: Token[], out: string[]): void {
  const n = sql.length;
  let i = 0;
  let pendingSpace = false;
  const put = (s: string) => {
    if (pendingSpace && out.length > 0) out.push(' ');
    pendingSpace = false;
    out.push(s);
  };
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      pendingSpace = true;
      i++;
      continue;
    }
    // Comments: --␠, #, /* */ (also /*! … */: dropped like the rest).
    if ((c === 45 && sql.charCodeAt(i + 1) === 45 && (i + 2 >= n || isSpace(sql.charCodeAt(i + 2)))) || c === 35) {
      while (i < n && sql.charCodeAt(i) !== 10) i++;
      pendingSpace = true;
      continue;
    }
    if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      pendingSpace = true;
      continue;
    }
    // Strings: '…' and "…" (MySQL's default: both are literals), with \ escapes and doubled quotes.
    if (c === 39 || c === 34) {
      i = skipQuoted(sql, i, c, true);
      put('?');
      tokens.push({ kind: 'literal' });
      continue;
    }
    if (c === 96) {
      const end = skipQuoted(sql, i, 96, false);
      const text = sql.slice(i + 1, end - 1 >= i + 1 ? end - 1 : i + 1).replace(/``/g, '`');
      put(sql.slice(i, end));
      tokens.push({ kind: 'ident', text });
      i = end;
      continue;
    }
    // Hex/bit literals: X'…', B'…', 0x…, 0b…; N'…' and _charset'…' introducers.
    if ((c === 88 || c === 120 || c === 66 || c === 98 || c === 78 || c === 110) && sql.charCodeAt(i + 1) === 39) {
      i = skipQuoted(sql, i + 1, 39, true);
      put('?');
      tokens.push({ kind: 'literal' });
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(sql.charCodeAt(i + 1)))) {
      // A word like 1abc is an identifier in MySQL; numbers are digits, '.', exponents, 0x/0b.
      let j = i;
      if (c === 48 && (sql.charCodeAt(i + 1) | 32) === 120) j = i + 2;
      else if (c === 48 && (sql.charCodeAt(i + 1) | 32) === 98) j = i + 2;
      while (j < n) {
        const d = sql.charCodeAt(j);
        if (isWordPart(d) || d === 46) j++;
        else if ((d === 43 || d === 45) && (sql.charCodeAt(j - 1) | 32) === 101) j++;
        else break;
      }
      put('?');
      tokens.push({ kind: 'literal' });
      i = j;
      continue;
    }
    if (isWordStart(c)) {
      let j = i + 1;
      while (j < n && isWordPart(sql.charCodeAt(j))) j++;
      const text = sql.slice(i, j);
      // _utf8mb4'…': a charset introducer before a string literal.
      if (text.charCodeAt(0) === 95 && sql.charCodeAt(j) === 39) {
        i = skipQuoted(sql, j, 39, true);
        put('?');
        tokens.push({ kind: 'literal' });
        continue;
      }
      put(text);
      tokens.push({ kind: 'word', text, upper: text.toUpperCase() });
      i = j;
      continue;
    }
    // @var / @@sysvar stay as they are (names, not values).
    const ch = sql[i]!;
    put(ch);
    tokens.push({ kind: 'punct', text: ch });
    i++;
  }
}

/** The index just past the quoted run starting at i (its end when unterminated). */
function skipQuoted(sql: string, i: number, quote: number, backslash: boolean): number {
  const n = sql.length;
  let j = i + 1;
  while (j < n) {
    const d = sql.charCodeAt(j);
    if (backslash && d === 92) {
      j += 2;
      continue;
    }
    if (d === quote) {
      if (sql.charCodeAt(j + 1) === quote) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    j++;
  }
  return n;
}

/** A (possibly qualified) table name starting at tokens[k]: `db`.`t`, db.t, t. */
function tableAt(tokens: Token[], k: number): { name: string; next: number } | undefined {
  const parts: string[] = [];
  let j = k;
  for (;;) {
    const t = tokens[j];
    if (!t) break;
    if (t.kind === 'word') {
      if (parts.length === 0 && (NOT_TABLE.has(t.upper) || OPERATIONS.has(t.upper))) return undefined;
      parts.push(t.text);
    } else if (t.kind === 'ident') parts.push(t.text);
    else break;
    j++;
    const dot = tokens[j];
    if (dot?.kind === 'punct' && dot.text === '.') j++;
    else break;
  }
  if (parts.length === 0) return undefined;
  return { name: parts.join('.'), next: j };
}

/** Summary and tables of one statement's tokens. */
function describeStatement(tokens: Token[]): { operation?: string; tables: string[]; summary: string[]; procedure?: string; use?: string } {
  const tables: string[] = [];
  const summary: string[] = [];
  let operation: string | undefined;
  let procedure: string | undefined;
  let use: string | undefined;
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.kind !== 'word') continue;
    const u = t.upper;
    let opened = false;
    if (operation === undefined) {
      if (!OPERATIONS.has(u)) continue;
      operation = u === 'DESC' ? 'DESCRIBE' : u;
      if (u !== 'WITH') summary.push(operation);
      if (u === 'CALL') {
        const p = tableAt(tokens, k + 1);
        if (p) {
          procedure = p.name;
          summary.push(p.name);
          k = p.next - 1;
        }
      } else if (u === 'USE') {
        const p = tableAt(tokens, k + 1);
        if (p) use = p.name;
      } else if (u === 'DESCRIBE' || u === 'DESC' || u === 'TRUNCATE') {
        let j = k + 1;
        if (tokens[j]?.kind === 'word' && (tokens[j] as { upper: string }).upper === 'TABLE') j++;
        const p = tableAt(tokens, j);
        if (p) {
          tables.push(p.name);
          summary.push(p.name);
          k = p.next - 1;
        }
      } else if (u === 'WITH') {
        operation = undefined; // WITH cte AS (…) SELECT …: the operation is the main statement's.
        summary.length = 0;
      }
      if (u !== 'UPDATE') continue;
      opened = true; // UPDATE t …: the table follows the operation itself (below).
    }
    const prev = tokens[k - 1];
    const prevWord = prev?.kind === 'word' ? prev.upper : '';
    // FOR UPDATE, ON DUPLICATE KEY UPDATE: clauses, not statements.
    if (!opened && INNER_OPERATIONS.has(u) && prevWord !== 'FOR' && prevWord !== 'KEY') {
      summary.push(u);
      if (u !== 'UPDATE') continue;
    }
    if (TABLE_INTRODUCERS.has(u) && !(u === 'UPDATE' && (prevWord === 'FOR' || prevWord === 'KEY'))) {
      let j = k + 1;
      while (tokens[j]?.kind === 'word' && TABLE_SKIP.has((tokens[j] as { upper: string }).upper)) j++;
      // FROM a, b, c: every name of the list (each may carry an alias).
      for (;;) {
        const p = tableAt(tokens, j);
        if (!p) break;
        tables.push(p.name);
        summary.push(p.name);
        j = p.next;
        // Skip an alias: [AS] name
        if (tokens[j]?.kind === 'word' && (tokens[j] as { upper: string }).upper === 'AS') j++;
        if ((tokens[j]?.kind === 'word' && !NOT_TABLE.has((tokens[j] as { upper: string }).upper)) || tokens[j]?.kind === 'ident') j++;
        const comma = tokens[j];
        if (u === 'FROM' && comma?.kind === 'punct' && comma.text === ',') {
          j++;
          continue;
        }
        break;
      }
      k = j - 1;
    }
  }
  return { operation, tables, summary, procedure, use };
}

function splitStatements(tokens: Token[]): Token[][] {
  const out: Token[][] = [];
  let cur: Token[] = [];
  for (const t of tokens) {
    if (t.kind === 'punct' && t.text === ';') {
      if (cur.length > 0) out.push(cur);
      cur = [];
    } else cur.push(t);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

function cap(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, max);
}

/** Everything a span takes from a statement's text. Never throws. */
export function describeSql(sql: string): SqlInfo {
  const tokens: Token[] = [];
  const out: string[] = [];
  try {
    lex(sql, tokens, out);
  } catch {
    return { text: '', statements: 0 };
  }
  const statements = splitStatements(tokens);
  const described = statements.map(describeStatement);
  const text = cap(out.join(''), MAX_TEXT);
  if (described.length === 0) return { text, statements: 0 };
  const first = described[0]!;
  const info: SqlInfo = { text, statements: described.length };
  if (described.length === 1) {
    info.operation = first.operation;
    if (first.procedure) info.procedure = first.procedure;
    if (first.use) info.use = first.use;
  } else {
    // Several statements in one command: the conventions' batch naming.
    const ops = new Set(described.map((d) => d.operation));
    const only = ops.size === 1 ? first.operation : undefined;
    info.operation = only ? `BATCH ${only}` : 'BATCH';
  }
  const tables = new Set(described.flatMap((d) => d.tables));
  if (tables.size === 1) info.collection = [...tables][0];
  const summary = described
    .map((d) => d.summary.join(' '))
    .filter((s) => s.length > 0)
    .join('; ');
  if (summary.length > 0) info.summary = cap(summary, MAX_SUMMARY);
  return info;
}
