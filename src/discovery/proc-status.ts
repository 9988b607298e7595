// /proc/PID/status: real user and group ids.
import { PROC, readProcText } from './proc-fs.js';

export interface ProcIds {
  uid: number;
  gid: number;
}

export function parseProcIds(text: string): ProcIds | undefined {
  const uid = /^Uid:\s+(\d+)/m.exec(text);
  const gid = /^Gid:\s+(\d+)/m.exec(text);
  if (!uid || !gid) return undefined;
  return { uid: Number(uid[1]), gid: Number(gid[1]) };
}

export function readProcIds(pid: number, proc = PROC): ProcIds | undefined {
  const text = readProcText(`${proc}/${pid}/status`, 8192);
  return text === undefined ? undefined : parseProcIds(text);
}
