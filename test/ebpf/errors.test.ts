// Failures carry the kernel's reason: verifier logs, missing privileges.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ObjectSpec, VerifierError, WaggleError } from '../../src/ebpf/index.js';
import { bpfObjectPath, packageRoot } from '../../src/paths.js';

describe('errors', () => {
  test('a verifier rejection carries the verifier reason and the whole log', () => {
    const spec = ObjectSpec.open(bpfObjectPath('testdata/verifier_reject'));
    try {
      assert.throws(
        () => spec.load(),
        (e: unknown) => {
          assert.ok(e instanceof VerifierError, `got ${String(e)}`);
          assert.equal(e.code, 'WAGGLE_ERR_VERIFIER');
          assert.equal(e.program, 'unchecked_lookup');
          assert.match(e.message, /invalid mem access 'map_value_or_null'/);
          assert.match(e.verifierLog, /R0 invalid mem access 'map_value_or_null'/);
          assert.match(e.verifierLog, /processed \d+ insns/);
          return true;
        },
      );
    } finally {
      spec.close();
    }
  });

  test('opening a missing object names the file', () => {
    assert.throws(
      () => ObjectSpec.open('/nonexistent/x.bpf.o'),
      (e: unknown) => e instanceof WaggleError && e.code === 'WAGGLE_ERR_NOT_FOUND' && e.message.includes('/nonexistent/x.bpf.o'),
    );
  });

  test('without CAP_BPF/CAP_PERFMON/CAP_SYS_ADMIN, loading names the missing capabilities', (t) => {
    if (!existsSync('/usr/sbin/capsh')) {
      t.skip('capsh (libcap2-bin) is not installed');
      return;
    }
    const script = `
      import { ObjectSpec } from '${packageRoot}/dist/src/ebpf/index.js';
      try { ObjectSpec.open('${bpfObjectPath('testdata/count_syscalls')}').load(); console.log('LOADED'); }
      catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
    const r = spawnSync('/usr/sbin/capsh', ['--drop=cap_bpf,cap_perfmon,cap_sys_admin', '--', '-c', `${process.execPath} --input-type=module -e "${script.replace(/"/g, '\\"')}"`], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { code?: string; message?: string };
    assert.equal(out.code, 'WAGGLE_ERR_PERMISSION', r.stdout + r.stderr);
    assert.match(out.message ?? '', /missing: CAP_BPF, CAP_PERFMON/);
  });

  test('a kernel without BTF is named as the reason a CO-RE object cannot load', (t) => {
    if (!existsSync('/usr/bin/unshare')) {
      t.skip('unshare (util-linux) is not installed');
      return;
    }
    // A private mount namespace hides /sys/kernel/btf under an empty tmpfs, as on a kernel without BTF.
    const script = `mount -t tmpfs none /sys/kernel/btf && ${process.execPath} --input-type=module -e "
      import { ObjectSpec } from '${packageRoot}/dist/src/ebpf/index.js';
      try { ObjectSpec.open('${bpfObjectPath('capture/socket_capture')}').load(); console.log('LOADED'); }
      catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }"`;
    const r = spawnSync('/usr/bin/unshare', ['-m', '/bin/sh', '-c', script], { encoding: 'utf8', timeout: 60_000 });
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { code?: string; message?: string };
    assert.equal(out.code, 'WAGGLE_ERR_NOT_SUPPORTED', r.stdout + r.stderr);
    assert.match(out.message ?? '', /\/sys\/kernel\/btf\/vmlinux is missing.*CONFIG_DEBUG_INFO_BTF/);
  });
});
