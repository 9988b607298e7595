// exec, setuid, ptrace, mount and module_load hooks with real programs.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startChild, within } from '../helpers/process.js';
import type { ExecPolicyEvent, MountEvent, PtraceEvent, SecurityEvent, SetuidEvent } from '../../src/security/index.js';
import { PYTHON, policies, policy, run, startAgent } from './harness.js';

let dir: string;
before(() => {
  dir = mkdtempSync('/tmp/waggle-hooks-');
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('exec policies', () => {
  test('parentBinary and binary: a shell started by python is reported, one started by bash is not', async () => {
    const h = await startAgent({ policies: policies(policy('shell-from-python', 'exec', '- binary: {equal: [/usr/bin/dash]}\n  parentBinary: {equal: [/usr/bin/python3.11]}')) });
    try {
      const py = run(PYTHON, ['-c', 'import subprocess; subprocess.run(["/bin/sh", "-c", "echo from-python"])']);
      const sh = run('/usr/bin/bash', ['-c', '/bin/sh -c "echo from-bash"; true']);
      assert.equal(py.stdout + sh.stdout, 'from-python\nfrom-bash\n');
      const evs = await h.waitFor<ExecPolicyEvent>(1, (e) => e.type === 'exec');
      assert.deepEqual(
        evs.map((e) => [e.policy, e.process.binary, e.process.arguments, e.process.parent?.pid, e.process.parent?.binary]),
        [['shell-from-python', '/usr/bin/dash', ['-c', 'echo from-python'], py.pid, '/usr/bin/python3.11']],
      );
    } finally {
      await h.close();
    }
  });

  test('sigkill at exec: the new program never runs an instruction', async () => {
    const evil = join(dir, 'evil-touch');
    copyFileSync('/usr/bin/touch', evil);
    const h = await startAgent({ policies: policies(policy('no-tmp-binaries', 'exec', `- binary: {prefix: [${dir}/]}\n  action: sigkill`)) });
    try {
      const r = run('/usr/bin/bash', ['-c', `${evil} ${dir}/created; echo "status=$?"`]);
      assert.equal(r.stdout, 'status=137\n');
      assert.equal(existsSync(join(dir, 'created')), false);
      const [ev] = await h.waitFor<ExecPolicyEvent>(1, (e) => e.type === 'exec');
      assert.equal(ev!.process.binary, evil);
      assert.equal(ev!.action, 'sigkill');
    } finally {
      await h.close();
    }
  });
});

describe('setuid', () => {
  test('setuid-family calls carry the requested ids and the caller', async () => {
    const h = await startAgent({ policies: policies(policy('python-setuid', 'setuid', '- binary: {equal: [/usr/bin/python3.11]}')) });
    try {
      const r = run(PYTHON, ['-c', 'import os\nos.setresgid(1234, 1234, -1)\nos.setgid(1234)\nos.setresuid(65534, 65534, -1)']);
      assert.equal(r.status, 0, r.stderr);
      const evs = await h.waitFor<SetuidEvent>(3, (e) => e.type === 'setuid' && e.process.pid === r.pid);
      assert.deepEqual(
        evs.map((e) => [e.syscall, e.ids, e.process.uid]),
        [
          ['setresgid', [1234, 1234, null], 0],
          ['setgid', [1234], 0],
          ['setresuid', [65534, 65534, null], 0],
        ],
      );
    } finally {
      await h.close();
    }
  });

  test('uid notIn [0]: only non-root callers (the Falco "non sudo setuid" shape)', async () => {
    const h = await startAgent({ policies: policies(policy('non-root-setuid', 'setuid', '- uid: {notIn: [0]}\n  binary: {notEqual: [/usr/bin/sudo]}')) });
    try {
      const r = run(PYTHON, ['-c', 'import os\nos.setuid(0)\nos.setresuid(65534, 65534, 0)\nos.setuid(65534)']);
      assert.equal(r.status, 0, r.stderr);
      const evs = await h.waitFor<SetuidEvent>(1, (e) => e.type === 'setuid' && e.process.pid === r.pid);
      assert.deepEqual(
        evs.map((e) => [e.syscall, e.ids, e.process.uid]),
        [['setuid', [65534], 65534]],
      );
    } finally {
      await h.close();
    }
  });
});

describe('ptrace', () => {
  test('strace attaching is reported with the request and the target', async () => {
    const h = await startAgent({ policies: policies(policy('ptrace', 'ptrace', '- binary: {equal: [/usr/bin/strace]}')) });
    try {
      const r = run('/usr/bin/strace', ['-o', '/dev/null', '/usr/bin/sleep', '0.01']);
      assert.equal(r.status, 0, r.stderr);
      const [sleeper] = await h.waitFor(1, (e) => e.type === 'process_exec' && e.process.binary === '/usr/bin/sleep' && e.process.parent?.pid === r.pid);
      const evs = await h.waitFor<PtraceEvent>(1, (e) => e.type === 'ptrace' && e.process.pid === r.pid && e.ptrace.target_pid === sleeper!.process.pid);
      assert.equal(evs[0]!.ptrace.request, 'PTRACE_SEIZE');
    } finally {
      await h.close();
    }
  });

  test('sigkill at PTRACE_ATTACH: the tracer dies, the attach has happened, the target is left stopped and untraced', async () => {
    const target = startChild('/usr/bin/sleep', ['30']);
    const h = await startAgent({ policies: policies(policy('no-ptrace', 'ptrace', '- binary: {equal: [/usr/bin/python3.11]}\n  action: sigkill')) });
    try {
      const code = `import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nprint(libc.ptrace(16, ${target.pid}, 0, 0))`;
      const r = run(PYTHON, ['-c', code]);
      assert.equal(r.signal, 'SIGKILL');
      const [ev] = await h.waitFor<PtraceEvent>(1, (e) => e.type === 'ptrace' && e.process.pid === r.pid);
      assert.deepEqual(ev!.ptrace, { request: 'PTRACE_ATTACH', target_pid: target.pid });
      // The attach ran (it sent the target SIGSTOP) before the signal landed; the
      // tracer's death detached it, and the stop remains until SIGCONT.
      await new Promise((res) => setTimeout(res, 100));
      const status = () => run('/usr/bin/cat', [`/proc/${target.pid}/status`]).stdout;
      assert.equal(/State:\s+(\w)/.exec(status())?.[1], 'T');
      assert.equal(/TracerPid:\s+(\d+)/.exec(status())?.[1], '0');
      process.kill(target.pid, 'SIGCONT');
      await new Promise((res) => setTimeout(res, 100));
      assert.equal(/State:\s+(\w)/.exec(status())?.[1], 'S');
    } finally {
      target.kill();
      await h.close();
    }
  });

  test('sigkill at PTRACE_POKEDATA: the write does not land (the kernel gives up on a fatal signal)', async () => {
    const tracee = startChild(PYTHON, ['-u', '-c', 'import ctypes, sys\nbuf = ctypes.c_ulong(0x1111111111111111)\nprint(ctypes.addressof(buf), flush=True)\nsys.stdin.readline()\nprint(hex(buf.value), flush=True)']);
    await tracee.waitForOutput(/^\d+\n/);
    const address = tracee.output().trim();
    // Attached before the agent starts, so only the poke meets the policy.
    const tracer = startChild(PYTHON, [
      '-u',
      '-c',
      [
        'import ctypes, os, sys',
        'libc = ctypes.CDLL(None, use_errno=True)',
        'libc.ptrace.restype = ctypes.c_long',
        'libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]',
        `print("attach", libc.ptrace(16, ${tracee.pid}, None, None), flush=True)`,
        `os.waitpid(${tracee.pid}, 0)`,
        'sys.stdin.readline()',
        `print("poke", libc.ptrace(5, ${tracee.pid}, ${address}, 0x2222222222222222), flush=True)`,
      ].join('\n'),
    ]);
    await tracer.waitForOutput('attach 0');
    const h = await startAgent({ policies: policies(policy('no-poke', 'ptrace', '- binary: {equal: [/usr/bin/python3.11]}\n  action: sigkill')) });
    try {
      tracer.write('go\n');
      assert.equal((await within(tracer.exited, 10_000, 'the tracer to be killed')).signal, 'SIGKILL');
      assert.equal(tracer.output(), 'attach 0\n');
      const [ev] = await h.waitFor<PtraceEvent>(1, (e) => e.type === 'ptrace' && e.process.pid === tracer.pid);
      assert.deepEqual(ev!.ptrace, { request: 'PTRACE_POKEDATA', target_pid: tracee.pid });
      process.kill(tracee.pid, 'SIGCONT');
      tracee.write('show\n');
      await tracee.waitForOutput(/0x[0-9a-f]+\n$/);
      assert.equal(tracee.output().split('\n')[1], '0x1111111111111111');
    } finally {
      tracer.kill();
      tracee.kill();
      await h.close();
    }
  });
});

describe('mount', () => {
  test('mount in a private mount namespace; container: true for a PID namespace', async () => {
    const mnt = join(dir, 'mnt');
    mkdirSync(mnt);
    const h = await startAgent({
      policies: policies(policy('mounts', 'mount', '- binary: {equal: [/usr/bin/mount]}'), policy('container-mounts', 'mount', '- container: true')),
    });
    try {
      const host = run('/usr/bin/unshare', ['-m', '--propagation', 'private', '/usr/bin/mount', '-t', 'tmpfs', 'waggle-a', mnt]);
      const contained = run('/usr/bin/unshare', ['-m', '-p', '-f', '--propagation', 'private', '/usr/bin/mount', '-t', 'tmpfs', 'waggle-b', mnt]);
      assert.equal(host.status, 0, host.stderr);
      assert.equal(contained.status, 0, contained.stderr);
      const evs = await h.waitFor<MountEvent>(3, (e) => e.type === 'mount' && e.mount.target === mnt);
      assert.deepEqual(
        evs.map((e) => [e.policy, e.mount.source, e.mount.fstype, e.process.in_container]),
        [
          ['mounts', 'waggle-a', 'tmpfs', false],
          ['mounts', 'waggle-b', 'tmpfs', true],
          ['container-mounts', 'waggle-b', 'tmpfs', true],
        ],
      );
    } finally {
      await h.close();
    }
  });
});

describe('module_load', () => {
  test('a hook whose tracepoints this kernel lacks leaves its policy inactive, with a warning; the rest runs', async () => {
    const hasModules = existsSync('/sys/kernel/tracing/events/syscalls/sys_enter_finit_module');
    const h = await startAgent({ policies: policies(policy('modules', 'module_load', '- {action: post}'), policy('files', 'file_open', '- paths: {equal: [/etc/hostname]}')) });
    try {
      const stats = h.agent.stats();
      if (hasModules) {
        assert.equal(stats.policies[0]!.active, true);
        return;
      }
      assert.equal(stats.policies[0]!.active, false);
      assert.match(stats.policies[0]!.inactiveReason!, /sys_enter_finit_module does not exist on this kernel/);
      assert.equal(stats.policies[1]!.active, true);
      assert.equal(h.warnings.length, 1);
      assert.match(h.warnings[0]!, /^hook module_load is not available on this kernel, so policy modules will not run: /);
      const r = run('/usr/bin/cat', ['/etc/hostname']);
      await h.waitFor(1, (e: SecurityEvent) => e.type === 'file_open' && e.process.pid === r.pid);
    } finally {
      await h.close();
    }
  });
});
