// waggle-test: no-kernel
// Which hooks the capture loads, from the kernel release and its BTF: the
// socket tracepoints need both typedefs and 6.5+ (sendfile through sendmsg).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { chooseHooks, socketHooksMissing } from '../../src/capture/hook-choice.js';

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

describe('chooseHooks', () => {
  test("'auto' falls back to the syscall exits; 'socket' throws the reason; 'syscalls' never looks", () => {
    assert.equal(chooseHooks('auto', () => undefined), 'socket');
    assert.equal(chooseHooks('auto', () => 'no tracepoint'), 'syscalls');
    assert.throws(() => chooseHooks('socket', () => 'no tracepoint'), /capture hooks 'socket' are not available: no tracepoint/);
    assert.equal(
      chooseHooks('syscalls', () => assert.fail('not consulted')),
      'syscalls',
    );
  });
});
