"""waggle demo: what the Python services share. A JSON request handler tuned so
that a keep-alive client gets each response in one write, and a server that stops
cleanly on SIGTERM. Python standard library only, no telemetry code."""
import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class JsonHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one write, without Nagle's algorithm: otherwise a
    # keep-alive client waits for a delayed ACK (~40 ms) between the two.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # quiet: the demo prints nothing per request
        pass

    def send_json(self, status, value):
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve(name, port, handler):
    """Serves on 127.0.0.1:port until SIGTERM or Ctrl-C, then exits 0."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print("%s listening on 127.0.0.1:%d" % (name, port), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    server.server_close()
    sys.exit(0)
