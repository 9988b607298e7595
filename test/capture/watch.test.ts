// Who is captured: watched pids and the children they fork afterwards, not
// unwatched ones, every process but the excluded ones in watch-all mode, and
// never the agent itself.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { WaggleError } from '../../src/ebpf/index.js';
import { sleep, startChild } from '../helpers/process.js';
import { type Collected, collect } from './helpers/capture.js';
import { requestLine } from './helpers/http-lite.js';
import { type Server, startNodeServer, startPythonServer } from './helpers/servers.js';

const curl = (url: string) => execFileSync('curl', ['-s', '-o', '/dev/null', url], { timeout: 60_000 });

describe('watching', () => {
  let server: Server;
  let cap: Collected;
  before(async () => {
    server = await startPythonServer();
    cap = await collect();
  });
  after(async () => {
    // close() asserts that no program stayed loaded: what else the file started stops anyway.
    try {
      await cap?.close();
    } finally {
      server?.stop();
    }
  });

  test('an unwatched server is not captured; watched, it is; unwatched again, it is not', async () => {
    const base = `http://127.0.0.1:${server.port}`;
    curl(`${base}/before-watch`);
    cap.capture.watch(server.child.pid);
    curl(`${base}/watched`);
    await cap.waitFor(1, (ex) => ex.request.includes('/watched '));
    cap.capture.unwatch(server.child.pid);
    curl(`${base}/after-unwatch`);
    await sleep(200);
    assert.deepEqual(cap.current((ex) => ex.pid === server.child.pid).map((ex) => requestLine(ex.request)?.target), ['/watched']);
  });

  test('a child forked by a watched process after watch() is captured from its first request', async () => {
    // A shell that forks a Node server only when told to: the fork happens after watch().
    const script = "require('http').createServer((q, r) => r.end('kid')).listen(0, '127.0.0.1', function () { console.log('pid', process.pid, 'port', this.address().port) })";
    const shell = startChild('/bin/sh', ['-c', `read go; ${process.execPath} -e "${script}" & wait`]);
    cap.capture.watch(shell.pid);
    shell.write('go\n');
    await shell.waitForOutput(/port \d+/);
    const [, kidPid, port] = /pid (\d+) port (\d+)/.exec(shell.output())!.map(Number);
    assert.notEqual(kidPid, shell.pid);
    assert.ok(cap.capture.watchedPids().includes(kidPid!), 'inherited in the kernel at fork');
    curl(`http://127.0.0.1:${port}/kid`);
    const got = await cap.waitFor(1, (ex) => ex.local.port === port);
    assert.equal(got.length, 1);
    assert.equal(got[0]!.pid, kidPid);
    assert.equal(requestLine(got[0]!.request)?.target, '/kid');
    shell.kill();
    process.kill(kidPid!, 'SIGKILL');
    await sleep(100);
    assert.ok(!cap.capture.watchedPids().includes(kidPid!), 'forgotten at exit');
  });

  test('watchAllExcept(): every process but the excluded ones, and never the agent', async () => {
    const node = await startNodeServer();
    try {
      cap.capture.watchAllExcept([node.child.pid]);
      // The agent (this process) talks to both servers with fetch(): not captured as a client.
      await (await fetch(`http://127.0.0.1:${server.port}/all-mode`)).text();
      await (await fetch(`http://127.0.0.1:${node.port}/excluded`)).text();
      const got = await cap.waitFor(1, (ex) => ex.request.includes('/all-mode '));
      assert.deepEqual(got.map((ex) => [ex.pid, ex.role]), [[server.child.pid, 'server']]);
      await sleep(200);
      assert.equal(cap.current((ex) => ex.request.includes('/excluded ')).length, 0);
      assert.equal(cap.current((ex) => ex.pid === process.pid).length, 0);
    } finally {
      cap.capture.watchOnlyWatched();
      node.stop();
    }
    curl(`http://127.0.0.1:${server.port}/back-to-watched`);
    await sleep(200);
    assert.equal(cap.current((ex) => ex.request.includes('/back-to-watched ')).length, 0, 'the server was unwatched earlier');
  });

  test('bad pids are refused with the argument named; the agent cannot be watched', () => {
    assert.throws(() => cap.capture.watch(0), (e: unknown) => e instanceof WaggleError && e.code === 'WAGGLE_ERR_INVALID_ARGUMENT' && /watch: pid/.test(e.message));
    assert.throws(() => cap.capture.watch(1.5), /pid must be a positive integer/);
    assert.throws(() => cap.capture.watch(process.pid), /the agent itself/);
    assert.throws(() => cap.capture.watchAllExcept([-3]), /watchAllExcept: pid/);
  });
});
