// The capture ships two builds of the same programs: one reading kernel structs
// through the bpf_rdonly_cast kfunc (6.2+), one through CO-RE helper reads (what
// 6.1 loads). Both must frame exactly the same; 'auto' picks the kfunc build
// wherever the kernel has it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { CAPTURE_OBJECT, CAPTURE_OBJECT_KFUNC } from '../../src/capture/index.js';
import { missingKernelBtfNames } from '../../src/ebpf/index.js';
import { collect } from './helpers/capture.js';
import { requestLine, statusOf } from './helpers/http-lite.js';
import { startNodeServer } from './helpers/servers.js';

/** Whether this kernel's BTF declares the kfunc (its name is in the string section). */
function kernelHasRdonlyCast(): boolean {
  return missingKernelBtfNames(['bpf_rdonly_cast']).length === 0;
}

describe('capture builds', () => {
  test("'auto' loads the kfunc build where the kernel has bpf_rdonly_cast, the CO-RE build elsewhere", async () => {
    const cap = await collect();
    const object = cap.capture.object;
    await cap.close();
    assert.equal(object, kernelHasRdonlyCast() ? CAPTURE_OBJECT_KFUNC : CAPTURE_OBJECT);
  });

  test("the CO-RE build ('core'): keep-alive chunked and Content-Length responses, exactly one exchange each", async () => {
    const server = await startNodeServer();
    const cap = await collect({ kernelReads: 'core' });
    let got;
    try {
      cap.capture.watch(server.child.pid);
      // /chunked/3 answers Transfer-Encoding: chunked, anything else Content-Length.
      const urls = Array.from({ length: 10 }, (_, i) => `http://127.0.0.1:${server.port}/${i % 2 ? 'chunked/3' : 'plain'}?n=${i}`);
      execFileSync('curl', ['-s', '--max-time', '10', ...urls.flatMap((u) => ['-o', '/dev/null', u])], { timeout: 15_000 });
      got = await cap.waitFor(10, (ex) => /\?n=\d+ /.test(ex.request.toString('latin1')));
    } finally {
      await cap.close();
      server.stop();
    }
    assert.equal(cap.capture.object, CAPTURE_OBJECT);
    assert.equal(got.length, 10);
    assert.deepEqual(
      got.map((ex) => requestLine(ex.request)?.target),
      Array.from({ length: 10 }, (_, i) => `/${i % 2 ? 'chunked/3' : 'plain'}?n=${i}`),
    );
    assert.ok(got.every((ex) => statusOf(ex.response) === 200 && ex.incomplete === undefined && !ex.framingLost));
    assert.equal(new Set(got.map((ex) => ex.connectionId)).size, 1, 'one keep-alive connection');
  });
});
