// /proc/PID/net/tcp and tcp6: the TCP sockets of the process's network
// namespace. Only LISTEN sockets are kept, as (inode, port), and reading stops
// where they end.
import { closeSync, openSync, readSync } from 'node:fs';
import { PROC, isGone } from '../process/proc-fs.js';

export interface ListeningSocket {
  inode: number;
  port: number;
}

const TCP_LISTEN = '0A';

/**
 * Parses the table text; malformed lines are skipped. Returns false once a
 * line in another state is met: the kernel lists listening sockets first
 * (listening hash, then established hash), so nothing after it can be LISTEN.
 */
export function parseListeningSockets(text: string, out: ListeningSocket[] = [], skipHeader = true): boolean {
  let start = skipHeader ? text.indexOf('\n') + 1 : 0;
  if (skipHeader && start === 0) return true;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    // "  sl  local_address rem_address   st tx_queue:rx_queue tr:tm->when retrnsmt   uid  timeout inode"
    const f = text.slice(start, end).trim().split(/\s+/);
    start = end + 1;
    if (f.length < 10) continue;
    if (f[3] !== TCP_LISTEN) return false;
    const local = f[1]!;
    const colon = local.lastIndexOf(':');
    if (colon < 0) continue;
    const port = parseInt(local.slice(colon + 1), 16);
    const inode = Number(f[9]);
    if (port > 0 && Number.isInteger(inode) && inode > 0) out.push({ inode, port });
  }
  return true;
}

const chunk = Buffer.allocUnsafe(32 * 1024);

/**
 * Reads one table up to its first non-LISTEN line. The kernel generates the
 * text as it is read, so a host with 100,000 TIME_WAIT sockets costs no more
 * than one with none. Undefined when the file (or the process) is gone.
 */
function readListeners(path: string, out: ListeningSocket[]): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if (isGone(e)) return false;
    throw e;
  }
  try {
    let carry = '';
    let header = true;
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
      } catch (e) {
        if (isGone(e)) return true;
        throw e;
      }
      if (n === 0) {
        if (carry) parseListeningSockets(carry, out, header);
        return true;
      }
      const text = carry + chunk.toString('latin1', 0, n);
      const lastNewline = text.lastIndexOf('\n');
      carry = text.slice(lastNewline + 1);
      if (!parseListeningSockets(text.slice(0, lastNewline + 1), out, header)) return true;
      header = false;
    }
  } finally {
    closeSync(fd);
  }
}

/** Reads both tables (IPv4 and IPv6) as seen from `pid`'s network namespace. */
export function readListeningSockets(pid: number | 'self', proc = PROC): ListeningSocket[] | undefined {
  const out: ListeningSocket[] = [];
  const v4 = readListeners(`${proc}/${pid}/net/tcp`, out);
  const v6 = readListeners(`${proc}/${pid}/net/tcp6`, out);
  return v4 || v6 ? out : undefined;
}
