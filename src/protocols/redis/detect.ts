// Is a connection's first chunk Redis, and from which side? A command array
// ("*N\r\n$") whose first element is a command-like word is Redis on any port;
// inline commands ("PING\r\n") and replies (a connection joined midway) only
// with the port hint, since their first bytes alone are too common.
import type { DetectInput, Role } from '../module.js';
import { isCommandWord, looksLikeStart, parseIntBytes, T } from './resp.js';

export const REDIS_PORTS = [6379] as const;

export function detectRedis({ chunk, localPort, remotePort }: DetectInput): Role | undefined {
  const head = chunk.head;
  if (head.length < 3) return undefined;
  const serverLocal = REDIS_PORTS.includes(localPort as 6379);
  const serverRemote = REDIS_PORTS.includes(remotePort as 6379);
  // Who wrote these bytes: a command's writer is the client, a reply's the server.
  const commandSide = (): Role => (chunk.direction === 'out' ? 'client' : 'server');
  const replySide = (): Role => (chunk.direction === 'out' ? 'server' : 'client');
  if (head[0] === T.array && isCommandArray(head)) {
    // Without a port hint an array is taken for a command (a client's first write);
    // with one, the port says who is who (an array read from port 6379 is a reply).
    if (serverRemote && !serverLocal) return 'client';
    if (serverLocal && !serverRemote) return 'server';
    return commandSide();
  }
  if (!serverLocal && !serverRemote) return undefined;
  const nl = head.indexOf(10);
  if (nl < 0) return undefined;
  // Commands flow towards the port, replies away from it.
  const towardsPort = (chunk.direction === 'out') === serverRemote;
  if (towardsPort) {
    const end = head[nl - 1] === 13 ? nl - 1 : nl;
    return isCommandWord(head, 0, end) ? commandSide() : undefined;
  }
  return looksLikeStart(head, false) ? replySide() : undefined;
}

/** "*N\r\n$L\r\nWORD": an array whose first element is a bulk string of command letters. */
function isCommandArray(head: Uint8Array): boolean {
  const nl = head.indexOf(10);
  if (nl < 2 || head[nl - 1] !== 13) return false;
  const n = parseIntBytes(head, 1, nl - 1);
  if (!(n >= 1 && n < 2 ** 20)) return false;
  let i = nl + 1;
  if (head[i] !== T.bulk) return false;
  const nl2 = head.indexOf(10, i);
  if (nl2 < 0 || head[nl2 - 1] !== 13) return false;
  const len = parseIntBytes(head, i + 1, nl2 - 1);
  if (!(len >= 1 && len <= 32)) return false;
  i = nl2 + 1;
  const end = Math.min(head.length, i + len);
  if (end <= i) return false;
  for (let j = i; j < end; j++) {
    const c = head[j]! | 0x20;
    if (!((c >= 0x61 && c <= 0x7a) || (j > i && (head[j] === 0x5f || head[j] === 0x2d || head[j] === 0x2e || (head[j]! >= 0x30 && head[j]! <= 0x39))))) return false;
  }
  return true;
}
