// Typed errors with stable codes. Native failures arrive as plain Errors carrying
// errno, the failed operation and libbpf's output; toWaggleError() turns them into
// one of these, with a message that names what is missing or not permitted.
import { describeMissingCapabilities } from './capabilities.js';
import { missingHelperReason } from './helpers.js';

export type ErrorCode =
  | 'WAGGLE_ERR_PERMISSION'
  | 'WAGGLE_ERR_VERIFIER'
  | 'WAGGLE_ERR_NOT_FOUND'
  | 'WAGGLE_ERR_NOT_SUPPORTED'
  | 'WAGGLE_ERR_MAP_SIZE'
  | 'WAGGLE_ERR_CLOSED'
  | 'WAGGLE_ERR_INVALID_ARGUMENT'
  | 'WAGGLE_ERR_OBJECT'
  | 'WAGGLE_ERR_NATIVE_MISSING'
  | 'WAGGLE_ERR_BUSY'
  | 'WAGGLE_ERR_KERNEL';

export class WaggleError extends Error {
  readonly code: ErrorCode;
  /** Positive errno from the kernel or libbpf, when the failure came from there. */
  readonly errno: number | undefined;
  /** The failed operation, e.g. "bpf_object__load". */
  readonly syscall: string | undefined;
  /** Everything libbpf printed during the failed operation. */
  readonly libbpfLog: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    extra: { errno?: number; syscall?: string; libbpfLog?: string; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'WaggleError';
    this.code = code;
    this.errno = extra.errno;
    this.syscall = extra.syscall;
    this.libbpfLog = extra.libbpfLog || undefined;
  }
}

/** The verifier refused a program; `verifierLog` holds its whole log. */
export class VerifierError extends WaggleError {
  readonly verifierLog: string;
  readonly program: string | undefined;

  constructor(message: string, verifierLog: string, program: string | undefined, extra: ConstructorParameters<typeof WaggleError>[2]) {
    super('WAGGLE_ERR_VERIFIER', message, extra);
    this.name = 'VerifierError';
    this.verifierLog = verifierLog;
    this.program = program;
  }
}

const EPERM = 1;
const ENOENT = 2;
const ESRCH = 3;
const E2BIG = 7;
const EACCES = 13;
const EBUSY = 16;
const EEXIST = 17;
const EINVAL = 22;
const ENOSPC = 28;
const ENOTSUP = 95;
const EOPNOTSUPP = 95;
const ENOTSUPP = 524;

/** What the failed operation needed, for EPERM messages. */
export type Privilege = 'load' | 'load-tracing' | 'load-trampoline' | 'load-networking' | 'attach-perf' | 'attach-networking' | 'map';

const NEEDED: Record<Privilege, string[]> = {
  map: ['CAP_BPF'],
  load: ['CAP_BPF'],
  'load-tracing': ['CAP_BPF', 'CAP_PERFMON'],
  'load-trampoline': ['CAP_BPF', 'CAP_PERFMON', 'CAP_SYS_ADMIN'],
  'load-networking': ['CAP_BPF', 'CAP_NET_ADMIN'],
  'attach-perf': ['CAP_PERFMON'],
  'attach-networking': ['CAP_NET_ADMIN'],
};

interface NativeErrorShape {
  message: string;
  code?: string;
  errno?: number;
  syscall?: string;
  libbpfLog?: string;
  /** The failed program's log when it was loaded into its own buffer (ProgramSpec.logLevel). */
  verifierLog?: string;
}

function isNativeError(e: unknown): e is Error & NativeErrorShape {
  return e instanceof Error;
}

/** The verifier's own log, cut out of libbpf's output. */
export function extractVerifierLog(libbpfLog: string): string | undefined {
  const begin = libbpfLog.indexOf('-- BEGIN PROG LOAD LOG --');
  if (begin < 0) return undefined;
  const start = libbpfLog.indexOf('\n', begin) + 1;
  const end = libbpfLog.indexOf('-- END PROG LOAD LOG --', start);
  return libbpfLog.slice(start, end < 0 ? undefined : end).replace(/\s+$/, '');
}

/** The program libbpf was loading when it failed, from its "prog 'name': ..." lines. */
export function failedProgram(libbpfLog: string): string | undefined {
  return /prog '([^']+)': (?:BPF program load failed|-- BEGIN PROG LOAD LOG)/.exec(libbpfLog)?.[1];
}

// BPF_LOG_STATS lines, which end every log and say nothing of the refusal.
const STATS_LINE = /^(processed \d+ insns|verification time \d+|stack depth \d)/;

function tail(text: string, lines: number): string {
  const all = text.split('\n').filter((l) => l.trim() !== '');
  return all.slice(-lines).join('\n');
}

export interface ErrorContext {
  /** What was being done, in words: "loading /x.bpf.o", "attaching tracepoint syscalls/sys_enter_read". */
  action: string;
  privilege?: Privilege;
  /** For ENOENT: what was looked up, e.g. "tracepoint syscalls/sys_enter_foo". */
  missing?: string;
}

/** Converts anything thrown by the binding into a WaggleError with context. */
export function toWaggleError(e: unknown, ctx: ErrorContext): WaggleError {
  if (e instanceof WaggleError) return e;
  if (!isNativeError(e)) return new WaggleError('WAGGLE_ERR_KERNEL', `${ctx.action}: ${String(e)}`);
  if (e.code && e.code.startsWith('WAGGLE_ERR_')) {
    return new WaggleError(e.code as ErrorCode, `${ctx.action}: ${e.message}`, { cause: e });
  }
  const errno = e.errno;
  const log = e.libbpfLog ?? '';
  const extra = { errno, syscall: e.syscall, libbpfLog: log, cause: e };
  const verifierLog = e.verifierLog ?? extractVerifierLog(log);
  if (verifierLog !== undefined && errno !== EPERM) {
    const program = failedProgram(log);
    // A helper this kernel does not have is named with the release that added it.
    const reason = missingHelperReason(verifierLog) ?? tail(verifierLog.split('\n').filter((l) => !STATS_LINE.test(l)).join('\n'), 3);
    return new VerifierError(
      `${ctx.action}: the verifier rejected program${program ? ` '${program}'` : ''}: ${reason}`,
      verifierLog,
      program,
      extra,
    );
  }
  switch (errno) {
    case EPERM:
    case EACCES: {
      const needed = NEEDED[ctx.privilege ?? 'load'];
      const trampoline =
        ctx.privilege === 'load-trampoline'
          ? ' (fentry/fexit/LSM programs need BPF trampolines, and LSM programs "bpf" in /sys/kernel/security/lsm)'
          : '';
      return new WaggleError(
        'WAGGLE_ERR_PERMISSION',
        `${ctx.action}: operation not permitted (${e.syscall ?? 'bpf'}). ${describeMissingCapabilities(needed)}${trampoline}`,
        extra,
      );
    }
    case ENOENT:
    case ESRCH:
      return new WaggleError(
        'WAGGLE_ERR_NOT_FOUND',
        `${ctx.action}: ${ctx.missing ?? 'target'} not found${libbpfHint(log)}`,
        extra,
      );
    case ENOTSUP:
    case ENOTSUPP:
      return new WaggleError('WAGGLE_ERR_NOT_SUPPORTED', `${ctx.action}: not supported by this kernel${libbpfHint(log)}`, extra);
    case EBUSY:
    case EEXIST:
      return new WaggleError('WAGGLE_ERR_BUSY', `${ctx.action}: already in use${libbpfHint(log)}`, extra);
    case EINVAL:
    case E2BIG:
    case ENOSPC:
      return new WaggleError('WAGGLE_ERR_INVALID_ARGUMENT', `${ctx.action}: ${e.message}${libbpfHint(log)}`, extra);
    default:
      return new WaggleError('WAGGLE_ERR_KERNEL', `${ctx.action}: ${e.message}${libbpfHint(log)}`, extra);
  }
}

/** The last warning libbpf printed, which usually names the real cause. */
function libbpfHint(log: string): string {
  const lines = log
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('libbpf:'));
  const last = lines.at(-1);
  return last ? ` (${last})` : '';
}

export const errnoNames = { EPERM, ENOENT, EINVAL, EOPNOTSUPP, ENOTSUPP } as const;
