// /proc/PID/stat: parent, state and start time. The command name (field 2) is
// in parentheses and may itself contain spaces and parentheses, so fields are
// counted from the LAST ')'.
import { PROC, readProcText } from './proc-fs.js';

export interface ProcStat {
  pid: number;
  /** Kernel's short command name (comm), at most 15 bytes. */
  comm: string;
  state: string;
  ppid: number;
  /** Start time in clock ticks since boot: with pid, identifies a process across pid reuse. */
  startTicks: number;
  /** PF_KTHREAD set: a kernel thread, never a service. */
  kernelThread: boolean;
}

const PF_KTHREAD = 0x00200000;

export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  // Fields after comm, starting at field 3 (state).
  const rest = text.slice(close + 2).split(' ');
  const state = rest[0] ?? '';
  const ppid = Number(rest[1]);
  const flags = Number(rest[6]);
  const startTicks = Number(rest[19]);
  if (!Number.isInteger(pid) || !Number.isInteger(ppid) || !Number.isFinite(startTicks)) return undefined;
  return { pid, comm: text.slice(open + 1, close), state, ppid, startTicks, kernelThread: (flags & PF_KTHREAD) !== 0 };
}

export function readProcStat(pid: number, proc = PROC): ProcStat | undefined {
  const text = readProcText(`${proc}/${pid}/stat`, 4096);
  return text === undefined ? undefined : parseProcStat(text);
}
