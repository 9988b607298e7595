// What a Redis command is called in telemetry, and its text with every
// argument as `?` (so AUTH's and HELLO's credentials, keys and values never
// leave the module).

/** Commands whose first argument is a subcommand: "CLIENT SETNAME", "CONFIG GET" (Redis 7's container commands). */
const CONTAINERS = new Set([
  'ACL', 'CLIENT', 'CLUSTER', 'COMMAND', 'CONFIG', 'FUNCTION', 'LATENCY', 'MEMORY', 'MODULE', 'OBJECT', 'PUBSUB', 'SCRIPT', 'SLOWLOG', 'XGROUP', 'XINFO',
]);

/** `?`s written in db.query.text before it is cut with "…" (MSET of a thousand keys stays short). */
const MAX_PLACEHOLDERS = 32;

export interface Command {
  /** db.operation.name: "SET", "CLIENT SETNAME". Empty when the first word is not a command name. */
  name: string;
  /** db.query.text: "SET ? ?". */
  text: string;
}

/** Commands described so far, by their words and count (clients repeat a handful of shapes). */
const cache = new Map<string, Command>();
const CACHE_MAX = 512;

/** A command from its first words and its word count (command name included). */
export function describeCommand(words: readonly string[], count: number): Command {
  const first = words[0] ?? '';
  const key = CONTAINERS.has(first.toUpperCase()) ? `${first} ${words[1] ?? ''} ${count}` : `${first} ${count}`;
  let cmd = cache.get(key);
  if (cmd === undefined) {
    cmd = describe(words, count);
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(key, cmd);
  }
  return cmd;
}

function describe(words: readonly string[], count: number): Command {
  const first = words[0] ?? '';
  if (!isName(first)) return { name: '', text: '' };
  let name = first.toUpperCase();
  let args = count - 1;
  const sub = words[1];
  if (CONTAINERS.has(name) && sub !== undefined && args > 0 && isName(sub)) {
    name = `${name} ${sub.toUpperCase()}`;
    args--;
  }
  return { name, text: withPlaceholders(name, args) };
}

function withPlaceholders(name: string, args: number): string {
  const n = Math.max(0, Math.min(args, MAX_PLACEHOLDERS));
  return name + ' ?'.repeat(n) + (args > MAX_PLACEHOLDERS ? ' …' : '');
}

/** Command names are letters (and '-', '_', '|', digits after the first: "GEORADIUS_RO", "FT.SEARCH" from modules). */
function isName(w: string): boolean {
  return w.length > 0 && w.length <= 32 && /^[A-Za-z][A-Za-z0-9_.|-]*$/.test(w);
}

/** An error reply's code: its first word when it is upper-case ("ERR", "WRONGTYPE", "NOAUTH"), else "ERR". */
export function errorCode(text: string): string {
  const m = /^([A-Z][A-Z0-9_]{0,31})(?: |$)/.exec(text);
  return m ? m[1]! : 'ERR';
}
