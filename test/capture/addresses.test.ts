// Addresses and capture sizes: IPv6, IPv4 on a dual-stack (IPv6) listener shown
// as plain IPv4, and the configured number of captured bytes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { startChild } from '../helpers/process.js';
import { type Collected, collect } from './helpers/capture.js';

const DUAL_STACK = `require('http').createServer((q, r) => r.end('x'.repeat(300))).listen(0, '::', function () { console.log('port', this.address().port) })`;

describe('addresses and capture sizes', () => {
  let cap: Collected;
  let server: ReturnType<typeof startChild>;
  let port: number;
  before(async () => {
    server = startChild(process.execPath, ['-e', DUAL_STACK]);
    await server.waitForOutput(/port \d+/);
    port = Number(/port (\d+)/.exec(server.output())![1]);
    cap = await collect({ requestCaptureBytes: 40, responseCaptureBytes: 20 });
    cap.capture.watch(server.pid);
  });
  after(async () => {
    // close() asserts that no program stayed loaded: what else the file started stops anyway.
    try {
      await cap?.close();
    } finally {
      server?.kill();
    }
  });

  test('IPv6 loopback: addresses in RFC 5952 form', async () => {
    execFileSync('curl', ['-s', '-o', '/dev/null', `http://[::1]:${port}/v6`], { timeout: 60_000 });
    const [ex] = await cap.waitFor(1, (e) => e.request.includes('/v6 '));
    assert.equal(ex!.local.address, '::1');
    assert.equal(ex!.remote.address, '::1');
    assert.equal(ex!.local.port, port);
  });

  test('IPv4 peer of a dual-stack listener: IPv4-mapped addresses shown as IPv4', async () => {
    execFileSync('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${port}/v4mapped`], { timeout: 60_000 });
    const [ex] = await cap.waitFor(1, (e) => e.request.includes('/v4mapped '));
    assert.equal(ex!.local.address, '127.0.0.1');
    assert.equal(ex!.remote.address, '127.0.0.1');
  });

  test('captured bytes stop at requestCaptureBytes / responseCaptureBytes; byte counts do not', async () => {
    const path = `/long/${'p'.repeat(100)}`;
    execFileSync('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${port}${path}`], { timeout: 60_000 });
    const [ex] = await cap.waitFor(1, (e) => e.request.includes('/long/'));
    assert.equal(ex!.request.length, 40);
    assert.equal(ex!.response.length, 20);
    assert.equal(ex!.request.toString('latin1'), `GET ${path}`.slice(0, 40), 'the first 40 bytes');
    const version = /^curl (\S+)/.exec(execFileSync('curl', ['--version'], { timeout: 60_000, encoding: 'utf8' }))![1];
    const wire = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUser-Agent: curl/${version}\r\nAccept: */*\r\n\r\n`;
    assert.equal(ex!.requestBytes, wire.length);
    assert.ok(ex!.responseBytes > 300);
    assert.equal(ex!.statusHint, 200, 'the kernel still read the status');
  });
});
