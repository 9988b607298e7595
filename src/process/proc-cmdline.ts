// /proc/PID/cmdline: NUL-separated arguments. Processes may rewrite their
// argv (nginx: "nginx: master process …"), so this is a hint, not the truth.
import { PROC, readProcFile } from './proc-fs.js';

/** Arguments beyond this many bytes are not read (command lines can be huge). */
export const MAX_CMDLINE_BYTES = 16 * 1024;

export function parseCmdline(raw: Buffer): string[] {
  const text = raw.toString('utf8');
  const args = text.split('\0');
  if (args.length > 0 && args[args.length - 1] === '') args.pop();
  return args;
}

export function readCmdline(pid: number, proc = PROC): string[] | undefined {
  const raw = readProcFile(`${proc}/${pid}/cmdline`, MAX_CMDLINE_BYTES);
  return raw === undefined ? undefined : parseCmdline(raw);
}
