// waggle-test: no-kernel
// The pure pieces of discovery: port lists, exe globs, command-line scrubbing,
// OTEL_RESOURCE_ATTRIBUTES, cgroup container ids, /proc/PID/stat, UUID v5,
// and the identity precedence rules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scrubbedCommandLine } from '../../src/discovery/command-line-scrub.js';
import { compileExeGlob } from '../../src/discovery/exe-glob.js';
import { uuidV5 } from '../../src/discovery/instance-id.js';
import { PortSet, parsePortRange } from '../../src/discovery/port-set.js';
import { parseCgroup } from '../../src/process/proc-cgroup.js';
import { parseEnviron } from '../../src/process/proc-environ.js';
import { parseListeningSockets } from '../../src/discovery/proc-net-tcp.js';
import { parseProcStat } from '../../src/process/proc-stat.js';
import type { ProcessInfo } from '../../src/process/process-info.js';
import { parseResourceAttributes } from '../../src/discovery/resource-attributes.js';
import { serviceIdentity } from '../../src/discovery/service-identity.js';

test('port lists and ranges', () => {
  const s = PortSet.parse('80, 443,8000-8999');
  for (const p of [80, 443, 8000, 8500, 8999]) assert.ok(s.has(p), String(p));
  for (const p of [79, 81, 7999, 9000]) assert.ok(!s.has(p), String(p));
  assert.equal(s.toString(), '80,443,8000-8999');
  assert.deepEqual(parsePortRange('80x'), { ok: false, reason: '"80x" is not a port or a range' });
  assert.deepEqual(parsePortRange('0'), { ok: false, reason: '"0" is not a port or a range' });
  assert.deepEqual(parsePortRange('65536'), { ok: false, reason: '"65536" is not a port or a range' });
  assert.deepEqual(parsePortRange('9000-8000'), { ok: false, reason: '"9000-8000" is an empty range (9000 > 8000)' });
  assert.deepEqual(parsePortRange(''), { ok: false, reason: '"" is not a port or a range' });
  assert.throws(() => PortSet.parse('80,,81'), /"" is not a port or a range/);
});

test('exe path globs match the whole resolved path', () => {
  const m = (g: string, p: string) => {
    const r = compileExeGlob(g);
    assert.ok(r.ok, g);
    return r.value.test(p);
  };
  assert.ok(m('*/python3*', '/usr/bin/python3.11'));
  assert.ok(!m('*/python3*', '/usr/bin/python2.7'));
  assert.ok(m('/usr/sbin/nginx', '/usr/sbin/nginx'));
  assert.ok(!m('/usr/sbin/nginx', '/usr/sbin/nginx-debug'));
  assert.ok(m('/usr/bin/{node,python3.11}', '/usr/bin/node'));
  assert.ok(m('/usr/bin/python3.1?', '/usr/bin/python3.11'));
  assert.ok(m('*/[np]*', '/usr/bin/node'));
  assert.ok(!m('/usr/bin/[!np]*', '/usr/bin/node'));
  assert.ok(m('/opt/a.b(c)', '/opt/a.b(c)'));
  assert.ok(!m('/opt/a.b', '/opt/aXb'));
  assert.deepEqual(compileExeGlob('/usr/[bin'), { ok: false, reason: '"/usr/[bin" has an unclosed "["' });
  assert.deepEqual(compileExeGlob('/usr/{a,b'), { ok: false, reason: '"/usr/{a,b" has an unclosed "{"' });
});

test('command lines are scrubbed of secrets', () => {
  const cases: [string[], string][] = [
    [['app', '--password=hunter2', '--port=80'], 'app --password=REDACTED --port=80'],
    [['app', '--password', 'hunter2', '--verbose'], 'app --password REDACTED --verbose'],
    [['app', '--api-key', 'abc', '--db-token=xyz'], 'app --api-key REDACTED --db-token=REDACTED'],
    [['env', 'AWS_SECRET_ACCESS_KEY=abc', 'PGPASSWORD=x', 'PORT=80'], 'env AWS_SECRET_ACCESS_KEY=REDACTED PGPASSWORD=REDACTED PORT=80'],
    [['psql', 'postgres://bob:s3cret@db:5432/app'], 'psql postgres://REDACTED:REDACTED@db:5432/app'],
    [['curl', 'https://api.example.com/v1?user=bob&token=abc&sig=zz'], 'curl https://api.example.com/v1?user=bob&token=REDACTED&sig=REDACTED'],
    [['curl', '--url=https://x.io/?X-Goog-Signature=abc&AWSAccessKeyId=k'], 'curl --url=https://x.io/?X-Goog-Signature=REDACTED&AWSAccessKeyId=REDACTED'],
    [['python3', 'app.py', '8000'], 'python3 app.py 8000'],
    [['git', 'clone', 'ssh://git@github.com/x/y'], 'git clone ssh://git@github.com/x/y'],
  ];
  for (const [args, expected] of cases) assert.equal(scrubbedCommandLine(args), expected);
});

test('OTEL_RESOURCE_ATTRIBUTES parsing follows the SDK specification', () => {
  assert.deepEqual(parseResourceAttributes('service.name=shop,service.namespace=prod%20eu, deployment.environment = staging'), {
    'service.name': 'shop',
    'service.namespace': 'prod eu',
    'deployment.environment': 'staging',
  });
  assert.deepEqual(parseResourceAttributes('service.name=a,broken'), {});
  assert.deepEqual(parseResourceAttributes('service.name=%E0%A4%A'), {});
  assert.deepEqual(parseResourceAttributes(''), {});
  assert.deepEqual(parseResourceAttributes(undefined), {});
});

test('container ids from cgroup paths', () => {
  const id = 'a'.repeat(12) + '0123456789abcdef'.repeat(3) + 'b'.repeat(4);
  assert.equal(id.length, 64);
  const forms = [
    `0::/system.slice/docker-${id}.scope`,
    `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-${id}.scope`,
    `0::/machine.slice/libpod-${id}.scope/container`,
    `0::/kubepods/besteffort/pod123/${id}`,
    `12:memory:/docker/${id}\n0::/`,
  ];
  for (const text of forms) assert.equal(parseCgroup(text)?.containerId, id, text);
  assert.deepEqual(parseCgroup('0::/user.slice/user-0.slice/session-1.scope\n'), { path: '/user.slice/user-0.slice/session-1.scope' });
});

test('/proc/PID/stat with a command name full of parentheses and spaces', () => {
  const fields = ['S', '41', '41', '41', '0', '-1', '4194560', ...Array(8).fill('0'), '20', '0', '1', '0', '987654'];
  const s = parseProcStat(`4242 (a) b (c)) ${fields.join(' ')} 0 0\n`);
  assert.deepEqual(s, { pid: 4242, comm: 'a) b (c)', state: 'S', ppid: 41, startTicks: 987654, kernelThread: false });
  const kfields = [...fields];
  kfields[6] = String(0x00208040);
  assert.equal(parseProcStat(`2 (kthreadd) ${kfields.join(' ')}`)?.kernelThread, true);
  assert.equal(parseProcStat('garbage'), undefined);
});

test('environ: only the OTEL_ variables discovery needs', () => {
  const raw = Buffer.from('PATH=/bin\0OTEL_SERVICE_NAME=shop\0OTEL_TRACES_SAMPLER=x\0OTEL_RESOURCE_ATTRIBUTES=a=b\0HOME=/root', 'utf8');
  assert.deepEqual(parseEnviron(raw), { OTEL_SERVICE_NAME: 'shop', OTEL_RESOURCE_ATTRIBUTES: 'a=b' });
});

test('LISTEN sockets from /proc/net/tcp and tcp6', () => {
  const v4 = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0',
    '   1: 0100007F:1F90 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 12346 1 0000000000000000 20 4 30 10 -1',
  ].join('\n');
  const v6 = [
    '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 100 0 0 10 0',
  ].join('\n');
  const out4: { inode: number; port: number }[] = [];
  assert.equal(parseListeningSockets(v4, out4), false, 'stops at the first socket in another state');
  assert.deepEqual(out4, [{ inode: 12345, port: 8080 }]);
  const out6: { inode: number; port: number }[] = [];
  assert.equal(parseListeningSockets(v6, out6), true, 'only listeners so far: keep reading');
  assert.deepEqual(out6, [{ inode: 777, port: 443 }]);
  const none: { inode: number; port: number }[] = [];
  assert.equal(parseListeningSockets('header only', none), true);
  assert.deepEqual(none, []);
});

test('UUID v5 matches the RFC 4122 reference', () => {
  assert.equal(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
});

test('identity precedence: selector name > process env > resource attributes > parent > agent default > derived', () => {
  const base: ProcessInfo = { pid: 10, ppid: 1, startTicks: 5, comm: 'python3', exePath: '/usr/bin/python3.11', cmdline: ['python3', 'app.py'], cwd: '/srv', uid: 0, gid: 0, euid: 0, egid: 0, pidnsLevel: 0, env: {} };
  const withEnv = { ...base, env: { OTEL_SERVICE_NAME: 'from-env', OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,service.namespace=ns1' } };
  const withAttrs = { ...base, env: { OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,service.namespace=ns1' } };
  const parent = { identity: serviceIdentity({ ...base, pid: 9 }, { selector: { name: 'pool', namespace: 'p' } }), exePath: base.exePath };
  assert.equal(serviceIdentity(withEnv, { selector: { name: 'chosen' } }).name, 'chosen');
  assert.equal(serviceIdentity(withEnv).name, 'from-env');
  assert.equal(serviceIdentity(withEnv).namespace, 'ns1');
  assert.equal(serviceIdentity(withAttrs).name, 'from-attrs');
  assert.equal(serviceIdentity(base, { parent, agentDefault: { name: 'dflt' } }).name, 'pool');
  assert.equal(serviceIdentity(base, { parent, agentDefault: { name: 'dflt' } }).namespace, 'p');
  assert.equal(serviceIdentity({ ...base, exePath: '/usr/bin/sleep', cmdline: ['sleep', '9'] }, { parent, agentDefault: { name: 'dflt' } }).name, 'dflt');
  assert.equal(serviceIdentity(base).name, 'app');
  const id = serviceIdentity(base);
  assert.match(id.instanceId, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(serviceIdentity(base).instanceId, id.instanceId, 'stable for the same process');
  assert.notEqual(serviceIdentity({ ...base, startTicks: 6 }).instanceId, id.instanceId, 'a reused pid is another instance');
  assert.equal(serviceIdentity({ ...base, env: { OTEL_RESOURCE_ATTRIBUTES: 'service.instance.id=i-1' } }).instanceId, 'i-1');
  assert.deepEqual(
    { ...serviceIdentity({ ...base, containerId: 'c'.repeat(64) }), instanceId: 'x' },
    { name: 'app', instanceId: 'x', pid: 10, executableName: 'python3.11', executablePath: '/usr/bin/python3.11', commandLine: 'python3 app.py', containerId: 'c'.repeat(64) },
  );
});

test('the real /proc/net/tcp: listeners come first, so reading stops early', async () => {
  const { createServer, connect } = await import('node:net');
  const { readListeningSockets } = await import('../../src/discovery/proc-net-tcp.js');
  const server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  // Leave TIME_WAIT/established entries behind the listeners.
  for (let i = 0; i < 20; i++) {
    await new Promise<void>((r) => connect(port, '127.0.0.1').on('close', () => r()).on('error', () => r()).resume());
  }
  const mine = readListeningSockets('self')!.filter((s) => s.port === port);
  server.close();
  assert.equal(mine.length, 1);
});
