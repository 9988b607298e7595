#!/usr/bin/env python3
"""waggle demo: the inventory service, behind nginx. Slow on purpose
(80-250 ms per reservation) and unavailable now and then (503 for 3% of calls).

  GET /inventory/reserve?item=N -> 200 {"item": N, "reserved": true}, or 503

Environment: PORT (default 8083).
"""
import os
import random
import time

from demo_http import JsonHandler, serve

PORT = int(os.environ.get("PORT", "8083"))


class Handler(JsonHandler):
    server_version = "demo-inventory/1.0"

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
        self.send_json(status, value)


if __name__ == "__main__":
    serve("inventory", PORT, Handler)
