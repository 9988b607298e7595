// The "done when": a C program spending 70 % / 30 % of its time in two
// functions, built with frame pointers and with -O2 -fomit-frame-pointer,
// profiled by `waggle profile --seconds 10 --frequency 99 --format folded`:
// stacks unwound to main (main;work;hot_seventy) and hot_seventy's share in
// 0.65–0.75 in both builds (the second needs the .eh_frame unwinder). Also the
// pprof file, read by `go tool pprof -top`, and kernel frames of a syscall loop.
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Child, startChild } from '../helpers/process.js';
import { fixtures, hasPath, parseFolded, profile, run, scratchDir, share, total } from './harness.js';

const dir = scratchDir();
const children: Child[] = [];
const hasGo = existsSync('/usr/bin/go');

before(async () => {
  const src = join(fixtures, 'seventy-thirty.c');
  await run('gcc', ['-O2', '-fno-omit-frame-pointer', '-o', join(dir, 'st-fp'), src], { timeout: 60_000 });
  await run('gcc', ['-O2', '-fomit-frame-pointer', '-o', join(dir, 'st-nofp'), src], { timeout: 60_000 });
  await run('gcc', ['-O2', '-o', join(dir, 'syscalls'), join(fixtures, 'syscalls.c')], { timeout: 60_000 });
});

after(async () => {
  await Promise.all(children.map((c) => c.stop()));
  rmSync(dir, { recursive: true, force: true });
});

function spawnFixture(name: string): Child {
  const child = startChild(join(dir, name), []);
  children.push(child);
  return child;
}

for (const build of ['st-fp', 'st-nofp']) {
  test(`${build}: main;work;hot_seventy stacks, hot_seventy's share in 0.65–0.75`, async () => {
    const child = spawnFixture(build);
    const folded = await profile(['--pid', String(child.pid), '--seconds', '10', '--frequency', '99', '--format', 'folded'], 10);
    await child.stop();
    const lines = parseFolded(folded);
    const hot = share(lines, 'hot_seventy');
    const cold = share(lines, 'cold_thirty');
    console.log(`${build}: ${total(lines)} samples, hot_seventy ${hot.toFixed(3)}, cold_thirty ${cold.toFixed(3)}`);
    assert.ok(total(lines) >= 100, `too few samples: ${total(lines)}`);
    const unwound = lines.filter((l) => hasPath(l.frames, ['main', 'work', 'hot_seventy'])).reduce((a, l) => a + l.count, 0);
    const hotSamples = lines.filter((l) => l.frames.includes('hot_seventy')).reduce((a, l) => a + l.count, 0);
    assert.ok(unwound >= 0.95 * hotSamples, `only ${unwound} of ${hotSamples} hot_seventy samples unwound to main;work;hot_seventy:\n${folded}`);
    assert.ok(lines.some((l) => hasPath(l.frames, ['main', 'work', 'cold_thirty'])), folded);
    assert.ok(hot >= 0.65 && hot <= 0.75, `hot_seventy share ${hot}:\n${folded}`);
    assert.ok(cold >= 0.25 && cold <= 0.35, `cold_thirty share ${cold}:\n${folded}`);
  });
}

test('without tables, a -fomit-frame-pointer build loses its callers (what the .eh_frame unwinder fixes)', async () => {
  const child = spawnFixture('st-nofp');
  const folded = await profile(['--pid', String(child.pid), '--seconds', '2', '--frequency', '99', '--no-unwind-tables'], 2);
  await child.stop();
  const lines = parseFolded(folded);
  assert.ok(total(lines) > 0);
  assert.ok(!lines.some((l) => hasPath(l.frames, ['main', 'work', 'hot_seventy'])), folded);
});

test('pprof output is gzip that `go tool pprof -top` reads, naming the hot function', { skip: hasGo ? false : 'go is not installed (golang-go)' }, async () => {
  const child = spawnFixture('st-nofp');
  const out = join(dir, 'profile.pb.gz');
  await profile(['--pid', String(child.pid), '--seconds', '3', '--frequency', '99', '--format', 'pprof', '-o', out], 3);
  await child.stop();
  const { stdout } = await run('go', ['tool', 'pprof', '-top', out], { timeout: 60_000, env: { ...process.env, HOME: dir, GOCACHE: join(dir, 'gocache') } });
  const top = stdout.split('\n').find((l) => /\d+(\.\d+)?%.*\S/.test(l) && !/^\s*flat/.test(l) && /hot_seventy|cold_thirty/.test(l));
  assert.match(top ?? '', /hot_seventy/, stdout);
  assert.match(stdout, /Type: cpu/);
});

test('kernel frames of a syscall-heavy loop', async () => {
  const child = spawnFixture('syscalls');
  const folded = await profile(['--pid', String(child.pid), '--seconds', '3', '--frequency', '99'], 3);
  await child.stop();
  const lines = parseFolded(folded);
  const inKernel = lines.filter((l) => l.frames.some((f) => /^(entry_SYSCALL_64|do_syscall_64|__x64_sys_getppid)/.test(f)));
  const n = inKernel.reduce((a, l) => a + l.count, 0);
  assert.ok(n > 0.3 * total(lines), `${n} of ${total(lines)} samples in the kernel:\n${folded}`);
  assert.ok(inKernel.some((l) => hasPath(l.frames, ['main', 'syscall'])), folded);
});
