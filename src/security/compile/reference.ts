// The kernel's evaluation, in TypeScript, over a compiled policy set: used to
// compute the binary masks of processes seeded from /proc, and by tests that
// check the compiled form against the policies' plain meaning (direct.ts).
import type { Hook, OpenFlag } from '../policy/schema.js';
import type { CompiledPolicySet, CompiledSelector } from './compiler.js';
import { HOOK_CODES } from './compiler.js';
import { type Mask, type Pair, andNot, bitsOf, emptyMask, hasBit, or } from './mask.js';
import { PATH_KEY_BYTES, addrKey, lookupTrie, pathKey } from './tries.js';
import { OPEN_FLAGS, parseCidr } from '../policy/schema.js';

export interface Operation {
  hook: Hook;
  /** Canonical path of the process image; undefined when the kernel does not know the process. */
  binary?: string;
  parentBinary?: string;
  uid: number;
  pid: number;
  inContainer: boolean;
  path?: string;
  flags?: OpenFlag[];
  address?: string;
  port?: number;
}

/** Masks of a binary as `binary` and as `parentBinary` (struct proc_entry's bin / as_parent). */
export function binaryPairs(set: CompiledPolicySet, binary: string | undefined): { bin: Pair | undefined; asParent: Pair | undefined } {
  if (binary === undefined) return { bin: undefined, asParent: undefined };
  const key = pathKey(truncate(binary), true);
  return { bin: lookupTrie(set.tries.binary, key), asParent: lookupTrie(set.tries.parent, key) };
}

/** The first 255 bytes, as the kernel keeps them. */
function truncate(path: string): string {
  const b = Buffer.from(path, 'utf8');
  return b.length < PATH_KEY_BYTES ? path : b.subarray(0, PATH_KEY_BYTES - 1).toString('utf8');
}

function filter(cand: Mask, pair: Pair | undefined, none: Mask): Mask {
  return andNot(cand.map((w, i) => w & ((pair?.pos[i] ?? 0) | (none[i] ?? 0))), pair?.neg ?? emptyMask());
}

/** Selectors that decide the operation (the first match of each policy), as the kernel finds them. */
export function evaluateCompiled(set: CompiledPolicySet, op: Operation): CompiledSelector[] {
  const c = set.config;
  // Tracepoint and LSM selectors alike: the reference says what decides, not which program does.
  let cand = or(c.hook[HOOK_CODES[op.hook]]!, c.lsm_hook[HOOK_CODES[op.hook]]!);
  if (c.uses_binary) cand = filter(cand, binaryPairs(set, op.binary).bin, c.no_bin_pos);
  if (c.uses_parent) cand = filter(cand, binaryPairs(set, op.parentBinary).asParent, c.no_parent_pos);
  if (c.uses_uid) cand = filter(cand, set.sets.uid.get(op.uid), c.no_uid_pos);
  if (c.uses_pid) cand = filter(cand, set.sets.pid.get(op.pid), c.no_pid_pos);
  if (c.uses_container) cand = andNot(cand, op.inContainer ? c.host_only : c.container_only);
  if (op.hook === 'file_open') {
    if (c.uses_flags) {
      let ok = c.no_flags;
      for (const f of op.flags ?? []) ok = or(ok, c.flag_sel[OPEN_FLAGS.indexOf(f)]!);
      cand = cand.map((w, i) => w & (ok[i] ?? 0));
    }
    if (c.uses_path && op.path !== undefined) {
      const bytes = Buffer.from(op.path, 'utf8');
      const prefix = lookupTrie(set.tries.path, pathKey(op.path, true));
      let suffix: Pair | undefined;
      if (c.suffix_max > 0) {
        const take = Math.min(bytes.length, c.suffix_max);
        const data = Buffer.alloc(PATH_KEY_BYTES);
        Buffer.from(bytes.subarray(bytes.length - take)).reverse().copy(data);
        suffix = lookupTrie(set.tries.suffix, { data, bits: take * 8 });
      }
      const merged: Pair = {
        pos: or(prefix?.pos ?? emptyMask(), suffix?.pos ?? emptyMask()),
        neg: or(prefix?.neg ?? emptyMask(), suffix?.neg ?? emptyMask()),
      };
      cand = filter(cand, merged, c.no_path_pos);
    }
  }
  if ((op.hook === 'connect' || op.hook === 'bind') && op.address !== undefined) {
    if (c.uses_addr) {
      const a = parseCidr(op.address)!;
      cand = filter(cand, lookupTrie(set.tries.addr, addrKey(a.address, a.family === 4 ? 32 : 128, a.family)), c.no_addr_pos);
    }
    if (c.uses_port) cand = filter(cand, set.sets.port.get(op.port ?? 0), c.no_port_pos);
  }
  return firstPerPolicy(set, cand);
}

/** Walks candidate bits upwards; a match hides the later selectors of its policy. */
export function firstPerPolicy(set: CompiledPolicySet, cand: Mask): CompiledSelector[] {
  let remaining = [...cand];
  const out: CompiledSelector[] = [];
  for (const bit of bitsOf(cand)) {
    if (!hasBit(remaining, bit)) continue;
    remaining = andNot(remaining, set.sels[bit]!.later);
    out.push(set.selectors[bit]!);
  }
  return out;
}

