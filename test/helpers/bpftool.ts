// What the kernel itself says is loaded, through bpftool (independent of our code).
import { execFileSync } from 'node:child_process';

export function loadedProgramIds(): Set<number> {
  const out = execFileSync('bpftool', ['-j', 'prog', 'show'], { timeout: 60_000, encoding: 'utf8' });
  return new Set((JSON.parse(out) as { id: number }[]).map((p) => p.id));
}

export function loadedProgramNames(): string[] {
  const out = execFileSync('bpftool', ['-j', 'prog', 'show'], { timeout: 60_000, encoding: 'utf8' });
  return (JSON.parse(out) as { name?: string }[]).map((p) => p.name ?? '');
}
