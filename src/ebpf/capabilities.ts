// Capabilities held by this process, read from /proc/self/status, so that a
// permission failure can say which capability is missing.
import { readFileSync } from 'node:fs';

// Bit numbers from linux/capability.h.
const CAPABILITY_BITS: Record<string, number> = {
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_KILL: 5,
  CAP_SETUID: 7,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_SYS_MODULE: 16,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_RESOURCE: 24,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
};

/** Names of the capabilities above that are in this process's effective set. */
export function effectiveCapabilities(statusText?: string): Set<string> {
  let text = statusText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/status', 'utf8');
    } catch {
      return new Set();
    }
  }
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(text)?.[1];
  if (!hex) return new Set();
  const mask = BigInt(`0x${hex}`);
  const held = new Set<string>();
  for (const [name, bit] of Object.entries(CAPABILITY_BITS)) {
    if ((mask >> BigInt(bit)) & 1n) held.add(name);
  }
  return held;
}

export const capabilityNames = Object.keys(CAPABILITY_BITS);

/** A sentence for EPERM messages: what is needed, what is missing. */
export function describeMissingCapabilities(needed: string[]): string {
  const held = effectiveCapabilities();
  // CAP_SYS_ADMIN implies CAP_BPF and CAP_PERFMON on kernels that predate them.
  const missing = needed.filter((c) => !held.has(c) && !(held.has('CAP_SYS_ADMIN') && (c === 'CAP_BPF' || c === 'CAP_PERFMON')));
  if (missing.length > 0) {
    return `This needs ${needed.join(' and ')}; missing: ${missing.join(', ')} (run as root or grant them, e.g. setcap or --cap-add).`;
  }
  return `This needs ${needed.join(' and ')}, which ${needed.length > 1 ? 'are' : 'is'} held, so the kernel refused for another reason: kernel lockdown, a program type this kernel does not allow, or a security module.`;
}
