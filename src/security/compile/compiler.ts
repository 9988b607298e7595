// Compiles validated policies into what the kernel evaluates: one selector bit
// per selector (policy order, then selector order), tries and sets mapping
// values to selector masks, and masks for the selectors that leave a dimension
// unconstrained. See bpf/security/match.h for the evaluation.
import { MAX_MAP_ENTRIES, MAX_SELECTORS_TOTAL } from '../policy/limits.js';
import { PolicyError, type LoadedPolicy } from '../policy/load.js';
import { type Action, type AddressSelector, type BinarySelector, type Hook, HOOKS, type IdSelector, OPEN_FLAGS, type Policy, parseCidr, parseDuration } from '../policy/schema.js';
import { type Mask, type Pair, emptyMask, emptyPair, setBit } from './mask.js';
import { TrieBuilder, type TrieEntry, addrKey, pathKey, suffixKey } from './tries.js';

export interface CompiledSelector {
  bit: number;
  policy: Policy;
  policyName: string;
  source: string;
  selectorIndex: number;
  hook: Hook;
  action: Action;
  /** sigkill/deny is reported, not done (policy mode monitor, or the agent's dry run). */
  monitor: boolean;
  /** Evaluated by the BPF LSM program of its hook (its policy denies), not by the tracepoints. */
  lsm: boolean;
  rateLimitMs: number | undefined;
}

/** Mirrors struct sec_config (bpf/security/records.h). */
export interface SecConfig {
  hook: Mask[];
  lsm_hook: Mask[];
  no_bin_pos: Mask;
  no_parent_pos: Mask;
  no_uid_pos: Mask;
  no_pid_pos: Mask;
  no_path_pos: Mask;
  no_addr_pos: Mask;
  no_port_pos: Mask;
  no_flags: Mask;
  flag_sel: Mask[];
  container_only: Mask;
  host_only: Mask;
  nsel: number;
  uses_binary: number;
  uses_parent: number;
  uses_uid: number;
  uses_pid: number;
  uses_container: number;
  uses_path: number;
  uses_flags: number;
  uses_open_stash: number;
  uses_addr: number;
  uses_port: number;
  suffix_max: number;
  uses_deny: number;
}

/** Mirrors struct sel_config. */
export interface SelConfig {
  later: Mask;
  action: number;
  monitor: number;
  rate_ns: number;
  rate_scope: number;
}

export interface CompiledPolicySet {
  policies: readonly LoadedPolicy[];
  selectors: CompiledSelector[];
  /** Hooks whose tracepoint programs some policy needs. */
  hooks: Set<Hook>;
  /** Hooks whose BPF LSM program some policy needs (policies with a deny selector). */
  lsmHooks: Set<Hook>;
  config: SecConfig;
  sels: SelConfig[];
  tries: { path: TrieEntry[]; suffix: TrieEntry[]; binary: TrieEntry[]; parent: TrieEntry[]; addr: TrieEntry[] };
  sets: { port: Map<number, Pair>; uid: Map<number, Pair>; pid: Map<number, Pair> };
}

/** enum sel_action and enum rate_scope of bpf/security/records.h (checked against the object's BTF at load). */
export const ACTION_CODES: Record<Action, number> = { post: 0, sigkill: 1, nopost: 2, deny: 3 };

/** A policy that denies runs whole at the LSM hook: its selectors are tried in order there, exceptions (nopost) included. */
export const deniesAnything = (policy: Policy): boolean => policy.spec.selectors.some((s) => s.action === 'deny');
export const RATE_SCOPE_CODES = { process: 0, global: 1 } as const;
export const HOOK_CODES: Record<Hook, number> = Object.fromEntries(HOOKS.map((h, i) => [h, i])) as Record<Hook, number>;

class IdSet {
  readonly map = new Map<number, Pair>();
  add(id: number, bit: number, negated: boolean): void {
    let p = this.map.get(id);
    if (!p) this.map.set(id, (p = emptyPair()));
    setBit(negated ? p.neg : p.pos, bit);
  }
}

export interface CompileOptions {
  /** Report sigkill without sending it, for every policy. */
  dryRun?: boolean;
}

export function compilePolicies(policies: readonly LoadedPolicy[], opts: CompileOptions = {}): CompiledPolicySet {
  const total = policies.reduce((n, p) => n + p.policy.spec.selectors.length, 0);
  if (total > MAX_SELECTORS_TOTAL) throw new PolicyError([`${total} selectors in all policies; at most ${MAX_SELECTORS_TOTAL} can be loaded`]);

  const config: SecConfig = {
    hook: HOOKS.map(() => emptyMask()),
    lsm_hook: HOOKS.map(() => emptyMask()),
    no_bin_pos: emptyMask(),
    no_parent_pos: emptyMask(),
    no_uid_pos: emptyMask(),
    no_pid_pos: emptyMask(),
    no_path_pos: emptyMask(),
    no_addr_pos: emptyMask(),
    no_port_pos: emptyMask(),
    no_flags: emptyMask(),
    flag_sel: OPEN_FLAGS.map(() => emptyMask()),
    container_only: emptyMask(),
    host_only: emptyMask(),
    nsel: total,
    uses_binary: 0,
    uses_parent: 0,
    uses_uid: 0,
    uses_pid: 0,
    uses_container: 0,
    uses_path: 0,
    uses_flags: 0,
    uses_open_stash: 0,
    uses_addr: 0,
    uses_port: 0,
    suffix_max: 0,
    uses_deny: 0,
  };
  const tries = { path: new TrieBuilder(), suffix: new TrieBuilder(), binary: new TrieBuilder(), parent: new TrieBuilder(), addr: new TrieBuilder() };
  const sets = { port: new IdSet(), uid: new IdSet(), pid: new IdSet() };
  const selectors: CompiledSelector[] = [];
  const sels: SelConfig[] = [];
  const hooks = new Set<Hook>();
  const lsmHooks = new Set<Hook>();

  const binary = (trie: TrieBuilder, sel: BinarySelector | undefined, bit: number, noPos: Mask): number => {
    for (const v of sel?.equal ?? []) trie.add(pathKey(v, true), bit, false);
    for (const v of sel?.prefix ?? []) trie.add(pathKey(v, false), bit, false);
    for (const v of sel?.notEqual ?? []) trie.add(pathKey(v, true), bit, true);
    for (const v of sel?.notPrefix ?? []) trie.add(pathKey(v, false), bit, true);
    if (!sel?.equal && !sel?.prefix) setBit(noPos, bit);
    return sel ? 1 : 0;
  };
  const ids = (set: IdSet, sel: IdSelector | undefined, bit: number, noPos: Mask): number => {
    for (const v of sel?.in ?? []) set.add(v, bit, false);
    for (const v of sel?.notIn ?? []) set.add(v, bit, true);
    if (!sel?.in) setBit(noPos, bit);
    return sel ? 1 : 0;
  };
  const address = (sel: AddressSelector | undefined, bit: number): void => {
    const cidr = (v: string, negated: boolean) => {
      const c = parseCidr(v)!;
      tries.addr.add(addrKey(c.address, c.bits, c.family), bit, negated);
    };
    sel?.cidr?.forEach((v) => cidr(v, false));
    sel?.notCidr?.forEach((v) => cidr(v, true));
    if (!sel?.cidr) setBit(config.no_addr_pos, bit);
    if (sel?.cidr || sel?.notCidr) config.uses_addr = 1;
    for (const p of sel?.ports ?? []) sets.port.add(p, bit, false);
    for (const p of sel?.notPorts ?? []) sets.port.add(p, bit, true);
    if (!sel?.ports) setBit(config.no_port_pos, bit);
    if (sel?.ports || sel?.notPorts) config.uses_port = 1;
  };

  let bit = 0;
  for (const { policy, source } of policies) {
    const hook = policy.spec.hook;
    const lsm = deniesAnything(policy);
    (lsm ? lsmHooks : hooks).add(hook);
    const first = bit;
    const count = policy.spec.selectors.length;
    policy.spec.selectors.forEach((sel, index) => {
      const monitor = (sel.action === 'sigkill' || sel.action === 'deny') && (opts.dryRun === true || policy.spec.mode === 'monitor');
      const rateLimitMs = sel.rateLimit ? parseDuration(sel.rateLimit) : undefined;
      selectors.push({ bit, policy, policyName: policy.metadata.name, source, selectorIndex: index, hook, action: sel.action, monitor, lsm, rateLimitMs });
      const later = emptyMask();
      for (let b = bit + 1; b < first + count; b++) setBit(later, b);
      sels.push({
        later,
        action: ACTION_CODES[sel.action],
        monitor: monitor ? 1 : 0,
        rate_ns: (rateLimitMs ?? 0) * 1e6,
        rate_scope: RATE_SCOPE_CODES[sel.rateLimitScope ?? 'process'],
      });
      setBit((lsm ? config.lsm_hook : config.hook)[HOOK_CODES[hook]]!, bit);
      if (sel.action === 'deny') config.uses_deny = 1;

      config.uses_binary |= binary(tries.binary, sel.binary, bit, config.no_bin_pos);
      config.uses_parent |= binary(tries.parent, sel.parentBinary, bit, config.no_parent_pos);
      config.uses_uid |= ids(sets.uid, sel.uid, bit, config.no_uid_pos);
      config.uses_pid |= ids(sets.pid, sel.pid, bit, config.no_pid_pos);
      if (sel.container !== undefined) {
        config.uses_container = 1;
        setBit(sel.container ? config.container_only : config.host_only, bit);
      }

      const paths = sel.paths;
      for (const v of paths?.equal ?? []) tries.path.add(pathKey(v, true), bit, false);
      for (const v of paths?.prefix ?? []) tries.path.add(pathKey(v, false), bit, false);
      for (const v of paths?.suffix ?? []) tries.suffix.add(suffixKey(v), bit, false);
      for (const v of paths?.notEqual ?? []) tries.path.add(pathKey(v, true), bit, true);
      for (const v of paths?.notPrefix ?? []) tries.path.add(pathKey(v, false), bit, true);
      for (const v of paths?.notSuffix ?? []) tries.suffix.add(suffixKey(v), bit, true);
      for (const v of [...(paths?.suffix ?? []), ...(paths?.notSuffix ?? [])]) config.suffix_max = Math.max(config.suffix_max, Buffer.byteLength(v));
      if (!paths?.equal && !paths?.prefix && !paths?.suffix) setBit(config.no_path_pos, bit);
      if (paths) config.uses_path = 1;

      if (sel.flags) {
        config.uses_flags = 1;
        for (const f of sel.flags) {
          setBit(config.flag_sel[OPEN_FLAGS.indexOf(f)]!, bit);
          // The LSM program reads O_CREAT/O_TRUNC from the file itself; the tracepoints need the entry's flags.
          if ((f === 'create' || f === 'truncate') && !lsm) config.uses_open_stash = 1;
        }
      } else {
        setBit(config.no_flags, bit);
      }

      address(sel.destination ?? sel.address, bit);
      bit++;
    });
  }

  const built = {
    path: tries.path.build(),
    suffix: tries.suffix.build(),
    binary: tries.binary.build(),
    parent: tries.parent.build(),
    addr: tries.addr.build(),
  };
  const tooMany: string[] = [];
  for (const [name, entries] of Object.entries(built)) {
    if (entries.length > MAX_MAP_ENTRIES) tooMany.push(`${entries.length} distinct ${name} values in all policies; at most ${MAX_MAP_ENTRIES} can be loaded`);
  }
  for (const [name, set] of Object.entries(sets)) {
    if (set.map.size > MAX_MAP_ENTRIES) tooMany.push(`${set.map.size} distinct ${name} values in all policies; at most ${MAX_MAP_ENTRIES} can be loaded`);
  }
  if (tooMany.length > 0) throw new PolicyError(tooMany);

  return {
    policies,
    selectors,
    hooks,
    lsmHooks,
    config,
    sels,
    tries: built,
    sets: { port: sets.port.map, uid: sets.uid.map, pid: sets.pid.map },
  };
}
