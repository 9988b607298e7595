// /proc/PID/net/tcp and tcp6: the TCP sockets of the process's network
// namespace. Only LISTEN sockets are kept, as (inode, port).
import { PROC, readProcText } from './proc-fs.js';

export interface ListeningSocket {
  inode: number;
  port: number;
}

const TCP_LISTEN = '0A';

/** Parses the table text; malformed lines are skipped. */
export function parseListeningSockets(text: string, out: ListeningSocket[] = []): ListeningSocket[] {
  let start = text.indexOf('\n') + 1; // skip the header line
  while (start > 0 && start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    // "  sl  local_address rem_address   st tx_queue:rx_queue tr:tm->when retrnsmt   uid  timeout inode"
    const f = text.slice(start, end).trim().split(/\s+/);
    start = end + 1;
    if (f[3] !== TCP_LISTEN) continue;
    const local = f[1];
    const colon = local?.lastIndexOf(':') ?? -1;
    if (!local || colon < 0) continue;
    const port = parseInt(local.slice(colon + 1), 16);
    const inode = Number(f[9]);
    if (port > 0 && Number.isInteger(inode) && inode > 0) out.push({ inode, port });
  }
  return out;
}

/** Reads both tables (IPv4 and IPv6) as seen from `pid`'s network namespace. */
export function readListeningSockets(pid: number | 'self', proc = PROC): ListeningSocket[] | undefined {
  const v4 = readProcText(`${proc}/${pid}/net/tcp`, 64 * 1024 * 1024);
  const v6 = readProcText(`${proc}/${pid}/net/tcp6`, 64 * 1024 * 1024);
  if (v4 === undefined && v6 === undefined) return undefined;
  const out: ListeningSocket[] = [];
  if (v4) parseListeningSockets(v4, out);
  if (v6) parseListeningSockets(v6, out);
  return out;
}
