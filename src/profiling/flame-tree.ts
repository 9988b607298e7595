// A profile as a flame graph's tree (root first), and the diff of two
// profiles as one tree holding both counts. Bounded: nodes under a minimum
// share are folded into their parent's "self", so a huge profile still makes
// a tree the browser can draw.
import type { Profile } from './profile.js';

export interface FlameNode {
  name: string;
  /** Samples in this frame and below (the compared profile's in a diff). */
  value: number;
  /** Samples in the baseline profile (diffs only). */
  base?: number;
  children: FlameNode[];
}

export interface FlameTree {
  root: FlameNode;
  total: number;
  baseTotal?: number;
  /** Nodes left out because they were below the minimum share. */
  pruned: number;
}

const MAX_NODES = 20_000;

interface Building {
  name: string;
  value: number;
  base: number;
  children: Map<string, Building>;
}

function insert(root: Building, frames: readonly { name: string }[], count: number, base: boolean): void {
  let node = root;
  if (base) node.base += count;
  else node.value += count;
  for (const f of frames) {
    let child = node.children.get(f.name);
    if (!child) {
      child = { name: f.name, value: 0, base: 0, children: new Map() };
      node.children.set(f.name, child);
    }
    if (base) child.base += count;
    else child.value += count;
    node = child;
  }
}

/** The tree of `profile` (and of `baseline` beside it, for a diff). */
export function flameTree(profile: Profile, baseline?: Profile, minShare = 0.0005): FlameTree {
  const root: Building = { name: 'all', value: 0, base: 0, children: new Map() };
  for (const s of profile.stacks.values()) insert(root, s.frames, s.count, false);
  if (baseline) for (const s of baseline.stacks.values()) insert(root, s.frames, s.count, true);
  const min = Math.max(1, Math.floor(Math.max(root.value, root.base) * minShare));
  let nodes = 0;
  let pruned = 0;
  const finish = (b: Building): FlameNode => {
    nodes++;
    const kept = [...b.children.values()].filter((c) => Math.max(c.value, c.base) >= min).sort((x, y) => y.value + y.base - (x.value + x.base));
    pruned += b.children.size - kept.length;
    const children: FlameNode[] = [];
    for (const c of kept) {
      if (nodes >= MAX_NODES) {
        pruned++;
        continue;
      }
      children.push(finish(c));
    }
    return { name: b.name, value: b.value, ...(baseline ? { base: b.base } : {}), children };
  };
  return { root: finish(root), total: root.value, ...(baseline ? { baseTotal: root.base } : {}), pruned };
}
