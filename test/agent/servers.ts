// Real servers for the agent's end-to-end tests, each named by OTEL_SERVICE_NAME
// so metric labels can be asserted exactly.
import { python3, startChild, type Child } from '../helpers/process.js';

export interface TestServer {
  child: Child;
  port: number;
  pid: number;
  stop(): void;
}

/** Python HTTP/1.1 keep-alive server: /status/N answers N, /items/N and anything else 200 "ok". */
const PYTHON = String.raw`
import http.server, socketserver, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        parts = self.path.split("?")[0].split("/")
        status = int(parts[2]) if len(parts) > 2 and parts[1] == "status" else 200
        body = b"ok"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
s = S(("127.0.0.1", port), H)
print("port", s.server_address[1], flush=True)
s.serve_forever()
`;

/** Node server: /users/:id 200, /fail 500, /proxy?port=P calls the Python server with fetch. */
const NODE = String.raw`
const http = require('http');
const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/fail') { res.statusCode = 500; res.end('boom'); return; }
  if (url.pathname === '/proxy') {
    try {
      const r = await fetch('http://127.0.0.1:' + url.searchParams.get('port') + '/items/' + url.searchParams.get('item') + '?token=abc');
      res.end('proxied ' + r.status + ' ' + (await r.text()));
    } catch (e) { res.statusCode = 502; res.end(String(e)); }
    return;
  }
  req.resume();
  req.on('end', () => res.end('hello'));
});
server.keepAliveTimeout = 60000;
server.listen(Number(process.argv[1] || 0), '127.0.0.1', () => console.log('port', server.address().port));
`;

async function started(child: Child): Promise<TestServer> {
  await child.waitForOutput(/port (\d+)/);
  const port = Number(/port (\d+)/.exec(child.output())![1]);
  return { child, port, pid: child.pid, stop: () => child.kill() };
}

export function startPython(serviceName: string, port = 0): Promise<TestServer> {
  return started(startChild(python3, ['-c', PYTHON, String(port)], { env: { ...process.env, OTEL_SERVICE_NAME: serviceName } }));
}

export function startNode(serviceName: string, port = 0): Promise<TestServer> {
  return started(startChild(process.execPath, ['-e', NODE, String(port)], { env: { ...process.env, OTEL_SERVICE_NAME: serviceName } }));
}
