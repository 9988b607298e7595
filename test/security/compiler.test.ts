// waggle-test: no-kernel
// The compiled form (tries closed over prefixes, masks for unconstrained
// dimensions, first-match-per-policy) must decide exactly as the policies read:
// checked against a direct reading of the policies on many generated operations.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BlockList, isIPv4 } from 'node:net';
import { type CompiledSelector, type Policy, type Selector, compilePolicies, defaultPolicyDir, loadPolicies } from '../../src/security/index.js';
import { binaryPairs, evaluateCompiled, type Operation } from '../../src/security/compile/reference.js';
import { parseCidr } from '../../src/security/policy/schema.js';
import { policies, policy } from './harness.js';

function binaryOk(sel: Selector['binary'], bin: string | undefined): boolean {
  if (!sel) return true;
  const positive = sel.equal || sel.prefix;
  const pos = !positive || (bin !== undefined && ((sel.equal ?? []).includes(bin) || (sel.prefix ?? []).some((p) => bin.startsWith(p))));
  const neg = bin !== undefined && ((sel.notEqual ?? []).includes(bin) || (sel.notPrefix ?? []).some((p) => bin.startsWith(p)));
  return pos && !neg;
}

function inCidrs(list: string[] | undefined, address: string): boolean {
  const bl = new BlockList();
  for (const c of list ?? []) {
    const p = parseCidr(c)!;
    bl.addSubnet(p.address, p.bits, p.family === 4 ? 'ipv4' : 'ipv6');
  }
  return bl.check(address, isIPv4(address) ? 'ipv4' : 'ipv6') || (isIPv4(address) && bl.check(`::ffff:${address}`, 'ipv6'));
}

/** The policy language read literally, one selector at a time. */
function selectorMatches(sel: Selector, op: Operation): boolean {
  if (!binaryOk(sel.binary, op.binary)) return false;
  if (!binaryOk(sel.parentBinary, op.parentBinary)) return false;
  if (sel.uid && ((sel.uid.in && !sel.uid.in.includes(op.uid)) || sel.uid.notIn?.includes(op.uid))) return false;
  if (sel.pid && ((sel.pid.in && !sel.pid.in.includes(op.pid)) || sel.pid.notIn?.includes(op.pid))) return false;
  if (sel.container !== undefined && sel.container !== op.inContainer) return false;
  if (sel.flags && !sel.flags.some((f) => op.flags?.includes(f))) return false;
  if (sel.paths && op.path !== undefined) {
    const p = sel.paths;
    const path = op.path;
    const positive = p.equal || p.prefix || p.suffix;
    const pos = !positive || (p.equal ?? []).includes(path) || (p.prefix ?? []).some((x) => path.startsWith(x)) || (p.suffix ?? []).some((x) => path.endsWith(x));
    const neg = (p.notEqual ?? []).includes(path) || (p.notPrefix ?? []).some((x) => path.startsWith(x)) || (p.notSuffix ?? []).some((x) => path.endsWith(x));
    if (!pos || neg) return false;
  }
  const a = sel.destination ?? sel.address;
  if (a && op.address !== undefined) {
    if (a.cidr && !inCidrs(a.cidr, op.address)) return false;
    if (a.notCidr && inCidrs(a.notCidr, op.address)) return false;
    if (a.ports && !a.ports.includes(op.port ?? -1)) return false;
    if (a.notPorts?.includes(op.port ?? -1)) return false;
  }
  return true;
}

function evaluateDirect(list: Policy[], op: Operation): string[] {
  const out: string[] = [];
  for (const p of list) {
    if (p.spec.hook !== op.hook) continue;
    const i = p.spec.selectors.findIndex((s) => selectorMatches(s, op));
    if (i >= 0) out.push(`${p.metadata.name}#${i}`);
  }
  return out;
}

const names = (sels: CompiledSelector[]) => sels.map((s) => `${s.policyName}#${s.selectorIndex}`);

// A deterministic generator, so a failure reproduces.
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    return s / 2 ** 32;
  };
}

const TEST_POLICIES = policies(
  policy('nested-prefixes', 'file_open', '- paths: {prefix: [/etc/, /etc/ssh/, /etc/ssh/sshd_config.d/]}\n  flags: [write]\n- paths: {equal: [/etc/ssh/sshd_config], suffix: [_key, .pem]}'),
  policy('allow-list', 'file_open', '- paths: {equal: [/etc/shadow, /etc/gshadow], prefix: [/etc/sudoers]}\n  binary: {notEqual: [/usr/sbin/unix_chkpwd], notPrefix: [/usr/lib/openssh/]}\n  action: sigkill\n- paths: {prefix: [/etc/sudo]}\n  action: post'),
  policy('except-pyc', 'file_open', '- paths: {prefix: [/usr/lib/], notSuffix: [.pyc], notPrefix: [/usr/lib/node_modules/]}\n  flags: [write, create]'),
  policy('uids', 'file_open', '- uid: {in: [0, 1000]}\n  paths: {prefix: [/home/]}\n- uid: {notIn: [0]}\n  pid: {notIn: [1]}\n  container: true'),
  policy('shells', 'exec', '- binary: {equal: [/usr/bin/bash, /usr/bin/dash]}\n  parentBinary: {equal: [/usr/sbin/nginx], prefix: [/usr/lib/postgresql/]}\n- binary: {prefix: [/tmp/]}\n  action: sigkill'),
  policy('net', 'connect', '- destination: {cidr: [10.0.0.0/8, 10.1.0.0/16, "2001:db8::/32"], ports: [22, 443]}\n- destination: {notCidr: [127.0.0.0/8, "::1/128"], notPorts: [53]}\n  binary: {prefix: [/usr/bin/]}'),
);

const PATHS = ['/etc/', '/etc/shadow', '/etc/gshadow', '/etc/shadowx', '/etc/sudoers', '/etc/sudoers.d/x', '/etc/ssh/sshd_config', '/etc/ssh/ssh_host_rsa_key', '/etc/ssh/sshd_config.d/a.conf', '/etc/hosts', '/home/u/.ssh/id_rsa', '/home/x/cert.pem', '/usr/lib/python3/x.pyc', '/usr/lib/python3/x.py', '/usr/lib/node_modules/a.js', '/usr/libx', '/tmp/x'];
const BINARIES = [undefined, '/usr/bin/bash', '/usr/bin/dash', '/usr/sbin/unix_chkpwd', '/usr/lib/openssh/sftp-server', '/usr/sbin/nginx', '/usr/lib/postgresql/15/bin/postgres', '/tmp/evil', '/usr/bin/cat'];
const ADDRESSES = ['10.0.0.1', '10.1.2.3', '11.0.0.1', '127.0.0.1', '2001:db8::1', '::1', '192.168.1.1', '::ffff:10.0.0.5'];

test('compiled evaluation equals the policies read literally (20,000 generated operations)', () => {
  const compiled = compilePolicies(TEST_POLICIES);
  const list = TEST_POLICIES.map((p) => p.policy);
  const r = rng(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  let matched = 0;
  for (let i = 0; i < 20_000; i++) {
    const hook = pick(['file_open', 'exec', 'connect'] as const);
    const op: Operation = {
      hook,
      binary: pick(BINARIES),
      parentBinary: pick(BINARIES),
      uid: pick([0, 1000, 33]),
      pid: pick([1, 500]),
      inContainer: r() < 0.3,
      ...(hook === 'file_open' ? { path: pick(PATHS), flags: (['read', 'write', 'create', 'truncate'] as const).filter(() => r() < 0.4) } : {}),
      ...(hook === 'connect' ? { address: pick(ADDRESSES), port: pick([22, 53, 80, 443]) } : {}),
    };
    const expected = evaluateDirect(list, op);
    assert.deepEqual(names(evaluateCompiled(compiled, op)), expected, JSON.stringify(op));
    if (expected.length > 0) matched++;
  }
  assert.ok(matched > 2000, `the generated operations should match often enough to mean something (${matched})`);
});

test('nested prefixes: the longest match carries its ancestors', () => {
  const compiled = compilePolicies(TEST_POLICIES);
  const op = (path: string): Operation => ({ hook: 'file_open', uid: 5, pid: 5, inContainer: false, path, flags: ['write'], binary: '/usr/bin/cat' });
  assert.deepEqual(names(evaluateCompiled(compiled, op('/etc/ssh/sshd_config.d/x.conf'))), ['nested-prefixes#0']);
  assert.deepEqual(names(evaluateCompiled(compiled, op('/etc/ssh/sshd_config'))), ['nested-prefixes#0']);
  assert.deepEqual(names(evaluateCompiled(compiled, { ...op('/etc/ssh/sshd_config'), flags: ['read'] })), ['nested-prefixes#1']);
  assert.deepEqual(names(evaluateCompiled(compiled, { ...op('/etc/shadow'), binary: '/usr/sbin/unix_chkpwd' })), ['nested-prefixes#0']);
  assert.deepEqual(names(evaluateCompiled(compiled, { ...op('/etc/shadow'), binary: '/usr/bin/cat' })), ['nested-prefixes#0', 'allow-list#0']);
});

test('a process the kernel does not know passes only negated binary lists', () => {
  const compiled = compilePolicies(TEST_POLICIES);
  assert.deepEqual(binaryPairs(compiled, undefined), { bin: undefined, asParent: undefined });
  const op: Operation = { hook: 'file_open', uid: 5, pid: 5, inContainer: false, path: '/etc/shadow', flags: ['read'] };
  assert.deepEqual(names(evaluateCompiled(compiled, op)), ['allow-list#0']);
});

test('selector bits follow policy order; later selectors of a policy are masked by earlier ones', () => {
  const compiled = compilePolicies(TEST_POLICIES);
  assert.deepEqual(
    compiled.selectors.map((s) => [s.bit, s.policyName, s.selectorIndex]),
    [
      [0, 'nested-prefixes', 0],
      [1, 'nested-prefixes', 1],
      [2, 'allow-list', 0],
      [3, 'allow-list', 1],
      [4, 'except-pyc', 0],
      [5, 'uids', 0],
      [6, 'uids', 1],
      [7, 'shells', 0],
      [8, 'shells', 1],
      [9, 'net', 0],
      [10, 'net', 1],
    ],
  );
  assert.deepEqual(compiled.sels[0]!.later, [0b10, 0, 0, 0]);
  assert.deepEqual(compiled.sels[1]!.later, [0, 0, 0, 0]);
  assert.equal(compiled.config.suffix_max, 4);
  assert.equal(compiled.config.uses_open_stash, 1);
});

test('the default pack compiles to what it says', () => {
  const pack = loadPolicies([defaultPolicyDir()]);
  const compiled = compilePolicies(pack);
  const evalOp = (op: Partial<Operation> & Pick<Operation, 'hook'>) =>
    names(evaluateCompiled(compiled, { uid: 0, pid: 100, inContainer: false, ...op })).map((n) => n.split('#')[0]);
  assert.deepEqual(evalOp({ hook: 'file_open', path: '/etc/shadow', flags: ['read'], binary: '/usr/bin/cat' }), ['read-sensitive-file-untrusted']);
  assert.deepEqual(evalOp({ hook: 'file_open', path: '/etc/shadow', flags: ['read'], binary: '/usr/sbin/unix_chkpwd' }), []);
  assert.deepEqual(evalOp({ hook: 'file_open', path: '/root/.ssh/id_ed25519', flags: ['read'], binary: '/usr/bin/python3.11' }), ['read-sensitive-file-untrusted']);
  assert.deepEqual(evalOp({ hook: 'file_open', path: '/root/.ssh/id_ed25519', flags: ['read'], binary: '/usr/bin/ssh' }), []);
  assert.deepEqual(evalOp({ hook: 'file_open', path: '/etc/passwd', flags: ['read', 'write'], binary: '/usr/bin/vim.basic' }), ['write-below-etc']);
  assert.deepEqual(evalOp({ hook: 'file_open', path: '/etc/passwd', flags: ['read', 'write'], binary: '/usr/bin/dpkg' }), []);
  assert.deepEqual(evalOp({ hook: 'file_open', path: '/usr/lib/python3/dist-packages/__pycache__/a.cpython-311.pyc', flags: ['write'], binary: '/usr/bin/python3.11' }), []);
  assert.deepEqual(evalOp({ hook: 'file_open', path: '/usr/bin/ls', flags: ['write'], binary: '/usr/bin/cp' }), ['write-below-binary-dir']);
  assert.deepEqual(evalOp({ hook: 'exec', binary: '/usr/bin/dash', parentBinary: '/usr/sbin/nginx' }), ['shell-spawned-by-service']);
  assert.deepEqual(evalOp({ hook: 'exec', binary: '/usr/bin/dash', parentBinary: '/usr/lib/postgresql/15/bin/postgres' }), ['shell-spawned-by-service']);
  assert.deepEqual(evalOp({ hook: 'exec', binary: '/usr/bin/dash', parentBinary: '/usr/bin/bash' }), []);
  assert.deepEqual(evalOp({ hook: 'connect', binary: '/usr/bin/bash', address: '1.1.1.1', port: 53 }), ['unexpected-outbound-connection']);
  assert.deepEqual(evalOp({ hook: 'connect', binary: '/usr/bin/bash', address: '127.0.0.1', port: 8080 }), []);
  assert.deepEqual(evalOp({ hook: 'connect', binary: '/usr/sbin/nginx', address: '10.0.0.8', port: 8080 }), []);
  assert.deepEqual(evalOp({ hook: 'connect', binary: '/usr/sbin/nginx', address: '93.184.216.34', port: 443 }), ['unexpected-outbound-connection']);
  assert.deepEqual(evalOp({ hook: 'setuid', uid: 1000, binary: '/tmp/exploit' }), ['non-sudo-setuid']);
  assert.deepEqual(evalOp({ hook: 'setuid', uid: 1000, binary: '/usr/bin/sudo' }), []);
  assert.deepEqual(evalOp({ hook: 'setuid', uid: 0, binary: '/tmp/exploit' }), []);
  assert.deepEqual(evalOp({ hook: 'mount', inContainer: true }), ['mount-in-container']);
  assert.deepEqual(evalOp({ hook: 'mount', inContainer: false }), []);
  assert.deepEqual(evalOp({ hook: 'ptrace', binary: '/usr/bin/gdb' }), ['ptrace-attach']);
  assert.deepEqual(evalOp({ hook: 'module_load' }), ['kernel-module-load']);
});

test('a policy that denies compiles whole to its hook LSM mask; others stay on the tracepoints', () => {
  const deny = policy('shadow-deny', 'file_open', '- binary: {equal: [/usr/bin/head]}\n  action: nopost\n- paths: {equal: [/etc/shadow]}\n  flags: [truncate]\n  action: deny');
  const post = policy('shadow-post', 'file_open', '- paths: {equal: [/etc/shadow]}');
  const conn = policy('no-dns', 'connect', '- destination: {ports: [53]}\n  action: deny');
  const compiled = compilePolicies(policies(deny, post, conn));
  const code = { file_open: 1, connect: 2 };
  assert.deepEqual(compiled.config.lsm_hook[code.file_open], [0b011, 0, 0, 0]);
  assert.deepEqual(compiled.config.hook[code.file_open], [0b100, 0, 0, 0]);
  assert.deepEqual(compiled.config.lsm_hook[code.connect], [0b1000, 0, 0, 0]);
  assert.deepEqual(compiled.config.hook[code.connect], [0, 0, 0, 0]);
  assert.deepEqual([...compiled.hooks], ['file_open']);
  assert.deepEqual([...compiled.lsmHooks], ['file_open', 'connect']);
  assert.deepEqual(compiled.selectors.map((s) => [s.policyName, s.action, s.lsm]), [
    ['shadow-deny', 'nopost', true],
    ['shadow-deny', 'deny', true],
    ['shadow-post', 'post', false],
    ['no-dns', 'deny', true],
  ]);
  assert.deepEqual(compiled.sels.map((s) => s.action), [2, 3, 0, 3]);
  // The LSM program reads O_TRUNC from the file: no entry tracepoints for it.
  assert.equal(compiled.config.uses_open_stash, 0);
  // First match wins inside the denying policy, as everywhere.
  const op: Operation = { hook: 'file_open', uid: 0, pid: 9, inContainer: false, path: '/etc/shadow', flags: ['write', 'truncate'], binary: '/usr/bin/head' };
  assert.deepEqual(names(evaluateCompiled(compiled, op)), ['shadow-deny#0', 'shadow-post#0']);
  assert.deepEqual(names(evaluateCompiled(compiled, { ...op, binary: '/usr/bin/bash' })), ['shadow-deny#1', 'shadow-post#0']);
  const dry = compilePolicies(policies(deny), { dryRun: true });
  assert.deepEqual(dry.selectors.map((s) => s.monitor), [false, true]);
});
