// waggle-test: no-kernel
// The shared process table against real processes: facts from /proc, the
// cache and what invalidates it (a new start time, the stream's exec/fork/exit
// events), ancestry, executable mappings and every bound.
import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import { test } from 'node:test';
import { type ProcessEvent, ProcessTable, parseProcIds, readExePath } from '../../src/process/index.js';
import { type Child, startChild, within } from '../helpers/process.js';

const SH = realpathSync('/bin/sh');
const SLEEP = realpathSync('/usr/bin/sleep');

/** A shell that prints its sleeping child's pid, then waits for a line on stdin and execs `sleep`. */
async function shellWithChild(): Promise<{ sh: Child; child: number }> {
  const sh = startChild('/bin/sh', ['-c', 'sleep 30 & echo child $!; read x; exec /usr/bin/sleep 31']);
  await sh.waitForOutput(/child \d+\n/, 5000);
  const child = Number(/child (\d+)/.exec(sh.output())![1]);
  // $! is known at fork, before the child has exec'd sleep.
  await until(() => readExePath(child) === SLEEP, 'the child to exec sleep');
  return { sh, child };
}

async function until(done: () => boolean, what: string): Promise<void> {
  await within(
    (async () => {
      while (!done()) await new Promise((r) => setTimeout(r, 5));
    })(),
    5000,
    what,
  );
}

/** Kills the shell's child and the shell (the child is then reaped by init). */
async function stopBoth(sh: Child, child: number): Promise<void> {
  try {
    process.kill(child, 'SIGKILL');
  } catch {
    // already gone
  }
  await sh.stop();
}

test('facts of a real process, cached while it lives, and its ancestry', async () => {
  const { sh, child } = await shellWithChild();
  try {
    const table = new ProcessTable();
    const info = table.info(child);
    assert.ok(info, 'the sleeping child is readable');
    assert.equal(info.pid, child);
    assert.equal(info.ppid, sh.pid);
    assert.equal(info.exePath, SLEEP);
    assert.deepEqual(info.cmdline, ['sleep', '30']);
    assert.equal(info.uid, process.getuid!());
    assert.equal(info.euid, process.geteuid!());
    assert.equal(info.pidnsLevel, 0);
    assert.ok(info.startTicks > 0);
    const reads = table.stats().reads;
    assert.equal(table.info(child), info, 'same process: the cached object');
    assert.equal(table.stats().reads, reads, 'no second read of its facts');
    const up = table.ancestors(child, 2);
    assert.deepEqual(
      up.map((p) => p.pid),
      [sh.pid, process.pid],
    );
    assert.equal(up[0]!.exePath, SH);
    // scan(): every readable process, parents before children.
    const all = table.scan();
    const at = (pid: number) => all.findIndex((p) => p.pid === pid);
    assert.ok(at(process.pid) >= 0 && at(process.pid) < at(sh.pid) && at(sh.pid) < at(child), 'this process, the shell, its child in that order');
  } finally {
    await stopBoth(sh, child);
  }
});

test('an exec keeps pid and start time: the stream event (or refresh) makes the table read it again', async () => {
  const { sh, child } = await shellWithChild();
  try {
    const table = new ProcessTable();
    const seen: ProcessEvent[][] = [];
    table.subscribe((e) => seen.push([...e]));
    const before = table.info(sh.pid)!;
    assert.equal(before.exePath, SH);
    sh.write('go\n');
    await until(() => table.exePath(sh.pid) === SLEEP, 'the shell to exec sleep');
    assert.equal(table.info(sh.pid), before, 'without an event, the same start time keeps the cached facts');
    const exec: ProcessEvent = { kind: 'exec', pid: sh.pid, ppid: process.pid, startTicks: before.startTicks, filename: '/usr/bin/sleep', args: ['/usr/bin/sleep', '31'] };
    table.publish([exec]);
    assert.deepEqual(seen, [[exec]], 'subscribers get the batch as published');
    const after = table.info(sh.pid)!;
    assert.equal(after.exePath, SLEEP);
    assert.deepEqual(after.cmdline, ['/usr/bin/sleep', '31']);
    assert.equal(after.startTicks, before.startTicks);
    assert.equal(table.refresh(child)!.exePath, SLEEP, 'refresh() reads whatever is cached');
  } finally {
    await stopBoth(sh, child);
  }
});

test('a process that exited is not returned; its mappings stay until a fork reuses the pid', async () => {
  const { sh, child } = await shellWithChild();
  const table = new ProcessTable({ maxMappings: 2 });
  try {
    assert.ok(table.info(child));
    const maps = table.mappings(child);
    assert.ok(maps.some((m) => m.path === SLEEP), 'the executable is mapped');
    assert.ok(maps.every((m) => m.perms[2] === 'x'), 'executable mappings only');
    for (let i = 1; i < maps.length; i++) assert.ok(maps[i - 1]!.start < maps[i]!.start, 'sorted by address');
    const reads = table.stats().mapsReads;
    assert.equal(table.mappings(child), maps, 'cached');
    assert.equal(table.stats().mapsReads, reads);
    assert.notEqual(table.mappings(child, 0), undefined);
    assert.equal(table.stats().mapsReads, reads + 1, 'maxAgeMs 0 reads again');
  } finally {
    await stopBoth(sh, child);
  }
  await until(() => table.stat(child) === undefined, 'the child to be reaped');
  table.publish([{ kind: 'exit', pid: child }]);
  assert.equal(table.info(child), undefined, 'gone from /proc: no facts');
  const kept = table.mappings(child, 0);
  assert.ok(kept.some((m) => m.path === SLEEP), 'an exited process keeps its last mappings (its samples are symbolized later)');
  table.publish([{ kind: 'fork', pid: child, ppid: 1, startTicks: 0 }]);
  assert.equal(table.mappings(child, Infinity).length, 0, 'a fork of that pid is another process: nothing cached, nothing to read');
  // Bounded: the oldest read goes first, counted.
  table.mappings(process.pid);
  table.mappings(process.ppid);
  table.mappings(process.pid);
  assert.equal(table.stats().mappings, 2);
  assert.ok(table.stats().mapsEvicted >= 1);
});

test('facts are bounded, a failing subscriber is counted and the others still hear, one source only', async () => {
  const table = new ProcessTable({ maxProcesses: 2 });
  assert.ok(table.info(process.pid));
  const { sh, child } = await shellWithChild();
  try {
    assert.ok(table.info(sh.pid));
    assert.ok(table.info(child));
    assert.equal(table.stats().processes, 2);
    assert.equal(table.stats().evicted, 1);
    assert.equal(table.cached(process.pid), undefined, 'the oldest read went first');
  } finally {
    await stopBoth(sh, child);
  }
  const heard: number[] = [];
  table.subscribe(() => {
    throw new Error('subscriber bug');
  });
  table.subscribe((e) => heard.push(e.length));
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  table.publish([{ kind: 'exit', pid: 999_999_999 }]);
  await new Promise((r) => setImmediate(r));
  process.off('warning', onWarning);
  assert.deepEqual(heard, [1]);
  assert.equal(table.stats().listenerErrors, 1);
  assert.deepEqual(warnings, ['process table subscriber failed: subscriber bug']);
  let flushed = 0;
  const detach = table.attachSource({ name: 'one', flush: () => flushed++ });
  assert.equal(table.fed, true);
  assert.throws(() => table.attachSource({ name: 'two', flush: () => {} }), /one already feeds it; two cannot/);
  table.flush();
  assert.equal(flushed, 1);
  assert.equal(table.stats().source, 'one');
  detach();
  assert.equal(table.fed, false);
});

test('/proc/PID/status: real and effective ids, pid namespace depth', () => {
  const text = 'Name:\tx\nUid:\t1000\t0\t0\t0\nGid:\t100\t5\t5\t5\nNSpid:\t4242\t7\n';
  assert.deepEqual(parseProcIds(text), { uid: 1000, gid: 100, euid: 0, egid: 5, pidnsLevel: 1 });
  assert.deepEqual(parseProcIds('Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n'), { uid: 0, gid: 0, euid: 0, egid: 0, pidnsLevel: 0 });
  assert.equal(parseProcIds('Name:\tx\n'), undefined);
});
