#!/usr/bin/env node
// Runs every compiled test (dist/test/**/*.test.js) with node:test, one file at a
// time: tests load real programs into the real kernel and some measure exact
// counts, so files must not compete for the same hooks. Arguments filter files
// by substring, e.g. `node scripts/run-tests.js ebpf/`.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const testRoot = join(root, 'dist', 'test');

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'helpers' ? [] : find(p);
    return name.endsWith('.test.js') ? [p] : [];
  });
}

const filters = process.argv.slice(2);
const files = find(testRoot)
  .filter((f) => filters.length === 0 || filters.some((x) => relative(testRoot, f).includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
if (process.getuid && process.getuid() !== 0) {
  console.error('waggle tests load BPF programs into the kernel and must run as root (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN).');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(result.status ?? 1);
