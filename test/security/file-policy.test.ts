// file_open policies in the real kernel, driven by real programs: sigkill,
// allow-lists, canonical paths, in-kernel filtering counts, dry run, rate limits,
// flags, suffixes, uid/pid/container selectors, processes older than the agent.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startChild } from '../helpers/process.js';
import type { FileOpenEvent, ProcessExitEvent, SecurityEvent } from '../../src/security/index.js';
import { PYTHON, policies, policy, run, startAgent } from './harness.js';

const isOpen = (e: SecurityEvent): e is FileOpenEvent => e.type === 'file_open';
const childOf = (pid: number) => (e: SecurityEvent) => e.process.parent?.pid === pid;

let dir: string;
before(() => {
  dir = mkdtempSync('/tmp/waggle-sec-');
  chmodSync(dir, 0o755); // the uid test reads as nobody
  for (let i = 0; i < 10; i++) writeFileSync(join(dir, `f${i}`), `file ${i}\n`);
  mkdirSync(join(dir, '.ssh'));
  writeFileSync(join(dir, '.ssh', 'id_rsa'), 'KEY');
  writeFileSync(join(dir, '.ssh', 'id_rsa.pub'), 'PUB');
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('sigkill on /etc/shadow', () => {
  const SHADOW = policy('shadow-guard', 'file_open', '- paths: {equal: [/etc/shadow]}\n  binary: {notEqual: [/usr/bin/head]}\n  action: sigkill');

  test('cat dies with SIGKILL, reads nothing, and the event names cat, its parent shell and the path', async () => {
    const h = await startAgent({ policies: policies(SHADOW) });
    try {
      const r = run('/usr/bin/bash', ['-c', 'cat /etc/shadow; echo "status=$?"']);
      assert.equal(r.stdout, 'status=137\n', 'cat printed nothing and bash saw it killed (128 + 9)');
      const [ev] = await h.waitFor<FileOpenEvent>(1, (e) => isOpen(e) && childOf(r.pid)(e));
      assert.equal(ev!.policy, 'shadow-guard');
      assert.equal(ev!.action, 'sigkill');
      assert.equal(ev!.dry_run, false);
      assert.equal(ev!.process.binary, '/usr/bin/cat');
      assert.deepEqual(ev!.process.arguments, ['/etc/shadow']);
      assert.equal(ev!.process.uid, 0);
      assert.equal(ev!.process.parent!.binary, '/usr/bin/bash');
      assert.equal(ev!.process.parent!.pid, r.pid);
      assert.deepEqual(ev!.process.parent!.arguments, ['-c', 'cat /etc/shadow; echo "status=$?"']);
      assert.deepEqual(ev!.file, { path: '/etc/shadow', flags: ['read'] });
      assert.equal(ev!.syscall, 'openat');
      const [exit] = await h.waitFor<ProcessExitEvent>(1, (e) => e.type === 'process_exit' && e.process.pid === ev!.process.pid);
      assert.equal(exit!.signal, 'SIGKILL');
      assert.equal(exit!.process.exec_id, ev!.process.exec_id);
      const stats = h.agent.stats();
      assert.equal(stats.policies[0]!.kernel.killed, 1);
      assert.deepEqual(stats.policies[0]!.events, { sigkill: 1 });
    } finally {
      await h.close();
    }
  });

  test('an allow-listed binary reads the file and is not reported', async () => {
    const h = await startAgent({ policies: policies(SHADOW) });
    try {
      const r = run('/usr/bin/bash', ['-c', 'head -c 5 /etc/shadow | wc -c']);
      assert.equal(r.stdout.trim(), '5');
      const heads = await h.waitFor(1, (e) => e.type === 'process_exec' && e.process.binary === '/usr/bin/head' && childOf(r.pid)(e));
      assert.equal(h.current((e) => isOpen(e) && e.process.exec_id === heads[0]!.process.exec_id).length, 0);
      assert.equal(h.agent.stats().hooks.file_open.sent, 0);
    } finally {
      await h.close();
    }
  });

  test('relative names, symlinks and ".." resolve to the canonical path', async () => {
    const h = await startAgent({ policies: policies(SHADOW) });
    const link = join(dir, 'shadow-link');
    try {
      const r = run('/usr/bin/bash', ['-c', `cd /etc && cat ./shadow; ln -s /etc/shadow ${link}; cat ${link}; cat /etc/../etc//shadow; cd /usr && cat ../etc/shadow; echo done`]);
      assert.equal(r.stdout, 'done\n');
      const evs = await h.waitFor<FileOpenEvent>(4, (e) => isOpen(e) && childOf(r.pid)(e));
      assert.deepEqual(
        evs.map((e) => [e.process.arguments[0], e.file.path]),
        [
          ['./shadow', '/etc/shadow'],
          [link, '/etc/shadow'],
          ['/etc/../etc//shadow', '/etc/shadow'],
          ['../etc/shadow', '/etc/shadow'],
        ],
      );
    } finally {
      await h.close();
    }
  });

  test('dry run: the event says sigkill, marked dry_run, and the process lives', async () => {
    const h = await startAgent({ policies: policies(SHADOW), dryRun: true });
    try {
      const r = run('/usr/bin/bash', ['-c', 'cat /etc/shadow | wc -c']);
      assert.equal(r.stdout.trim(), String(readFileSync('/etc/shadow').length));
      const [ev] = await h.waitFor<FileOpenEvent>(1, (e) => isOpen(e) && e.process.binary === '/usr/bin/cat' && childOf(r.pid)(e));
      assert.equal(ev!.action, 'sigkill');
      assert.equal(ev!.dry_run, true);
      const exits = await h.waitFor<ProcessExitEvent>(1, (e) => e.type === 'process_exit' && e.process.pid === ev!.process.pid);
      assert.equal(exits[0]!.status, 0);
      assert.equal(h.agent.stats().policies[0]!.kernel.killed, 0);
    } finally {
      await h.close();
    }
  });

  test('policy mode monitor reports while another policy still enforces', async () => {
    const monitor = policy('shadow-monitor', 'file_open', '- paths: {equal: [/etc/shadow]}\n  action: sigkill').replace('spec:\n', 'spec:\n  mode: monitor\n');
    const enforce = policy('gshadow-guard', 'file_open', '- paths: {equal: [/etc/gshadow]}\n  action: sigkill');
    const h = await startAgent({ policies: policies(monitor, enforce) });
    try {
      const r = run('/usr/bin/bash', ['-c', 'cat /etc/shadow >/dev/null; echo "shadow=$?"; cat /etc/gshadow >/dev/null; echo "gshadow=$?"']);
      assert.equal(r.stdout, 'shadow=0\ngshadow=137\n');
      const evs = await h.waitFor<FileOpenEvent>(2, (e) => isOpen(e) && childOf(r.pid)(e));
      assert.deepEqual(
        evs.map((e) => [e.policy, e.file.path, e.action, e.dry_run]),
        [
          ['shadow-monitor', '/etc/shadow', 'sigkill', true],
          ['gshadow-guard', '/etc/gshadow', 'sigkill', false],
        ],
      );
    } finally {
      await h.close();
    }
  });
});

describe('in-kernel filtering', () => {
  test('a prefix policy sees exactly the 10 files opened inside its directory; 100,000 opens elsewhere never reach user space', async () => {
    const h = await startAgent({ policies: policies(policy('watched-dir', 'file_open', `- paths: {prefix: [${dir}/]}`)) });
    try {
      const before = h.agent.stats().hooks.file_open;
      const script = `import os\nfor i in range(10):\n  open(${JSON.stringify(dir)} + f"/f{i}").close()\nfor i in range(100000):\n  os.close(os.open("/etc/hostname", os.O_RDONLY))\n`;
      const r = run(PYTHON, ['-c', script], { timeoutMs: 120_000 });
      assert.equal(r.status, 0, r.stderr);
      const evs = await h.waitFor<FileOpenEvent>(10, isOpen);
      assert.deepEqual(
        evs.map((e) => e.file.path),
        Array.from({ length: 10 }, (_, i) => `${dir}/f${i}`),
      );
      assert.ok(evs.every((e) => e.process.pid === r.pid && e.process.binary === '/usr/bin/python3.11'));
      const after = h.agent.stats().hooks.file_open;
      assert.equal(after.sent - before.sent, 10, 'records sent to user space');
      assert.equal(after.matched - before.matched, 10);
      assert.ok(after.filtered - before.filtered >= 100_000, `filtered in the kernel: ${after.filtered - before.filtered}`);
      assert.equal(h.agent.stats().ringBuffer.kernelDrops, 0);
    } finally {
      await h.close();
    }
  });

  test('flags: reads pass a write policy; writes, O_CREAT and O_TRUNC are told apart', async () => {
    const h = await startAgent({
      policies: policies(
        policy('writes', 'file_open', `- paths: {prefix: [${dir}/]}\n  flags: [write]`),
        policy('creations', 'file_open', `- paths: {prefix: [${dir}/]}\n  flags: [create, truncate]`),
      ),
    });
    try {
      const script = [
        'import os, sys',
        `d = ${JSON.stringify(dir)}`,
        'open(d + "/f1").close()',
        'open(d + "/f2", "a").close()',
        'open(d + "/new-file", "w").close()',
        'os.close(os.open(d + "/f3", os.O_RDWR))',
      ].join('\n');
      const r = run(PYTHON, ['-c', script]);
      assert.equal(r.status, 0, r.stderr);
      const evs = await h.waitFor<FileOpenEvent>(5, (e) => isOpen(e) && e.process.pid === r.pid);
      assert.deepEqual(
        evs.map((e) => [e.policy, e.file.path.slice(dir.length), e.file.flags.join(',')]),
        [
          // "a" is O_WRONLY|O_CREAT|O_APPEND: create means O_CREAT was asked for, whether or not the file existed
          ['writes', '/f2', 'write,create'],
          ['creations', '/f2', 'write,create'],
          ['writes', '/new-file', 'write,create,truncate'],
          ['creations', '/new-file', 'write,create,truncate'],
          ['writes', '/f3', 'read,write'],
        ],
      );
    } finally {
      await h.close();
    }
  });

  test('suffix and negated lists', async () => {
    const h = await startAgent({
      policies: policies(policy('keys', 'file_open', `- paths: {suffix: [/.ssh/id_rsa], prefix: [${dir}/f], notEqual: [${dir}/f5], notSuffix: ["7"]}`)),
    });
    try {
      const names = ['.ssh/id_rsa', '.ssh/id_rsa.pub', 'f1', 'f5', 'f7', 'f9'];
      const r = run(PYTHON, ['-c', `for n in ${JSON.stringify(names)}: open(${JSON.stringify(dir)} + "/" + n).close()`]);
      assert.equal(r.status, 0, r.stderr);
      const evs = await h.waitFor<FileOpenEvent>(3, (e) => isOpen(e) && e.process.pid === r.pid);
      assert.deepEqual(
        evs.map((e) => e.file.path.slice(dir.length + 1)),
        ['.ssh/id_rsa', 'f1', 'f9'],
      );
    } finally {
      await h.close();
    }
  });

  test('rate limit: one event per file and process within the interval; global scope across processes', async () => {
    const h = await startAgent({
      policies: policies(
        policy('limited', 'file_open', `- paths: {prefix: [${dir}/f1, ${dir}/f2]}\n  rateLimit: 1h`),
        policy('limited-global', 'file_open', `- paths: {prefix: [${dir}/f3]}\n  rateLimit: 1h\n  rateLimitScope: global`),
      ),
    });
    try {
      const opens = `d = ${JSON.stringify(dir)}\nfor n in ["f1"] * 5 + ["f2"] * 3 + ["f3"] * 2: open(d + "/" + n).close()`;
      const first = run(PYTHON, ['-c', opens]);
      const second = run(PYTHON, ['-c', opens]);
      const evs = await h.waitFor<FileOpenEvent>(5, isOpen);
      assert.deepEqual(
        evs.map((e) => [e.process.pid === first.pid ? 'first' : e.process.pid === second.pid ? 'second' : 'other', e.policy, e.file.path.slice(dir.length + 1)]),
        [
          ['first', 'limited', 'f1'],
          ['first', 'limited', 'f2'],
          ['first', 'limited-global', 'f3'],
          ['second', 'limited', 'f1'],
          ['second', 'limited', 'f2'],
        ],
      );
      const ps = h.agent.stats().policies;
      assert.deepEqual(ps[0]!.kernel, { matched: 16, posted: 4, rateLimited: 12, killed: 0, denied: 0 });
      assert.deepEqual(ps[1]!.kernel, { matched: 4, posted: 1, rateLimited: 3, killed: 0, denied: 0 });
      assert.equal(h.agent.stats().hooks.file_open.rateLimited, 15);
    } finally {
      await h.close();
    }
  });
});

describe('process selectors', () => {
  test('uid: only the unprivileged open is reported', async () => {
    const h = await startAgent({ policies: policies(policy('nobody-reads', 'file_open', `- uid: {in: [65534]}\n  paths: {prefix: [${dir}/f]}`)) });
    try {
      const script = `import os\nd = ${JSON.stringify(dir)}\nopen(d + "/f1").close()\nos.setgid(65534)\nos.setuid(65534)\nopen(d + "/f2").close()`;
      const r = run(PYTHON, ['-c', script]);
      assert.equal(r.status, 0, r.stderr);
      const evs = await h.waitFor<FileOpenEvent>(1, (e) => isOpen(e) && e.process.pid === r.pid);
      assert.deepEqual(
        evs.map((e) => [e.file.path.slice(dir.length + 1), e.process.uid]),
        [['f2', 65534]],
      );
    } finally {
      await h.close();
    }
  });

  test('pid: only the named process is reported', async () => {
    const reader = startChild(PYTHON, ['-u', '-c', `import sys\nfor line in sys.stdin:\n  open(line.strip()).close()\n  print("opened", flush=True)`]);
    const h = await startAgent({ policies: policies(policy('one-pid', 'file_open', `- pid: {in: [${reader.pid}]}\n  paths: {prefix: [${dir}/]}`)) });
    try {
      reader.write(`${dir}/f4\n`);
      await reader.waitForOutput('opened');
      run('/usr/bin/cat', [`${dir}/f4`]);
      const evs = await h.waitFor<FileOpenEvent>(1, isOpen);
      assert.deepEqual(
        evs.map((e) => [e.process.pid, e.file.path]),
        [[reader.pid, `${dir}/f4`]],
      );
    } finally {
      reader.kill();
      await h.close();
    }
  });

  test('container: a process in its own PID namespace matches container: true, the host one container: false', async () => {
    const h = await startAgent({
      policies: policies(
        policy('in-container', 'file_open', `- container: true\n  paths: {prefix: [${dir}/f]}`),
        policy('on-host', 'file_open', `- container: false\n  paths: {prefix: [${dir}/f]}`),
      ),
    });
    try {
      const r = run('/usr/bin/unshare', ['--pid', '--fork', '--mount-proc', '/usr/bin/cat', `${dir}/f6`]);
      assert.equal(r.status, 0, r.stderr);
      const host = run('/usr/bin/cat', [`${dir}/f6`]);
      const evs = await h.waitFor<FileOpenEvent>(2, (e) => isOpen(e) && e.process.binary === '/usr/bin/cat');
      assert.deepEqual(
        evs.map((e) => [e.policy, e.process.in_container, e.process.pid === host.pid]),
        [
          ['in-container', true, false],
          ['on-host', false, true],
        ],
      );
    } finally {
      await h.close();
    }
  });

  test('processes that existed before the agent are matched by binary (seeded from /proc)', async () => {
    const loop = (bin: string) =>
      bin === 'perl'
        ? startChild('/usr/bin/perl', ['-e', '$|=1; while (my $l = <STDIN>) { chomp $l; open(my $f, "<", $l); close($f); print "opened\\n"; }'])
        : startChild(PYTHON, ['-u', '-c', 'import sys\nfor line in sys.stdin:\n  open(line.strip()).close()\n  print("opened", flush=True)']);
    const perl = loop('perl');
    const python = loop('python');
    await new Promise((r) => setTimeout(r, 300));
    const h = await startAgent({
      policies: policies(
        policy('not-python', 'file_open', `- binary: {notEqual: [/usr/bin/python3.11]}\n  paths: {equal: [${dir}/f8]}`),
        policy('only-perl', 'file_open', `- binary: {equal: [/usr/bin/perl]}\n  paths: {equal: [${dir}/f9]}`),
      ),
    });
    try {
      for (const child of [perl, python]) {
        child.write(`${dir}/f8\n${dir}/f9\n`);
        await child.waitForOutput(/opened\nopened\n/);
      }
      const evs = await h.waitFor<FileOpenEvent>(2, isOpen);
      assert.deepEqual(
        evs.map((e) => [e.policy, e.process.pid, e.process.binary, e.process.flags]),
        [
          ['not-python', perl.pid, '/usr/bin/perl', ['procFS']],
          ['only-perl', perl.pid, '/usr/bin/perl', ['procFS']],
        ],
      );
      assert.equal(evs[0]!.process.parent?.pid, process.pid);
    } finally {
      perl.kill();
      python.kill();
      await h.close();
    }
  });
});
