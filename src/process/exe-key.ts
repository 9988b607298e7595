// An executable's identity as the kernel's BPF side reads it (inode->i_sb->s_dev,
// inode->i_ino), from user space: stat(2) gives st_dev in the "new" encoding
// (major in bits 8–19, minor in bits 0–7 and 20–31); the kernel's dev_t is
// major << 20 | minor.
import { statSync } from 'node:fs';
import { PROC } from './proc-fs.js';
import type { ExeKey } from './process-table.js';

export function kernelDev(statDev: number): number {
  const major = Math.floor(statDev / 256) & 0xfff;
  const minor = (statDev & 0xff) | (Math.floor(statDev / 4096) & 0xfff00);
  return major * 1048576 + minor;
}

/** The file at `path` (symbolic links followed), or undefined when it cannot be stat'd. */
export function exeKeyOfPath(path: string): ExeKey | undefined {
  try {
    const st = statSync(path);
    return st.isFile() ? { dev: kernelDev(st.dev), ino: st.ino } : undefined;
  } catch {
    return undefined;
  }
}

/** The executable a running process runs (/proc/PID/exe). */
export function readExeKey(pid: number, proc = PROC): ExeKey | undefined {
  return exeKeyOfPath(`${proc}/${pid}/exe`);
}
