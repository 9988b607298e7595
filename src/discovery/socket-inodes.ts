// Which socket inodes a process holds: /proc/PID/fd/* links "socket:[12345]".
// One readlink per fd, so callers pass a budget and scanning is bounded.
import { PROC, readProcDir, readProcLink } from '../process/proc-fs.js';

export interface Budget {
  /** readlink calls left; decremented as they are made. One process may overdraw it. */
  remaining: number;
  /** readlink calls made (counted even when the budget is unlimited). */
  reads?: number;
}

/**
 * Socket inodes of `pid` that are in `wanted` (all sockets when omitted).
 * Returns undefined if the process is gone, 'budget' if the budget ran out.
 */
export function socketInodes(pid: number, budget: Budget, wanted?: ReadonlySet<number>, proc = PROC): number[] | undefined | 'budget' {
  if (budget.remaining <= 0) return 'budget';
  const fds = readProcDir(`${proc}/${pid}/fd`);
  if (fds === undefined) return undefined;
  const found: number[] = [];
  budget.remaining -= fds.length;
  budget.reads = (budget.reads ?? 0) + fds.length;
  for (const fd of fds) {
    const link = readProcLink(`${proc}/${pid}/fd/${fd}`);
    if (link === undefined || !link.startsWith('socket:[')) continue;
    const inode = Number(link.slice(8, -1));
    if (!wanted || wanted.has(inode)) found.push(inode);
  }
  return found;
}

/** The network namespace of `pid`, e.g. "net:[4026531840]". */
export function netNamespace(pid: number | 'self', proc = PROC): string | undefined {
  return readProcLink(`${proc}/${pid}/ns/net`);
}
