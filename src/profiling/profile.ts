// A profile: stacks (root first) with sample counts over a time window, merged
// by their folded key. Bounded in distinct stacks; what does not fit is counted
// under one "[other stacks]" entry so totals stay true.
import { type Frame, type StackSample, foldedKey } from './frame.js';

export const MAX_STACKS = 50_000;
const OTHER: Frame = { name: '[other stacks]', module: '[unknown]', kind: 'unknown' };

export interface ProfileStack {
  frames: Frame[];
  count: number;
  pids: Set<number>;
}

export class Profile {
  readonly stacks = new Map<string, ProfileStack>();
  total = 0;
  overflowed = 0;

  constructor(
    public startMs: number,
    public endMs: number,
    /** Samples per second per CPU. */
    readonly frequency: number,
    private readonly maxStacks = MAX_STACKS,
  ) {}

  add(sample: StackSample): void {
    this.total += sample.count;
    let key = foldedKey(sample.frames);
    let s = this.stacks.get(key);
    if (!s && this.stacks.size >= this.maxStacks) {
      this.overflowed += sample.count;
      key = OTHER.name;
      s = this.stacks.get(key);
      if (!s) {
        s = { frames: [OTHER], count: 0, pids: new Set() };
        this.stacks.set(key, s);
      }
    }
    if (!s) {
      s = { frames: sample.frames, count: 0, pids: new Set() };
      this.stacks.set(key, s);
    }
    s.count += sample.count;
    if (s.pids.size < 64) s.pids.add(sample.pid);
  }

  merge(other: Profile): void {
    for (const s of other.stacks.values()) {
      const [first = 0, ...rest] = s.pids;
      this.add({ pid: first, frames: s.frames, count: s.count });
      const mine = this.stacks.get(foldedKey(s.frames));
      for (const pid of rest) if (mine && mine.pids.size < 64) mine.pids.add(pid);
    }
    this.startMs = Math.min(this.startMs, other.startMs);
    this.endMs = Math.max(this.endMs, other.endMs);
  }

  /** The fraction of samples whose stack contains a frame named `name`. */
  share(name: string): number {
    if (this.total === 0) return 0;
    let n = 0;
    for (const s of this.stacks.values()) if (s.frames.some((f) => f.name === name)) n += s.count;
    return n / this.total;
  }
}

/** `frame;frame;frame count` lines, root first, most samples first. */
export function toFolded(profile: Profile): string {
  const lines = [...profile.stacks.entries()].sort((a, b) => b[1].count - a[1].count).map(([key, s]) => `${key} ${s.count}`);
  return lines.length ? `${lines.join('\n')}\n` : '';
}
