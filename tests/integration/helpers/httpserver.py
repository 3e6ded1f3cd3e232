#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A loopback HTTP server for image-download tests.

    httpserver.py DIR PORTFILE LOGFILE [--cut-first NAME:BYTES]

Serves DIR on 127.0.0.1 (a free port, written to PORTFILE), with Range
requests (206) so resumed downloads can be tested, and logs one line per
request to LOGFILE: "METHOD PATH RANGE-or-- STATUS".  --cut-first makes
the first full GET of NAME send only BYTES bytes and drop the connection,
like a network failure halfway.
"""
import http.server
import os
import sys
import threading

root, portfile, logfile = sys.argv[1:4]
cut = {}
if len(sys.argv) > 5 and sys.argv[4] == "--cut-first":
    name, n = sys.argv[5].rsplit(":", 1)
    cut[name] = int(n)
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def note(self, status, rng):
        with lock, open(logfile, "a") as f:
            f.write(f"{self.command} {self.path} {rng or '-'} {status}\n")

    def do_GET(self):
        name = self.path.lstrip("/").split("?")[0]
        path = os.path.join(root, name)
        rng = self.headers.get("Range")
        if "/" in name or not os.path.isfile(path):
            self.note(404, rng)
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        size = os.path.getsize(path)
        start = 0
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= size:
                self.note(416, rng)
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
            status = 206
        else:
            self.send_response(200)
            status = 200
        self.note(status, rng)
        self.send_header("Content-Length", str(size - start))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        limit = None
        with lock:
            if status == 200 and name in cut:
                limit = cut.pop(name)
        with open(path, "rb") as f:
            f.seek(start)
            sent = 0
            while True:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                if limit is not None and sent + len(chunk) > limit:
                    self.wfile.write(chunk[: limit - sent])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.wfile.write(chunk)
                sent += len(chunk)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(portfile + ".tmp", portfile)
server.serve_forever()
