#!/usr/bin/env python3
"""A receiver standing in for ntfy, Gotify and a webhook in the browser suite.

Listens on 127.0.0.1 only. Every POST is kept (path, headers, JSON body) and answered 200, as
ntfy's publish endpoint and Gotify's /message do on success; GET /received returns what was
kept, so the browser suite can check what the portal sent.

usage: notify-standin.py PORT
"""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

received = []
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        with lock:
            received.append(
                {
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body,
                    # The exact bytes, for checking a signature over them.
                    "raw": raw.decode("utf-8", "replace"),
                }
            )
        self.answer(200, {"ok": True})

    def do_GET(self):
        if self.path != "/received":
            self.answer(404, {"error": "only /received"})
            return
        with lock:
            self.answer(200, received)

    def answer(self, status, value):
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        sys.stderr.write("notify-standin: " + (fmt % args) + "\n")


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
