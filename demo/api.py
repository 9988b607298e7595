#!/usr/bin/env python3
"""waggle demo: the API service. Python standard library only, no telemetry code.

  GET  /api/items       -> nginx GET /static/items.json (a static file)
  GET  /api/items/<id>  -> the item, 404 for ids above 100
  POST /api/orders      -> nginx GET /inventory/reserve (proxied to the slow inventory service), 201
  GET  /api/fail        -> 500 (an unhandled error, on purpose)
  GET  /api/health      -> 200

Environment: PORT (default 8081); NGINX_URL (e.g. http://127.0.0.1:8082). Without
NGINX_URL (no nginx on the machine) the items are served from here and the
inventory is called directly at INVENTORY_URL (default http://127.0.0.1:8083).
"""
import http.client
import json
import os
import threading
import urllib.parse

from demo_http import JsonHandler, serve

PORT = int(os.environ.get("PORT", "8081"))
UPSTREAM = urllib.parse.urlsplit(os.environ.get("NGINX_URL") or os.environ.get("INVENTORY_URL", "http://127.0.0.1:8083"))
VIA_NGINX = bool(os.environ.get("NGINX_URL"))
ITEMS = [{"id": i, "name": name} for i, name in enumerate(["honey", "wax", "pollen", "royal jelly", "propolis"], start=1)]

# One keep-alive connection to nginx (or the inventory) per thread, as a real service would pool them.
_local = threading.local()


def upstream_get(path):
    for attempt in (1, 2):
        conn = getattr(_local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port, timeout=5)
            _local.conn = conn
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, resp.read()
        except (http.client.HTTPException, OSError):
            conn.close()
            _local.conn = None
            if attempt == 2:
                raise
    raise RuntimeError("unreachable")


class Handler(JsonHandler):
    server_version = "demo-api/1.0"

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/api/items":
            if not VIA_NGINX:
                return self.send_json(200, ITEMS)
            status, body = upstream_get("/static/items.json")
            return self.send_json(200 if status == 200 else 502, json.loads(body) if status == 200 else {"error": "static"})
        if path.startswith("/api/items/"):
            tail = path[len("/api/items/"):]
            if not tail.isdigit() or int(tail) > 100:
                return self.send_json(404, {"error": "no such item"})
            n = int(tail)
            return self.send_json(200, {"id": n, "name": ITEMS[n % len(ITEMS)]["name"], "price": 3 + n % 17})
        if path == "/api/fail":
            return self.send_json(500, {"error": "simulated failure"})
        if path == "/api/health":
            return self.send_json(200, {"ok": True})
        return self.send_json(404, {"error": "not found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        order = json.loads(self.rfile.read(length) or b"{}")
        if self.path != "/api/orders":
            return self.send_json(404, {"error": "not found"})
        status, body = upstream_get("/inventory/reserve?item=%d" % int(order.get("item", 1)))
        if status != 200:
            return self.send_json(503, {"error": "inventory unavailable"})
        return self.send_json(201, {"order": "created", "reservation": json.loads(body)})


if __name__ == "__main__":
    serve("api", PORT, Handler)
