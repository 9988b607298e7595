// Facts about the host kernel that decide what BPF can do here, read from the
// kernel's own files.
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { effectiveCapabilities } from './capabilities.js';
import { cgroup2Path, ensureBpffs, ensureSecurityfs, ensureTracefs } from './mounts.js';
import { native } from './native.js';

export interface HostFacts {
  kernelRelease: string;
  btf: boolean;
  /** none | integrity | confidentiality, or undefined when securityfs is unavailable */
  lockdown: string | undefined;
  /** Active Linux security modules, in order. */
  lsm: string[];
  capabilities: string[];
  tracefs: string | undefined;
  bpffs: string | undefined;
  cgroup2: string | undefined;
  perfEventParanoid: number | undefined;
  jitEnabled: boolean | undefined;
  unprivilegedBpfDisabled: number | undefined;
  libbpf: string;
  possibleCpus: number;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function readInt(path: string): number | undefined {
  const t = readText(path);
  return t === undefined ? undefined : Number.parseInt(t, 10);
}

function tryMount(fn: () => string): string | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/** Reads host facts; mounts tracefs, bpffs and securityfs when missing (as root), as the agent would. */
export function readHostFacts(): HostFacts {
  const securityfs = ensureSecurityfs();
  const lockdownText = securityfs ? readText(`${securityfs}/lockdown`) : undefined;
  const versions = native().versions();
  const jit = readInt('/proc/sys/net/core/bpf_jit_enable');
  return {
    kernelRelease: release(),
    btf: existsSync('/sys/kernel/btf/vmlinux'),
    lockdown: lockdownText ? (/\[(\w+)\]/.exec(lockdownText)?.[1] ?? lockdownText) : undefined,
    lsm: securityfs ? (readText(`${securityfs}/lsm`) ?? '').split(',').filter(Boolean) : [],
    capabilities: [...effectiveCapabilities()].sort(),
    tracefs: tryMount(ensureTracefs),
    bpffs: tryMount(ensureBpffs),
    cgroup2: cgroup2Path(),
    perfEventParanoid: readInt('/proc/sys/kernel/perf_event_paranoid'),
    jitEnabled: jit === undefined ? undefined : jit > 0,
    unprivilegedBpfDisabled: readInt('/proc/sys/kernel/unprivileged_bpf_disabled'),
    libbpf: versions.libbpf,
    possibleCpus: versions.possibleCpus,
  };
}
