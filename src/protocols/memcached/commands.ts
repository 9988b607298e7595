// The memcached text protocol's commands (classic and meta), as the parser
// needs them: how the reply is framed, how long the data block is, whether a
// reply comes at all, and the text telemetry shows (every argument as `?`).

/** How a command's reply ends. */
export const enum Reply {
  /** One line (STORED, DELETED, a number, OK, VERSION …, HD, EN, MN …), or a VA line with its block (meta). */
  Line,
  /** VALUE lines with blocks, then END (get, gets, gat, gats). */
  Values,
  /** STAT/ITEM lines, then END (stats, lru_crawler metadump); any other single line ends it too (stats reset: RESET). */
  Stats,
  /** No reply: noreply, quit. */
  None,
}

export interface Command {
  /** db.operation.name: the command word as sent ("get", "set", "mg"); '' for an empty line. */
  name: string;
  text: string;
  reply: Reply;
  /** Data block length that follows the line (storage commands, ms); -1: none. */
  block: number;
  /** Keys of a retrieval command (multi-get). */
  keys: number;
  /** A meta command in quiet mode (flag q): its usual reply is suppressed. */
  quiet: boolean;
}

const RETRIEVAL = new Set(['get', 'gets']);
const RETRIEVAL_TOUCH = new Set(['gat', 'gats']);
const STORAGE = new Set(['set', 'add', 'replace', 'append', 'prepend']);
const NOREPLY_ABLE = new Set(['set', 'add', 'replace', 'append', 'prepend', 'cas', 'delete', 'incr', 'decr', 'touch', 'flush_all', 'verbosity', 'cache_memlimit']);
const META = new Set(['mg', 'ms', 'md', 'ma', 'mn', 'me']);

export const KNOWN = new Set([...RETRIEVAL, ...RETRIEVAL_TOUCH, ...STORAGE, ...NOREPLY_ABLE, ...META, 'stats', 'version', 'quit', 'shutdown', 'slabs', 'lru_crawler', 'lru', 'watch', 'misbehave']);

const MAX_PLACEHOLDERS = 32;
const MAX_BLOCK = 2 ** 31;

function placeholders(name: string, args: readonly string[]): string {
  const shown = args.slice(0, MAX_PLACEHOLDERS).map((a) => (a === 'noreply' ? a : '?'));
  return [name, ...shown].join(' ') + (args.length > MAX_PLACEHOLDERS ? ' …' : '');
}

function count(s: string | undefined): number {
  return s !== undefined && /^\d{1,10}$/.test(s) ? Number(s) : -1;
}

/**
 * A command line (without CRLF), or undefined when it is not one: binary,
 * control bytes, or a first word that is not a lower-case word.
 */
export function parseCommand(line: string): Command | undefined {
  if (/[\x00-\x08\x0a-\x1f\x7f-\xff]/.test(line)) return undefined;
  const words = line.split(/[ \t]+/).filter((w) => w.length > 0);
  const name = words[0] ?? '';
  if (name === '') return { name: '', text: '', reply: Reply.Line, block: -1, keys: 0, quiet: false };
  if (!/^[a-z][a-z_]{0,31}$/.test(name)) return undefined;
  const args = words.slice(1);
  const cmd: Command = { name, text: placeholders(name, args), reply: Reply.Line, block: -1, keys: 0, quiet: false };
  if (RETRIEVAL.has(name)) {
    cmd.reply = Reply.Values;
    cmd.keys = args.length;
  } else if (RETRIEVAL_TOUCH.has(name)) {
    cmd.reply = Reply.Values;
    cmd.keys = Math.max(0, args.length - 1);
  } else if (STORAGE.has(name) || name === 'cas') {
    // A bad bytes field is answered CLIENT_ERROR without a block.
    const want = name === 'cas' ? 5 : 4;
    const bytes = count(args[3]);
    if (args.length >= want && bytes >= 0 && bytes < MAX_BLOCK) cmd.block = bytes;
  } else if (name === 'ms') {
    const bytes = count(args[1]);
    if (bytes >= 0 && bytes < MAX_BLOCK) cmd.block = bytes;
  } else if (name === 'stats' || (name === 'lru_crawler' && args[0] === 'metadump')) {
    cmd.reply = Reply.Stats;
  } else if (name === 'quit') {
    cmd.reply = Reply.None;
  }
  if (NOREPLY_ABLE.has(name) && args[args.length - 1] === 'noreply') cmd.reply = Reply.None;
  if (META.has(name) && name !== 'mn') cmd.quiet = args.slice(1).includes('q');
  return cmd;
}

/** A reply line's error code: ERROR, CLIENT_ERROR, SERVER_ERROR; else undefined. */
export function replyError(word: string): string | undefined {
  if (word === 'ERROR' || word.startsWith('ERROR:')) return 'ERROR';
  if (word === 'CLIENT_ERROR' || word === 'SERVER_ERROR') return word;
  return undefined;
}
