// `deny` needs BPF LSM. On a kernel without it a policy that denies is refused,
// naming the policy, the field and the kernel's reason, unless the policy itself
// asks for a fallback (spec.denyFallback: sigkill): then its deny selectors
// become sigkill, which is said once per policy. Nothing pretends to deny.
import { PolicyError, type LoadedPolicy } from './load.js';

export interface DenyResolution {
  policies: LoadedPolicy[];
  /** One per policy that falls back to sigkill. */
  fallbacks: string[];
}

const denySelectors = (p: LoadedPolicy): number[] =>
  p.policy.spec.selectors.flatMap((s, i) => (s.action === 'deny' ? [i] : []));

/** The policies to compile, given whether the kernel can deny (`reason` when it cannot). */
export function resolveDeny(policies: readonly LoadedPolicy[], support: { ok: boolean; reason?: string }): DenyResolution {
  if (support.ok) return { policies: [...policies], fallbacks: [] };
  const issues: string[] = [];
  const fallbacks: string[] = [];
  const out = policies.map((p) => {
    const denying = denySelectors(p);
    if (denying.length === 0) return p;
    const name = p.policy.metadata.name;
    const fields = denying.map((i) => `spec.selectors[${i}].action`).join(', ');
    if (p.policy.spec.denyFallback !== 'sigkill') {
      issues.push(
        `${p.source}: ${fields}: policy ${name} asks for deny, which this kernel cannot do: ${support.reason ?? 'BPF LSM is unavailable'} ` +
          `(set spec.denyFallback: sigkill to kill the process when the system call returns instead)`,
      );
      return p;
    }
    fallbacks.push(
      `${p.source}: ${fields}: policy ${name} falls back from deny to sigkill (spec.denyFallback): this kernel cannot deny (${support.reason ?? 'BPF LSM is unavailable'}), ` +
        `so the operation completes and the process is killed when the system call returns`,
    );
    const selectors = p.policy.spec.selectors.map((s) => (s.action === 'deny' ? { ...s, action: 'sigkill' as const } : s));
    return { ...p, policy: { ...p.policy, spec: { ...p.policy.spec, selectors } } };
  });
  if (issues.length > 0) throw new PolicyError(issues);
  return { policies: out, fallbacks };
}
