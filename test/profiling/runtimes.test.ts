// JIT and Go frames: a Node script run with --perf-basic-prof (V8 writes
// /tmp/perf-PID.map) shows its hot JS function by name; a Go program built here
// with Debian's golang-go shows its Go function names (.symtab, frame pointers).
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type Child, startChild, waitFor } from '../helpers/process.js';
import { fixtures, parseFolded, profile, run, scratchDir, share, total } from './harness.js';

const dir = scratchDir();
const children: Child[] = [];
const hasGo = existsSync('/usr/bin/go');

after(async () => {
  await Promise.all(children.map((c) => c.stop()));
  rmSync(dir, { recursive: true, force: true });
});

test('node --perf-basic-prof: the hot JS function is named', async () => {
  const child = startChild(process.execPath, ['--perf-basic-prof', join(fixtures, 'hot.js')]);
  children.push(child);
  const perfMap = `/tmp/perf-${child.pid}.map`;
  try {
    await waitFor(() => existsSync(perfMap), 10_000);
    await new Promise((r) => setTimeout(r, 1000)); // let V8 optimize the function
    const folded = await profile(['--pid', String(child.pid), '--seconds', '4', '--frequency', '99'], 4);
    await child.stop();
    const lines = parseFolded(folded);
    const hot = lines.filter((l) => l.frames.some((f) => f.includes('hotJsFunction'))).reduce((a, l) => a + l.count, 0);
    console.log(`node: ${hot} of ${total(lines)} samples in hotJsFunction`);
    assert.ok(hot > 0.5 * total(lines), `hotJsFunction in ${hot} of ${total(lines)} samples:\n${folded.slice(0, 4000)}`);
  } finally {
    await child.stop();
    rmSync(perfMap, { force: true });
  }
});

test('a Go program: its function names', { skip: hasGo ? false : 'go is not installed (golang-go in scripts/setup.sh)' }, async () => {
  const bin = join(dir, 'gohot');
  await run('go', ['build', '-o', bin, join(fixtures, 'hot.go')], { timeout: 180_000, env: { ...process.env, HOME: dir, GOCACHE: join(dir, 'gocache'), GOPATH: join(dir, 'gopath'), GO111MODULE: 'off' } });
  const child = startChild(bin, []);
  children.push(child);
  const folded = await profile(['--pid', String(child.pid), '--seconds', '3', '--frequency', '99'], 3);
  await child.stop();
  const lines = parseFolded(folded);
  const hot = share(lines, 'main.hotLoop');
  console.log(`go: main.hotLoop share ${hot.toFixed(3)} of ${total(lines)}`);
  assert.ok(hot > 0.8, folded);
  assert.ok(lines.some((l) => l.frames.includes('runtime.main')), folded);
});
