// /proc/PID/status: real and effective user and group ids, and how deep the
// process's pid namespace is (NSpid lists its pid in each namespace, the
// host's first).
import { PROC, readProcText } from './proc-fs.js';

export interface ProcIds {
  uid: number;
  gid: number;
  euid: number;
  egid: number;
  /** PID namespace depth (0: the host's). */
  pidnsLevel: number;
}

const idsOf = (text: string, name: string): number[] | undefined => {
  const m = new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(text);
  return m?.[1] ? m[1].trim().split(/\s+/).map(Number) : undefined;
};

export function parseProcIds(text: string): ProcIds | undefined {
  const uids = idsOf(text, 'Uid');
  const gids = idsOf(text, 'Gid');
  if (!uids || !gids || !Number.isInteger(uids[0]) || !Number.isInteger(gids[0])) return undefined;
  const nspid = idsOf(text, 'NSpid') ?? [];
  return { uid: uids[0]!, gid: gids[0]!, euid: uids[1] ?? uids[0]!, egid: gids[1] ?? gids[0]!, pidnsLevel: Math.max(0, nspid.length - 1) };
}

export function readProcIds(pid: number, proc = PROC): ProcIds | undefined {
  const text = readProcText(`${proc}/${pid}/status`, 8192);
  return text === undefined ? undefined : parseProcIds(text);
}
