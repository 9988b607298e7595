// waggle-test: no-kernel
// Which hooks the capture loads, from the kernel release and its BTF: the
// socket tracepoints need both typedefs and 6.5+ (sendfile through sendmsg);
// fexit needs the inet layer's functions (inet_sendpage too before 6.5).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FEXIT_HOOK_PROGRAMS, FEXIT_SENDPAGE_PROGRAM, SOCKET_HOOK_PROGRAMS, SYSCALL_HOOK_PROGRAMS, fexitHooksMissing, hookPrograms, planHooks, socketHooksMissing } from '../../src/capture/hook-choice.js';

const dir = mkdtempSync(join(tmpdir(), 'waggle-hooks-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const btf = (name: string, strings: string[]) => {
  const path = join(dir, name);
  writeFileSync(path, Buffer.from(`\0junk\0${strings.map((s) => `${s}\0`).join('')}more\0`));
  return path;
};

describe('socketHooksMissing', () => {
  const both = btf('both', ['btf_trace_sock_recv_length', 'btf_trace_sock_send_length']);
  const recvOnly = btf('recv', ['btf_trace_sock_recv_length']);

  test('6.5+ with both tracepoints: available', () => {
    assert.equal(socketHooksMissing('6.12.57+deb13-amd64', both), undefined);
    assert.equal(socketHooksMissing('6.5.0', both), undefined);
    assert.equal(socketHooksMissing('7.0.1', both), undefined);
  });

  test('before 6.5 sendfile bypasses sock_sendmsg: missing, with the release named', () => {
    assert.match(socketHooksMissing('6.1.0-28-amd64', both)!, /6\.1\.0-28-amd64 is older than 6\.5/);
    assert.match(socketHooksMissing('5.10.0-33-amd64', both)!, /older than 6\.5/);
    assert.match(socketHooksMissing('garbage', both)!, /older than 6\.5/);
  });

  test('a tracepoint absent from BTF (a prefix of another name does not count): missing, naming it', () => {
    assert.match(socketHooksMissing('6.12.0', recvOnly)!, /no sock:sock_send_length tracepoint/);
    assert.match(socketHooksMissing('6.12.0', btf('prefix', ['btf_trace_sock_recv_length_x', 'btf_trace_sock_send_length']))!, /no sock:sock_recv_length/);
    assert.match(socketHooksMissing('6.12.0', join(dir, 'absent'))!, /could not be read/);
  });
});

describe('fexitHooksMissing', () => {
  const inet = ['inet_recvmsg', 'inet6_recvmsg', 'inet_sendmsg', 'inet6_sendmsg'];
  const all = btf('inet-all', [...inet, 'inet_sendpage']);
  const noSendpage = btf('inet-no-sendpage', inet);

  test('before 6.5 the four msg functions and inet_sendpage: available', () => {
    assert.equal(fexitHooksMissing('6.1.0-50-cloud-amd64', all), undefined);
    assert.equal(fexitHooksMissing('5.10.0-32-amd64', all), undefined);
  });

  test('before 6.5 without inet_sendpage (sendfile unseen): missing, naming it', () => {
    assert.match(fexitHooksMissing('6.1.0', noSendpage)!, /no function inet_sendpage to attach fexit to/);
  });

  test('from 6.5 inet_sendpage is gone and not needed; a missing msg function is named', () => {
    assert.equal(fexitHooksMissing('6.12.0', noSendpage), undefined);
    assert.match(fexitHooksMissing('6.12.0', btf('inet-v4', ['inet_recvmsg', 'inet_sendmsg']))!, /no function inet6_recvmsg, inet6_sendmsg/);
    assert.match(fexitHooksMissing('6.1.0', join(dir, 'absent'))!, /could not be read/);
  });
});

describe('planHooks', () => {
  const kernel = (socket?: string, fexit?: string) => ({ socket: () => socket, fexit: () => fexit });
  const never = { socket: () => assert.fail('not consulted'), fexit: () => assert.fail('not consulted') };

  test("'auto': the socket tracepoints, else fexit, else the syscall exits, which also stand in when the better set fails", () => {
    assert.deepEqual(planHooks('auto', kernel()), { tries: ['socket', 'syscalls'], passedOver: [] });
    assert.deepEqual(planHooks('auto', kernel('no tracepoint')), { tries: ['fexit', 'syscalls'], passedOver: ['no tracepoint'] });
    assert.deepEqual(planHooks('auto', kernel('no tracepoint', 'no inet_sendpage')), { tries: ['syscalls'], passedOver: ['no tracepoint', 'fexit: no inet_sendpage'] });
  });

  test("'socket' and 'fexit' throw the kernel's reason and never fall back; 'syscalls' never looks", () => {
    assert.deepEqual(planHooks('socket', kernel(undefined, 'x')), { tries: ['socket'], passedOver: [] });
    assert.throws(() => planHooks('socket', kernel('no tracepoint')), /capture hooks 'socket' are not available: no tracepoint/);
    assert.deepEqual(planHooks('fexit', kernel(undefined, undefined)), { tries: ['fexit'], passedOver: ['capture.hooks is fexit'] });
    assert.throws(() => planHooks('fexit', kernel(undefined, 'no inet_sendpage')), /capture hooks 'fexit' are not available: no inet_sendpage/);
    assert.deepEqual(planHooks('syscalls', never), { tries: ['syscalls'], passedOver: ['capture.hooks is syscalls'] });
  });
});

describe('hookPrograms', () => {
  test('each set loads its own programs; fexit hooks inet_sendpage only where the kernel has it', () => {
    assert.deepEqual(hookPrograms('socket', true), SOCKET_HOOK_PROGRAMS);
    assert.deepEqual(hookPrograms('syscalls', true), SYSCALL_HOOK_PROGRAMS);
    assert.deepEqual(hookPrograms('fexit', false), FEXIT_HOOK_PROGRAMS);
    assert.deepEqual(hookPrograms('fexit', true), [...FEXIT_HOOK_PROGRAMS, FEXIT_SENDPAGE_PROGRAM]);
  });
});
