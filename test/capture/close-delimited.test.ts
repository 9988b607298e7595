// Responses without Content-Length or chunked framing end when the server closes
// the connection: complete exchanges on both sides, every byte counted.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { python3, startChild, within } from '../helpers/process.js';
import { type Collected, collect } from './helpers/capture.js';
import { requestLine, statusOf } from './helpers/http-lite.js';

// Reads a request head, answers HTTP/1.0 with a body delimited by the close.
const SERVER = String.raw`
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(16)
print("port", s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = c.recv(4096)
        if not chunk: break
        data += chunk
    c.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n")
    for i in range(10):
        c.sendall(b"x" * 1000)
        time.sleep(0.005)
    c.close()
`;
const RESPONSE_BYTES = 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n'.length + 10_000;

describe('close-delimited responses', () => {
  let server: ReturnType<typeof startChild>;
  let port: number;
  let cap: Collected;
  before(async () => {
    server = startChild(python3, ['-c', SERVER]);
    await server.waitForOutput(/port \d+/);
    port = Number(/port (\d+)/.exec(server.output())![1]);
    cap = await collect();
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

  test('server side: the exchange ends at the close, complete, with every byte', async () => {
    const curl = startChild('curl', ['-s', '-o', '/dev/null', '-w', '%{size_download}', `http://127.0.0.1:${port}/until-close`]);
    await within(curl.exited, 30_000, 'curl to exit');
    assert.equal(Number(curl.output()), 10_000);
    const [ex] = await cap.waitFor(1, (e) => e.pid === server.pid && e.request.includes('/until-close '));
    assert.equal(ex!.role, 'server');
    assert.equal(ex!.incomplete, undefined);
    assert.equal(statusOf(ex!.response), 200);
    assert.equal(ex!.responseBytes, RESPONSE_BYTES);
  });

  test('client side: curl reading to end of stream gets a complete client exchange', async () => {
    const curl = startChild('curl', ['-s', '-K', '-', '-o', '/dev/null']);
    cap.capture.watch(curl.pid);
    curl.write(`url = "http://127.0.0.1:${port}/client-side"\n`);
    curl.proc.stdin!.end();
    await within(curl.exited, 30_000, 'curl to exit');
    const [ex] = await cap.waitFor(1, (e) => e.pid === curl.pid);
    assert.equal(ex!.role, 'client');
    assert.equal(requestLine(ex!.request)?.target, '/client-side');
    assert.equal(ex!.incomplete, undefined);
    assert.equal(ex!.responseBytes, RESPONSE_BYTES);
    assert.equal(ex!.remote.port, port);
  });
});
