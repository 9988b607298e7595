// Action deny against the real kernel. Where BPF LSM runs: the open fails with
// EPERM before it happens (an O_TRUNC open leaves the file intact), the event
// says deny, an allow-listed binary still reads. Where it does not (this
// project's usual host: no BPF trampolines), a policy that denies is refused
// naming the policy, the field and the kernel's reason, and one that asks for
// the fallback runs as sigkill, said in a warning.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ConnectEvent, type ExecPolicyEvent, PolicyError, SecurityAgent, type FileOpenEvent, type SecurityEvent } from '../../src/security/index.js';
import { bpfLsmSupport } from '../../src/security/kernel/lsm-support.js';
import { policies, policy, run, startAgent } from './harness.js';

const isOpen = (e: SecurityEvent): e is FileOpenEvent => e.type === 'file_open';
const childOf = (pid: number) => (e: SecurityEvent) => e.process.parent?.pid === pid;

const support = await bpfLsmSupport();
const noLsm = support.ok ? 'this kernel runs BPF LSM programs, so deny is not refused here' : false;
const withLsm = support.ok ? false : `BPF LSM unavailable: ${support.reason}`;

let dir: string;
let victim: string;
before(() => {
  dir = mkdtempSync('/tmp/waggle-deny-');
  victim = join(dir, 'victim');
});
after(() => rmSync(dir, { recursive: true, force: true }));

// Not this process: it reads the victim file to check it.
const denyPolicy = (fallback: boolean) =>
  policy('shadow-deny', 'file_open', `- paths: {equal: [/etc/shadow, ${victim}]}\n  binary: {notEqual: [/usr/bin/head]}\n  pid: {notIn: [${process.pid}]}\n  action: deny`).replace(
    'spec:\n',
    fallback ? 'spec:\n  denyFallback: sigkill\n' : 'spec:\n',
  );

describe('deny without BPF LSM', { skip: noLsm }, () => {
  test('a policy that denies is refused, naming the policy, the field and the kernel reason', async () => {
    await assert.rejects(
      SecurityAgent.start({ policies: policies(denyPolicy(false)) }),
      (e: unknown) => {
        assert.ok(e instanceof PolicyError);
        assert.deepEqual(e.issues, [
          `test-0.yaml: spec.selectors[0].action: policy shadow-deny asks for deny, which this kernel cannot do: ${support.reason} ` +
            '(set spec.denyFallback: sigkill to kill the process when the system call returns instead)',
        ]);
        return true;
      },
    );
    console.log(`# refused: ${support.reason}`);
  });

  test('with denyFallback: sigkill the policy runs as sigkill, and the warning says so', async () => {
    writeFileSync(victim, 'intact\n');
    const h = await startAgent({ policies: policies(denyPolicy(true)) });
    try {
      assert.deepEqual(h.warnings, [
        `test-0.yaml: spec.selectors[0].action: policy shadow-deny falls back from deny to sigkill (spec.denyFallback): this kernel cannot deny (${support.reason}), ` +
          'so the operation completes and the process is killed when the system call returns',
      ]);
      const r = run('/usr/bin/bash', ['-c', 'cat /etc/shadow; echo "status=$?"']);
      assert.equal(r.stdout, 'status=137\n', 'cat was killed, not refused');
      const [ev] = await h.waitFor<FileOpenEvent>(1, (e) => isOpen(e) && childOf(r.pid)(e));
      assert.equal(ev!.action, 'sigkill');
      assert.equal(ev!.file.path, '/etc/shadow');
      // What the fallback cannot do: the truncating open happened before the kill.
      const t = run('/usr/bin/bash', ['-c', `/usr/bin/bash -c 'echo overwritten > ${victim}'; echo "status=$?"`]);
      assert.equal(t.stdout, 'status=137\n');
      assert.equal(readFileSync(victim, 'utf8'), '', 'sigkill lands after O_TRUNC emptied the file');
      const stats = h.agent.stats();
      assert.equal(stats.policies[0]!.lsm, false);
      assert.equal(stats.policies[0]!.kernel.killed, 2);
      assert.equal(stats.policies[0]!.kernel.denied, 0);
    } finally {
      await h.close();
    }
  });
});

describe('deny with BPF LSM', { skip: withLsm }, () => {
  test('the open fails with EPERM and never happens; the event says deny; an allow-listed binary reads', async () => {
    writeFileSync(victim, 'intact\n');
    const h = await startAgent({ policies: policies(denyPolicy(false)) });
    try {
      assert.deepEqual(h.warnings, []);
      const r = run('/usr/bin/bash', ['-c', 'cat /etc/shadow; echo "status=$?"']);
      assert.equal(r.stdout, 'status=1\n');
      assert.equal(r.stderr, 'cat: /etc/shadow: Operation not permitted\n');
      const t = run('/usr/bin/bash', ['-c', `echo overwritten > ${victim}; echo "status=$?"`]);
      assert.equal(t.stdout, 'status=1\n');
      assert.match(t.stderr, new RegExp(`${victim}: Operation not permitted\\n$`));
      assert.equal(readFileSync(victim, 'utf8'), 'intact\n', 'the O_TRUNC open was refused before it truncated');
      const head = run('/usr/bin/bash', ['-c', 'head -c 5 /etc/shadow | wc -c']);
      assert.equal(head.stdout.trim(), '5');
      const evs = await h.waitFor<FileOpenEvent>(2, (e) => isOpen(e) && (childOf(r.pid)(e) || e.process.pid === t.pid));
      assert.deepEqual(
        evs.map((e) => [e.policy, e.action, e.dry_run, e.process.binary, e.file.path, e.file.flags.join(','), e.syscall]),
        [
          ['shadow-deny', 'deny', false, '/usr/bin/cat', '/etc/shadow', 'read', 'lsm_file_open'],
          ['shadow-deny', 'deny', false, '/usr/bin/bash', victim, 'write,create,truncate', 'lsm_file_open'],
        ],
      );
      const stats = h.agent.stats();
      assert.equal(stats.policies[0]!.lsm, true);
      assert.equal(stats.policies[0]!.kernel.denied, 2);
      assert.equal(stats.hooks.file_open.denies, 2);
    } finally {
      await h.close();
    }
  });

  test('monitor mode reports deny without refusing', async () => {
    writeFileSync(victim, 'intact\n');
    const h = await startAgent({ policies: policies(denyPolicy(false).replace('spec:\n', 'spec:\n  mode: monitor\n')) });
    try {
      const r = run('/usr/bin/bash', ['-c', 'cat /etc/shadow > /dev/null; echo "status=$?"']);
      assert.equal(r.stdout, 'status=0\n');
      const [ev] = await h.waitFor<FileOpenEvent>(1, (e) => isOpen(e) && childOf(r.pid)(e));
      assert.deepEqual([ev!.action, ev!.dry_run], ['deny', true]);
      assert.equal(h.agent.stats().policies[0]!.kernel.denied, 0);
    } finally {
      await h.close();
    }
  });

  test('exec: execve fails with EPERM, the binary never runs, the event names it while process is still the caller', async () => {
    const made = join(dir, 'made-by-touch');
    const h = await startAgent({ policies: policies(policy('no-touch', 'exec', '- binary: {equal: [/usr/bin/touch]}\n  action: deny')) });
    try {
      const r = run('/usr/bin/bash', ['-c', `/usr/bin/touch ${made}; echo "status=$?"`]);
      assert.equal(r.stdout, 'status=126\n');
      assert.equal(r.stderr, '/usr/bin/bash: line 1: /usr/bin/touch: Operation not permitted\n');
      assert.equal(existsSync(made), false);
      const [ev] = await h.waitFor<ExecPolicyEvent>(1, (e) => e.type === 'exec' && 'policy' in e && childOf(r.pid)(e));
      assert.deepEqual([ev!.policy, ev!.action, ev!.syscall, ev!.file, ev!.process.binary], ['no-touch', 'deny', 'lsm_bprm_check', { path: '/usr/bin/touch' }, '/usr/bin/bash']);
      assert.equal(h.agent.stats().hooks.exec.denies, 1);
    } finally {
      await h.close();
    }
  });

  test('connect: fails with EPERM before any SYN, the listener accepts nothing', async () => {
    let accepted = 0;
    const server = createServer((c) => {
      accepted++;
      c.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const h = await startAgent({ policies: policies(policy('no-port', 'connect', `- destination: {cidr: [127.0.0.0/8], ports: [${port}]}\n  action: deny`)) });
    try {
      const r = run('/usr/bin/bash', ['-c', `echo hi > /dev/tcp/127.0.0.1/${port}; echo "status=$?"`]);
      assert.equal(r.stdout, 'status=1\n');
      assert.equal(r.stderr, `/usr/bin/bash: connect: Operation not permitted\n/usr/bin/bash: line 1: /dev/tcp/127.0.0.1/${port}: Operation not permitted\n`);
      const [ev] = await h.waitFor<ConnectEvent>(1, (e) => e.type === 'connect' && e.process.pid === r.pid);
      assert.deepEqual([ev!.policy, ev!.action, ev!.syscall, ev!.destination], ['no-port', 'deny', 'lsm_socket_connect', { family: 'ipv4', address: '127.0.0.1', port }]);
      assert.equal(accepted, 0);
    } finally {
      await h.close();
      server.close();
    }
  });
});
