// Discovery against real processes and the real /proc (and, when the kernel
// allows, the real BPF program): selection by port, range, exe glob and pid,
// children, processes started later, exits, service names, and the agent
// itself never selected. Each scenario runs with kernel events and, where the
// timing differs, with the /proc rescan alone.
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync } from 'node:fs';
import { after, afterEach, describe, test } from 'node:test';
import { Discovery, type DiscoveryOptions } from '../../src/discovery/index.js';
import { execFileSync } from 'node:child_process';
import { loadedProgramIds } from '../helpers/bpftool.js';
import { waitFor, within } from '../helpers/process.js';
import { ACTIVATOR_PY, APP_PY, Children, SERVER_JS, WORKERS_PY, Workdir, freePort, record } from './fixtures.js';

const work = new Workdir();
const appPy = work.file('shop/app.py', APP_PY);
const workersPy = work.file('workers.py', WORKERS_PY);
const activatorPy = work.file('activator.py', ACTIVATOR_PY);
const serverJs = work.file('server.js', SERVER_JS);
const apiIndexJs = work.file('srv/api/index.js', SERVER_JS);
const programsBefore = loadedProgramIds();
const loadedPrograms = (): { id: number; name: string }[] =>
  (JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { timeout: 60_000, encoding: 'utf8' })) as { id: number; name?: string }[]).map((p) => ({ id: p.id, name: p.name ?? '' }));
const children = new Children();
let open: Discovery[] = [];

function discovery(opts: DiscoveryOptions): Discovery {
  // The test process plays the agent; its children are the workloads.
  const d = new Discovery({ excludeAgentChildren: false, ...opts });
  open.push(d);
  return d;
}

afterEach(async () => {
  // The workloads die even if a close() throws.
  try {
    for (const d of open) d.close();
  } finally {
    open = [];
    await children.killAll();
  }
});

after(async () => {
  work.remove();
  // Other engineers' tests may load programs meanwhile: only ours (discovery_*) count.
  const leaked = () => loadedPrograms().filter((p) => !programsBefore.has(p.id) && p.name.startsWith('discovery_'));
  // The kernel frees a closed program after an RCU grace period; give it a moment.
  await waitFor(() => leaked().length === 0, 3000).catch(() => undefined);
  assert.deepEqual(leaked(), [], 'every discovery BPF program was unloaded');
});

const MODES = [
  { label: 'kernel events', kernelEvents: 'on' as const },
  { label: '/proc rescan only', kernelEvents: 'off' as const },
];

describe('selection of processes running before start', () => {
  test('by open port, by range, not outside it; named after the script', async () => {
    const p1 = await freePort();
    const p2 = await freePort();
    let p3 = await freePort();
    while (p3 === p1 || (p3 >= p2 - 5 && p3 <= p2 + 5)) p3 = await freePort();
    const a = children.python(appPy, [String(p1)]);
    const b = children.python(appPy, [String(p2)]);
    const c = children.python(appPy, [String(p3)]);
    await Promise.all([a, b, c].map((x) => x.waitForOutput('listening')));
    const d = discovery({ selectors: [{ openPorts: `${p1},${p2 - 5}-${p2 + 5}` }] });
    const r = record(d);
    await d.start();
    assert.deepEqual([...r.added.keys()].sort(), [a.pid, b.pid].sort(), r.log.join(' '));
    assert.ok(!r.added.has(c.pid));
    const id = r.added.get(a.pid)!.identity;
    assert.equal(id.name, 'app');
    assert.equal(id.pid, a.pid);
    assert.match(id.executableName, /^python3/);
    assert.match(id.executablePath!, /^\/usr\/bin\/python3/);
    assert.equal(id.commandLine, `/usr/bin/python3 ${appPy} ${p1}`);
    assert.deepEqual(r.added.get(a.pid)!.reason, { kind: 'selector', index: 0 });
  });

  test('by exe glob (ORed with another selector), never the agent itself', async () => {
    const port = await freePort();
    const py = children.python(appPy, [String(port)]);
    const sl = children.start('sleep', ['60']);
    const node = children.start(process.execPath, [serverJs, String(await freePort())]);
    await py.waitForOutput('listening');
    await node.waitForOutput('listening');
    const d = discovery({ selectors: [{ exePath: '*/python3*' }, { exePath: process.execPath }] });
    const r = record(d);
    await d.start();
    assert.ok(r.added.has(py.pid));
    assert.ok(r.added.has(node.pid), 'node matched the second selector');
    assert.equal(r.added.get(node.pid)!.identity.name, 'server');
    assert.ok(!r.added.has(sl.pid));
    assert.ok(!r.added.has(process.pid), 'the agent runs node too but is never selected');
    assert.ok(!d.watched().has(process.pid));
  });

  test('by pid, with OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES from the process environment', async () => {
    const named = children.start('sleep', ['60'], { OTEL_SERVICE_NAME: 'sleepy' });
    const attrs = children.start('sleep', ['61'], { OTEL_RESOURCE_ATTRIBUTES: 'service.name=napper,service.namespace=night' });
    const plain = children.start('sleep', ['62']);
    const other = children.start('sleep', ['63']);
    const d = discovery({ selectors: [{ pids: [named.pid, attrs.pid, plain.pid, process.pid] }] });
    const r = record(d);
    await d.start();
    assert.deepEqual([...r.added.keys()].sort(), [named.pid, attrs.pid, plain.pid].sort());
    assert.equal(r.added.get(named.pid)!.identity.name, 'sleepy');
    assert.equal(r.added.get(attrs.pid)!.identity.name, 'napper');
    assert.equal(r.added.get(attrs.pid)!.identity.namespace, 'night');
    assert.equal(r.added.get(plain.pid)!.identity.name, 'sleep');
    assert.ok(!r.added.has(other.pid));
    assert.equal(d.identity(other.pid)?.name, 'sleep', 'identity() also answers for processes not selected');
    assert.equal(d.identity(attrs.pid), r.added.get(attrs.pid)!.identity);
    assert.ok(!r.added.has(process.pid));
  });

  test('node entry points: server.js → server, /srv/api/index.js → api', async () => {
    const s = children.start(process.execPath, [serverJs, String(await freePort())]);
    const api = children.start(process.execPath, ['index.js', String(await freePort())], {}, `${work.dir}/srv/api`);
    await s.waitForOutput('listening');
    await api.waitForOutput('listening');
    const d = discovery({ selectors: [{ pids: [s.pid, api.pid] }] });
    const r = record(d);
    await d.start();
    assert.equal(r.added.get(s.pid)?.identity.name, 'server');
    assert.equal(r.added.get(api.pid)?.identity.name, 'api');
    void apiIndexJs;
  });

  test('secrets on the command line never reach the identity', async () => {
    const q = children.start(process.execPath, ['-e', 'setTimeout(()=>{}, 60000)', '--', '--token', 'hunter2', 'postgres://u:hunter2@db/x']);
    const d = discovery({ selectors: [{ pids: [q.pid] }] });
    const r = record(d);
    await d.start();
    const line = r.added.get(q.pid)!.identity.commandLine!;
    assert.ok(!line.includes('hunter2'), line);
    assert.ok(line.endsWith('--token REDACTED postgres://REDACTED:REDACTED@db/x'), line);
  });

  test('exclusions win over selectors', async () => {
    const a = children.start('sleep', ['60']);
    const b = children.start('sleep', ['61']);
    const d = discovery({ selectors: [{ exePath: '*/sleep' }], exclude: [{ pids: [b.pid] }] });
    const r = record(d);
    await d.start();
    assert.ok(r.added.has(a.pid));
    assert.ok(!r.added.has(b.pid));
  });
});

describe('watch-everything mode (no selector)', () => {
  test('every process but the agent; the agent\'s children only when not excluded', async () => {
    const child = children.start('sleep', ['60']);
    const d1 = discovery({ kernelEvents: 'off', excludeAgentChildren: true });
    const r1 = record(d1);
    await d1.start();
    assert.equal(d1.mode, 'all');
    assert.ok(!r1.added.has(process.pid));
    assert.ok(!r1.added.has(child.pid), 'children of the agent are excluded by default');
    assert.ok(d1.excludedPids().includes(process.pid));
    assert.ok(d1.excludedPids().includes(child.pid));
    assert.ok(r1.added.size > 0, 'other processes on the host are selected');
    for (const [pid] of r1.added) assert.notEqual(pid, process.pid);
    const d2 = discovery({ kernelEvents: 'off' });
    const r2 = record(d2);
    await d2.start();
    assert.ok(r2.added.has(child.pid));
    assert.ok(!r2.added.has(process.pid));
  });

  test('with kernel events, a process the agent spawns later stays excluded', async () => {
    const d = discovery({ kernelEvents: 'on', excludeAgentChildren: true });
    const r = record(d);
    await d.start();
    const later = children.start('sleep', ['60']);
    const outside = children.start('sh', ['-c', 'sleep 0.05; exec sleep 60']); // excluded too: the agent spawned it
    await new Promise((res) => setTimeout(res, 300));
    await d.rescan();
    assert.ok(!r.added.has(later.pid));
    assert.ok(!r.added.has(outside.pid));
    assert.ok(d.isExcluded(later.pid));
  });
});

for (const mode of MODES) {
  describe(`keeping up (${mode.label})`, () => {
    const bound = mode.kernelEvents === 'on' ? 150 : 1000;

    test(`a server started after discovery is selected by port within ${bound} ms of listening, even when it binds late`, async (t) => {
      const port = await freePort();
      const d = discovery({ selectors: [{ openPorts: String(port) }], kernelEvents: mode.kernelEvents });
      const r = record(d);
      await d.start();
      const late = children.python(appPy, [String(port), '0.4']);
      await late.waitForOutput('started');
      await late.waitForOutput('listening');
      const listeningAt = performance.now();
      await waitFor(() => r.added.has(late.pid), 5000, 5);
      const latency = r.added.get(late.pid)!.at - listeningAt;
      t.diagnostic(`selected ${latency.toFixed(1)} ms after the server printed "listening"`);
      assert.ok(latency < bound, `selected ${latency.toFixed(1)} ms after listening`);
      assert.equal(r.added.get(late.pid)!.identity.name, 'app');
      assert.equal(d.stats().kernelEvents, mode.kernelEvents === 'on');
    });

    test('a process matching an exe glob is selected when it starts, and removed when it exits', async (t) => {
      const d = discovery({ selectors: [{ exePath: '*/sleep' }], kernelEvents: mode.kernelEvents });
      const r = record(d);
      await d.start();
      const s = children.start('sleep', ['60'], { OTEL_SERVICE_NAME: 'late-sleeper' });
      const startedAt = performance.now();
      await waitFor(() => r.added.has(s.pid), 5000, 5);
      t.diagnostic(`selected ${(r.added.get(s.pid)!.at - startedAt).toFixed(1)} ms after spawn`);
      assert.ok(r.added.get(s.pid)!.at - startedAt < bound, `selected after ${(r.added.get(s.pid)!.at - startedAt).toFixed(1)} ms`);
      assert.equal(r.added.get(s.pid)!.identity.name, 'late-sleeper');
      s.kill();
      await within(s.exited, 10_000, 'sleep to exit');
      const exitedAt = performance.now();
      await waitFor(() => r.removed.has(s.pid), 5000, 5);
      t.diagnostic(`removed ${(r.removed.get(s.pid)! - exitedAt).toFixed(1)} ms after exit`);
      assert.ok(r.removed.get(s.pid)! - exitedAt < bound, `removed after ${(r.removed.get(s.pid)! - exitedAt).toFixed(1)} ms`);
      assert.ok(!d.watched().has(s.pid));
    });

    test('a process handed a listening socket (socket activation) is selected by port without calling listen()', async () => {
      const port = await freePort();
      const activator = children.python(activatorPy, [String(port)]);
      await activator.waitForOutput('listening');
      // The activator itself is excluded, as systemd would not be selected.
      const d = discovery({ selectors: [{ openPorts: String(port) }], exclude: [{ pids: [activator.pid] }], kernelEvents: mode.kernelEvents });
      const r = record(d);
      await d.start();
      assert.equal(r.added.size, 0);
      activator.write('go\n');
      await activator.waitForOutput(/handed \d+\n/);
      const sleeper = Number(/handed (\d+)/.exec(activator.output())![1]);
      await waitFor(() => r.added.has(sleeper), bound + 1000, 5);
      assert.equal(r.added.get(sleeper)!.identity.executableName, 'sleep');
      assert.deepEqual(r.added.get(sleeper)!.reason, { kind: 'selector', index: 0 });
    });

    test('children of a selected process: pre-fork workers (no exec) and exec\'d children, before and after start', async () => {
      const parent = children.python(workersPy, []);
      await parent.waitForOutput(/workers \d+ \d+\n/);
      const early = parent.output().trim().split(/\s+/).slice(1).map(Number);
      const d = discovery({ selectors: [{ pids: [parent.pid], name: 'pool' }], kernelEvents: mode.kernelEvents });
      const r = record(d);
      await d.start();
      await waitFor(() => early.every((pid) => r.added.has(pid)), 2000, 5);
      for (const pid of early) {
        assert.deepEqual(r.added.get(pid)!.reason, { kind: 'child', parent: parent.pid });
        assert.equal(r.added.get(pid)!.identity.name, 'pool', 'children carry the selector name');
      }
      parent.write('more\n');
      await parent.waitForOutput(/more \d+ \d+\n/);
      const [worker, sleeper] = parent.output().trim().split('\n').at(-1)!.split(' ').slice(1).map(Number) as [number, number];
      await waitFor(() => r.added.has(worker) && r.added.get(sleeper)?.identity.executableName === 'sleep', bound + 1000, 5).catch((e: Error) => {
        throw new Error(`${e.message}; worker ${worker}, sleeper ${sleeper}; output ${JSON.stringify(parent.output())}; events: ${r.log.join(' ')}`);
      });
      assert.equal(r.added.get(worker)!.identity.name, 'pool');
      assert.equal(r.added.get(sleeper)!.identity.name, 'pool');
      assert.equal(r.added.get(sleeper)!.identity.executablePath, '/usr/bin/sleep');
      assert.equal(d.stats().selected, 5);
    });
  });
}

test('exact: N processes started after discovery give exactly N added and, after they exit, N removed', async () => {
  // A binary of our own, so that nobody else's sleep on this host matches.
  const mySleep = work.file('bin/waggle-test-sleep', '');
  copyFileSync('/usr/bin/sleep', mySleep);
  chmodSync(mySleep, 0o755);
  const d = discovery({ selectors: [{ exePath: '*/waggle-test-sleep' }], kernelEvents: 'on' });
  const r = record(d);
  await d.start();
  const N = 50;
  const started = Array.from({ length: N }, (_, i) => children.start(mySleep, [String(30 + i)]));
  await waitFor(() => started.every((c) => r.added.has(c.pid)), 5000, 5);
  for (const c of started) c.kill();
  await within(Promise.all(started.map((c) => c.exited)), 10_000, 'the sleepers to exit');
  await waitFor(() => started.every((c) => r.removed.has(c.pid)), 5000, 5);
  await d.rescan();
  assert.equal(r.added.size, N, r.log.join(' '));
  assert.equal(r.removed.size, N);
  assert.equal(d.watched().size, 0);
  assert.equal(d.stats().kernelDrops, 0);
});

test('a process gone before /proc was read is named from its exec event', async () => {
  // A copied /bin/true via a symlink with another name: it exits at once, and the
  // name is the one it was executed as.
  const myTrue = work.file('bin/waggle-test-true', '');
  copyFileSync('/usr/bin/true', myTrue);
  chmodSync(myTrue, 0o755);
  const link = work.file('bin/waggle-short-lived', '');
  execFileSync('ln', ['-sf', myTrue, link]);
  const d = discovery({ selectors: [{ exePath: '*/nothing-matches-this' }], kernelEvents: 'on' });
  await d.start();
  const c = children.start(link, []);
  await within(c.exited, 10_000, 'the short-lived process to exit');
  const id = (await waitFor(() => d.identity(c.pid), 5000, 10))!;
  assert.equal(id.name, 'waggle-short-lived');
  assert.equal(id.pid, c.pid);
  assert.equal(id.executablePath, link);
  assert.match(id.instanceId, /^[0-9a-f-]{36}$/);
  assert.equal(d.identity(c.pid), id, 'built once, then cached');
  // An interpreter is named after its script, from the arguments the exec event carried.
  const script = work.file('jobs/nightly-report.py', 'pass\n');
  const py = children.start('/usr/bin/python3', [script]);
  await within(py.exited, 10_000, 'the short-lived script to exit');
  const pyId = (await waitFor(() => d.identity(py.pid), 5000, 10))!;
  assert.equal(pyId.name, 'nightly-report');
  assert.equal(pyId.commandLine, `/usr/bin/python3 ${script}`);
  assert.equal(d.stats().identitiesFromExecEvents, 2);
});

test('a forked child gone before /proc was read is its parent, with its own pid and instance', async () => {
  // The PostgreSQL-backend shape: a selected process forks a child that never
  // execs and exits at once; the parent reaps it and prints its pid.
  const FORKER = 'import os, sys\nsys.stdin.readline()\npid = os.fork()\nif pid == 0: os._exit(0)\nos.waitpid(pid, 0)\nprint(pid, flush=True)\nsys.stdin.readline()\n';
  const script = work.file('forker.py', FORKER);
  const d = discovery({ selectors: [{ exePath: '*/python3*', name: 'forker-service' }], kernelEvents: 'on' });
  const r = record(d);
  await d.start();
  const parent = children.python(script, []);
  await waitFor(() => r.added.has(parent.pid), 5000, 5);
  parent.write('fork\n');
  // Discovery runs on this thread: blocked here, it reads the fork and the exit
  // only after the child is gone, so the child is never examined.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
  await parent.waitForOutput(/\d+\n/);
  const child = Number(parent.output().trim());
  const parentId = d.identity(parent.pid)!;
  const id = (await waitFor(() => d.identity(child), 5000, 10))!;
  assert.equal(id.name, 'forker-service', 'the selector that picked the parent names the child');
  assert.equal(id.pid, child);
  assert.equal(id.executablePath, parentId.executablePath);
  assert.notEqual(id.instanceId, parentId.instanceId);
  assert.match(id.instanceId, /^[0-9a-f-]{36}$/);
  assert.equal(d.stats().identitiesFromForkEvents, 1);
  parent.write('done\n');
  await within(parent.exited, 10_000, 'the forker to exit');
});

describe('selection at exec, in the kernel (a selector on the executable alone)', () => {
  /** Blocks this thread (discovery runs on it) while `run` starts a process that exits at once. */
  const whileBlocked = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  const copy = (from: string, name: string) => {
    const to = work.file(`exec-sel/${name}`, '');
    copyFileSync(from, to);
    chmodSync(to, 0o755);
    return to;
  };

  test('a literal path: a process that exits before user space reads its exec is tracked, and named by its selector', async () => {
    const tool = copy('/usr/bin/true', 'short-tool');
    const d = discovery({ selectors: [{ exePath: tool, name: 'short-tool-svc', namespace: 'batch' }], kernelEvents: 'on' });
    await d.start();
    assert.equal(d.stats().execSelectedExecutables, 1);
    const c = children.start(tool, []);
    whileBlocked(300);
    await within(c.exited, 10_000, 'the tool to exit');
    await waitFor(() => d.stats().execTracked >= 1, 5000, 10);
    assert.equal(d.stats().execTracked, 1);
    const id = (await waitFor(() => d.identity(c.pid), 5000, 10))!;
    assert.equal(id.name, 'short-tool-svc');
    assert.equal(id.namespace, 'batch');
  });

  test('a glob: learned from the first process it selected, the next run is tracked at exec', async () => {
    const sleeper = copy('/usr/bin/sleep', 'glob-sleeper');
    const d = discovery({ selectors: [{ exePath: '*/exec-sel/glob-sl*' }], kernelEvents: 'on' });
    const r = record(d);
    await d.start();
    assert.equal(d.stats().execSelectedExecutables, 0, 'a glob names no file at start');
    const first = children.start(sleeper, ['0.5']);
    await waitFor(() => r.added.has(first.pid), 5000, 5);
    assert.equal(d.stats().execSelectedExecutables, 1);
    assert.equal(d.stats().execTracked, 0);
    const second = children.start(sleeper, ['0']);
    whileBlocked(300);
    await within(second.exited, 10_000, 'the second run to exit');
    await waitFor(() => d.stats().execTracked >= 1, 5000, 10);
    assert.equal(d.stats().execTracked, 1);
    await within(first.exited, 10_000, 'the first run to exit');
  });

  test('user space stays the judge: an exclusion of the same executable untracks what the kernel picked', async () => {
    const sleeper = copy('/usr/bin/sleep', 'excluded-sleeper');
    const d = discovery({ selectors: [{ exePath: sleeper }], exclude: [{ exePath: sleeper }], kernelEvents: 'on' });
    const r = record(d);
    await d.start();
    const c = children.start(sleeper, ['0.3']);
    await waitFor(() => d.stats().execSelectionUndone >= 1, 5000, 5);
    assert.equal(d.stats().execTracked, 1);
    assert.equal(d.stats().execSelectionUndone, 1);
    assert.equal(r.added.has(c.pid), false);
    await within(c.exited, 10_000, 'the sleeper to exit');
  });
});
