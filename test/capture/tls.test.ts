// TLS plaintext through OpenSSL uprobes: real HTTPS servers and clients (Python's
// ssl and curl through libssl.so.3, Node through the OpenSSL in its executable),
// exact exchange counts, the socket's tuple on every exchange, and no ciphertext
// captured, streamed or counted.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import type { Exchange, StreamChunk } from '../../src/capture/index.js';
import { within } from '../helpers/process.js';
import { type Collected, collect } from './helpers/capture.js';
import { requestLine, statusOf } from './helpers/http-lite.js';
import { type Nginx, type Server, nginxAvailable, startNginx } from './helpers/servers.js';
import { type Certificate, curlHttps, makeCertificate, opensslAvailable, startNodeFetcher, startNodeHttps, startPythonHttps } from './helpers/tls.js';

const BIG = 1 << 20;
const skip = opensslAvailable() ? false : 'openssl is not installed (apt-get install -y openssl)';

/**
 * Why the loaded capture cannot hook OpenSSL on this kernel (its legacy build
 * leaves the TLS programs out), or undefined. Any other state fails the test.
 */
function tlsOff(cap: Collected): string | undefined {
  const s = cap.capture.tlsStatus;
  if (s.state === 'off' && /Linux \d+\.\d+\+/.test(s.reason)) return s.reason;
  assert.equal(s.state, 'up', JSON.stringify(s));
  return undefined;
}

describe('TLS capture', { skip }, () => {
  let cert: Certificate;
  let python: Server;
  let node: Server;
  let cap: Collected;
  let off: string | undefined;
  const chunks: StreamChunk[] = [];
  before(async () => {
    cert = makeCertificate();
    python = await startPythonHttps(cert);
    node = await startNodeHttps(cert);
    cap = await collect({ onStreamChunk: (c) => chunks.push({ ...c, head: Buffer.from(c.head), tail: Buffer.from(c.tail) }) });
    off = tlsOff(cap);
    if (off) return;
    for (const s of [python, node]) {
      cap.capture.watch(s.child.pid);
      await cap.capture.scanTls(s.child.pid);
    }
  });
  after(async () => {
    try {
      await cap?.close();
    } finally {
      await python?.child.stop();
      await node?.child.stop();
      cert?.remove();
    }
  });

  const at = (port: number, path: string) => (ex: Exchange) => ex.local.port === port && ex.role === 'server' && (requestLine(ex.request)?.target ?? '').startsWith(path);

  test('curl -k: 40 requests on 4 keep-alive connections to Python → exactly 40 TLS exchanges with the socket tuple', async (t) => {
    if (off) return t.skip(off);
    const stats0 = cap.capture.stats();
    curlHttps(`https://127.0.0.1:${python.port}/hello`, 40, 4);
    const got = await cap.waitFor(40, at(python.port, '/hello'));
    assert.equal(got.length, 40);
    assert.ok(got.every((ex) => ex.tls === true && ex.pid === python.child.pid && statusOf(ex.response) === 200 && ex.remote.address === '127.0.0.1'));
    assert.equal(new Set(got.map((ex) => ex.connectionId)).size, 4);
    assert.ok(got.every((ex) => ex.response.toString('latin1').endsWith('hello')), 'plaintext response bytes');
    const stats = cap.capture.stats();
    assert.equal(stats.tlsUnbound - stats0.tlsUnbound, 0, 'every SSL object was tied to its socket');
    assert.ok(stats.tlsCipherSkipped > stats0.tlsCipherSkipped, 'the ciphertext was skipped');
    assert.equal(stats.notHttp, stats0.notHttp);
    assert.equal(stats.streamConnections, stats0.streamConnections, 'no ciphertext connection was streamed');
  });

  test('Node fetch: 20 requests to Python → exactly 20 server and 20 client TLS exchanges', async (t) => {
    if (off) return t.skip(off);
    const client = startNodeFetcher(`https://127.0.0.1:${python.port}/fetch`, 20);
    try {
      await client.waitForOutput('ready');
      cap.capture.watch(client.pid);
      await cap.capture.scanTls(client.pid);
      const stats0 = cap.capture.stats();
      client.write('go');
      await client.waitForOutput('done 20', 20_000);
      const server = await cap.waitFor(20, at(python.port, '/fetch'));
      const clients = cap.current((ex) => ex.pid === client.pid && ex.role === 'client' && (requestLine(ex.request)?.target ?? '').startsWith('/fetch'));
      assert.equal(server.length, 20);
      assert.equal(clients.length, 20);
      assert.ok(clients.every((ex) => ex.tls === true && ex.remote.port === python.port && statusOf(ex.response) === 200), clients.map((e) => `${e.remote.port} ${e.tls}`).join());
      const stats = cap.capture.stats();
      assert.equal(stats.tlsUnbound - stats0.tlsUnbound, 0, 'Node (memory BIOs) tied every SSL object to its socket');
      assert.equal(stats.streamConnections, stats0.streamConnections, 'no ciphertext connection was streamed');
    } finally {
      await client.stop();
    }
  });

  test('plaintext that HTTP/1 does not claim goes to the stream path, marked TLS, with the socket tuple', async (t) => {
    if (off) return t.skip(off);
    const sock = tlsConnect({ host: '127.0.0.1', port: python.port, rejectUnauthorized: false });
    let reply = '';
    sock.on('data', (d: Buffer) => (reply += d.toString('latin1')));
    await within(new Promise((resolve, reject) => sock.once('secureConnect', resolve).once('error', reject)), 10_000, 'a TLS connection to Python');
    const localPort = sock.localPort;
    sock.write('NOT-HTTP-AT-ALL\r\n\r\n');
    await within(new Promise((resolve) => sock.once('close', resolve)), 10_000, 'Python closing the connection');
    // A one-word request line is HTTP/0.9 to http.server: a bare error page, no status line.
    assert.match(reply, /Bad request syntax/);
    cap.capture.drain();
    const mine = chunks.filter((c) => c.remote.port === localPort && c.pid === python.child.pid);
    const read = mine.find((c) => c.direction === 'in');
    assert.ok(read, `a chunk read by Python on port ${localPort}: ${chunks.length} chunks`);
    assert.equal(Buffer.from(read.head).toString('latin1'), 'NOT-HTTP-AT-ALL\r\n\r\n');
    assert.ok(mine.every((c) => c.tls === true && c.local.port === python.port && c.local.address === '127.0.0.1'));
    assert.ok(mine.some((c) => c.direction === 'out' && reply.startsWith(Buffer.from(c.head).toString('latin1').slice(0, 40))), 'the reply, as plaintext');
  });

  test('Node https server: 30 curl requests → exactly 30 TLS exchanges', async (t) => {
    if (off) return t.skip(off);
    const stats0 = cap.capture.stats();
    curlHttps(`https://127.0.0.1:${node.port}/bytes/3000`, 30, 3);
    const got = await cap.waitFor(30, at(node.port, '/bytes/3000'));
    assert.equal(got.length, 30);
    assert.ok(got.every((ex) => ex.tls === true && ex.pid === node.child.pid && statusOf(ex.response) === 200 && ex.remote.address === '127.0.0.1'));
    assert.equal(new Set(got.map((ex) => ex.connectionId)).size, 3);
    const stats = cap.capture.stats();
    assert.equal(stats.tlsUnbound - stats0.tlsUnbound, 0, 'every SSL object was tied to its socket');
    assert.equal(stats.streamConnections, stats0.streamConnections, 'no ciphertext connection was streamed');
    assert.equal(stats.notHttp, stats0.notHttp);
  });
});

describe('TLS capture: nginx over HTTP/1.1', { skip: skip || (nginxAvailable() ? false : 'nginx is not installed (apt-get install -y nginx)') }, () => {
  let cert: Certificate;
  let nginx: Nginx;
  let cap: Collected;
  let off: string | undefined;
  before(async () => {
    cert = makeCertificate();
    nginx = await startNginx({ 'index.html': '<p>hi</p>\n', 'big.bin': Buffer.alloc(BIG, 7) }, 2, `ssl_certificate ${cert.cert}; ssl_certificate_key ${cert.key};`, 'ssl');
    cap = await collect({ onStreamChunk: () => {} });
    off = tlsOff(cap);
    if (off) return;
    for (const pid of nginx.pids()) {
      cap.capture.watch(pid);
      await cap.capture.scanTls(pid);
    }
  });
  after(async () => {
    try {
      await cap?.close();
    } finally {
      await nginx?.stop();
      cert?.remove();
    }
  });

  test('curl -k: 60 requests on 6 connections → exactly 60 TLS exchanges, served by the workers, no ciphertext counted', async (t) => {
    if (off) return t.skip(off);
    const stats0 = cap.capture.stats();
    curlHttps(`https://127.0.0.1:${nginx.port}/hello`, 30, 3);
    curlHttps(`https://127.0.0.1:${nginx.port}/index.html`, 30, 3);
    const hello = await cap.waitFor(30, (ex) => ex.local.port === nginx.port && requestLine(ex.request)?.target.startsWith('/hello') === true);
    const index = await cap.waitFor(30, (ex) => ex.local.port === nginx.port && requestLine(ex.request)?.target.startsWith('/index.html') === true);
    assert.equal(hello.length, 30);
    assert.equal(index.length, 30);
    const workers = new Set(nginx.pids().slice(1));
    assert.ok([...hello, ...index].every((ex) => ex.tls === true && workers.has(ex.pid) && ex.role === 'server' && statusOf(ex.response) === 200 && ex.remote.address === '127.0.0.1'));
    assert.ok(hello.every((ex) => ex.response.toString('latin1').endsWith('hello')));
    assert.equal(new Set([...hello, ...index].map((ex) => ex.connectionId)).size, 6);
    const stats = cap.capture.stats();
    assert.equal(stats.tlsUnbound - stats0.tlsUnbound, 0, 'every SSL object was tied to its socket');
    assert.equal(stats.streamConnections, stats0.streamConnections, 'no ciphertext connection was streamed');
    assert.equal(stats.framingLost, stats0.framingLost);
  });

  test('a 1 MiB file over TLS: one exchange, every plaintext byte counted, ending after the last one', async (t) => {
    if (off) return t.skip(off);
    const out = execFileSync('curl', ['-k', '-s', '-o', '/dev/null', '-w', '%{size_header} %{size_download}', `https://127.0.0.1:${nginx.port}/big.bin`], { timeout: 60_000, encoding: 'utf8' });
    const [sizeHeader, sizeDownload] = out.split(' ').map(Number);
    assert.equal(sizeDownload, BIG);
    const got = await cap.waitFor(1, (ex) => ex.local.port === nginx.port && requestLine(ex.request)?.target === '/big.bin');
    assert.equal(got.length, 1);
    const ex = got[0]!;
    assert.equal(ex.tls, true);
    assert.equal(statusOf(ex.response), 200);
    assert.equal(ex.responseBytes, sizeHeader! + BIG);
    assert.equal(ex.incomplete, undefined);
    assert.equal(ex.framingLost, undefined);
  });
});
