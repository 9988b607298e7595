// Kernel filesystems BPF needs: tracefs for tracepoint attachment by name, bpffs
// for pinning, cgroup2 for cgroup programs. Fresh machines here mount neither of
// the first two; the agent mounts them (as root) or says exactly what is missing.
import { existsSync, readFileSync } from 'node:fs';
import { WaggleError, toWaggleError } from './errors.js';
import { native } from './native.js';

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
    throw toWaggleError(e, { action: `mounting ${fstype} at ${target} (${purpose})`, privilege: 'load', missing: target });
  }
  return target;
}

/** Mounts tracefs at /sys/kernel/tracing when no tracefs is mounted; returns its path. */
export function ensureTracefs(): string {
  return ensureMounted('tracefs', '/sys/kernel/tracing', 'libbpf needs it to attach tracepoints (mount needs CAP_SYS_ADMIN)');
}

/** Mounts bpffs at /sys/fs/bpf when none is mounted; returns its path. */
export function ensureBpffs(): string {
  return ensureMounted('bpf', '/sys/fs/bpf', 'pinning BPF objects needs it (mount needs CAP_SYS_ADMIN)');
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
