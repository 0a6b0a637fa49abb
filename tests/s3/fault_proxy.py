#!/usr/bin/env python3
"""An HTTP proxy between strata and radosgw that misbehaves on cue, for the S3 fault tests.

    fault_proxy.py UPSTREAM_PORT FAULT EVERY

Listens on 127.0.0.1 (a free port, printed on the first line of standard output), forwards every
request to 127.0.0.1:UPSTREAM_PORT with its headers unchanged (the Host header is signed), and
spoils every EVERY-th request (counting from 1) with FAULT:
  503   answers 503 SlowDown without forwarding (what S3 says when it is overloaded)
  cut   forwards the request, then closes the connection halfway through the answer's body (or,
        for an answer without a body, before any answer)
Prints one line per spoiled request on standard error. Stops on SIGTERM.
"""
import http.client
import http.server
import sys
import threading

upstream_port = int(sys.argv[1])
fault = sys.argv[2]
every = int(sys.argv[3])
counter = 0
lock = threading.Lock()

SLOW_DOWN = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
             b'<Message>Please reduce your request rate.</Message></Error>')


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def spoiled(self):
        global counter
        with lock:
            counter += 1
            return counter % every == 0

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        spoil = self.spoiled()
        if spoil and fault == "503":
            sys.stderr.write(f"fault_proxy: 503 for {self.command} {self.path}\n")
            self.send_response(503)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(SLOW_DOWN)))
            self.end_headers()
            if self.command != "HEAD":  # an answer to HEAD has no body
                self.wfile.write(SLOW_DOWN)
            return
        conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
        conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for name, value in self.headers.items():
            conn.putheader(name, value)
        conn.endheaders(body if body else None)
        answer = conn.getresponse()
        data = answer.read()
        conn.close()
        if spoil and fault == "cut":
            sys.stderr.write(f"fault_proxy: cut {self.command} {self.path}\n")
            if data and self.command != "HEAD":
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("connection", "transfer-encoding", "content-length"):
                        self.send_header(name, value)
                # The whole length announced, half of it sent: the client sees the cut.
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.send_response(answer.status)
        head = self.command == "HEAD"  # its Content-Length is the object's, and it has no body
        for name, value in answer.getheaders():
            if name.lower() in ("connection", "transfer-encoding"):
                continue
            if name.lower() == "content-length" and not head:
                continue
            self.send_header(name, value)
        if not head:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = handle_any


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
