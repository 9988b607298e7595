// How the agent configures each of its objects before load, for the budget:
// load-time constants (.rodata) decide what the verifier prunes, so an object
// loaded with its defaults can verify far less code than the agent runs. Each
// object is measured under every profile listed here; the worst figures count.
import { REQUEST_CAPTURE_MAX, RESPONSE_CAPTURE_MAX } from '../../src/capture/options.js';
import type { ObjectSpec } from '../../src/ebpf/index.js';
import { defaultPolicyDir } from '../../src/security/default-policies.js';
import { compilePolicies } from '../../src/security/compile/compiler.js';
import { configureSecuritySpec } from '../../src/security/kernel/loader.js';
import { type LoadedPolicy, loadPolicies } from '../../src/security/policy/load.js';
import { DENY_HOOKS } from '../../src/security/policy/schema.js';

export interface Profile {
  name: string;
  apply(spec: ObjectSpec): void;
}

const DEFAULTS: Profile = { name: 'defaults', apply: () => {} };

// A variable the object may have lost (bpf/ changes under this script) is skipped, not fatal.
function setIfDeclared(spec: ObjectSpec, name: string, value: unknown): void {
  const btf = spec.btf;
  if (btf && ['.rodata', '.data', '.bss'].some((s) => btf.datasecVariables(s).some((v) => v.name === name))) spec.setVariable(name, value);
}

/** Profiles per object, by path under dist/bpf without ".bpf.o". */
const PROFILES: Record<string, Profile[]> = {
  'capture/socket_capture': [
    DEFAULTS,
    {
      name: 'largest capture',
      apply: (spec) => {
        setIfDeclared(spec, 'request_capture', REQUEST_CAPTURE_MAX);
        setIfDeclared(spec, 'response_capture', RESPONSE_CAPTURE_MAX);
      },
    },
  ],
  discovery: [
    { name: 'tracked processes', apply: (spec) => setIfDeclared(spec, 'track_all', 0) },
    { name: 'every process', apply: (spec) => setIfDeclared(spec, 'track_all', 1) },
  ],
  'profiling/profiler': [
    { name: 'every process (agent)', apply: (spec) => setIfDeclared(spec, 'filter_pids', 0) },
    { name: 'chosen pids (waggle profile)', apply: (spec) => setIfDeclared(spec, 'filter_pids', 1) },
  ],
  'security/security': [
    {
      // The shipped policy pack, every policy at once: the largest set the agent ships.
      name: 'policy pack',
      apply: (spec) => configureSecuritySpec(spec, compilePolicies(loadPolicies([defaultPolicyDir()]))),
    },
    {
      name: 'policy pack, denying',
      apply: (spec) => configureSecuritySpec(spec, compilePolicies(denying(loadPolicies([defaultPolicyDir()])))),
    },
  ],
};

/** The pack with `deny` wherever its hook can deny, so the BPF LSM programs are verified with every dimension it uses. */
function denying(pack: LoadedPolicy[]): LoadedPolicy[] {
  return pack.map((p) => {
    if (!DENY_HOOKS.includes(p.policy.spec.hook)) return p;
    const selectors = p.policy.spec.selectors.map((s) => (s.action === 'nopost' ? s : { ...s, action: 'deny' as const }));
    return { ...p, policy: { ...p.policy, spec: { ...p.policy.spec, selectors } } };
  });
}

/** A variant (…_kfunc, …_legacy: the same source built with another define) is measured under its source's profiles. */
export function profilesFor(object: string): Profile[] {
  return PROFILES[object] ?? PROFILES[object.replace(/_(kfunc|legacy)$/, '')] ?? [DEFAULTS];
}
