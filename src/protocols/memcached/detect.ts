// Is a connection's first chunk memcached's text protocol, and from which
// side? A command line of the protocol's exact shape ("set k 0 0 5\r\n",
// "get a b\r\n") is memcached on any port but Redis'; with the port hint
// (11211) any known command or reply line is (a connection joined midway).
import type { DetectInput, Role } from '../module.js';
import { parseCommand } from './commands.js';
import { startsCommand, startsReply } from './parser.js';

export const MEMCACHED_PORTS = [11211] as const;

/** Lines whose shape alone says memcached (redis' inline "get k" is ruled out by its port). */
const STRICT = [
  /^(set|add|replace|append|prepend) \S{1,250} \d+ -?\d+ \d+( noreply)?$/,
  /^cas \S{1,250} \d+ -?\d+ \d+ \d+( noreply)?$/,
  /^gets? \S{1,250}( \S{1,250})*$/,
  /^gats? -?\d+( \S{1,250})+$/,
  /^(incr|decr) \S{1,250} \d+( noreply)?$/,
  /^delete \S{1,250}( noreply)?$/,
  /^touch \S{1,250} -?\d+( noreply)?$/,
  /^(version|stats|flush_all|mn)$/,
  /^m[gsda] \S{1,250}( \S+)*$/,
];

export function detectMemcached({ chunk, localPort, remotePort }: DetectInput): Role | undefined {
  const head = chunk.head;
  if (head.length < 3) return undefined;
  const commandSide = (): Role => (chunk.direction === 'out' ? 'client' : 'server');
  const replySide = (): Role => (chunk.direction === 'out' ? 'server' : 'client');
  const serverLocal = localPort === 11211;
  const serverRemote = remotePort === 11211;
  if (!serverLocal && !serverRemote) {
    if (localPort === 6379 || remotePort === 6379) return undefined;
    const nl = head.indexOf(10);
    if (nl < 1 || head[nl - 1] !== 13) return undefined;
    const line = Buffer.from(head.buffer, head.byteOffset, nl - 1).toString('latin1');
    if (!parseCommand(line) || !STRICT.some((re) => re.test(line))) return undefined;
    return commandSide();
  }
  const towardsPort = (chunk.direction === 'out') === serverRemote;
  if (towardsPort) return startsCommand(head) ? commandSide() : undefined;
  return startsReply(head) ? replySide() : undefined;
}
