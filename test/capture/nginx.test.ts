// nginx (master + workers, sendfile on) driven by ab and curl: exact counts, and
// a static file sent with sendfile() ends at its last byte.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { MonotonicNow } from './helpers/clock.js';
import { type Collected, collect } from './helpers/capture.js';
import { requestLine, statusOf } from './helpers/http-lite.js';
import { type Nginx, nginxAvailable, startNginx } from './helpers/servers.js';

const FILE_SIZE = 1 << 20;

function ab(args: string[]): { completed: number; keepAlive: number } {
  const out = execFileSync('ab', ['-q', ...args], { timeout: 60_000, encoding: 'utf8' });
  assert.equal(Number(/Failed requests:\s+(\d+)/.exec(out)![1]), 0, out);
  return { completed: Number(/Complete requests:\s+(\d+)/.exec(out)![1]), keepAlive: Number(/Keep-Alive requests:\s+(\d+)/.exec(out)?.[1] ?? 0) };
}

describe('nginx', { skip: nginxAvailable() ? false : 'nginx is not installed (apt-get install -y nginx)' }, () => {
  let nginx: Nginx;
  let cap: Collected;
  before(async () => {
    nginx = await startNginx({ 'big.bin': randomBytes(FILE_SIZE), 'index.html': '<p>hi</p>\n' }, 2);
    cap = await collect();
    for (const pid of nginx.pids()) cap.capture.watch(pid);
  });
  after(async () => {
    // close() asserts that no program stayed loaded: what else the file started stops anyway.
    try {
      await cap?.close();
    } finally {
      await nginx?.stop();
    }
  });

  test('ab -n 400 -c 8: exactly 400 exchanges, served by the workers', async () => {
    const { completed } = ab(['-n', '400', '-c', '8', `http://127.0.0.1:${nginx.port}/hello`]);
    assert.equal(completed, 400);
    const got = await cap.waitFor(completed, (ex) => ex.request.includes('/hello '));
    assert.equal(got.length, completed);
    const workers = new Set(nginx.pids().slice(1));
    assert.ok(got.every((ex) => workers.has(ex.pid) && ex.role === 'server' && ex.local.port === nginx.port && statusOf(ex.response) === 200));
  });

  test('ab -k -n 1000 -c 4: exactly 1000 exchanges on keep-alive connections', async () => {
    const { completed, keepAlive } = ab(['-k', '-n', '1000', '-c', '4', `http://127.0.0.1:${nginx.port}/index.html`]);
    assert.equal(completed, 1000);
    assert.ok(keepAlive > 900, `ab kept connections alive (${keepAlive})`);
    const got = await cap.waitFor(completed, (ex) => ex.request.includes('/index.html '));
    assert.equal(got.length, completed);
    assert.ok(new Set(got.map((ex) => ex.connectionId)).size < 100);
    assert.ok(got.every((ex) => statusOf(ex.response) === 200 && ex.responseBytes === got[0]!.responseBytes && ex.incomplete === undefined));
  });

  test('a 1 MiB static file sent with sendfile(): one exchange, every byte, ending after the last one', async () => {
    const before = MonotonicNow();
    const out = execFileSync('curl', ['-s', '-o', '/dev/null', '-w', '%{size_header} %{size_download}', `http://127.0.0.1:${nginx.port}/big.bin`], { timeout: 60_000, encoding: 'utf8' });
    const after = MonotonicNow();
    const [sizeHeader, sizeDownload] = out.split(' ').map(Number);
    assert.equal(sizeDownload, FILE_SIZE);
    const got = await cap.waitFor(1, (ex) => requestLine(ex.request)?.target === '/big.bin');
    assert.equal(got.length, 1);
    const ex = got[0]!;
    assert.equal(statusOf(ex.response), 200);
    assert.match(ex.response.toString('latin1'), new RegExp(`Content-Length: ${FILE_SIZE}\r\n`));
    assert.equal(ex.responseBytes, sizeHeader! + FILE_SIZE);
    assert.ok(ex.requestStartNs >= before && ex.responseEndNs <= after, 'timestamps inside the curl run');
    assert.ok(ex.responseEndNs > ex.responseStartNs, 'the response spans the sendfile calls');
    assert.equal(ex.incomplete, undefined);
  });
});
