// waggle-test: no-kernel
// Naming processes gone before /proc was read (departed-names.ts), and the
// kernel-dev encoding exec selection compares executables by (exe-key.ts).
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { test } from 'node:test';
import { DepartedNames } from '../../src/discovery/departed-names.js';
import { serviceInstanceId } from '../../src/discovery/instance-id.js';
import { ExeGlob } from '../../src/discovery/exe-glob.js';
import { exeKeyOfPath, kernelDev } from '../../src/process/index.js';
import type { ServiceIdentity } from '../../src/telemetry/span.js';

const postmaster: ServiceIdentity = Object.freeze({ name: 'postgres', instanceId: 'pm-1', pid: 100, executableName: 'postgres', executablePath: '/usr/lib/postgresql/15/bin/postgres', commandLine: 'postgres -D /data', namespace: 'db' });
const none = () => undefined;

test('an exec names the process from its path and arguments, or from the selector that picked it in the kernel', () => {
  const names = new DepartedNames();
  names.rememberExec(200, 5000, '/usr/bin/python3', ['python3', '/jobs/nightly.py']);
  names.rememberExec(201, 5001, '/usr/bin/mariadb', ['mysql', '-e', 'select 1'], { name: 'batch-mysql', namespace: 'ops' });
  const py = names.identity(200, none)!;
  assert.deepEqual({ ...py }, { name: 'nightly', instanceId: serviceInstanceId(200, 5000), pid: 200, executableName: 'python3', executablePath: '/usr/bin/python3', commandLine: 'python3 /jobs/nightly.py' });
  const my = names.identity(201, none)!;
  assert.equal(my.name, 'batch-mysql');
  assert.equal(my.namespace, 'ops');
  assert.equal(names.identity(201, none), my, 'built once');
  assert.equal(names.departed(201), my);
  assert.equal(names.fromExec, 2);
});

test('a fork that never exec’d is its parent with its own pid and instance id; no parent, no name', () => {
  const names = new DepartedNames();
  names.rememberFork(300, 100, 7000);
  names.rememberFork(301, 999, 7001);
  const asked: number[] = [];
  const parentOf = (ppid: number) => {
    asked.push(ppid);
    return ppid === 100 ? postmaster : undefined;
  };
  const backend = names.identity(300, parentOf)!;
  assert.deepEqual({ ...backend }, { ...postmaster, pid: 300, instanceId: serviceInstanceId(300, 7000) });
  assert.equal(names.identity(301, parentOf), undefined);
  assert.deepEqual(asked, [100, 999]);
  assert.equal(names.fromFork, 1);
  assert.equal(names.identity(302, parentOf), undefined, 'never seen');
});

test('a later event for the same pid replaces the earlier one (pid reuse)', () => {
  const names = new DepartedNames();
  names.rememberFork(400, 100, 1);
  names.rememberExec(400, 2, '/usr/bin/curl', ['curl', 'http://x']);
  assert.equal(names.identity(400, () => postmaster)!.name, 'curl');
});

test('kernelDev: stat(2)’s st_dev encoding to the kernel’s dev_t (major << 20 | minor)', () => {
  assert.equal(kernelDev(0xfe00), 254 << 20); // 254:0 (a device-mapper volume)
  assert.equal(kernelDev(0x0803), (8 << 20) | 3); // 8:3 (sda3)
  assert.equal(kernelDev(0x12345678), (0x456 << 20) | 0x12378); // minor above 255: bits 20–31 of st_dev
  const self = exeKeyOfPath(process.execPath)!;
  assert.equal(self.ino, statSync(process.execPath).ino);
  assert.equal(exeKeyOfPath('/nonexistent/waggle'), undefined);
  assert.equal(exeKeyOfPath('/tmp'), undefined, 'a directory is no executable');
});

test('ExeGlob.literal: only a pattern with no wildcard, class, alternative or escape is a path', () => {
  assert.equal(new ExeGlob('/usr/bin/mariadb').literal, '/usr/bin/mariadb');
  for (const p of ['*/python3*', '/usr/bin/python3.?', '/usr/bin/[a-z]x', '/opt/{a,b}/app', '/opt/a\\*b']) assert.equal(new ExeGlob(p).literal, undefined, p);
});
