// Which hooks the capture stands on (SocketCaptureOptions.hooks): the socket
// layer's send/receive tracepoints where this kernel has them, else the exits
// of the read/write-family syscalls (bpf/capture/socket_capture.bpf.c).
import { release } from 'node:os';
import { VMLINUX_BTF, WaggleError, missingKernelBtfNames } from '../ebpf/index.js';

export type CaptureHooks = 'socket' | 'syscalls';

/** The capture's programs on each set of hooks. */
export const SOCKET_HOOK_PROGRAMS = ['cap_sock_recv', 'cap_sock_send'];
export const SYSCALL_HOOK_PROGRAMS = ['cap_read', 'cap_recvfrom', 'cap_readv', 'cap_recvmsg', 'cap_write', 'cap_sendto', 'cap_writev', 'cap_sendmsg', 'cap_sendfile'];

// sock_sendmsg carries sendfile's bytes from 6.5 (MSG_SPLICE_PAGES replaced
// ->sendpage); before, sendfile would pass the tracepoint by unseen.
const SPLICE_THROUGH_SENDMSG: [number, number] = [6, 5];

/** Why this kernel cannot run the capture on the socket tracepoints, or undefined when it can. */
export function socketHooksMissing(kernelRelease = release(), btfPath = VMLINUX_BTF): string | undefined {
  const m = /^(\d+)\.(\d+)/.exec(kernelRelease);
  const [major, minor] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  const [wantMajor, wantMinor] = SPLICE_THROUGH_SENDMSG;
  if (major < wantMajor || (major === wantMajor && minor < wantMinor)) {
    return `kernel ${kernelRelease} is older than ${wantMajor}.${wantMinor}: sendfile does not pass the socket tracepoints there`;
  }
  // The tracepoints' BTF typedefs, which tp_btf programs attach by.
  let missing: string[];
  try {
    missing = missingKernelBtfNames(['btf_trace_sock_recv_length', 'btf_trace_sock_send_length'], btfPath);
  } catch (e) {
    return `${btfPath} could not be read (${(e as Error).message})`;
  }
  if (missing.length) return `the kernel has no sock:${missing[0]!.replace('btf_trace_', '')} tracepoint (${missing[0]} is not in ${btfPath})`;
  return undefined;
}

/** The hooks to load: 'auto' takes the socket tracepoints where the kernel has them; 'socket' throws where it has not. */
export function chooseHooks(wanted: 'auto' | CaptureHooks, missing: () => string | undefined = socketHooksMissing): CaptureHooks {
  if (wanted === 'syscalls') return 'syscalls';
  const why = missing();
  if (!why) return 'socket';
  if (wanted === 'socket') throw new WaggleError('WAGGLE_ERR_NOT_SUPPORTED', `capture hooks 'socket' are not available: ${why}`);
  return 'syscalls';
}
