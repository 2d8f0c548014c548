"""Keep-alive HTTP/1.1 origin for berth's e2e tests (a separate process, so it can be SIGSTOPped).

Usage: python py_server.py KEEPALIVE_SECONDS [DELAY_MS] -> prints "listening PORT" on stdout.
An idle keep-alive connection is closed after KEEPALIVE_SECONDS (like Node's keepAliveTimeout).
GET answers "hello <path>", POST echoes the body; every answer waits DELAY_MS first (default 0).
"""
import http.server
import socketserver
import sys
import time

KA = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
DELAY = float(sys.argv[2]) / 1000.0 if len(sys.argv) > 2 else 0.0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = -1  # buffered: head and body leave in one write (two small writes meet Nagle + delayed ACK: 40 ms)
    timeout = KA  # idle keep-alive timeout: the read of the next request line times out and the conn closes

    def log_message(self, *a):
        pass

    def _reply(self, body):
        if DELAY:
            time.sleep(DELAY)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Origin", "python")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._reply(f"hello {self.path}".encode())

    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        self._reply(self.rfile.read(n) if n else b"")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        # berth closes idle pooled connections with RST (pause, evict, idle timeout): expected, not worth a traceback.
        import sys
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


if __name__ == "__main__":
    s = Server(("127.0.0.1", 0), Handler)
    print(f"listening {s.server_address[1]}", flush=True)
    s.serve_forever()
