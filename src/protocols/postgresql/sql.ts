// SQL text → what a span may carry: the text with its literals replaced by `?`
// (strings, dollar-quoted bodies, numbers; comments dropped, since they can
// hold anything), the operation keyword, the table of a simple single-table
// statement and a low-cardinality summary ("SELECT users"). One pass of a
// small tokenizer; never throws, bounded output.

/** Longest db.query.text we emit (characters). */
export const MAX_QUERY_TEXT = 2048;
/** Longest db.query.summary (semconv suggests keeping it short). */
export const MAX_SUMMARY = 255;

export interface StatementInfo {
  /** Sanitized text (literals as `?`), collapsed whitespace, capped. */
  text: string;
  /** db.operation.name: SELECT, INSERT, CREATE TABLE, BATCH SELECT, BATCH, … ('' when unknown). */
  operation: string;
  /** db.collection.name when the statement names exactly one table. */
  collection?: string;
  /** db.query.summary: operation and tables ("SELECT users orders"), or '' when unknown. */
  summary: string;
  /** Statements in the text (semicolon-separated, empty ones ignored). */
  statements: number;
}

const enum T {
  Word,
  Quoted,
  Literal,
  Param,
  Punct,
}

interface Token {
  t: T;
  /** Word: uppercased; Quoted: the identifier without quotes; Punct: the character. */
  v: string;
  /** The token as written (Literal: `?`). */
  out: string;
}

const isWordStart = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128;
const isWordChar = (c: number): boolean => isWordStart(c) || (c >= 48 && c <= 57) || c === 36;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13 || c === 12;

/** Tokens of one SQL text (describe runs it on sanitized text); literal bodies are never kept. At most `max` tokens. */
export function tokenize(sql: string, max = 4096): Token[] {
  const out: Token[] = [];
  const n = sql.length;
  let i = 0;
  while (i < n && out.length < max) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      i++;
    } else if (c === 45 && sql.charCodeAt(i + 1) === 45) {
      const e = sql.indexOf('\n', i);
      i = e < 0 ? n : e + 1;
    } else if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      i = skipComment(sql, i);
    } else if (c === 39) {
      i = skipString(sql, i, false);
      out.push({ t: T.Literal, v: '?', out: '?' });
    } else if (c === 34) {
      let j = i + 1;
      let v = '';
      while (j < n) {
        const e = sql.indexOf('"', j);
        if (e < 0) {
          v += sql.slice(j);
          j = n;
          break;
        }
        v += sql.slice(j, e);
        if (sql.charCodeAt(e + 1) === 34) {
          v += '"';
          j = e + 2;
        } else {
          j = e + 1;
          break;
        }
      }
      out.push({ t: T.Quoted, v, out: sql.slice(i, j) });
      i = j;
    } else if (c === 36) {
      // $1 parameter, or $tag$ … $tag$ dollar-quoted literal.
      if (isDigit(sql.charCodeAt(i + 1))) {
        let j = i + 1;
        while (j < n && isDigit(sql.charCodeAt(j))) j++;
        out.push({ t: T.Param, v: sql.slice(i, j), out: sql.slice(i, j) });
        i = j;
      } else {
        let j = i + 1;
        while (j < n && isWordChar(sql.charCodeAt(j)) && sql.charCodeAt(j) !== 36) j++;
        if (sql.charCodeAt(j) === 36) {
          const tag = sql.slice(i, j + 1);
          const e = sql.indexOf(tag, j + 1);
          i = e < 0 ? n : e + tag.length;
          out.push({ t: T.Literal, v: '?', out: '?' });
        } else {
          out.push({ t: T.Punct, v: '$', out: '$' });
          i++;
        }
      }
    } else if (isDigit(c) || (c === 46 && isDigit(sql.charCodeAt(i + 1)))) {
      let j = i + 1;
      while (j < n) {
        const d = sql.charCodeAt(j);
        if (isDigit(d) || d === 46 || d === 95 || (d >= 97 && d <= 122) || (d >= 65 && d <= 90)) j++;
        else if ((d === 43 || d === 45) && (sql.charCodeAt(j - 1) | 32) === 101) j++; // 1e-5
        else break;
      }
      out.push({ t: T.Literal, v: '?', out: '?' });
      i = j;
    } else if (isWordStart(c)) {
      let j = i + 1;
      while (j < n && isWordChar(sql.charCodeAt(j))) j++;
      const word = sql.slice(i, j);
      const up = word.toUpperCase();
      // E'…', B'…', X'…', N'…', U&'…': prefixed string literals.
      if (sql.charCodeAt(j) === 39 && (up === 'E' || up === 'B' || up === 'X' || up === 'N')) {
        i = skipString(sql, j, up === 'E');
        out.push({ t: T.Literal, v: '?', out: '?' });
      } else if (up === 'U' && sql.charCodeAt(j) === 38 && sql.charCodeAt(j + 1) === 39) {
        i = skipString(sql, j + 1, false);
        out.push({ t: T.Literal, v: '?', out: '?' });
      } else {
        out.push({ t: T.Word, v: up, out: word });
        i = j;
      }
    } else {
      const ch = sql[i] as string;
      out.push({ t: T.Punct, v: ch, out: ch });
      i++;
    }
  }
  return out;
}

/** Index after the closing quote of the string starting at `i` (a quote). */
function skipString(sql: string, i: number, backslash: boolean): number {
  const n = sql.length;
  let j = i + 1;
  while (j < n) {
    const c = sql.charCodeAt(j);
    if (backslash && c === 92) j += 2;
    else if (c === 39) {
      if (sql.charCodeAt(j + 1) === 39) j += 2;
      else return j + 1;
    } else j++;
  }
  return n;
}

/**
 * The text with literals as `?`, comments dropped and whitespace runs as one
 * space: one pass that copies the runs between them (the hot path: it runs for
 * every simple Query, whose literals differ each time).
 */
export function sanitize(sql: string): string {
  const n = sql.length;
  let out = '';
  /** Start of the run being copied (-1: none); `space`: a space is due before the next output. */
  let run = -1;
  let space = false;
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    // Literal (kind 1), skipped (kind 2: whitespace, comments) or copied (0).
    let kind = 0;
    let next = i + 1;
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 12) kind = 2;
    else if (c === 39) {
      kind = 1;
      next = skipString(sql, i, false);
    } else if (isWordStart(c)) {
      while (next < n && isWordChar(sql.charCodeAt(next))) next++;
      const prefixed = next - i === 1 ? stringPrefix(sql, i, next) : 0;
      if (prefixed !== 0) {
        kind = 1;
        next = skipString(sql, prefixed === 2 ? next + 1 : next, prefixed === 3);
      }
    } else if (c >= 48 && c <= 57) {
      kind = 1;
      next = skipNumber(sql, i);
    } else if (c === 45 && sql.charCodeAt(i + 1) === 45) {
      kind = 2;
      const e = sql.indexOf('\n', i);
      next = e < 0 ? n : e + 1;
    } else if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      kind = 2;
      next = skipComment(sql, i);
    } else if (c === 34) next = skipQuoted(sql, i);
    else if (c === 36) {
      if (isDigit(sql.charCodeAt(i + 1))) {
        while (next < n && isDigit(sql.charCodeAt(next))) next++;
      } else {
        const end = dollarQuoteEnd(sql, i);
        if (end >= 0) {
          kind = 1;
          next = end;
        }
      }
    } else if (c === 46 && isDigit(sql.charCodeAt(i + 1))) {
      kind = 1;
      next = skipNumber(sql, i);
    }
    if (kind === 0) {
      if (run < 0) {
        if (space && out !== '') out += ' ';
        space = false;
        run = i;
      }
    } else {
      if (run >= 0) {
        out += sql.slice(run, i);
        run = -1;
        if (out.length >= MAX_QUERY_TEXT) break;
      }
      if (kind === 2) space = true;
      else {
        if (space && out !== '') out += ' ';
        space = false;
        out += '?';
      }
    }
    i = next;
  }
  if (run >= 0) out += sql.slice(run, Math.min(i, n));
  return out.length > MAX_QUERY_TEXT ? out.slice(0, MAX_QUERY_TEXT) : out;
}

/** 0: the word [i, j) does not prefix a string; 1: B/X/N'…'; 2: U&'…'; 3: E'…' (backslash escapes). */
function stringPrefix(sql: string, i: number, j: number): number {
  if (j - i !== 1) return 0;
  const w = sql.charCodeAt(i) | 32;
  const next = sql.charCodeAt(j);
  if (next === 39) return w === 101 ? 3 : w === 98 || w === 120 || w === 110 ? 1 : 0;
  return w === 117 && next === 38 && sql.charCodeAt(j + 1) === 39 ? 2 : 0;
}

function skipComment(sql: string, i: number): number {
  // Block comments nest in PostgreSQL.
  const n = sql.length;
  let depth = 1;
  i += 2;
  while (i < n && depth > 0) {
    if (sql.charCodeAt(i) === 47 && sql.charCodeAt(i + 1) === 42) (depth++, (i += 2));
    else if (sql.charCodeAt(i) === 42 && sql.charCodeAt(i + 1) === 47) (depth--, (i += 2));
    else i++;
  }
  return i;
}

function skipQuoted(sql: string, i: number): number {
  const n = sql.length;
  let j = i + 1;
  while (j < n) {
    const e = sql.indexOf('"', j);
    if (e < 0) return n;
    if (sql.charCodeAt(e + 1) === 34) j = e + 2;
    else return e + 1;
  }
  return n;
}

/** The index after a $tag$…$tag$ literal starting at i, or -1 when `$` starts none. */
function dollarQuoteEnd(sql: string, i: number): number {
  const n = sql.length;
  let j = i + 1;
  while (j < n && isWordChar(sql.charCodeAt(j)) && sql.charCodeAt(j) !== 36) j++;
  if (sql.charCodeAt(j) !== 36) return -1;
  const tag = sql.slice(i, j + 1);
  const e = sql.indexOf(tag, j + 1);
  return e < 0 ? n : e + tag.length;
}

function skipNumber(sql: string, i: number): number {
  const n = sql.length;
  let j = i + 1;
  while (j < n) {
    const d = sql.charCodeAt(j);
    if (isDigit(d) || d === 46 || d === 95 || (d >= 97 && d <= 122) || (d >= 65 && d <= 90)) j++;
    else if ((d === 43 || d === 45) && (sql.charCodeAt(j - 1) | 32) === 101) j++; // 1e-5
    else break;
  }
  return j;
}

// Words after which an identifier is a clause, not an alias.
const CLAUSE = new Set([
  'WHERE', 'GROUP', 'ORDER', 'LIMIT', 'OFFSET', 'HAVING', 'WINDOW', 'UNION', 'INTERSECT', 'EXCEPT', 'FOR', 'JOIN', 'INNER', 'LEFT',
  'RIGHT', 'FULL', 'CROSS', 'NATURAL', 'ON', 'USING', 'SET', 'VALUES', 'RETURNING', 'FROM', 'TO', 'WITH', 'AS', 'SELECT', 'DEFAULT',
  'LATERAL', 'TABLESAMPLE', 'FETCH', 'OUTER', 'INTO', 'DO', 'OVERRIDING', 'WHEN', 'THEN',
]);
const OBJECTS = new Set([
  'TABLE', 'INDEX', 'VIEW', 'SEQUENCE', 'SCHEMA', 'FUNCTION', 'PROCEDURE', 'DATABASE', 'EXTENSION', 'TYPE', 'TRIGGER', 'ROLE', 'USER',
  'DOMAIN', 'POLICY', 'PUBLICATION', 'SUBSCRIPTION', 'AGGREGATE', 'OPERATOR', 'RULE', 'COLLATION', 'SERVER', 'TABLESPACE',
]);
const MODIFIERS = new Set(['OR', 'REPLACE', 'TEMP', 'TEMPORARY', 'UNLOGGED', 'UNIQUE', 'MATERIALIZED', 'GLOBAL', 'LOCAL', 'RECURSIVE', 'FOREIGN', 'CONCURRENTLY']);

const isName = (t: Token | undefined): t is Token => t !== undefined && (t.t === T.Quoted || t.t === T.Word);

/** A possibly qualified name at `i`: [schema.]table. Returns the name and the index after it. */
function readName(tokens: readonly Token[], i: number, inFrom: boolean): [string, number] | undefined {
  const first = tokens[i];
  if (!isName(first) || (first.t === T.Word && CLAUSE.has(first.v))) return undefined;
  let name = first.t === T.Quoted ? first.v : first.out;
  let j = i + 1;
  while (tokens[j]?.v === '.' && isName(tokens[j + 1])) {
    const part = tokens[j + 1] as Token;
    name += '.' + (part.t === T.Quoted ? part.v : part.out);
    j += 2;
  }
  // A function call in FROM (generate_series(…)) is not a table.
  if (inFrom && tokens[j]?.v === '(') return undefined;
  return [name, j];
}

/** One statement's operation and tables. */
function describeStatement(tokens: readonly Token[]): { operation: string; tables: string[] } {
  let i = 0;
  while (tokens[i]?.v === '(') i++;
  const first = tokens[i];
  if (first === undefined || first.t !== T.Word) return { operation: '', tables: [] };
  let op = first.v;
  const tables: string[] = [];
  const add = (at: number): number => {
    const r = readName(tokens, at, op === 'SELECT' || op === 'TABLE' || op === 'VALUES');
    if (r === undefined) return at;
    if (!tables.includes(r[0]) && tables.length < 8) tables.push(r[0]);
    return r[1];
  };
  const skip = (j: number, ...words: string[]): number => {
    while (tokens[j] !== undefined && words.includes((tokens[j] as Token).v)) j++;
    return j;
  };
  if (op === 'WITH') {
    // The main statement follows the CTE list at depth 0.
    let depth = 0;
    for (let j = i + 1; j < tokens.length; j++) {
      const t = tokens[j] as Token;
      if (t.v === '(') depth++;
      else if (t.v === ')') depth--;
      else if (depth === 0 && t.t === T.Word && (t.v === 'SELECT' || t.v === 'INSERT' || t.v === 'UPDATE' || t.v === 'DELETE' || t.v === 'MERGE')) {
        return describeStatement(tokens.slice(j));
      }
    }
    return { operation: 'WITH', tables };
  }
  switch (op) {
    case 'SELECT':
    case 'TABLE':
    case 'VALUES': {
      if (op === 'TABLE') add(i + 1);
      let depth = 0;
      for (let j = i + 1; j < tokens.length; j++) {
        const t = tokens[j] as Token;
        if (t.v === '(') depth++;
        else if (t.v === ')') depth--;
        else if (depth === 0 && t.t === T.Word && (t.v === 'FROM' || t.v === 'JOIN')) {
          let k = add(skip(j + 1, 'ONLY', 'LATERAL'));
          // FROM a [AS] x, b y: every comma-separated table of the list.
          while (t.v === 'FROM') {
            if (tokens[k]?.v === 'AS') k++;
            if (isName(tokens[k]) && !CLAUSE.has((tokens[k] as Token).v)) k++;
            if (tokens[k]?.v !== ',') break;
            k = add(skip(k + 1, 'ONLY', 'LATERAL'));
          }
        }
      }
      break;
    }
    case 'INSERT':
    case 'MERGE':
      if (tokens[i + 1]?.v === 'INTO') add(i + 2);
      break;
    case 'UPDATE':
      add(skip(i + 1, 'ONLY'));
      break;
    case 'DELETE':
      if (tokens[i + 1]?.v === 'FROM') add(skip(i + 2, 'ONLY'));
      break;
    case 'COPY':
      add(i + 1);
      break;
    case 'TRUNCATE':
    case 'LOCK': {
      let k = add(skip(i + 1, 'TABLE', 'ONLY'));
      while (tokens[k]?.v === ',') k = add(skip(k + 1, 'ONLY'));
      break;
    }
    case 'CREATE':
    case 'DROP':
    case 'ALTER': {
      const j = skip(i + 1, ...MODIFIERS);
      const obj = tokens[j];
      if (obj !== undefined && obj.t === T.Word && OBJECTS.has(obj.v)) {
        op = `${op} ${obj.v}`;
        if (obj.v === 'TABLE') add(skip(j + 1, 'IF', 'NOT', 'EXISTS', 'ONLY'));
      }
      break;
    }
    case 'START':
      if (tokens[i + 1]?.v === 'TRANSACTION') op = 'START TRANSACTION';
      break;
    default:
      break;
  }
  return { operation: op, tables };
}

/** Descriptions by sanitized text: applications send few distinct query shapes. */
const CACHE_SIZE = 512;
const cache = new Map<string, StatementInfo>();

/** Everything a span may say about one Query or Parse text. */
export function describeSql(sql: string): StatementInfo {
  const text = sanitize(sql);
  let info = cache.get(text);
  if (info === undefined) {
    info = describeSanitized(text);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    cache.set(text, info);
  }
  return info;
}

function describeSanitized(text: string): StatementInfo {
  const tokens = tokenize(text);
  const parts: { operation: string; tables: string[] }[] = [];
  let start = 0;
  for (let i = 0; i <= tokens.length; i++) {
    if (i === tokens.length || (tokens[i] as Token).v === ';') {
      if (i > start && parts.length < 64) parts.push(describeStatement(tokens.slice(start, i)));
      start = i + 1;
    }
  }
  if (parts.length === 0) return { text, operation: '', summary: '', statements: 0 };
  if (parts.length === 1) {
    const p = parts[0] as { operation: string; tables: string[] };
    const summary = p.operation === '' ? '' : cap([p.operation, ...p.tables].join(' '));
    const info: StatementInfo = { text, operation: p.operation, summary, statements: 1 };
    if (p.tables.length === 1) info.collection = p.tables[0] as string;
    return info;
  }
  // Several statements in one Query: semconv's batch naming.
  const ops = new Set(parts.map((p) => p.operation));
  const only = ops.size === 1 ? (parts[0] as { operation: string }).operation : '';
  const operation = only !== '' ? `BATCH ${only}` : 'BATCH';
  const summary = cap(parts.map((p) => [p.operation || '?', ...p.tables].join(' ')).join('; '));
  const tables = new Set(parts.flatMap((p) => p.tables));
  const info: StatementInfo = { text, operation, summary, statements: parts.length };
  if (tables.size === 1) info.collection = [...tables][0] as string;
  return info;
}

function cap(s: string): string {
  return s.length > MAX_SUMMARY ? s.slice(0, MAX_SUMMARY) : s;
}

/** The command of a CommandComplete tag ("INSERT 0 5" → INSERT) and its row count. */
const tags = new Map<string, { command: string; rows?: number }>();

export function parseCommandTag(tag: string): { command: string; rows?: number } {
  let t = tags.get(tag);
  if (t === undefined) {
    t = parseTag(tag);
    if (tags.size >= 256) tags.clear();
    tags.set(tag, t);
  }
  return t;
}

function parseTag(tag: string): { command: string; rows?: number } {
  const m = /^([A-Z][A-Z ]*?)(?: (\d+))?(?: (\d+))?$/.exec(tag);
  if (m === null) return { command: tag.split(' ')[0] ?? '' };
  const command = m[1] as string;
  const n = m[3] ?? m[2];
  return n === undefined ? { command } : { command, rows: Number(n) };
}
