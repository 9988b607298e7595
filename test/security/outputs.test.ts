// What leaves the agent: `waggle events` (compact and JSON), --events-file JSON
// lines, Prometheus metrics, and the recent-events buffer with subscribers.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { packageRoot } from '../../src/paths.js';
import { type FileOpenEvent, type SecurityEvent, RecentEvents, formatCompact, registerSecurityMetrics } from '../../src/security/index.js';
import { policies, policy, run, startAgent } from './harness.js';
import { within } from '../helpers/process.js';

let dir: string;
let policyFile: string;
before(() => {
  dir = mkdtempSync('/tmp/waggle-out-');
  policyFile = join(dir, 'shadow.yaml');
  writeFileSync(policyFile, policy('shadow-guard', 'file_open', '- paths: {equal: [/etc/shadow]}\n  action: sigkill'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Cli {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  waitFor(where: 'stdout' | 'stderr', pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  exited: Promise<number | null>;
}

function waggle(args: string[]): Cli {
  const proc = spawn(process.execPath, [join(packageRoot, 'bin', 'waggle.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    async waitFor(where, pattern, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const m = pattern.exec(where === 'stdout' ? out : err);
        if (m) return m;
        if (Date.now() > until || proc.exitCode !== null) assert.fail(`no ${pattern} on ${where}; stdout: ${out.slice(-1000)} stderr: ${err.slice(-1000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

describe('waggle events', () => {
  test('JSON lines on stdout and in --events-file: one object per event with process, parent and operation fields', async () => {
    const file = join(dir, 'events.jsonl');
    const cli = waggle(['events', '--policy', policyFile, '-o', 'json', '--events-file', file]);
    try {
      await cli.waitFor('stderr', /watching with 1 active policy/);
      const r = run('/usr/bin/bash', ['-c', 'cat /etc/shadow; true']);
      const m = await cli.waitFor('stdout', /^.*"type":"file_open".*$/m);
      const ev = JSON.parse(m[0]) as FileOpenEvent;
      assert.equal(ev.policy, 'shadow-guard');
      assert.equal(ev.action, 'sigkill');
      assert.equal(ev.process.binary, '/usr/bin/cat');
      assert.equal(ev.process.parent!.pid, r.pid);
      assert.equal(ev.process.parent!.binary, '/usr/bin/bash');
      assert.deepEqual(ev.file, { path: '/etc/shadow', flags: ['read'] });
      for (const key of ['time', 'type', 'policy', 'action', 'process']) assert.ok(key in ev, key);
      for (const key of ['pid', 'exec_id', 'binary', 'arguments', 'cwd', 'uid', 'parent']) assert.ok(key in ev.process, key);
      await cli.waitFor('stdout', new RegExp(`"type":"process_exit".*"pid":${ev.process.pid},.*"signal":"SIGKILL"`));
      cli.proc.kill('SIGINT');
      assert.equal(await within(cli.exited, 30_000, 'waggle events to exit after SIGINT'), 0);
      assert.match(cli.stderr(), /waggle events: \d+ events, 0 lost in the kernel, \d+ written to /);
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      const parsed = lines.map((l) => JSON.parse(l) as SecurityEvent);
      assert.ok(parsed.some((e) => e.type === 'file_open' && e.process.exec_id === ev.process.exec_id));
      // The file holds every type, forks included; stdout the default selection.
      assert.ok(parsed.some((e) => e.type === 'process_fork'));
      assert.ok(!cli.stdout().includes('"type":"process_fork"'));
    } finally {
      cli.proc.kill('SIGKILL');
    }
  });

  test('compact output, Tetragon style', async () => {
    const cli = waggle(['events', '--policy', policyFile, '--types', 'process_exec,file_open,process_exit']);
    try {
      await cli.waitFor('stderr', /watching/);
      run('/usr/bin/bash', ['-c', 'cat /etc/shadow; true']);
      await cli.waitFor('stdout', /^💥 exit +\S+ \/usr\/bin\/cat \/etc\/shadow SIGKILL$/m);
      const lines = cli.stdout().split('\n').filter((l) => l.includes('/usr/bin/cat /etc/shadow'));
      assert.deepEqual(
        lines.map((l) => l.replace(/ (\S+) \/usr\/bin\/cat/, ' HOST /usr/bin/cat').replace(/\(pid \d+\)/, '(pid N)')),
        [
          '🚀 process  HOST /usr/bin/cat /etc/shadow  ← bash (pid N)',
          '📚 open     HOST /usr/bin/cat /etc/shadow  /etc/shadow read  [shadow-guard: sigkill]',
          '💥 exit     HOST /usr/bin/cat /etc/shadow SIGKILL',
        ],
      );
      cli.proc.kill('SIGINT');
      assert.equal(await within(cli.exited, 30_000, 'waggle events to exit after SIGINT'), 0);
    } finally {
      cli.proc.kill('SIGKILL');
    }
  });

  test('an invalid policy stops it with the file, field and reason (exit code 2)', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, policy('bad', 'file_open', '- paths: {prefix: [etc/]}'));
    const cli = waggle(['events', '--policy', bad]);
    try {
      assert.equal(await within(cli.exited, 30_000, 'waggle events to refuse the policy'), 2);
    } finally {
      cli.proc.kill('SIGKILL');
    }
    assert.equal(cli.stderr(), `waggle events: invalid policy\n  ${bad}: spec.selectors[0].paths.prefix[0]: must start with /\n`);
  });
});

describe('library outputs', () => {
  test('Prometheus metrics per policy and action, and kernel filtered-versus-sent counts', async () => {
    const h = await startAgent({ policies: policies(policy('shadow-guard', 'file_open', '- paths: {equal: [/etc/shadow]}\n  action: sigkill')) });
    try {
      const registry = new Registry();
      registerSecurityMetrics(registry, h.agent);
      run('/usr/bin/bash', ['-c', 'cat /etc/shadow; cat /etc/hostname; true']);
      await h.waitFor(1, (e) => e.type === 'file_open');
      const text = await registry.metrics();
      assert.match(text, /^waggle_security_policy_events_total\{policy="shadow-guard",action="sigkill",hook="file_open"\} 1$/m);
      assert.match(text, /^waggle_security_policy_kernel_total\{policy="shadow-guard",outcome="killed"\} 1$/m);
      assert.match(text, /^waggle_security_kernel_events_total\{hook="file_open",outcome="sent"\} 1$/m);
      const filtered = Number(/^waggle_security_kernel_events_total\{hook="file_open",outcome="filtered"\} (\d+)$/m.exec(text)![1]);
      const seen = Number(/^waggle_security_kernel_events_total\{hook="file_open",outcome="seen"\} (\d+)$/m.exec(text)![1]);
      const matched = Number(/^waggle_security_kernel_events_total\{hook="file_open",outcome="matched"\} (\d+)$/m.exec(text)![1]);
      assert.ok(filtered >= 1, 'cat /etc/hostname was filtered in the kernel');
      assert.equal(seen, filtered + matched);
      assert.match(text, /^waggle_security_events_lost_total\{reason="ringbuf"\} 0$/m);
      assert.match(text, /^waggle_security_policies\{state="active"\} 1$/m);
      assert.match(text, /^waggle_security_process_events_total\{type="exec"\} \d+$/m);
      assert.doesNotMatch(text, /hook="connect"/, 'hooks that are not attached are not exported');
    } finally {
      await h.close();
    }
  });

  test('recent events: bounded, oldest first, subscribers see each new event', async () => {
    const h = await startAgent({ recentEvents: 5 });
    try {
      const seen: SecurityEvent[] = [];
      const unsubscribe = h.agent.recent.subscribe((e) => seen.push(e));
      const r = run('/usr/bin/bash', ['-c', 'for i in 1 2 3 4 5 6 7 8; do /usr/bin/true $i; done']);
      await h.waitFor(8, (e) => e.type === 'process_exec' && e.process.parent?.pid === r.pid);
      unsubscribe();
      const list = h.agent.recent.list();
      assert.equal(list.length, 5);
      assert.deepEqual(list, seen.slice(-5));
      assert.ok(seen.filter((e) => e.type === 'process_exec' && e.process.parent?.pid === r.pid).length === 8);
      assert.equal(h.agent.recent.stats().subscribers, 0);
    } finally {
      await h.close();
    }
  });

  test('RecentEvents keeps a throwing subscriber from hurting the others', () => {
    const recent = new RecentEvents(2);
    const got: string[] = [];
    recent.subscribe(() => {
      throw new Error('bad subscriber');
    });
    recent.subscribe((e) => got.push(e.time));
    const ev = (time: string) => ({ time, node: 'n', type: 'process_fork', process: { pid: 1, exec_id: 'x', binary: '/b', arguments: [], cwd: '/', uid: 0, gid: 0, start_time: time, in_container: false, flags: [] } }) as SecurityEvent;
    for (const t of ['1', '2', '3']) recent.push(ev(t));
    assert.deepEqual(got, ['1', '2', '3']);
    assert.deepEqual(
      recent.list().map((e) => e.time),
      ['2', '3'],
    );
    assert.deepEqual(recent.stats(), { buffered: 2, total: 3, subscribers: 2, listenerErrors: 3 });
  });

  test('compact lines for each operation', () => {
    const process = { pid: 42, exec_id: 'e', binary: '/usr/bin/nc.openbsd', arguments: ['1.2.3.4', '4444'], cwd: '/', uid: 0, gid: 0, start_time: 't', in_container: false, flags: [] };
    const base = { time: 't', node: 'web-1', process, policy: 'p', action: 'post' as const, dry_run: false };
    const lines = [
      formatCompact({ ...base, type: 'connect', syscall: 'connect', destination: { family: 'ipv4', address: '1.2.3.4', port: 4444 } }, { plain: true }),
      formatCompact({ ...base, type: 'connect', syscall: 'connect', destination: { family: 'ipv6', address: '2001:db8::1', port: 443 }, action: 'sigkill', dry_run: true }, { plain: true }),
      formatCompact({ ...base, type: 'setuid', syscall: 'setresuid', ids: [0, 0, null] }, { plain: true }),
      formatCompact({ ...base, type: 'ptrace', syscall: 'ptrace', ptrace: { request: 'PTRACE_ATTACH', target_pid: 7 } }, { plain: true }),
      formatCompact({ ...base, type: 'mount', syscall: 'mount', mount: { source: 'none', target: '/mnt', fstype: 'tmpfs', flags: 0, error: null } }, { plain: true }),
      formatCompact({ ...base, type: 'process_exit', process: { ...process, container_id: 'a'.repeat(64) }, status: 1, signal: null } as SecurityEvent, { plain: true }),
    ];
    assert.deepEqual(lines, [
      'connect  web-1 /usr/bin/nc.openbsd 1.2.3.4 4444  → 1.2.3.4:4444  [p: post]',
      'connect  web-1 /usr/bin/nc.openbsd 1.2.3.4 4444  → [2001:db8::1]:443  [p: sigkill (dry run)]',
      'setuid   web-1 /usr/bin/nc.openbsd 1.2.3.4 4444  setresuid(0, 0, -1)  [p: post]',
      'ptrace   web-1 /usr/bin/nc.openbsd 1.2.3.4 4444  PTRACE_ATTACH pid 7  [p: post]',
      'mount    web-1 /usr/bin/nc.openbsd 1.2.3.4 4444  none → /mnt (tmpfs)  [p: post]',
      'exit     aaaaaaaaaaaa /usr/bin/nc.openbsd 1.2.3.4 4444 exit 1',
    ]);
  });
});
