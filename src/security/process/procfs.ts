// Processes that existed before the agent started, read from /proc so that
// their later events (and their children's) have a binary and a parent.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** USER_HZ: /proc start times are in these ticks on every Linux architecture waggle runs on. */
export const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcfsProcess {
  pid: number;
  ppid: number;
  /** Start time since boot, in nanoseconds (tick resolution). */
  startNs: bigint;
  binary: string;
  arguments: string[];
  cwd: string;
  uid: number;
  gid: number;
  euid: number;
  egid: number;
  cgroup: string;
  /** PID namespace depth (0: the host's). */
  pidnsLevel: number;
}

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

const link = (path: string): string | undefined => {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
};

/** One process, or undefined when it is gone or a kernel thread (no executable). */
export function readProcess(pid: number, root = '/proc'): ProcfsProcess | undefined {
  const dir = `${root}/${pid}`;
  const binary = link(`${dir}/exe`);
  const stat = read(`${dir}/stat`);
  const status = read(`${dir}/status`);
  if (!binary || !stat || !status) return undefined;
  // Fields after the command name, which may itself hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(fields[1]);
  const startTicks = BigInt(fields[19] ?? '0');
  const ids = (name: string): number[] => {
    const m = new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(status);
    return m?.[1] ? m[1].trim().split(/\s+/).map(Number) : [];
  };
  const [uid = 0, euid = 0] = ids('Uid');
  const [gid = 0, egid = 0] = ids('Gid');
  const nspid = ids('NSpid');
  const cmdline = read(`${dir}/cmdline`) ?? '';
  const argv = cmdline.split('\0');
  if (argv[argv.length - 1] === '') argv.pop();
  const cgroupLine = (read(`${dir}/cgroup`) ?? '').split('\n').find((l) => l.startsWith('0::')) ?? '';
  const cgroupPath = cgroupLine.slice(3);
  return {
    pid,
    ppid,
    startNs: (startTicks * 1_000_000_000n) / BigInt(CLOCK_TICKS_PER_SECOND),
    binary,
    arguments: argv.slice(1),
    cwd: link(`${dir}/cwd`) ?? '',
    uid,
    gid,
    euid,
    egid,
    cgroup: cgroupPath === '/' ? '' : (cgroupPath.split('/').pop() ?? ''),
    pidnsLevel: Math.max(0, nspid.length - 1),
  };
}

/** Every user process now running, parents before children. */
export function listProcesses(root = '/proc'): ProcfsProcess[] {
  const pids = readdirSync(root)
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
  const procs = pids.map((p) => readProcess(p, root)).filter((p): p is ProcfsProcess => p !== undefined);
  return procs.sort((a, b) => (a.startNs === b.startNs ? a.pid - b.pid : a.startNs < b.startNs ? -1 : 1));
}
