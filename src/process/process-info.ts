// Everything /proc says about one process that discovery and security use,
// read in one go. Returns undefined when the process vanished mid-read, is a
// kernel thread or a zombie.
import { readCgroup } from './proc-cgroup.js';
import { readCmdline } from './proc-cmdline.js';
import { type WantedEnv, readEnviron } from './proc-environ.js';
import { PROC, readProcLink } from './proc-fs.js';
import { readProcStat } from './proc-stat.js';
import { readProcIds } from './proc-status.js';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Clock ticks since boot; (pid, startTicks) is unique across pid reuse. */
  startTicks: number;
  /** Kernel short name (15 bytes max). */
  comm: string;
  /** Resolved path of the executable (" (deleted)" stripped). */
  exePath: string;
  cmdline: readonly string[];
  cwd?: string;
  uid: number;
  gid: number;
  euid: number;
  egid: number;
  /** PID namespace depth (0: the host's). */
  pidnsLevel: number;
  /** The OTEL_* variables discovery reads from the process's initial environment. */
  env: Readonly<WantedEnv>;
  cgroupPath?: string;
  containerId?: string;
}

const DELETED = ' (deleted)';

export function readExePath(pid: number, proc = PROC): string | undefined {
  const link = readProcLink(`${proc}/${pid}/exe`);
  if (link === undefined) return undefined;
  return link.endsWith(DELETED) ? link.slice(0, -DELETED.length) : link;
}

export function readProcessInfo(pid: number, proc = PROC): ProcessInfo | undefined {
  const stat = readProcStat(pid, proc);
  if (!stat || stat.kernelThread || stat.state === 'Z' || stat.state === 'X') return undefined;
  const exePath = readExePath(pid, proc);
  const cmdline = readCmdline(pid, proc);
  const ids = readProcIds(pid, proc);
  if (exePath === undefined || cmdline === undefined || ids === undefined) return undefined;
  const info: ProcessInfo = {
    pid,
    ppid: stat.ppid,
    startTicks: stat.startTicks,
    comm: stat.comm,
    exePath,
    cmdline: Object.freeze(cmdline),
    uid: ids.uid,
    gid: ids.gid,
    euid: ids.euid,
    egid: ids.egid,
    pidnsLevel: ids.pidnsLevel,
    env: Object.freeze(readEnviron(pid, proc) ?? {}),
  };
  const cwd = readProcLink(`${proc}/${pid}/cwd`);
  if (cwd !== undefined) info.cwd = cwd;
  const cgroup = readCgroup(pid, proc);
  if (cgroup) {
    info.cgroupPath = cgroup.path;
    if (cgroup.containerId) info.containerId = cgroup.containerId;
  }
  // The pid may have been reused between the first and the last read.
  const again = readProcStat(pid, proc);
  if (!again || again.startTicks !== stat.startTicks) return undefined;
  return Object.freeze(info);
}
