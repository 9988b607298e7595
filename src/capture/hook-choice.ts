// Which hooks the capture stands on (SocketCaptureOptions.hooks): the socket
// layer's send/receive tracepoints where this kernel has them, else fexit on
// the inet layer's send and receive where it has BPF trampolines, else the
// exits of the read/write-family syscalls (bpf/capture/socket_capture.bpf.c).
import { release } from 'node:os';
import { VMLINUX_BTF, WaggleError, missingKernelBtfNames } from '../ebpf/index.js';

export type CaptureHooks = 'socket' | 'fexit' | 'syscalls';

/** The capture's programs on each set of hooks. */
export const SOCKET_HOOK_PROGRAMS = ['cap_sock_recv', 'cap_sock_send'];
export const FEXIT_HOOK_PROGRAMS = ['cap_fexit_recv', 'cap_fexit_recv6', 'cap_fexit_send', 'cap_fexit_send6'];
/** sendfile's chunks before 6.5, where they bypass sendmsg (the function is gone from 6.5). */
export const FEXIT_SENDPAGE_PROGRAM = 'cap_fexit_sendpage';
export const SYSCALL_HOOK_PROGRAMS = ['cap_read', 'cap_recvfrom', 'cap_readv', 'cap_recvmsg', 'cap_write', 'cap_sendto', 'cap_writev', 'cap_sendmsg', 'cap_sendfile'];

// sock_sendmsg carries sendfile's bytes from 6.5 (MSG_SPLICE_PAGES replaced
// ->sendpage); before, sendfile would pass the tracepoint by unseen.
const SPLICE_THROUGH_SENDMSG: [number, number] = [6, 5];

function releaseBefore(kernelRelease: string, [wantMajor, wantMinor]: [number, number]): boolean {
  const m = /^(\d+)\.(\d+)/.exec(kernelRelease);
  const [major, minor] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  return major < wantMajor || (major === wantMajor && minor < wantMinor);
}

/** The names of `names` this kernel's BTF lacks, or a reason string when it cannot be read. */
function btfLacks(names: string[], btfPath: string): string[] | string {
  try {
    return missingKernelBtfNames(names, btfPath);
  } catch (e) {
    return `${btfPath} could not be read (${(e as Error).message})`;
  }
}

/** Why this kernel cannot run the capture on the socket tracepoints, or undefined when it can. */
export function socketHooksMissing(kernelRelease = release(), btfPath = VMLINUX_BTF): string | undefined {
  if (releaseBefore(kernelRelease, SPLICE_THROUGH_SENDMSG)) {
    return `kernel ${kernelRelease} is older than ${SPLICE_THROUGH_SENDMSG.join('.')}: sendfile does not pass the socket tracepoints there`;
  }
  // The tracepoints' BTF typedefs, which tp_btf programs attach by.
  const missing = btfLacks(['btf_trace_sock_recv_length', 'btf_trace_sock_send_length'], btfPath);
  if (typeof missing === 'string') return missing;
  if (missing.length) return `the kernel has no sock:${missing[0]!.replace('btf_trace_', '')} tracepoint (${missing[0]} is not in ${btfPath})`;
  return undefined;
}

/** The fexit targets of the capture's programs on this kernel. */
export function fexitTargets(kernelRelease = release()): string[] {
  const targets = ['inet_recvmsg', 'inet6_recvmsg', 'inet_sendmsg', 'inet6_sendmsg'];
  return releaseBefore(kernelRelease, SPLICE_THROUGH_SENDMSG) ? [...targets, 'inet_sendpage'] : targets;
}

/**
 * Why this kernel's BTF rules out the fexit hooks, or undefined when it names
 * every target. Whether the kernel has BPF trampolines shows only when the
 * programs load and attach (the capture then falls back to the syscall exits).
 */
export function fexitHooksMissing(kernelRelease = release(), btfPath = VMLINUX_BTF): string | undefined {
  const missing = btfLacks(fexitTargets(kernelRelease), btfPath);
  if (typeof missing === 'string') return missing;
  if (missing.length) return `the kernel's BTF has no function ${missing.join(', ')} to attach fexit to`;
  return undefined;
}

/** Why each set of hooks cannot be used here (undefined: it can), asked only when needed. */
export interface HooksMissing {
  socket: () => string | undefined;
  fexit: () => string | undefined;
}

export const KERNEL_HOOKS_MISSING: HooksMissing = { socket: () => socketHooksMissing(), fexit: () => fexitHooksMissing() };

/** The sets of hooks to try, in order, and why the better ones were passed over. */
export interface HooksPlan {
  tries: CaptureHooks[];
  passedOver: string[];
}

/**
 * 'auto' takes the socket tracepoints where the kernel has them, else fexit
 * where its BTF names the targets, else the syscall exits; the syscall exits
 * also stand in when the better set fails to load or attach (fexit without BPF
 * trampolines). 'socket' and 'fexit' throw where the kernel lacks them.
 */
export function planHooks(wanted: 'auto' | CaptureHooks, missing: HooksMissing = KERNEL_HOOKS_MISSING): HooksPlan {
  if (wanted === 'syscalls') return { tries: ['syscalls'], passedOver: ['capture.hooks is syscalls'] };
  if (wanted !== 'fexit') {
    const why = missing.socket();
    if (!why) return { tries: wanted === 'socket' ? ['socket'] : ['socket', 'syscalls'], passedOver: [] };
    if (wanted === 'socket') throw new WaggleError('WAGGLE_ERR_NOT_SUPPORTED', `capture hooks 'socket' are not available: ${why}`);
    const fexitWhy = missing.fexit();
    if (!fexitWhy) return { tries: ['fexit', 'syscalls'], passedOver: [why] };
    return { tries: ['syscalls'], passedOver: [why, `fexit: ${fexitWhy}`] };
  }
  const why = missing.fexit();
  if (why) throw new WaggleError('WAGGLE_ERR_NOT_SUPPORTED', `capture hooks 'fexit' are not available: ${why}`);
  return { tries: ['fexit'], passedOver: ['capture.hooks is fexit'] };
}

/** Which programs each set of hooks loads (`sendpage`: the kernel has inet_sendpage to hook). */
export function hookPrograms(hooks: CaptureHooks, sendpage: boolean): string[] {
  if (hooks === 'socket') return SOCKET_HOOK_PROGRAMS;
  if (hooks === 'fexit') return sendpage ? [...FEXIT_HOOK_PROGRAMS, FEXIT_SENDPAGE_PROGRAM] : FEXIT_HOOK_PROGRAMS;
  return SYSCALL_HOOK_PROGRAMS;
}

/** Every hook program of every set, so that a load turns off the ones it does not use. */
export const ALL_HOOK_PROGRAMS = [...SOCKET_HOOK_PROGRAMS, ...FEXIT_HOOK_PROGRAMS, FEXIT_SENDPAGE_PROGRAM, ...SYSCALL_HOOK_PROGRAMS];
