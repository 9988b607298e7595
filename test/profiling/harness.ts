// Shared by the profiling tests: build fixtures, run `waggle profile` as a
// person does, read folded output.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../../src/paths.js';

export const run = promisify(execFile);
export const fixtures = join(packageRoot, 'test', 'profiling', 'fixtures');
export const waggleBin = join(packageRoot, 'bin', 'waggle.js');

export function scratchDir(): string {
  return mkdtempSync(join(tmpdir(), 'waggle-prof-'));
}

/** `waggle profile …` with a bound on how long it may take; returns stdout. */
export async function profile(args: string[], seconds: number): Promise<string> {
  const { stdout } = await run(process.execPath, [waggleBin, 'profile', ...args], { timeout: (seconds + 60) * 1000, maxBuffer: 64 << 20 });
  return stdout;
}

export interface FoldedLine {
  frames: string[];
  count: number;
}

export function parseFolded(text: string): FoldedLine[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const at = line.lastIndexOf(' ');
      return { frames: line.slice(0, at).split(';'), count: Number(line.slice(at + 1)) };
    });
}

export function total(lines: readonly FoldedLine[]): number {
  return lines.reduce((a, l) => a + l.count, 0);
}

/** Samples whose stack holds `frame`, over all samples. */
export function share(lines: readonly FoldedLine[], frame: string): number {
  const all = total(lines);
  return all === 0 ? 0 : lines.filter((l) => l.frames.includes(frame)).reduce((a, l) => a + l.count, 0) / all;
}

/** Whether `frames` holds `path` as consecutive frames. */
export function hasPath(frames: readonly string[], path: readonly string[]): boolean {
  for (let i = 0; i + path.length <= frames.length; i++) if (path.every((p, j) => frames[i + j] === p)) return true;
  return false;
}
