// What a profile is made of: named frames, stacks of them, counts.

export type FrameKind = 'native' | 'kernel' | 'jit' | 'unknown';

export interface Frame {
  /** Function name, or `module+0xoffset` when it cannot be named. */
  name: string;
  /** File (base name), "[kernel]", "[jit]" or "[unknown]". */
  module: string;
  kind: FrameKind;
  /** Build id of the module, when the ELF has one. */
  buildId?: string;
}

export interface StackSample {
  pid: number;
  /** Root first: user frames from main/_start down, then kernel frames. */
  frames: Frame[];
  count: number;
}

/** "main;work;hot_seventy" for a stack, root first. Semicolons in names become ':'. */
export function foldedKey(frames: readonly Frame[]): string {
  return frames.map((f) => f.name.replace(/;/g, ':').replace(/\n/g, ' ')).join(';');
}
