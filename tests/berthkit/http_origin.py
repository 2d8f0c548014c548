"""The keep-alive HTTP/1.1 origin every suite shares (the `origin` fixture): it records requests and echoes bodies."""
import http.server
import socketserver
import threading
import time


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _reply(self, status, body, headers=()):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        self.server.record(self)
        if self.path.startswith("/sleep/"):
            time.sleep(float(self.path.split("/")[2]))
        if self.path.startswith("/bytes/"):
            n = int(self.path.split("/")[2])
            return self._reply(200, b"x" * n)
        self._reply(200, f"hello {self.path}".encode(), [("X-Origin-Port", str(self.server.server_address[1]))])

    do_HEAD = do_GET
    do_DELETE = do_GET

    def do_POST(self):
        self.server.record(self)
        n = int(self.headers.get("Content-Length", 0))
        data = self.rfile.read(n) if n else b""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = _read_chunked(self.rfile)
        self._reply(200, data)

    do_PUT = do_POST


def _read_chunked(f):
    out = b""
    while True:
        size = int(f.readline().split(b";")[0], 16)
        if size == 0:
            while f.readline() not in (b"\r\n", b""):
                pass
            return out
        out += f.read(size)
        f.readline()


class Origin(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """A keep-alive HTTP/1.1 origin that records each request's path, headers and client port."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests = []
        self.client_ports = []
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def handle_error(self, request, client_address):
        # berth closes idle pooled connections with RST on pause/evict/idle timeout: a reset here is expected.
        import sys
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)

    def record(self, handler):
        with self._lock:
            self.requests.append((handler.command, handler.path, dict(handler.headers)))
            self.client_ports.append(handler.client_address[1])

    @property
    def port(self):
        return self.server_address[1]

    @property
    def hostport(self):
        return f"127.0.0.1:{self.port}"

    def close(self):
        self.shutdown()
        self.server_close()
