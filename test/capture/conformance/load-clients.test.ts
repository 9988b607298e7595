// Conformance: ab -k (HTTP/1.0 keep-alive) and wrk (HTTP/1.1 keep-alive) against
// Node, Python and nginx, Content-Length and chunked: the exchanges on each side
// are exactly the responses the tool counted.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sleep } from '../../helpers/process.js';
import { type Collected, collect } from '../helpers/capture.js';
import { nginxAvailable, startNginx } from '../helpers/servers.js';
import { type LoadRun, runAb, runWrk } from './helpers/load-clients.js';
import { type RealServer, startNodeConformanceServer, startPythonConformanceServer } from './helpers/real-servers.js';
import { assertExchanges, clientSide, serverSide, settle } from './helpers/sides.js';

// Python writes headers and body (and each chunk) separately: Nagle and delayed
// ACKs make each request take ~40 ms, so it gets fewer.
const N = 200;
const N_PYTHON = 20;

describe('framing conformance: ab -k and wrk, exact counts', () => {
  const servers: Record<string, RealServer> = {};
  let cap: Collected;
  before(async () => {
    servers.node = await startNodeConformanceServer();
    servers.python = await startPythonConformanceServer();
    if (nginxAvailable()) {
      const nginx = await startNginx({ 'index.html': '<p>hi</p>\n', 'gz.txt': 'compress me '.repeat(200) }, 1, 'gzip on; gzip_types text/plain; gzip_min_length 0;');
      servers.nginx = { child: nginx.child, pids: nginx.pids, port: nginx.port, stop: nginx.stop };
    }
    cap = await collect();
    for (const s of Object.values(servers)) for (const pid of s.pids()) cap.capture.watch(pid);
  });
  after(async () => {
    // close() asserts that no program stayed loaded: the servers stop anyway.
    try {
      await cap?.close();
    } finally {
      await Promise.all(Object.values(servers).map((s) => s.stop()));
    }
  });

  const cells: { server: string; tool: 'ab -k' | 'wrk'; path: string; what: string; n?: number }[] = [
    { server: 'node', tool: 'ab -k', path: '/content-length', what: 'Content-Length' },
    { server: 'node', tool: 'ab -k', path: '/chunked-end', what: 'no length for HTTP/1.0: close-delimited' },
    { server: 'node', tool: 'wrk', path: '/chunked-end', what: 'chunked' },
    { server: 'node', tool: 'wrk', path: '/chunked-writes', what: 'chunked, one corked writev' },
    { server: 'python', tool: 'ab -k', path: '/content-length', what: 'Content-Length', n: N_PYTHON },
    { server: 'python', tool: 'wrk', path: '/chunked', what: 'chunked, a write per chunk', n: N_PYTHON },
    { server: 'nginx', tool: 'ab -k', path: '/index.html', what: 'sendfile, Content-Length' },
    { server: 'nginx', tool: 'wrk', path: '/hello', what: 'Content-Length' },
  ];
  for (const cell of cells) {
    test(`${cell.server} ${cell.path} (${cell.what}) × ${cell.tool}`, { skip: cell.server === 'nginx' && !nginxAvailable() ? 'nginx is not installed' : false }, async () => {
      const server = servers[cell.server]!;
      const n = cell.n ?? N;
      const path = `${cell.path}?tool=${cell.tool.replace(' ', '')}`;
      const url = `http://127.0.0.1:${server.port}${path}`;
      const watch = (pid: number) => cap.capture.watch(pid);
      const run: LoadRun = cell.tool === 'wrk' ? await runWrk(url, n, watch) : await runAb(url, n, 2, watch);
      cap.capture.unwatch(run.pid);
      const mine = (t: string) => t === path;
      const got = { server: await settle(cap, n, serverSide(server.pids(), server.port, mine)), client: await settle(cap, n, clientSide(run.pid)) };
      assert.deepEqual(run.exit, { code: 0, signal: null }, run.output);
      assert.equal(run.failed, 0, run.output);
      assert.equal(run.completed, n, run.output);
      assertExchanges(got.server, Array(n).fill(200), 'server side', cap);
      assertExchanges(got.client, Array(n).fill(200), 'client side', cap);
    });
  }
});
