#!/usr/bin/env python3
"""waggle demo: the inventory service, behind nginx. Slow on purpose
(80-250 ms per reservation) and unavailable now and then (503 for 3% of calls).

  GET /inventory/reserve?item=N -> 200 {"item": N, "reserved": true}, or 503

Environment: PORT (default 8083).
"""
import json
import os
import random
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ.get("PORT", "8083"))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one write, without Nagle's algorithm: otherwise a
    # keep-alive client waits for a delayed ACK (~40 ms) between the two.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    server_version = "demo-inventory/1.0"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if path != "/inventory/reserve":
            status, value = 404, {"error": "not found"}
        elif random.random() < 0.03:
            time.sleep(0.02)
            status, value = 503, {"error": "warehouse offline"}
        else:
            time.sleep(random.uniform(0.08, 0.25))
            item = query.partition("item=")[2] or "1"
            status, value = 200, {"item": int(item) if item.isdigit() else 1, "reserved": True}
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print("inventory listening on 127.0.0.1:%d" % PORT, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
