// Kernel filesystems BPF needs: tracefs for tracepoint attachment by name, bpffs
// for pinning, cgroup2 for cgroup programs. Fresh machines here mount neither of
// the first two; the agent mounts them (as root) or says exactly what is missing.
// debugfs matters only as another way to tracefs: it holds an automounted tracefs
// at tracing/ (libbpf itself prefers /sys/kernel/debug/tracing when it exists),
// containers often get the host's debugfs but may not mount anything, and before
// Linux 4.1 there is no /sys/kernel/tracing at all.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeMissingCapabilities } from './capabilities.js';
import { WaggleError, toWaggleError } from './errors.js';
import { native } from './native.js';

const EPERM = 1;
const EACCES = 13;

interface MountEntry {
  source: string;
  target: string;
  fstype: string;
}

export function readMounts(): MountEntry[] {
  const text = readFileSync('/proc/self/mounts', 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [source = '', target = '', fstype = ''] = line.split(' ');
      return { source, target: target.replace(/\\040/g, ' '), fstype };
    });
}

function findMount(fstype: string, preferred?: string): string | undefined {
  const mounts = readMounts().filter((m) => m.fstype === fstype);
  return (mounts.find((m) => m.target === preferred) ?? mounts[0])?.target;
}

function ensureMounted(fstype: string, target: string, purpose: string): string {
  const existing = findMount(fstype, target);
  if (existing) return existing;
  if (!existsSync(target)) {
    throw new WaggleError('WAGGLE_ERR_NOT_FOUND', `${fstype} is not mounted and ${target} does not exist; ${purpose}`);
  }
  try {
    native().mount(fstype, target, fstype);
  } catch (e) {
    const errno = (e as { errno?: number }).errno;
    if (errno === EPERM || errno === EACCES) {
      // Not a BPF privilege: mount(2) wants CAP_SYS_ADMIN (in the mount namespace's user namespace).
      throw new WaggleError('WAGGLE_ERR_PERMISSION', `${fstype} is not mounted and mounting it at ${target} was refused (${purpose}). ${describeMissingCapabilities(['CAP_SYS_ADMIN'])}`, { errno, cause: e });
    }
    throw toWaggleError(e, { action: `mounting ${fstype} at ${target} (${purpose})`, missing: target });
  }
  return target;
}

const TRACEFS = '/sys/kernel/tracing';
const DEBUGFS = '/sys/kernel/debug';
const TRACEFS_PURPOSE = 'libbpf needs it to attach tracepoints';

/** tracing/ of a mounted debugfs, when it has events (reading it mounts tracefs there). */
function tracingInDebugfs(): string | undefined {
  const debugfs = findMount('debugfs', DEBUGFS);
  const tracing = debugfs && join(debugfs, 'tracing');
  return tracing && existsSync(join(tracing, 'events')) ? tracing : undefined;
}

/**
 * A tracefs to attach tracepoints through; returns its path. In order: a mounted
 * tracefs, the one inside a mounted debugfs, tracefs mounted at /sys/kernel/tracing,
 * then debugfs mounted at /sys/kernel/debug (kernels before 4.1, or where only
 * that mount is allowed). The error names every way tried.
 */
export function ensureTracefs(): string {
  const mounted = findMount('tracefs', TRACEFS) ?? tracingInDebugfs();
  if (mounted) return mounted;
  let tracefsError: WaggleError | undefined;
  try {
    return ensureMounted('tracefs', TRACEFS, TRACEFS_PURPOSE);
  } catch (e) {
    tracefsError = toWaggleError(e, { action: `mounting tracefs at ${TRACEFS}` });
  }
  try {
    ensureDebugfs();
  } catch {
    throw tracefsError; // the first way is the one to fix
  }
  const tracing = tracingInDebugfs();
  if (tracing) return tracing;
  throw new WaggleError('WAGGLE_ERR_NOT_FOUND', `${tracefsError.message}; debugfs at ${DEBUGFS} has no tracing/events either (CONFIG_FTRACE off?)`);
}

/** Mounts debugfs at /sys/kernel/debug when none is mounted; returns its path. */
export function ensureDebugfs(): string {
  return ensureMounted('debugfs', DEBUGFS, 'older kernels keep tracefs inside it');
}

/** Where debugfs is mounted, if anywhere (doctor reports it; nothing mounts it unless tracefs cannot be had). */
export function debugfsPath(): string | undefined {
  return findMount('debugfs', DEBUGFS);
}

/** Mounts bpffs at /sys/fs/bpf when none is mounted; returns its path. */
export function ensureBpffs(): string {
  return ensureMounted('bpf', '/sys/fs/bpf', 'pinning BPF objects needs it');
}

/** Mounts securityfs (where the lockdown mode is read) when missing; returns its path or undefined. */
export function ensureSecurityfs(): string | undefined {
  try {
    return ensureMounted('securityfs', '/sys/kernel/security', 'the lockdown mode is read from it');
  } catch {
    return undefined;
  }
}

/** The cgroup v2 mount point, if any (hybrid hosts mount it at /sys/fs/cgroup/unified). */
export function cgroup2Path(): string | undefined {
  return findMount('cgroup2', '/sys/fs/cgroup');
}
