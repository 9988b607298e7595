// Process life-cycle events from the real kernel: exec with ancestry, exit
// codes and signals, forks, processes that predate the agent, pid reuse, and a
// cache that forgets what has exited.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { sleep, startChild, waitFor, within } from '../helpers/process.js';
import type { ProcessExecEvent, ProcessExitEvent, ProcessForkEvent, SecurityEvent } from '../../src/security/index.js';
import { PYTHON, type Harness, run, startAgent } from './harness.js';

const execOf = (pid: number) => (e: SecurityEvent): e is ProcessExecEvent => e.type === 'process_exec' && e.process.pid === pid;
const exitOf = (pid: number) => (e: SecurityEvent): e is ProcessExitEvent => e.type === 'process_exit' && e.process.pid === pid;

let h: Harness;
let dir: string;
before(async () => {
  dir = mkdtempSync('/tmp/waggle-proc-');
  h = await startAgent({ processCacheGraceMs: 200 });
});
after(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('exec', () => {
  test('exec events of a three-level process tree carry the right ancestry', async () => {
    const r = run('/usr/bin/bash', ['-c', 'echo A=$$; /usr/bin/dash -c "echo B=\\$\\$; /usr/bin/true level3; echo after"; echo after']);
    const a = Number(/A=(\d+)/.exec(r.stdout)![1]);
    const b = Number(/B=(\d+)/.exec(r.stdout)![1]);
    assert.equal(a, r.pid);
    const [bash] = await h.waitFor<ProcessExecEvent>(1, execOf(a));
    const [dash] = await h.waitFor<ProcessExecEvent>(1, execOf(b));
    const [leaf] = await h.waitFor<ProcessExecEvent>(1, (e) => e.type === 'process_exec' && e.process.binary === '/usr/bin/true' && e.process.arguments[0] === 'level3' && e.process.parent?.pid === b);
    const p = leaf!.process;
    assert.deepEqual(p.arguments, ['level3']);
    assert.equal(p.parent!.binary, '/usr/bin/dash');
    assert.equal(p.parent!.exec_id, dash!.process.exec_id);
    assert.equal(p.parent_exec_id, dash!.process.exec_id);
    assert.deepEqual(
      p.ancestors!.slice(0, 2).map((x) => [x.pid, x.binary, x.exec_id]),
      [
        [a, '/usr/bin/bash', bash!.process.exec_id],
        [process.pid, realpathSync(process.execPath), bash!.process.parent!.exec_id],
      ],
    );
    assert.equal(dash!.process.parent!.exec_id, bash!.process.exec_id);
    assert.equal(bash!.process.parent!.pid, process.pid);
    assert.deepEqual(bash!.process.parent!.flags, ['procFS']);
    // exec_id is base64(node:start:pid), as Tetragon's
    assert.match(Buffer.from(p.exec_id, 'base64').toString(), new RegExp(`^${h.agent.node}:\\d+:${p.pid}$`));
  });

  test('an exec records the canonical binary, the cwd, and the path given for scripts', async () => {
    const script = join(dir, 'hello.sh');
    writeFileSync(script, '#!/bin/sh\necho hello\n');
    chmodSync(script, 0o755);
    const r = run(script, ['one', 'two words'], { cwd: dir });
    assert.equal(r.stdout, 'hello\n');
    const [ev] = await h.waitFor<ProcessExecEvent>(1, execOf(r.pid));
    assert.equal(ev!.process.binary, '/usr/bin/dash', 'the running image: the interpreter, as /proc/PID/exe shows');
    assert.equal(ev!.filename, script);
    assert.deepEqual(ev!.process.arguments, [script, 'one', 'two words']);
    assert.equal(ev!.process.cwd, dir);
    assert.deepEqual(ev!.process.flags, ['execve']);
  });

  test('long argument lists are cut at 2 KiB and flagged', async () => {
    const long = 'x'.repeat(3000);
    const r = run('/usr/bin/true', ['short', long]);
    const [ev] = await h.waitFor<ProcessExecEvent>(1, execOf(r.pid));
    assert.deepEqual(ev!.process.flags, ['execve', 'truncArgs']);
    assert.equal(ev!.process.arguments[0], 'short');
    assert.equal(ev!.process.arguments[1]!.length, 2047 - '/usr/bin/true\0short\0'.length);
  });

  test("a pre-existing process's children and its own exec appear with their parents", async () => {
    // Started before this agent: everything about it comes from /proc.
    const other = await startAgentLater(async (agentStarted) => {
      const child = startChild('/usr/bin/bash', ['-c', 'read x; /usr/bin/true from-preexisting; echo forked; read y; exec /usr/bin/sleep 0.3']);
      await sleep(200);
      const h2 = await agentStarted();
      try {
        child.write('go\n');
        await child.waitForOutput('forked');
        const [forked] = await h2.waitFor<ProcessExecEvent>(1, (e) => e.type === 'process_exec' && e.process.arguments[0] === 'from-preexisting');
        assert.equal(forked!.process.parent!.pid, child.pid);
        assert.equal(forked!.process.parent!.binary, '/usr/bin/bash');
        assert.deepEqual(forked!.process.parent!.flags, ['procFS']);
        assert.deepEqual(forked!.process.parent!.arguments, ['-c', 'read x; /usr/bin/true from-preexisting; echo forked; read y; exec /usr/bin/sleep 0.3']);
        assert.equal(forked!.process.ancestors![0]!.pid, process.pid);

        child.write('go\n');
        const [own] = await h2.waitFor<ProcessExecEvent>(1, execOf(child.pid));
        assert.equal(own!.process.binary, '/usr/bin/sleep');
        assert.equal(own!.process.parent!.pid, process.pid);
        assert.equal(own!.process.parent!.binary, realpathSync(process.execPath));
        assert.deepEqual(own!.process.parent!.flags, ['procFS']);
        await within(child.exited, 10_000, 'the sleeper to exit');
        const [exit] = await h2.waitFor<ProcessExitEvent>(1, exitOf(child.pid));
        assert.equal(exit!.process.exec_id, own!.process.exec_id);
      } finally {
        child.kill();
      }
    });
    assert.equal(other, true);
  });
});

/** Runs `fn` with a second agent started when it asks (after it set up its processes). */
async function startAgentLater(fn: (start: () => Promise<Harness>) => Promise<void>): Promise<boolean> {
  let second: Harness | undefined;
  try {
    await fn(async () => (second = await startAgent()));
    return true;
  } finally {
    await second?.close();
  }
}

describe('exit and fork', () => {
  test('exit status and signals', async () => {
    const r = run('/usr/bin/bash', ['-c', '/usr/bin/dash -c "exit 3"; /usr/bin/dash -c "kill -TERM \\$\\$"; /usr/bin/dash -c "kill -KILL \\$\\$"; echo done']);
    assert.equal(r.stdout, 'done\n');
    const dashes = await h.waitFor<ProcessExecEvent>(3, (e) => e.type === 'process_exec' && e.process.parent?.pid === r.pid && e.process.binary === '/usr/bin/dash');
    const exits = await Promise.all(dashes.map(async (d) => (await h.waitFor<ProcessExitEvent>(1, exitOf(d.process.pid)))[0]!));
    assert.deepEqual(
      exits.map((e) => [e.status, e.signal]),
      [
        [3, null],
        [null, 'SIGTERM'],
        [null, 'SIGKILL'],
      ],
    );
    assert.deepEqual(
      exits.map((e) => e.process.exec_id),
      dashes.map((d) => d.process.exec_id),
    );
  });

  test('a fork without exec is a process of its own; threads are not', async () => {
    const script = 'import os, threading\nts = [threading.Thread(target=lambda: None) for _ in range(3)]\n[t.start() for t in ts]\n[t.join() for t in ts]\npid = os.fork()\nif pid == 0:\n  os._exit(7)\nos.waitpid(pid, 0)\nprint(pid)';
    const r = run(PYTHON, ['-c', script]);
    const child = Number(r.stdout.trim());
    const forks = await h.waitFor<ProcessForkEvent>(1, (e) => e.type === 'process_fork' && e.process.parent?.pid === r.pid);
    assert.deepEqual(
      forks.map((f) => [f.process.pid, f.process.binary, f.process.flags]),
      [[child, '/usr/bin/python3.11', ['clone']]],
    );
    const [exit] = await h.waitFor<ProcessExitEvent>(1, exitOf(child));
    assert.equal(exit!.status, 7);
    assert.equal(exit!.process.exec_id, forks[0]!.process.exec_id);
  });

  test('exec_id stays unique when a pid is reused', async () => {
    const spawnAt = (pid: number): Promise<number> =>
      new Promise((resolve, reject) => {
        writeFileSync('/proc/sys/kernel/ns_last_pid', String(pid - 1));
        const c = spawn('/usr/bin/true', ['reuse'], { stdio: 'ignore' });
        c.on('error', reject);
        c.on('exit', () => resolve(c.pid ?? 0));
      });
    let first = 0;
    let second = 0;
    for (let attempt = 0; attempt < 20 && (first === 0 || second !== first); attempt++) {
      first = await spawnAt(Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) - 1000 + attempt * 10);
      second = await spawnAt(first);
    }
    assert.equal(second, first, 'could not get the same pid twice (other processes took it)');
    const execs = await h.waitFor<ProcessExecEvent>(2, (e) => execOf(first)(e) && e.process.arguments[0] === 'reuse');
    const ids = execs.slice(-2).map((e) => e.process.exec_id);
    assert.notEqual(ids[0], ids[1]);
    const exits = await h.waitFor<ProcessExitEvent>(2, exitOf(first));
    assert.deepEqual(
      exits.slice(-2).map((e) => e.process.exec_id),
      ids,
    );
  });

  test('starting while processes fork, exec and exit quickly (the /proc scan races the hooks)', async () => {
    const churn = startChild('/usr/bin/bash', ['-c', 'while true; do /usr/bin/true; /usr/bin/true & wait; done']);
    try {
      for (let i = 0; i < 5; i++) {
        const h2 = await startAgent();
        const s = h2.agent.stats();
        assert.ok(s.seeded > 0);
        await h2.close();
      }
    } finally {
      churn.kill();
    }
  });

  test('the cache forgets exited processes once their events are out', async () => {
    const r = run('/usr/bin/bash', ['-c', 'for i in 1 2 3 4 5; do /usr/bin/true $i; done']);
    const execs = await h.waitFor<ProcessExecEvent>(5, (e) => e.type === 'process_exec' && e.process.parent?.pid === r.pid);
    await h.waitFor(1, exitOf(r.pid));
    const ids = [...execs.map((e) => e.process.exec_id)];
    await waitFor(() => ids.every((id) => h.agent.cache.find(id) === undefined), 5000);
    assert.ok(h.agent.stats().processCache.forgotten >= 6);
  });
});
