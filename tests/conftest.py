"""Shared pytest fixtures: start the built berth binary and small origin servers on loopback."""
import os
import threading
import time
import http.server
import socketserver
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
# tests/ itself (the modules every suite shares: berth_process, waiting) and the raw-socket helpers (RawOrigin and
# friends), which live with the integration tests.
sys.path[:0] = [p for p in (HERE, os.path.join(HERE, "integration")) if p not in sys.path]

from berth_process import BERTH_BIN, Berth  # noqa: E402,F401  (Berth: bench/lib/invoker.py, tests/*/ helpers)


@pytest.fixture
def start_berth():
    """Factory: start_berth(*flags, env=None) -> Berth; every instance is stopped at teardown. Without --listen in
    the flags berth listens on `listen` (None: berth's default); `binary`, `popen_kw` and `cwd` go to Berth."""
    started = []

    def start(*args, env=None, profile="same-region-failover", listen="127.0.0.1:0", **process):
        flags = list(args)
        if "--profile" not in flags and profile:
            flags = ["--profile", profile] + flags
        if "--listen" not in flags and listen:
            flags += ["--listen", listen]
        if "--admin" not in flags:
            flags += ["--admin", "127.0.0.1:0"]
        b = Berth(flags, env=env, **process)
        started.append(b)
        return b

    yield start
    for b in started:
        b.stop()


@pytest.fixture
def berth(start_berth):
    """start_berth that prints each instance's stderr tail at teardown (pytest shows it when a test fails).
    The instances started so far are in `berth.made`, for suites that check more at teardown (tests/e2e); the
    binary is `berth.binary`."""
    made = []

    def make(*flags, **kw):
        b = start_berth(*flags, **kw)
        made.append(b)
        return b

    make.made = made
    make.binary = BERTH_BIN
    yield make
    for b in made:
        lines = b.stderr_text().splitlines()
        print(f"---- berth {b.args[1:]} stderr (last 80 of {len(lines)} lines) ----")
        print("\n".join(lines[-80:]))


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


@pytest.fixture
def raw_origin():
    """Factory: raw_origin(handler, host='127.0.0.1') -> RawOrigin (tests/integration/berth_helpers.py) running
    handler(conn) per accepted connection; all closed at teardown. Shared by the integration and e2e suites."""
    from berth_helpers import RawOrigin
    made = []

    def make(handler, **kw):
        o = RawOrigin(handler, **kw)
        made.append(o)
        return o

    yield make
    for o in made:
        o.close()


@pytest.fixture
def origin():
    o = Origin()
    yield o
    o.close()

