// waggle-test: no-kernel
// The process cache on its own: reference counting keeps ancestors of live
// processes, the grace period, the bound and its evictions, pid reuse.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProcessCache, type ProcessInfo, execIdOf, processKey } from '../../src/security/process/cache.js';

function proc(pid: number, start: number, parent?: ProcessInfo): Omit<ProcessInfo, 'refs' | 'alive' | 'key'> {
  return {
    pid,
    ppid: parent?.pid ?? 0,
    startKtime: BigInt(start),
    execId: execIdOf('n', BigInt(start), pid),
    binary: `/bin/p${pid}`,
    arguments: [],
    cwd: '/',
    uid: 0,
    gid: 0,
    startTime: '',
    inContainer: false,
    flags: ['execve'],
    ...(parent ? { parentKey: parent.key } : {}),
  };
}

test('an exited parent stays while a child lives, and goes with it after the grace period', () => {
  const c = new ProcessCache({ graceMs: 100 });
  const a = c.add(proc(1, 10), 0);
  const b = c.add(proc(2, 20, a), 0);
  const child = c.add(proc(3, 30, b), 0);
  c.die(b, 1000);
  c.sweep(5000);
  assert.equal(c.get(2, 20n), b, 'kept: its child is alive');
  assert.deepEqual(c.ancestors(child).map((p) => p.pid), [1]);
  c.die(child, 6000);
  c.sweep(6050);
  assert.equal(c.get(3, 30n), child, 'within the grace period');
  c.sweep(6200);
  assert.equal(c.get(3, 30n), undefined);
  assert.equal(c.get(2, 20n), undefined, 'released with its last child');
  assert.equal(c.get(1, 10n), a);
  assert.deepEqual(c.stats(), { size: 1, alive: 1, forgotten: 2, evicted: 0, misses: 2 });
});

test('an exec replaces the image of its pid; the old one is released', () => {
  const c = new ProcessCache({ graceMs: 0 });
  const parent = c.add(proc(1, 10), 0);
  const forked = c.add({ ...proc(5, 50, parent), flags: ['clone'] }, 0);
  const execd = c.add(proc(5, 60, parent), 0);
  assert.equal(forked.alive, false);
  assert.equal(c.current(5), execd);
  c.sweep(1);
  assert.equal(c.get(5, 50n), undefined);
  assert.equal(c.get(5, 60n), execd);
  assert.equal(execIdOf('n', 50n, 5) === execIdOf('n', 60n, 5), false, 'pid reuse gives a new exec_id');
  assert.equal(processKey(5, 60n), execd.key);
});

test('the bound evicts the oldest dead entries first and counts them; live entries stay', () => {
  const c = new ProcessCache({ maxEntries: 4, graceMs: 60_000 });
  const root = c.add(proc(1, 1), 0);
  const dead: ProcessInfo[] = [];
  for (let i = 0; i < 3; i++) {
    const p = c.add(proc(10 + i, 10 + i, root), i);
    c.die(p, i);
    dead.push(p);
  }
  assert.equal(c.size, 4);
  const live = c.add(proc(20, 20, root), 10);
  assert.equal(c.size, 4);
  assert.equal(c.get(10, 10n), undefined, 'the oldest dead entry went');
  assert.equal(c.get(20, 20n), live);
  assert.equal(c.stats().evicted, 1);
  for (let i = 0; i < 5; i++) c.add(proc(30 + i, 30 + i, root), 20 + i);
  assert.equal(c.size, 7, 'live processes are never evicted, even past the bound');
  assert.equal(c.stats().evicted, 3);
});
