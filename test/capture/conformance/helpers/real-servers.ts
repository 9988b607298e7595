// Real servers for the conformance matrix, each answering every way its framework
// frames a response. Paths ignore the query (the matrix tags requests there).
import { type Child, python3, startChild } from '../../../helpers/process.js';
import type { MatrixCase } from './matrix.js';

export interface RealServer {
  child: Child;
  pids(): number[];
  port: number;
  stop(): void;
}

const NODE = String.raw`
const http = require('http');
const server = http.createServer((req, res) => {
  const path = req.url.split('?')[0];
  const drain = (then) => { req.resume(); req.on('end', then); };
  switch (path) {
    case '/content-length': res.setHeader('Content-Length', 5); return drain(() => res.end('hello'));
    case '/chunked-end': res.writeHead(200); return drain(() => res.end('hi'));
    // Corked: one writev of 49 elements (headers, then size, CRLF, data, CRLF per write).
    case '/chunked-writes': res.cork(); for (let i = 0; i < 12; i++) res.write('part' + i); return drain(() => { res.end(); res.uncork(); });
    case '/chunked-ticks': { let i = 0; const next = () => (i++ < 3 ? (res.write('tick' + i), setImmediate(next)) : res.end('!')); return next(); }
    case '/trailers': res.setHeader('Trailer', 'X-Sum'); res.write('data'); res.addTrailers({ 'X-Sum': '4' }); return res.end();
    case '/empty': return drain(() => res.end());
    case '/not-found': res.statusCode = 404; return drain(() => res.end('not found'));
    case '/no-content': res.statusCode = 204; return drain(() => res.end());
    case '/not-modified': res.statusCode = 304; return drain(() => res.end());
    case '/early-hints': res.writeEarlyHints({ link: '</s.css>; rel=preload' }); return drain(() => res.end('hi'));
    case '/echo': { let n = 0; req.on('data', (d) => (n += d.length)); return req.on('end', () => res.end('got ' + n)); }
    case '/close': res.setHeader('Connection', 'close'); return drain(() => res.end('bye'));
  }
  res.statusCode = 500;
  res.end('unknown ' + path);
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log('port', server.address().port));
`;

/** The HTTP/1 cases of NODE, and who cannot take which. */
export const NODE_CASES: MatrixCase[] = [
  { name: 'content-length', path: '/content-length', status: 200 },
  { name: "writeHead(200); end('hi') (chunked)", path: '/chunked-end', status: 200 },
  { name: 'chunked, 12 corked writes in one writev', path: '/chunked-writes', status: 200 },
  { name: 'chunked, a write per tick', path: '/chunked-ticks', status: 200 },
  { name: 'chunked with trailers', path: '/trailers', status: 200 },
  { name: 'empty chunked body', path: '/empty', status: 200 },
  { name: '404', path: '/not-found', status: 404 },
  { name: 'HEAD (chunked headers, no body)', path: '/chunked-end', method: 'HEAD', status: 200 },
  { name: 'HEAD (Content-Length, no body)', path: '/content-length', method: 'HEAD', status: 200 },
  { name: '204', path: '/no-content', status: 204 },
  { name: '304', path: '/not-modified', status: 304 },
  {
    name: '103 Early Hints then 200',
    path: '/early-hints',
    status: 200,
    skip: { 'python-http.client': 'http.client takes 103 for the final response', 'python-urllib': 'http.client takes 103 for the final response' },
  },
  {
    name: 'POST with Expect: 100-continue',
    path: '/echo',
    method: 'POST',
    headers: { Expect: '100-continue', 'Content-Type': 'text/plain' },
    body: 'x'.repeat(2000),
    status: 200,
    skip: { 'undici-fetch': 'fetch() refuses an Expect header' },
  },
  { name: 'POST chunked request body', path: '/echo', method: 'POST', headers: { 'Transfer-Encoding': 'chunked', 'Content-Type': 'text/plain' }, body: 'hello', status: 200, skip: { 'undici-fetch': 'fetch() sets its own framing', 'python-http.client': 'http.client frames a str body itself', 'python-urllib': 'urllib frames a body itself' } },
  { name: 'Connection: close', path: '/close', status: 200 },
];

const PYTHON = String.raw`
import http.server, socketserver
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def end_headers(self):
        # An HTTP/1.0 keep-alive client (ab -k) needs the word in the response.
        if self.request_version == "HTTP/1.0" and not self.close_connection: self.send_header("Connection", "keep-alive")
        super().end_headers()
    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""
    def do_HEAD(self): self.reply(True)
    def do_GET(self): self.reply(False)
    def do_POST(self):
        got = self.body()
        self.send_response(201)
        self.send_header("Content-Length", str(len(got)))
        self.end_headers()
        self.wfile.write(got)
    def reply(self, head):
        path = self.path.split("?")[0]
        if path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if not head:
                for part in (b"one", b"two", b"three"):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.write(b"0\r\n\r\n")
            return
        status = {"/not-found": 404, "/no-content": 204, "/not-modified": 304}.get(path, 200)
        body = b"" if status in (204, 304) else b"hello"
        self.send_response(status)
        if status != 204: self.send_header("Content-Length", str(len(body)))
        if path == "/close": self.send_header("Connection", "close")
        self.end_headers()
        if not head: self.wfile.write(body)
        if path == "/close": self.close_connection = True
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
s = S(("127.0.0.1", 0), H)
print("port", s.server_address[1], flush=True)
s.serve_forever()
`;

export const PYTHON_CASES: MatrixCase[] = [
  { name: 'content-length', path: '/content-length', status: 200 },
  { name: 'chunked, a write per chunk', path: '/chunked', status: 200 },
  { name: '404', path: '/not-found', status: 404 },
  { name: 'HEAD (chunked headers, no body)', path: '/chunked', method: 'HEAD', status: 200 },
  { name: 'HEAD (Content-Length, no body)', path: '/content-length', method: 'HEAD', status: 200 },
  { name: '204', path: '/no-content', status: 204 },
  { name: '304', path: '/not-modified', status: 304 },
  {
    name: 'POST with Expect: 100-continue',
    path: '/echo',
    method: 'POST',
    headers: { Expect: '100-continue', 'Content-Type': 'text/plain' },
    body: 'x'.repeat(2000),
    status: 201,
    skip: {
      'undici-fetch': 'fetch() refuses an Expect header',
      'node-http': "Node's client fails on http.server's reply to it (HPE_INVALID_CONSTANT), with or without capture",
    },
  },
  { name: 'Connection: close', path: '/close', status: 200 },
];

async function started(child: Child): Promise<RealServer> {
  try {
    await child.waitForOutput(/port (\d+)/);
  } catch (e) {
    child.kill();
    throw e;
  }
  return { child, pids: () => [child.pid], port: Number(/port (\d+)/.exec(child.output())![1]), stop: () => child.kill() };
}

export const startNodeConformanceServer = (): Promise<RealServer> => started(startChild(process.execPath, ['-e', NODE]));
export const startPythonConformanceServer = (): Promise<RealServer> => started(startChild(python3, ['-c', PYTHON]));
