// Whether this kernel can run the BPF LSM programs that `deny` needs, and if
// not, the kernel's reason. Two conditions, both checked for real: "bpf" is an
// active LSM (a kernel built with CONFIG_BPF_LSM but booted without it loads
// and attaches LSM programs that are then never called), and a probe LSM
// program loads, attaches and fires (BPF trampolines, lockdown, capabilities).
import { readFileSync } from 'node:fs';
import { ensureSecurityfs } from '../../ebpf/index.js';
import { probeFeature } from '../../ebpf/features.js';

export interface LsmSupport {
  ok: boolean;
  /** Why not, in the kernel's words where it gave any. */
  reason?: string;
}

let cached: Promise<LsmSupport> | undefined;

/** Checked once per process: the answer cannot change without a reboot. */
export function bpfLsmSupport(): Promise<LsmSupport> {
  cached ??= check();
  return cached;
}

async function check(): Promise<LsmSupport> {
  const dir = ensureSecurityfs();
  if (!dir) return { ok: false, reason: 'securityfs is not mounted and cannot be, so the active LSMs are unknown' };
  let active: string;
  try {
    active = readFileSync(`${dir}/lsm`, 'utf8').trim();
  } catch (e) {
    return { ok: false, reason: `${dir}/lsm cannot be read: ${(e as Error).message}` };
  }
  if (!active.split(',').includes('bpf')) {
    return { ok: false, reason: `BPF LSM is not active: ${dir}/lsm is "${active}" (it needs CONFIG_BPF_LSM and "bpf" in the lsm= boot parameter)` };
  }
  const probe = await probeFeature('lsm');
  return probe.ok ? { ok: true } : { ok: false, reason: `a BPF LSM program cannot run here: ${probe.reason ?? 'unknown reason'}` };
}
