// The capture sees bytes on one of three sets of hooks (src/capture/hook-choice.ts):
// the socket layer's sock_recv_length/sock_send_length tracepoints (6.5+), fexit
// on the inet layer's send and receive (before 6.5, with BPF trampolines), or
// the read/write-family syscall exits. Each must frame exactly the same traffic
// the same way; 'auto' takes the best set the kernel has; socket I/O through
// other calls is counted, not misread.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { type CaptureHooks, type Exchange, fexitHooksMissing, socketHooksMissing } from '../../src/capture/index.js';
import { probeFeature } from '../../src/ebpf/features.js';
import { python3, startChild } from '../helpers/process.js';
import { collect } from './helpers/capture.js';
import { requestLine, statusOf } from './helpers/http-lite.js';
import { nginxAvailable, startNginx, startNodeServer } from './helpers/servers.js';

const missing = socketHooksMissing();
const fentry = await probeFeature('fentry');
const fexitMissing = fexitHooksMissing() ?? (fentry.ok ? undefined : `this kernel loads no fentry/fexit program: ${fentry.reason}`);
/** The set 'auto' takes here, and why a better one than the syscall exits is not there. */
const BEST: CaptureHooks = !missing ? 'socket' : !fexitMissing ? 'fexit' : 'syscalls';
const SKIP_BETTER = BEST === 'syscalls' ? `neither the socket hooks (${missing}) nor the fexit hooks (${fexitMissing}) are available here` : false;
const FILE_SIZE = 200_000;

/** What every hook set must agree on, exchange by exchange. */
function summary(ex: Exchange): string {
  return `${requestLine(ex.request)?.target} ${statusOf(ex.response)} req=${ex.requestBytes} resp=${ex.responseBytes}${ex.incomplete ? ` incomplete=${ex.incomplete}` : ''}${ex.framingLost ? ' framingLost' : ''}`;
}

/** Ten keep-alive requests (chunked and Content-Length) to Node, then four sendfile responses from nginx: the summaries in order. */
async function trafficSeenOn(hooks: CaptureHooks): Promise<{ node: string[]; nginx: string[] }> {
  let node: Awaited<ReturnType<typeof startNodeServer>> | undefined;
  let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
  let cap: Awaited<ReturnType<typeof collect>> | undefined;
  try {
    node = await startNodeServer();
    nginx = nginxAvailable() ? await startNginx({ 'big.bin': randomBytes(FILE_SIZE) }) : undefined;
    cap = await collect({ hooks });
    assert.equal(cap.capture.hooks, hooks);
    cap.capture.watch(node.child.pid);
    for (const pid of nginx?.pids() ?? []) cap.capture.watch(pid);
    const nodePort = node.port;
    const urls = Array.from({ length: 10 }, (_, i) => `http://127.0.0.1:${nodePort}/${i % 2 ? 'chunked/3' : 'plain'}?n=${i}`);
    execFileSync('curl', ['-s', '--max-time', '10', ...urls.flatMap((u) => ['-o', '/dev/null', u])], { timeout: 15_000 });
    const fromNode = await cap.waitFor(10, (ex) => /\?n=\d+ /.test(ex.request.toString('latin1')));
    let fromNginx: Exchange[] = [];
    if (nginx) {
      const nginxPort = nginx.port;
      const files = Array.from({ length: 4 }, (_, i) => `http://127.0.0.1:${nginxPort}/big.bin?f=${i}`);
      execFileSync('curl', ['-s', '--max-time', '10', ...files.flatMap((u) => ['-o', '/dev/null', u])], { timeout: 15_000 });
      fromNginx = await cap.waitFor(4, (ex) => /\?f=\d+ /.test(ex.request.toString('latin1')));
    }
    assert.deepEqual(cap.errors, []);
    return { node: fromNode.map(summary), nginx: fromNginx.map(summary) };
  } finally {
    await cap?.close();
    node?.stop();
    await nginx?.stop();
  }
}

describe('capture hooks', () => {
  test("'auto' takes the best set the kernel has (socket tracepoints, fexit, syscall exits); 'syscalls' forces the exits", async () => {
    const auto = await collect();
    const hooks = auto.capture.hooks;
    await auto.close();
    assert.equal(hooks, BEST);
    const forced = await collect({ hooks: 'syscalls' });
    const forcedHooks = forced.capture.hooks;
    await forced.close();
    assert.equal(forcedHooks, 'syscalls');
  });

  test("'socket' where the kernel lacks the tracepoints names why", { skip: missing ? false : 'this kernel has the socket tracepoints' }, async () => {
    await assert.rejects(collect({ hooks: 'socket' }), (e: Error) => e.message.includes("capture hooks 'socket' are not available") && e.message.includes(missing!));
  });

  test("'fexit' where the kernel cannot run it fails with the kernel's refusal, and 'auto' never takes it there", { skip: fexitMissing ? false : 'this kernel runs the fexit hooks' }, async () => {
    await assert.rejects(collect({ hooks: 'fexit' }), (e: Error) => /capture hooks 'fexit' are not available|fentry|fexit|trampoline|not permitted/.test(e.message));
  });

  test(`the ${BEST} hooks frame the same traffic exactly as the syscall exits (keep-alive chunked and Content-Length, sendfile)`, { skip: SKIP_BETTER }, async () => {
    const onSyscalls = await trafficSeenOn('syscalls');
    const onBest = await trafficSeenOn(BEST);
    const expectedNode = Array.from({ length: 10 }, (_, i) => `/${i % 2 ? 'chunked/3' : 'plain'}?n=${i} 200`);
    assert.deepEqual(
      onBest.node.map((s) => s.split(' req=')[0]),
      expectedNode,
    );
    assert.deepEqual(onBest, onSyscalls);
    if (nginxAvailable()) {
      // The file's bytes went by sendfile: counted, past the response head.
      assert.deepEqual(
        onBest.nginx.map((s) => s.replace(/ req=\d+/, '').replace(/resp=(\d+)/, (_, n) => `resp ${Number(n) > FILE_SIZE && Number(n) < FILE_SIZE + 1000 ? 'file+head' : n}`)),
        [0, 1, 2, 3].map((i) => `/big.bin?f=${i} 200 resp file+head`),
      );
    }
  });

  test(`socket I/O through another call (splice) is counted, not read as the syscall it is not (${BEST} hooks)`, { skip: SKIP_BETTER }, async () => {
    const script = [
      'import os, socket, sys',
      "srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(1)",
      'c = socket.create_connection(srv.getsockname()); s, _ = srv.accept()',
      "print('ready', flush=True); sys.stdin.readline()",
      "r, w = os.pipe(); os.write(w, b'GET /spliced HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')",
      'n = os.splice(r, c.fileno(), 100)',
      'got = s.recv(1000)',
      "print('spliced', n, len(got), flush=True)",
    ].join('\n');
    const cap = await collect({ hooks: BEST });
    let child: ReturnType<typeof startChild> | undefined;
    try {
      child = startChild(python3, ['-c', script]);
      await child.waitForOutput('ready');
      cap.capture.watch(child.pid);
      const before = cap.capture.stats().socketOtherIo;
      child.write('\n');
      await child.waitForOutput(/spliced \d+ \d+/);
      await child.stop();
      assert.match(child.output(), /spliced 34 34/);
      assert.equal(cap.capture.stats().socketOtherIo - before, 1, 'the one spliced send');
      // The receiving end's recv is a read-family call: its server side is seen
      // (unanswered, it ends at the close); the spliced send made no client side.
      const got = await cap.waitFor(1, (ex) => requestLine(ex.request)?.target === '/spliced');
      assert.deepEqual(
        got.map((ex) => `${ex.role} ${ex.incomplete}`),
        ['server closed-before-response'],
      );
    } finally {
      await child?.stop();
      await cap.close();
    }
  });
});
