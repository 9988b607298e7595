// Traceparent injection (bpf/capture/traceparent.bpf.c): a watched Python
// client's requests reach an unwatched server with exactly one traceparent,
// whose ids are the ones its client exchange carries; a request that already
// had one keeps it alone; bodies arrive intact; a header block longer than the
// kernel looks at, and an unwatched client, go out untouched.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { python3, startChild, within } from '../helpers/process.js';
import { type Collected, collect } from './helpers/capture.js';
import { requestLine } from './helpers/http-lite.js';

/** Answers every request with the traceparent values it got and the body length it read. */
const ECHO = String.raw`
import http.server, json, socketserver, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        out = json.dumps({"tp": self.headers.get_all("traceparent") or [], "body": len(body), "intact": body == b"x" * n}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    do_GET = answer
    do_POST = answer
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
s = S(("127.0.0.1", 0), H)
print("port", s.server_address[1], flush=True)
s.serve_forever()
`;

/** After a line on stdin: four requests on one keep-alive connection, each answer printed. */
const CLIENT = String.raw`
import http.client, sys
sys.stdin.readline()
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
def go(method, path, headers={}, body=None):
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    print(path, r.read().decode(), flush=True)
go("GET", "/a")
go("GET", "/b", {"TraceParent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})
go("POST", "/c", {"Content-Type": "text/plain"}, b"x" * 3000)
go("GET", "/d", {"X-Long": "y" * 1500})
print("done", flush=True)
`;

interface Answer {
  tp: string[];
  body: number;
  intact: boolean;
}

function answers(output: string): Map<string, Answer> {
  const out = new Map<string, Answer>();
  for (const line of output.split('\n')) {
    const m = /^(\/\w+) (\{.*\})$/.exec(line);
    if (m) out.set(m[1]!, JSON.parse(m[2]!) as Answer);
  }
  return out;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

describe('traceparent injection', { timeout: 60_000 }, () => {
  let cap: Collected;
  let server: ReturnType<typeof startChild>;
  let port = 0;
  let skip: string | undefined;
  before(async () => {
    server = startChild(python3, ['-c', ECHO]);
    await server.waitForOutput(/port (\d+)/);
    port = Number(/port (\d+)/.exec(server.output())![1]);
    cap = await collect({ injectTraceparent: true });
    const s = cap.capture.injectStatus;
    if (s.state === 'off' && /sk_msg|sockmap|sockops|cgroup|not supported|Invalid argument/i.test(s.reason)) skip = s.reason;
    else assert.equal(s.state, 'up', JSON.stringify(s));
  });
  after(async () => {
    try {
      await cap?.close();
    } finally {
      await server?.stop();
    }
  });

  test('a watched client: one traceparent per request, the ids its exchange carries', async (t) => {
    if (skip) return t.skip(skip);
    const client = startChild(python3, ['-c', CLIENT, String(port)]);
    cap.capture.watch(client.pid);
    client.write('go\n');
    try {
      await within(client.exited, 30_000, 'the client to finish');
    } finally {
      await client.stop();
    }
    assert.match(client.output(), /done/);
    const got = answers(client.output());
    const exchanges = await cap.waitFor(4, (ex) => ex.pid === client.pid && ex.role === 'client');
    const byPath = new Map(exchanges.map((ex) => [requestLine(ex.request)?.target, ex]));

    for (const path of ['/a', '/c']) {
      const a = got.get(path)!;
      assert.equal(a.tp.length, 1, `${path}: ${JSON.stringify(a)}`);
      const [, traceId, spanId] = TRACEPARENT.exec(a.tp[0]!) ?? [];
      assert.ok(traceId, `${path}: ${a.tp[0]}`);
      assert.deepEqual(byPath.get(path)?.carried, { traceId, spanId }, path);
    }
    // The body after the headers is what was sent.
    assert.equal(got.get('/c')!.body, 3000);
    assert.equal(got.get('/c')!.intact, true);
    // The application's own header is honoured, never duplicated.
    assert.deepEqual(got.get('/b')!.tp, ['00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01']);
    assert.equal(byPath.get('/b')?.carried, undefined);
    // A header block past the first 1 KiB of the send: not looked through, not written.
    assert.deepEqual(got.get('/d')!.tp, []);
    assert.equal(byPath.get('/d')?.carried, undefined);
    // Two different traces.
    assert.notEqual(byPath.get('/a')!.carried!.traceId, byPath.get('/c')!.carried!.traceId);

    const s = cap.capture.injectStats()!;
    assert.equal(s.injected, 2);
    assert.equal(s.alreadyPresent, 1);
    assert.equal(s.headersUnseen, 1);
    assert.equal(s.failed, 0);
    assert.equal(s.ringFull, 0);
    assert.equal(s.matched, 2);
    assert.equal(s.unclaimed, 0);
  });

  test('an unwatched client is left alone', async (t) => {
    if (skip) return t.skip(skip);
    const before = cap.capture.injectStats()!;
    const client = startChild(python3, ['-c', CLIENT, String(port)]);
    client.write('go\n');
    try {
      await within(client.exited, 30_000, 'the client to finish');
    } finally {
      await client.stop();
    }
    const got = answers(client.output());
    assert.deepEqual(got.get('/a')!.tp, []);
    assert.deepEqual(got.get('/c')!.tp, []);
    const s = cap.capture.injectStats()!;
    assert.equal(s.sends, before.sends);
    assert.equal(s.injected, before.injected);
  });
});
