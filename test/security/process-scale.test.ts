// Process events at scale (issue 15): an exec storm through `waggle events
// --events-file` loses nothing, the JSON writer writes exactly what
// JSON.stringify would, and the kernel-side cuts (forks only when needed, the
// agent's own processes) drop what they promise, no more, and count it.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { packageRoot } from '../../src/paths.js';
import { JsonLinesWriter, type ProcessExecEvent, type SecurityEvent, eventJson } from '../../src/security/index.js';
import { sleep } from '../helpers/process.js';
import { PYTHON, policies, policy, run, startAgent } from './harness.js';

let dir: string;
let storm: string;
before(() => {
  dir = mkdtempSync('/tmp/waggle-scale-');
  storm = join(dir, 'exec-storm');
  const cc = spawnSync('gcc', ['-O2', '-o', storm, join(packageRoot, 'bench', 'exec-storm.c')], { encoding: 'utf8' });
  assert.equal(cc.status, 0, `gcc: ${cc.stderr}`);
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('exec storm', () => {
  test('5,000 executions of a copied binary: exactly 5,000 exec events (and exits) for it in --events-file, nothing lost', async () => {
    const bin = join(dir, 'storm-true');
    copyFileSync('/bin/true', bin);
    chmodSync(bin, 0o755);
    const file = join(dir, 'storm.jsonl');
    const cli = spawn(process.execPath, [join(packageRoot, 'bin', 'waggle.js'), 'events', '--events-file', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    cli.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise((r) => cli.on('exit', r));
    try {
      const until = Date.now() + 30_000;
      while (!err.includes('watching')) {
        assert.ok(Date.now() < until && cli.exitCode === null, `waggle events did not start: ${err}`);
        await sleep(50);
      }
      const r = spawnSync(storm, [bin, '5000', '0', '8'], { encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.split(' ')[2]?.trim(), '0', 'every child exited 0');
      // Wait until the file holds them all (the agent drains every 100 ms), then stop it.
      const count = (type: string) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .filter((l) => l.includes(bin))
          .map((l) => JSON.parse(l) as SecurityEvent)
          .filter((e) => e.type === type && e.process.binary === bin).length;
      const drainUntil = Date.now() + 30_000;
      while (count('process_exit') < 5000 && Date.now() < drainUntil) await sleep(200);
      cli.kill('SIGINT');
      await exited;
      assert.match(err, / 0 lost in the kernel/);
      assert.doesNotMatch(err, /dropped/);
      assert.equal(count('process_exec'), 5000);
      assert.equal(count('process_exit'), 5000);
    } finally {
      if (cli.exitCode === null) cli.kill('SIGKILL');
    }
  });
});

describe('JSON lines', () => {
  test('eventJson writes exactly what JSON.stringify writes, for real process and policy events with shared ancestry', async () => {
    const target = join(dir, 'watched.txt');
    writeFileSync(target, 'x');
    const h = await startAgent({ policies: policies(policy('watch-file', 'file_open', `- paths: {equal: [${target}]}`)) });
    try {
      // From a thread: the policy event's process carries a tid.
      const py = run(PYTHON, ['-c', `import threading\nt = threading.Thread(target=lambda: open(${JSON.stringify(target)}).read())\nt.start()\nt.join()`]);
      const [opened] = await h.waitFor(1, (e) => e.type === 'file_open' && e.process.pid === py.pid);
      assert.ok(opened!.process.tid !== undefined && opened!.process.tid !== py.pid, JSON.stringify(opened));
      const r = run('/usr/bin/bash', ['-c', '/usr/bin/dash -c "/usr/bin/true \\"quote\\\\\\" and ünïcode\\"; :"; /usr/bin/sleep 0.01']);
      await h.waitFor(1, (e) => e.type === 'process_exit' && e.process.pid === r.pid);
      const mine = h.current((e) => e.process.pid === r.pid || e.process.parent?.pid === r.pid || (e.process.ancestors ?? []).some((a) => a.pid === r.pid));
      assert.ok(mine.filter((e) => e.type === 'process_exec').length >= 3, JSON.stringify(mine.map((e) => e.type)));
      assert.ok(mine.some((e) => (e.process.ancestors?.length ?? 0) > 0));
      for (const e of h.current()) assert.equal(eventJson(e), JSON.stringify(e));
      // Twice: the second time from the memo.
      for (const e of h.current()) assert.equal(eventJson(e), JSON.stringify(e));
      // The file writer gathers bytes (shared parts copied as bytes): the same text, line by line.
      const file = join(dir, 'same.jsonl');
      const w = new JsonLinesWriter(file);
      const all = h.current();
      for (const e of all) w.write(e);
      for (const e of all) w.write(e);
      await w.close();
      const expected = all.map((e) => `${JSON.stringify(e)}\n`).join('');
      assert.equal(readFileSync(file, 'utf8'), expected + expected);
    } finally {
      await h.close();
    }
  });
});

describe('kernel-side cuts', () => {
  test("forkRecords 'needed': a fork that never execs sends nothing, a fork that becomes an exec's parent is sent late, counted", async () => {
    const h = await startAgent({ forkRecords: 'needed' });
    try {
      const before = h.agent.stats().lifecycle;
      // A Python child that forks and exits without exec; then a subshell (a fork) that runs a command (a fork + exec) and waits.
      const py = run(PYTHON, ['-c', 'import os\npid = os.fork()\nif pid == 0:\n    os._exit(3)\nos.waitpid(pid, 0)\nprint(pid)']);
      const child = Number(py.stdout.trim());
      const sh = run('/usr/bin/bash', ['-c', '( /usr/bin/true late-parent; echo $BASHPID ); :']);
      const subshell = Number(sh.stdout.trim());
      const [exec] = await h.waitFor<ProcessExecEvent>(1, (e) => e.type === 'process_exec' && e.process.arguments[0] === 'late-parent');
      await h.waitFor(1, (e) => e.type === 'process_exit' && e.process.pid === sh.pid);
      const after = h.agent.stats().lifecycle;
      // The exec's ancestry is whole: its parent is the subshell (a fork of bash, sent late), then bash.
      assert.equal(exec!.process.parent!.pid, subshell);
      assert.deepEqual(exec!.process.parent!.flags, ['clone']);
      assert.equal(exec!.process.parent!.binary, '/usr/bin/bash');
      assert.equal(exec!.process.ancestors![0]!.pid, sh.pid);
      const forks = h.current((e) => e.type === 'process_fork');
      assert.deepEqual(
        forks.filter((e) => [child, subshell].includes(e.process.pid)).map((e) => e.process.pid),
        [subshell],
        'only the fork an exec needed was sent',
      );
      assert.equal(h.current((e) => e.process.pid === child).length, 0, 'a fork without exec: no fork, no exit');
      assert.ok(h.current((e) => e.type === 'process_exit' && e.process.pid === subshell).length === 1, 'the late fork exits like any process');
      assert.ok(after.forksCut - before.forksCut >= 4, `forksCut ${before.forksCut} → ${after.forksCut}`);
      assert.ok(after.forkExitsCut - before.forkExitsCut >= 1);
      assert.ok(after.forksLate - before.forksLate >= 1);
    } finally {
      await h.close();
    }
  });

  test("ownProcesses 'cut': the agent's own children send no life-cycle records, and are counted", async () => {
    const h = await startAgent({ ownProcesses: 'cut' });
    try {
      const before = h.agent.stats().lifecycle;
      const r = run('/usr/bin/bash', ['-c', '/usr/bin/true own-child; :']);
      await sleep(300);
      const after = h.agent.stats().lifecycle;
      assert.equal(h.current((e) => e.process.pid === r.pid || e.process.arguments[0] === 'own-child').length, 0);
      // bash and true: a fork, an exec and an exit each.
      assert.ok(after.ownCut - before.ownCut >= 6, `ownCut ${before.ownCut} → ${after.ownCut}`);
    } finally {
      await h.close();
    }
  });

  test('by default every fork is reported and nothing is cut', async () => {
    const h = await startAgent();
    try {
      const py = run(PYTHON, ['-c', 'import os\npid = os.fork()\nif pid == 0:\n    os._exit(0)\nos.waitpid(pid, 0)\nprint(pid)']);
      const child = Number(py.stdout.trim());
      const events = await h.waitFor(2, (e) => e.process.pid === child);
      assert.deepEqual(events.map((e) => e.type), ['process_fork', 'process_exit']);
      const l = h.agent.stats().lifecycle;
      assert.deepEqual([l.forksCut, l.forkExitsCut, l.forksLate, l.ownCut], [0, 0, 0, 0]);
    } finally {
      await h.close();
    }
  });
});
